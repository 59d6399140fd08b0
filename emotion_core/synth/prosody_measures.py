"""The prosodic quantities that the emotion renderer sets, measured the same way on actors and on
synthetic speech: six numbers (:func:`measure`) and, for learning, the long-term spectrum's shape
too (:func:`measure_with_shape`).

Learning the renderer's rules from the corpora (:mod:`emotion_core.synth.actor_prosody`) and judging
the synthetic voices against the actors (``benchmarks/bench_prosody_actors.py``) both go through
:func:`measure`, so a rule and its check cannot disagree about what "F0 level" or "tilt" means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass

import numpy as np
import soxr

from emotion_core import spectrum
from emotion_core.features import FeatureConfig, mel_power, trim_silence
from emotion_core.functionals import pitch_semitones, runs_of

#: Analysis settings: the recogniser's (16 kHz, 10 ms frames, 64 mel bands to 8 kHz).
#: The recogniser's framing with the finest pitch track: here the F0 values are the result.
CONFIG = FeatureConfig(pitch_speed=4, pitch_refine=True)
#: Spectral tilt is the slope of the long-term spectrum over this band (Hz), the region above the
#: renderer's pivot where vocal effort changes the spectrum most.
TILT_BAND_HZ = (1000.0, 7000.0)
#: Frames more than this far below the loudest frame are left out of the long-term spectrum.
ACTIVE_DB = 30.0
#: Fewer voiced frames than this (0.1 s) give no F0 figures.
MIN_VOICED_FRAMES = 10
#: Floor (semitones) on a neutral F0 range before it divides another: a monotone reading.
MIN_RANGE_ST = 0.1
#: A pause: at least this many frames (0.15 s, longer than a stop consonant's closure) more than
#: :data:`ACTIVE_DB` below the loudest frame.
MIN_PAUSE_FRAMES = 15


@dataclass(frozen=True)
class ProsodyMeasures:
    """One utterance's prosody.

    Attributes
    ----------
    f0_median_st : float
        Median F0 of the voiced frames, semitones re 100 Hz.
    f0_range_st : float
        10th to 90th percentile of voiced F0, semitones.
    duration_s : float
        Length after trimming leading and trailing silence; between two readings of the same
        sentence its ratio is the speaking-rate ratio.
    tilt_db_per_octave : float
        Slope of the long-term average spectrum (dB per octave) over :data:`TILT_BAND_HZ`.
    f0_slope_st_per_s : float
        The F0 contour's overall direction: the least-squares slope of voiced F0 over the utterance
        (semitones per second; negative is the usual declination, positive a rising contour).
    pause_share : float
        Share of the utterance (0-1) spent in pauses of at least :data:`MIN_PAUSE_FRAMES` frames.
    """

    f0_median_st: float
    f0_range_st: float
    duration_s: float
    tilt_db_per_octave: float
    f0_slope_st_per_s: float = 0.0
    pause_share: float = 0.0


#: Centre frequency (Hz) of each band of :func:`_shape_db`: the analysis's mel bands.
SHAPE_BANDS_HZ = spectrum.mel_band_edges_hz(CONFIG.n_mels, CONFIG.fmin_hz, CONFIG.fmax_hz)[1:-1]


def _active(power: np.ndarray) -> np.ndarray:
    """Which frames of mel ``power`` (frames, bands) are within :data:`ACTIVE_DB` of the loudest."""
    loudness = 10 * np.log10(np.maximum(power.sum(axis=1), spectrum.AMIN))
    return loudness > loudness.max() - ACTIVE_DB


def _long_term_power(power: np.ndarray) -> np.ndarray:
    """Mean mel power per band over the active frames (pauses left out, so a longer pause does not
    make a spectrum darker)."""
    return power[_active(power)].mean(axis=0)


def _pause_share(power: np.ndarray) -> float:
    """Share of frames in quiet runs of at least :data:`MIN_PAUSE_FRAMES`."""
    lengths = np.array([stop - start for start, stop in runs_of(~_active(power))], dtype=np.int64)
    return float(lengths[lengths >= MIN_PAUSE_FRAMES].sum() / max(power.shape[0], 1))


def _tilt(power: np.ndarray) -> float:
    average_db = spectrum.power_to_db(_long_term_power(power))
    band = (SHAPE_BANDS_HZ >= TILT_BAND_HZ[0]) & (SHAPE_BANDS_HZ <= TILT_BAND_HZ[1])
    return float(np.polyfit(np.log2(SHAPE_BANDS_HZ[band] / 1000.0), average_db[band], 1)[0])


def _shape_db(power: np.ndarray) -> np.ndarray:
    """The long-term spectrum's shape: each band's share of the total power, in dB, at
    :data:`SHAPE_BANDS_HZ`. Independent of level, so between two readings of one speaker it shows
    where vocal effort moved energy (the alpha ratio and Hammarberg index of eGeMAPS summarise it in
    two numbers; the tilt in one)."""
    long_term = _long_term_power(power)
    return spectrum.power_to_db(long_term, ref=float(long_term.sum())).astype(np.float32)


def _prepared(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if sample_rate != CONFIG.sample_rate:
        x = soxr.resample(x, sample_rate, CONFIG.sample_rate).astype(np.float32)
    return trim_silence(x, CONFIG)


def change(neutral: ProsodyMeasures, emotional: ProsodyMeasures) -> dict[str, float]:
    """How ``emotional`` differs from ``neutral``: F0 shift (semitones), F0 range and speaking rate as
    factors (rate: neutral over emotional duration, so it means something only for the same
    sentence), tilt change (dB per octave), and the changes of the F0 slope (semitones per second)
    and of the pause share, which are measured beside the renderer's quantities but not rendered
    (the actors' card says why)."""
    return {
        "f0_shift_st": emotional.f0_median_st - neutral.f0_median_st,
        "f0_range_scale": emotional.f0_range_st / max(neutral.f0_range_st, MIN_RANGE_ST),
        "rate": neutral.duration_s / emotional.duration_s,
        "tilt_db_per_octave": emotional.tilt_db_per_octave - neutral.tilt_db_per_octave,
        "f0_slope_st_per_s": emotional.f0_slope_st_per_s - neutral.f0_slope_st_per_s,
        "pause_share": emotional.pause_share - neutral.pause_share,
    }


def median_of(measures: Sequence[ProsodyMeasures]) -> ProsodyMeasures:
    """Each quantity's median over several utterances."""
    return ProsodyMeasures(
        *(float(np.median(values)) for values in zip(*map(astuple, measures), strict=True))
    )


def measure(samples: np.ndarray, sample_rate: int) -> ProsodyMeasures | None:
    """Measure mono speech (float, any rate); ``None`` when it has too little voicing to say."""
    x = _prepared(samples, sample_rate)
    return _measured(x, mel_power(x, CONFIG))


def measure_with_shape(samples: np.ndarray, sample_rate: int) -> tuple[ProsodyMeasures | None, np.ndarray]:
    """:func:`measure` and the long-term spectrum's shape (:func:`_shape_db`) from one resampling,
    one trim and one mel transform: learning reads every clip of five corpora."""
    x = _prepared(samples, sample_rate)
    power = mel_power(x, CONFIG)
    return _measured(x, power), _shape_db(power)


def _measured(x: np.ndarray, power: np.ndarray) -> ProsodyMeasures | None:
    """:func:`measure` of prepared speech ``x`` and its mel ``power``."""
    semitones = pitch_semitones(x, CONFIG)
    is_voiced = ~np.isnan(semitones)
    voiced = semitones[is_voiced]
    if voiced.size < MIN_VOICED_FRAMES:
        return None
    p10, median, p90 = np.percentile(voiced, [10, 50, 90])
    times_s = np.flatnonzero(is_voiced) / CONFIG.frame_rate
    return ProsodyMeasures(
        f0_median_st=float(median),
        f0_range_st=float(p90 - p10),
        duration_s=x.size / CONFIG.sample_rate,
        tilt_db_per_octave=_tilt(power),
        f0_slope_st_per_s=float(np.polyfit(times_s, voiced, 1)[0]),
        pause_share=_pause_share(power),
    )
