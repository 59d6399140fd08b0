"""Time-frequency features, as pure functions of a waveform and one frozen config.

The same :class:`FeatureConfig` is saved with every model and read back at inference, so training and
serving compute identical features. Two feature kinds exist:

- ``log_mel``: the recogniser's input, log-mel energies per 10 ms frame, shape ``(frames, n_mels)``.
- ``mfcc_mean``: the seed tutorial's input, the mean of 40 MFCCs over time, shape ``(n_mfcc,)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import librosa
import numpy as np

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

    @property
    def frame_rate(self) -> float:
        """Feature frames per second."""
        return self.sample_rate / self.hop_length


def trim_silence(samples: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Cut leading and trailing near-silence; return the input unchanged if all of it is quiet.

    Parameters
    ----------
    samples : np.ndarray, shape (n,), float32
    """
    if samples.size == 0:
        return samples
    trimmed, _ = librosa.effects.trim(
        samples, top_db=config.trim_db, frame_length=config.n_fft, hop_length=config.hop_length
    )
    return trimmed if trimmed.size >= config.n_fft else samples


@functools.lru_cache(maxsize=8)
def _mel_basis(config: FeatureConfig) -> np.ndarray:
    """The mel filter bank, shape ``(n_mels, 1 + n_fft // 2)``; built once per config."""
    return librosa.filters.mel(
        sr=config.sample_rate,
        n_fft=config.n_fft,
        n_mels=config.n_mels,
        fmin=config.fmin_hz,
        fmax=config.fmax_hz,
    )


def mel_power(samples: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Mel-band power per frame, before the log: shape ``(frames, n_mels)``, float32.

    The same values as ``librosa.feature.melspectrogram`` (centred Hann STFT, Slaney mel bank),
    computed with a cached filter bank and one BLAS product, about 3x faster on two cores. Split
    from :func:`log_mel` so that overlapping windows of a long clip can share one STFT.
    """
    stft = librosa.stft(
        np.ascontiguousarray(samples, dtype=np.float32),
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        win_length=config.win_length,
        window="hann",
        center=True,
        pad_mode="constant",
    )
    power = stft.real**2 + stft.imag**2  # (1 + n_fft // 2, frames)
    return (power.T @ _mel_basis(config).T).astype(np.float32)


def log_from_power(power: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Log-mel features from :func:`mel_power` output (or a slice of frames of it).

    A floor relative to the peak and subtracting the mean log energy make the features
    independent of recording gain (a quiet phone and a loud headset give the same input) while
    keeping the spectral shape and the loudness contour over time, which carry the emotion.
    """
    floor = max(float(power.max(initial=0.0)) * 10 ** (-config.dynamic_range_db / 10), LOG_FLOOR)
    logmel = np.log(np.maximum(power, floor))
    logmel -= logmel.mean()
    return logmel.astype(np.float32)


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

    Returns
    -------
    np.ndarray, shape (n_mfcc,), float32
    """
    mfcc = librosa.feature.mfcc(
        y=np.ascontiguousarray(samples, dtype=np.float32),
        sr=config.sample_rate,
        n_mfcc=config.n_mfcc,
        n_fft=config.n_fft,
        win_length=config.win_length,
        hop_length=config.hop_length,
        n_mels=config.n_mels,
        fmin=config.fmin_hz,
        fmax=config.fmax_hz,
    )
    return mfcc.mean(axis=1).astype(np.float32)
