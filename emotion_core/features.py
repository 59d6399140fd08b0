"""Time-frequency features, as pure functions of a waveform and one frozen config.

The same :class:`FeatureConfig` is saved with every model and read back at inference, so training and
serving compute identical features. Two feature kinds exist:

- ``log_mel``: the recogniser's input, log-mel energies per 10 ms frame, shape ``(frames, n_mels)``.
- ``mfcc_mean``: the seed tutorial's input, the mean of 40 MFCCs over time, shape ``(n_mfcc,)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.fft

from emotion_core import spectrum

#: Absolute floor (power units) for all-zero input, where the relative floor below is zero too.
LOG_FLOOR = 1e-12


@dataclass(frozen=True)
class FeatureConfig:
    """How audio becomes features. Saved inside every model's ``config.json``.

    Parameters
    ----------
    sample_rate : int
        Rate (Hz) that audio is resampled to before anything else. 16 kHz keeps all speech cues
        and is the corpora's stored rate, so training needs no resampling.
    n_fft, win_length, hop_length : int
        STFT sizes in samples: 25 ms windows every 10 ms at 16 kHz, the usual speech framing.
    n_mels, fmin_hz, fmax_hz : int, float, float
        Mel filter bank. 64 bands over 50–8000 Hz resolve the lower harmonics that carry pitch.
    n_mfcc : int
        MFCC count for the seed baseline (the tutorial used 40).
    trim_db : float
        Leading and trailing audio quieter than this many dB below the peak is cut before features,
        so corpus clips (with a second of silence on each side) and voice messages look alike.
    dynamic_range_db : float
        Mel energies more than this far below the clip's loudest are raised to that floor. A floor
        relative to the clip (not an absolute one) keeps the features independent of gain.
    pitch_speed : int
        WORLD DIO's ``speed`` (its decimation ratio, 1-12) for the pitch track. 8 analyses at 2 kHz,
        which still covers the 600 Hz ceiling, in a third of the time of 4.
    pitch_refine : bool
        Refine each F0 estimate with StoneMask. It moves F0 by a median 0.12 semitones and
        costs more than DIO itself (about 10 ms per 10 s), so the recogniser leaves it off; prosody
        measurements, where the value itself is the result, keep it on.
    voicing : bool
        Add :mod:`emotion_core.functionals`' voicing statistics (rhythm of voiced segments, the
        spectrum of voiced and of unvoiced frames apart, alpha ratio, Hammarberg index, F0 rises and
        falls), the eGeMAPS parameters the base set lacks. They gained in both evaluation protocols
        (README, "What each choice is worth"); models saved before MoodBot 0.9 lack them.
    modulation : bool
        Add the loudness contour's modulation spectrum (:func:`emotion_core.functionals.functional_names`'
        ``loudness_mod_*``): how fast speech pulses, in bands from phrases to syllables. They gained on
        corpora never heard and tied on new people of known corpora (README, "What was tried");
        models saved before MoodBot 0.15 lack them.
    """

    sample_rate: int = 16000
    n_fft: int = 400
    win_length: int = 400
    hop_length: int = 160
    n_mels: int = 64
    fmin_hz: float = 50.0
    fmax_hz: float = 8000.0
    n_mfcc: int = 40
    trim_db: float = 35.0
    dynamic_range_db: float = 80.0
    pitch_speed: int = 8
    pitch_refine: bool = False
    voicing: bool = True
    modulation: bool = True

    @property
    def frame_rate(self) -> float:
        """Feature frames per second."""
        return self.sample_rate / self.hop_length


def speech_bounds(samples: np.ndarray, config: FeatureConfig) -> tuple[int, int]:
    """Start and end sample of a clip without its leading and trailing near-silence: the whole clip
    when all of it is quiet, or when what is left would be shorter than one STFT window.

    Parameters
    ----------
    samples : np.ndarray, shape (n,), float32
    """
    if samples.size == 0:
        return 0, 0
    start, end = spectrum.trim_bounds(samples, config.trim_db, config.n_fft, config.hop_length)
    return (start, end) if end - start >= config.n_fft else (0, samples.size)


def trim_silence(samples: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The clip cut to :func:`speech_bounds`: the one trimming rule for training and recognition."""
    start, end = speech_bounds(samples, config)
    return samples[start:end]


@functools.lru_cache(maxsize=8)
def _mel_basis(config: FeatureConfig) -> np.ndarray:
    """The mel filter bank, shape ``(n_mels, 1 + n_fft // 2)``; built once per config."""
    return spectrum.mel_filterbank(
        config.sample_rate, config.n_fft, config.n_mels, config.fmin_hz, config.fmax_hz
    )


def mel_power(samples: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Mel-band power per frame, before the log: shape ``(frames, n_mels)``, float32.

    The same values as ``librosa.feature.melspectrogram`` (centred Hann STFT, Slaney mel bank; see
    :mod:`emotion_core.spectrum`), computed with a cached filter bank and one BLAS product. Split
    from :func:`log_mel` so that overlapping windows of a long clip can share one STFT.
    """
    power = spectrum.stft_power(samples, config.n_fft, config.hop_length, config.win_length)
    return (power @ _mel_basis(config).T).astype(np.float32)


def log_from_power(power: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Log-mel features from :func:`mel_power` output (or a slice of frames of it), ``(frames,
    n_mels)``; or from a stack of such slices, ``(..., frames, n_mels)``, each taken on its own.

    A floor relative to the peak and subtracting the mean log energy make the features
    independent of recording gain (a quiet phone and a loud headset give the same input) while
    keeping the spectral shape and the loudness contour over time, which carry the emotion.
    """
    power = np.asarray(power, dtype=np.float32)
    peak = power.max(axis=(-2, -1), keepdims=True, initial=0.0).astype(np.float64)
    floor = np.maximum(peak * 10 ** (-config.dynamic_range_db / 10), LOG_FLOOR).astype(np.float32)
    logmel = np.log(np.maximum(power, floor))
    logmel -= logmel.mean(axis=(-2, -1), keepdims=True)
    return logmel


def log_mel(samples: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The recogniser's input: gain-independent log-mel energies.

    Parameters
    ----------
    samples : np.ndarray, shape (n,), float32 at ``config.sample_rate``

    Returns
    -------
    np.ndarray, shape (frames, n_mels), float32
    """
    return log_from_power(mel_power(samples, config), config)


def mfcc_mean(samples: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The seed tutorial's feature: the time average of ``n_mfcc`` MFCCs.

    The values of ``librosa.feature.mfcc`` with these settings: the DCT of mel power in dB, floored
    80 dB below its peak.
    """
    db = spectrum.power_to_db(mel_power(samples, config))
    db = np.maximum(db, db.max(initial=-np.inf) - 80.0)
    mfcc = scipy.fft.dct(db, type=2, norm="ortho", axis=1)[:, : config.n_mfcc]
    return mfcc.mean(axis=0).astype(np.float32)
