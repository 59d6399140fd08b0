"""Utterance functionals: one fixed-length vector of spectral, loudness and pitch statistics per clip.

Cross-corpus emotion recognition has long been led by such statistics (the eGeMAPS tradition) rather
than by frame-level networks, because a summary of how pitch, loudness and spectral shape move over an
utterance carries arousal and valence across speakers and microphones, while frame-level detail
carries the speaker and the room. They are also what a voice profile can normalise: the running mean
and spread of these vectors over a person's messages is all a profile keeps (see
:mod:`emotion_core.profile`).

The vector is a pure function of the waveform and :class:`~emotion_core.features.FeatureConfig`;
:func:`functional_names` names every element, in order.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft

from emotion_core import spectrum
from emotion_core.features import FeatureConfig, log_from_power, mel_power

#: Cepstral coefficients (from the log-mel, c1..c20) whose spread and dynamics are kept.
N_CEPS = 20
#: Pitch search range (Hz): covers low male speech to high child and shouted speech.
F0_FLOOR_HZ, F0_CEIL_HZ = 60.0, 600.0
#: Frames this far below the loudest frame (dB) count as pauses for loudness and rhythm statistics.
ACTIVE_DB = 30.0
#: Cepstral means kept over voiced frames (the vowels' envelope) and over active unvoiced frames
#: (fricatives and breath), with ``voicing``.
N_VOICED_CEPS, N_UNVOICED_CEPS = 12, 6
#: Voiced runs shorter than this many frames are DIO's voicing flicker, not syllables.
MIN_VOICED_RUN = 3
#: Bands (Hz) of the loudness contour's modulation spectrum, with ``modulation``: phrases and stress
#: (0.5-2), syllables (2-4 and 4-8: the syllable rate of speech is about 4-5 per second) and fast
#: tremor or roughness (8-16).
MODULATION_BANDS_HZ = ((0.5, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 16.0))


@functools.lru_cache(maxsize=8)
def functional_names(config: FeatureConfig) -> tuple[str, ...]:
    """The name of every element of :func:`utterance_functionals`'s vector, in order."""
    names = [f"mel{b}_mean" for b in range(config.n_mels)]
    names += [f"mel{b}_std" for b in range(config.n_mels)]
    names += [f"mel{b}_delta_std" for b in range(config.n_mels)]
    names += [f"cep{c}_std" for c in range(1, N_CEPS + 1)]
    names += [f"cep{c}_delta_std" for c in range(1, N_CEPS + 1)]
    names += [
        "loudness_std",
        "loudness_range",
        "loudness_slope",
        "loudness_delta_std",
        "active_fraction",
        "loudness_peaks_per_s",
        "tilt_mean",
        "tilt_std",
        "voiced_fraction",
        "f0_median_st",
        "f0_std_st",
        "f0_p10_st",
        "f0_p90_st",
        "f0_slope_st_per_s",
        "f0_delta_abs_st",
        "f0_jitter_st",
    ]
    if config.voicing:
        names += [
            "voiced_segments_per_s",
            "voiced_segment_mean_s",
            "voiced_segment_std_s",
            "unvoiced_segment_mean_s",
            "alpha_ratio_mean",
            "alpha_ratio_std",
            "hammarberg_mean",
            "hammarberg_std",
            "voiced_loudness_offset",
            "voiced_loudness_std",
            "voiced_flux_mean",
            "f0_rise_st_per_s",
            "f0_fall_st_per_s",
        ]
        names += [f"voiced_cep{c}_mean" for c in range(1, N_VOICED_CEPS + 1)]
        names += [f"unvoiced_cep{c}_mean" for c in range(1, N_UNVOICED_CEPS + 1)]
    if config.modulation:
        names += [f"loudness_mod_{low:g}_{high:g}hz" for low, high in MODULATION_BANDS_HZ]
        names += ["loudness_mod_centroid_hz"]
    return tuple(names)


#: The first of the prosodic functionals: from it on the vector holds loudness, pitch, rhythm and voice
#: quality statistics, with cepstral means of voiced and unvoiced frames among them (left out of the
#: prosodic view, which keeps no spectral shape).
PROSODY_FROM = "loudness_std"


@functools.lru_cache(maxsize=8)
def prosody_columns(config: FeatureConfig) -> np.ndarray:
    """Indices of the prosodic view's functionals: how loud, how high, how fast and how the voice
    moves, without the spectral shape (band means and spreads, cepstra) that carries the microphone
    and the language as well as the emotion."""
    names = functional_names(config)
    first = names.index(PROSODY_FROM)
    return np.array([i for i in range(first, len(names)) if "cep" not in names[i]])


def network_inputs(
    functionals: np.ndarray, config: FeatureConfig, band_means: bool, prosody: bool = False
) -> np.ndarray:
    """The functional network's input from full vectors (``(..., n_functionals)``): the log-mel band
    means are dropped unless ``band_means`` (they carry the microphone's colouring with the voice);
    with ``prosody`` only :func:`prosody_columns` are kept."""
    if prosody:
        return functionals[..., prosody_columns(config)]
    return functionals if band_means else functionals[..., config.n_mels :]


def network_input_size(config: FeatureConfig, band_means: bool, prosody: bool = False) -> int:
    """Length of :func:`network_inputs`'s vectors."""
    if prosody:
        return int(prosody_columns(config).size)
    return len(functional_names(config)) - (0 if band_means else config.n_mels)


def _slope(values: np.ndarray, frame_rate: float) -> float:
    """Least-squares slope per second of a contour (0 for fewer than two points)."""
    if values.size < 2:
        return 0.0
    t = np.arange(values.size) / frame_rate
    t = t - t.mean()
    return float(np.dot(t, values - values.mean()) / max(np.dot(t, t), 1e-12))


def _percentiles(ordered: np.ndarray, percents: list[float]) -> np.ndarray:
    """``np.percentile(values, percents)`` (linear interpolation, bit for bit) of ``ordered``, the
    values sorted: numpy's generic routine costs ten times the sort on a window's few hundred
    frames, and a long clip's windows call it four times each."""
    position = np.asarray(percents, dtype=np.float64) / 100 * (ordered.size - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, ordered.size - 1)
    fraction = position - below
    low, high = ordered[below], ordered[above]
    step = high - low
    return np.where(fraction >= 0.5, high - step * (1 - fraction), low + step * fraction)


def _median(ordered: np.ndarray) -> np.floating:
    """``np.median`` of ``ordered``, the values sorted, bit for bit (see :func:`_percentiles`)."""
    half = ordered.size // 2
    return ordered[half] if ordered.size % 2 else (ordered[half - 1] + ordered[half]) / 2


def pitch_semitones(samples: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """F0 per 10 ms frame in semitones re 100 Hz; NaN where unvoiced (WORLD's DIO, StoneMask if
    ``config.pitch_refine``).

    DIO is WORLD's fast estimator (under 1 ms per second of speech at ``pitch_speed`` 8) and makes
    its own voicing decision, which librosa's YIN does not; StoneMask refines each estimate.
    """
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    period_ms = 1000.0 * config.hop_length / config.sample_rate
    f0, times = pyworld.dio(
        x,
        config.sample_rate,
        f0_floor=F0_FLOOR_HZ,
        f0_ceil=F0_CEIL_HZ,
        frame_period=period_ms,
        speed=config.pitch_speed,
    )
    if config.pitch_refine:
        f0 = pyworld.stonemask(x, f0, times, config.sample_rate)
    with np.errstate(divide="ignore"):
        semitones = 12.0 * np.log2(f0 / 100.0)
    return np.where(f0 > 0, semitones, np.nan)


def _pitch_stats(semitones: np.ndarray, frame_rate: float) -> list[float]:
    voiced = semitones[~np.isnan(semitones)]
    if voiced.size < 5:
        return [0.0] * 8
    steps = np.diff(semitones)
    steps = steps[~np.isnan(steps)]
    small = steps[np.abs(steps) < 2.0]  # jumps over 2 semitones in 10 ms are octave errors or onsets
    p10, median, p90 = _percentiles(np.sort(voiced), [10, 50, 90])
    return [
        voiced.size / semitones.size,
        float(median),
        float(voiced.std()),
        float(p10 - median),
        float(p90 - median),
        _slope(voiced, frame_rate),
        float(np.abs(small).mean()) if small.size else 0.0,
        float(np.abs(np.diff(small)).mean()) if small.size > 1 else 0.0,
    ]


def utterance_functionals(samples: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Statistics of one (trimmed) clip: spectral shape, its movement, loudness, rhythm and pitch.

    Parameters
    ----------
    samples : np.ndarray, shape (n,), float32 at ``config.sample_rate``

    Returns
    -------
    np.ndarray, shape (len(functional_names(config)),), float32
        Gain-independent: loudness enters only relative to the clip's own level, and the log-mel is
        the recogniser's gain-normalised one. The band means carry the microphone's colouring as
        well as the voice's; :class:`~emotion_core.recognizer.config.ArchitectureConfig`'s
        ``band_means`` decides whether a model sees them.
    """
    return functionals_of(mel_power(samples, config), pitch_semitones(samples, config), config)


def functionals_of(power: np.ndarray, semitones: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """:func:`utterance_functionals` from a clip's mel power (:func:`~emotion_core.features.mel_power`)
    and F0 track (:func:`pitch_semitones`), both one row per 10 ms frame. Overlapping windows of a long
    clip pass slices of one transform and one pitch track, so each second is analysed once."""
    return with_pitch(spectral_statistics(power, config), semitones, config)


@dataclass(frozen=True)
class SpectralStatistics:
    """The functionals that need no pitch track, and the analysis the pitch-dependent ones read.

    Split from :func:`with_pitch` so that serving computes them while WORLD's pitch tracker runs on
    another core (:mod:`emotion_core.recognizer.infer`); together they are :func:`functionals_of`.
    """

    mel: np.ndarray  # (frames, n_mels) log-mel, mean 0
    delta: np.ndarray  # its frame-to-frame differences
    ceps: np.ndarray  # (frames, N_CEPS) cepstra c1..c20
    loudness: np.ndarray  # (frames,) dB, relative
    active: np.ndarray  # (frames,) within ACTIVE_DB of the loudest frame
    head: np.ndarray  # the vector's spectral and loudness statistics, which come first
    modulation: np.ndarray | None  # the vector's last elements, with ``config.modulation``


def spectral_statistics(power: np.ndarray, config: FeatureConfig) -> SpectralStatistics:
    """:class:`SpectralStatistics` of a clip's (or a window's) mel power."""
    return window_statistics(power, [0], power.shape[0], config)[0]


def window_statistics(
    power: np.ndarray, firsts: Sequence[int], frames: int, config: FeatureConfig
) -> list[SpectralStatistics]:
    """:class:`SpectralStatistics` of each window ``power[first : first + frames]`` of a clip's mel power.

    A long clip's timeline windows all have the same length, so the work on whole arrays (log-mel,
    deltas, cepstra, their spreads) is done once on a stack of them, and only the statistics of each
    window's active frames, which differ in number, one window at a time: a 10 s clip's six windows
    cost two thirds of what six calls did. Each window's values are those of its slice alone, bit for
    bit (tests), so a window is heard exactly as a clip of its length would be.
    """
    index = np.asarray(firsts, dtype=np.intp)[:, None] + np.arange(frames)
    mel = log_from_power(power[index], config)  # (windows, frames, n_mels), natural log, each mean 0
    frame_rate = config.frame_rate
    delta = np.diff(mel, axis=1) if frames > 1 else np.zeros_like(mel)
    ceps = scipy.fft.dct(mel, type=2, norm="ortho", axis=2)[..., 1 : N_CEPS + 1]
    ceps_delta = np.diff(ceps, axis=1) if frames > 1 else np.zeros_like(ceps)
    loudness = 10.0 / np.log(10.0) * np.log(np.exp(mel).sum(axis=2))  # dB, relative
    active = loudness > loudness.max(axis=1, keepdims=True) - ACTIVE_DB
    loudness_delta = np.diff(loudness, axis=1).std(axis=1) if frames > 1 else np.zeros(len(firsts))
    half = config.n_mels // 2
    tilts = mel[..., half:].mean(axis=2) - mel[..., :half].mean(axis=2)  # high minus low bands
    spectral = np.concatenate(
        [mel.mean(axis=1), mel.std(axis=1), delta.std(axis=1), ceps.std(axis=1), ceps_delta.std(axis=1)],
        axis=1,
    )
    modulation = _modulation_stats(loudness, frame_rate) if config.modulation else None
    duration_s = max(frames / frame_rate, 1e-3)
    out = []
    for w in range(len(firsts)):
        level = loudness[w, active[w]]
        ordered = np.sort(level)
        middle = level[1:-1]
        peaks = np.sum((middle > level[:-2]) & (middle >= level[2:]) & (middle > _median(ordered)))
        tilt = tilts[w, active[w]]
        loud = [
            float(level.std()),
            float(np.subtract(*_percentiles(ordered, [95, 5]))),
            _slope(level, frame_rate),
            float(loudness_delta[w]),
            float(active[w].mean()),
            float(peaks / duration_s),
            float(tilt.mean()),
            float(tilt.std()),
        ]
        out.append(
            SpectralStatistics(
                mel[w],
                delta[w],
                ceps[w],
                loudness[w],
                active[w],
                np.concatenate([spectral[w], loud]),
                modulation[w] if modulation is not None else None,
            )
        )
    return out


def with_pitch(spectral: SpectralStatistics, semitones: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The whole functional vector from a clip's :class:`SpectralStatistics` and its F0 track."""
    parts: list[np.ndarray | list[float]] = [spectral.head, _pitch_stats(semitones, config.frame_rate)]
    if config.voicing:
        parts.append(_voicing_stats(spectral, semitones, config))
    if spectral.modulation is not None:
        parts.append(spectral.modulation)
    return np.concatenate(parts).astype(np.float32)


def _modulation_stats(loudness: np.ndarray, frame_rate: float) -> np.ndarray:
    """How the loudness contour's energy spreads over :data:`MODULATION_BANDS_HZ` (shares summing
    to 1) and its centroid (Hz): how fast speech pulses, which the peak count and the voiced-run
    lengths only sample. Pauses are floored at :data:`ACTIVE_DB` below the loudest frame, so a
    silence's depth (the room's noise floor) does not count as modulation. ``loudness`` holds
    contours of one length, ``(contours, frames)``, each taken on its own; one row of shares and
    centroid per contour."""
    envelope = np.maximum(loudness, loudness.max(axis=-1, keepdims=True) - ACTIVE_DB).astype(np.float64)
    frames = envelope.shape[-1]
    out = np.zeros((envelope.shape[0], len(MODULATION_BANDS_HZ) + 1))
    if frames < frame_rate / MODULATION_BANDS_HZ[0][0]:
        return out  # too short to hold one cycle of the slowest band
    centered = (envelope - envelope.mean(axis=-1, keepdims=True)) * np.hanning(frames)
    spectra = np.abs(np.fft.rfft(centered, axis=-1)) ** 2
    hz = np.fft.rfftfreq(frames, d=1.0 / frame_rate)
    in_bands = [(hz >= low) & (hz < high) for low, high in MODULATION_BANDS_HZ]
    in_range = (hz >= MODULATION_BANDS_HZ[0][0]) & (hz < MODULATION_BANDS_HZ[-1][1])
    # Row by row from here: numpy sums a row of a 2-D array in another order than the same values in
    # a 1-D one, and a window's statistics must be its slice's alone bit for bit.
    for row, power in zip(out, spectra, strict=True):
        bands = np.array([power[band].sum() for band in in_bands])
        total = bands.sum()
        if total > 0.0:
            row[:-1] = bands / total
            row[-1] = float((hz[in_range] * power[in_range]).sum() / power[in_range].sum())
    return out


def _run_slopes(values: np.ndarray, runs: list[tuple[int, int]], frame_rate: float) -> np.ndarray:
    """:func:`_slope` of ``values[a:b]`` for every ``(a, b)`` of ``runs`` (each finite and at least two
    frames long) at once, from cumulative sums: a clip has a hundred voiced runs, and a Python call
    per run cost as much as the rest of the voicing statistics."""
    bounds = np.array(runs, dtype=np.int64).reshape(-1, 2)
    start, stop = bounds[:, 0], bounds[:, 1]
    y = np.nan_to_num(values.astype(np.float64))
    sum_y = np.concatenate([[0.0], np.cumsum(y)])
    sum_iy = np.concatenate([[0.0], np.cumsum(np.arange(y.size) * y)])
    n = (stop - start).astype(np.float64)
    sy = sum_y[stop] - sum_y[start]
    sty = sum_iy[stop] - sum_iy[start] - start * sy  # time counted from each run's start
    st = n * (n - 1) / 2.0
    stt = (n - 1) * n * (2 * n - 1) / 6.0
    return (n * sty - st * sy) / np.maximum(n * stt - st * st, 1e-12) * frame_rate


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of True in ``mask`` (voiced segments here, pauses in
    :mod:`emotion_core.synth.prosody_measures`)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2], strict=True))


@functools.lru_cache(maxsize=8)
def _band_regions(config: FeatureConfig) -> tuple[np.ndarray, ...]:
    """Band widths (Hz) and masks of the bands centered in 0-1000, 1000-5000, 0-2000 and 2000-5000 Hz
    (alpha ratio's and Hammarberg index's regions)."""
    edges = spectrum.mel_band_edges_hz(config.n_mels, config.fmin_hz, config.fmax_hz)
    centers = edges[1:-1]
    widths = (edges[2:] - edges[:-2]) / 2.0
    return (
        widths,
        centers < 1000.0,
        (centers >= 1000.0) & (centers < 5000.0),
        centers < 2000.0,
        (centers >= 2000.0) & (centers < 5000.0),
    )


def _voicing_stats(spectral: SpectralStatistics, semitones: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """eGeMAPS-style voicing statistics (see :attr:`FeatureConfig.voicing`).

    Voice quality (tension, breathiness, vocal effort) shows in the spectrum of the vowels, which the
    whole clip's band means blur with pauses and fricatives; rhythm shows in how long voiced runs
    and the gaps between them last. Both are measured in ratios and seconds, so gain and microphone
    level cancel as in the rest of the vector.
    """
    frames = min(spectral.mel.shape[0], semitones.size)
    frame_rate = config.frame_rate
    # the whole clip's active level, before the tracks are aligned
    level = spectral.loudness[spectral.active].mean()
    mel, ceps, loudness, active = (
        a[:frames] for a in (spectral.mel, spectral.ceps, spectral.loudness, spectral.active)
    )
    delta = spectral.delta[: frames - 1]
    voiced = ~np.isnan(semitones[:frames]) & active
    runs = [(a, b) for a, b in runs_of(voiced) if b - a >= MIN_VOICED_RUN]
    lengths = np.array([b - a for a, b in runs], dtype=np.float64) / frame_rate
    gaps = (
        np.array([c - b for (_, b), (c, _) in zip(runs[:-1], runs[1:], strict=True)], dtype=np.float64)
        / frame_rate
    )
    duration_s = max(mel.shape[0] / frame_rate, 1e-3)
    rhythm = [
        len(runs) / duration_s,
        float(lengths.mean()) if lengths.size else 0.0,
        float(lengths.std()) if lengths.size else 0.0,
        float(gaps.mean()) if gaps.size else 0.0,
    ]
    widths, low, high, below_2k, mid = _band_regions(config)
    keep = np.zeros(frames, dtype=bool)
    for a, b in runs:
        keep[a:b] = True
    quality = [0.0] * 9
    voiced_ceps = np.zeros(N_VOICED_CEPS)
    if keep.sum() >= MIN_VOICED_RUN:
        db = 10.0 / np.log(10.0) * mel[keep]
        energy = np.exp(mel[keep]) * widths
        alpha = 10.0 * np.log10(energy[:, low].sum(axis=1) / np.maximum(energy[:, high].sum(axis=1), 1e-12))
        hammarberg = db[:, below_2k].max(axis=1) - db[:, mid].max(axis=1)
        flux = np.linalg.norm(delta[keep[1:] & keep[:-1]], axis=1)  # delta[i] = mel[i + 1] - mel[i]
        slopes = _run_slopes(semitones[:frames], runs, frame_rate)
        rises, falls = slopes[slopes > 0], slopes[slopes < 0]
        quality = [
            float(alpha.mean()),
            float(alpha.std()),
            float(hammarberg.mean()),
            float(hammarberg.std()),
            float(loudness[keep].mean() - level),
            float(loudness[keep].std()),
            float(flux.mean()) if flux.size else 0.0,
            float(rises.mean()) if rises.size else 0.0,
            float(falls.mean()) if falls.size else 0.0,
        ]
        voiced_ceps = ceps[keep, :N_VOICED_CEPS].mean(axis=0)
    unvoiced = active & ~keep
    unvoiced_ceps = np.zeros(N_UNVOICED_CEPS)
    if unvoiced.sum() >= MIN_VOICED_RUN:
        unvoiced_ceps = ceps[unvoiced, :N_UNVOICED_CEPS].mean(axis=0)
    return np.concatenate([rhythm, quality, voiced_ceps, unvoiced_ceps])
