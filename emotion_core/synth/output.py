"""Synthesised speech out: loudness normalisation, peak limiting and Discord's waveform.

Loudness is measured as ITU-R BS.1770-4 integrated loudness (K-weighting: a +4 dB high shelf above
about 1.5 kHz and a 38 Hz high-pass, 400 ms blocks with 75 % overlap, gated at -70 LUFS absolute and
-10 LU relative), implemented here with scipy biquads designed for the signal's own sample rate. A
single gain brings speech to ``TARGET_LUFS`` (-16 LUFS, the usual target for spoken-word streaming
and voice messages); a look-ahead peak limiter then keeps every sample under ``PEAK_CEILING_DBFS``
so a loud emotion never clips.

Encoding to Ogg/Opus 48 kHz or WAV is :func:`emotion_core.audio.encode`'s job (see
``Speech.to_ogg``); this module only prepares the samples it is given.
"""

from __future__ import annotations

import logging
import math

import numpy as np

log = logging.getLogger(__name__)

#: Integrated loudness that neutral speech is brought to (LUFS).
TARGET_LUFS = -16.0
#: No output sample exceeds this (dBFS); 1 dB of headroom covers Opus's inter-sample overshoot.
PEAK_CEILING_DBFS = -1.0
#: Discord voice-message waveform: at most this many one-byte amplitude points.
MAX_WAVEFORM_POINTS = 256
#: Loudness given to digital silence, below BS.1770's absolute gate (LUFS).
SILENCE_LUFS = -70.0

_BLOCK_S = 0.4  # BS.1770 gating block
_BLOCK_OVERLAP = 0.75
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
_LIMITER_WINDOW_S = 0.005  # look-ahead / release of the peak limiter


def _k_weighting(sample_rate: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """BS.1770's two K-weighting biquads ``((b, a), (b, a))`` designed for ``sample_rate``.

    The analogue prototypes (shelf at 1681.97 Hz, +4 dB; high-pass at 38.135 Hz) are mapped with the
    bilinear transform as libebur128 does; at 48 kHz this reproduces the standard's coefficients.
    """
    k = math.tan(math.pi * 1681.974450955533 / sample_rate)
    q = 0.7071752369554196
    vh = 10.0 ** (3.999843853973347 / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = (
        np.array([vh + vb * k / q + k * k, 2.0 * (k * k - vh), vh - vb * k / q + k * k]) / a0,
        np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]),
    )
    k = math.tan(math.pi * 38.13547087602444 / sample_rate)
    q = 0.5003270373238773
    a0 = 1.0 + k / q + k * k
    highpass = (
        np.array([1.0, -2.0, 1.0]),
        np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]),
    )
    return shelf, highpass


def integrated_loudness(samples: np.ndarray, sample_rate: int) -> float:
    """BS.1770-4 integrated loudness of mono ``samples`` (float, full scale 1.0), in LUFS.

    Returns ``SILENCE_LUFS`` when every block is below the absolute gate (silence, or a clip shorter
    than one 400 ms block that is also near-silent). Clips shorter than a block are measured as one
    block over their whole length.
    """
    from scipy.signal import lfilter

    x = np.asarray(samples, dtype=np.float64)
    (b1, a1), (b2, a2) = _k_weighting(sample_rate)
    weighted = lfilter(b2, a2, lfilter(b1, a1, x))

    block = int(round(_BLOCK_S * sample_rate))
    hop = int(round(block * (1.0 - _BLOCK_OVERLAP)))
    if weighted.size <= block:
        powers = np.array([np.mean(weighted**2)]) if weighted.size else np.zeros(0)
    else:
        frames = np.lib.stride_tricks.sliding_window_view(weighted**2, block)[::hop]
        powers = frames.mean(axis=1)
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(powers)
    gated = powers[block_lufs > _ABSOLUTE_GATE_LUFS]
    if gated.size == 0:
        return SILENCE_LUFS
    relative_gate = -0.691 + 10.0 * np.log10(gated.mean()) + _RELATIVE_GATE_LU
    gated = powers[block_lufs > max(relative_gate, _ABSOLUTE_GATE_LUFS)]
    return float(-0.691 + 10.0 * np.log10(gated.mean()))


def loudness_gain(samples: np.ndarray, sample_rate: int, *, target_lufs: float = TARGET_LUFS) -> float:
    """Linear gain that brings ``samples`` to ``target_lufs``; 1.0 for silence."""
    loudness = integrated_loudness(samples, sample_rate)
    if loudness <= SILENCE_LUFS:
        return 1.0
    return float(10.0 ** ((target_lufs - loudness) / 20.0))


def limit_peaks(
    samples: np.ndarray, sample_rate: int, *, ceiling_dbfs: float = PEAK_CEILING_DBFS
) -> np.ndarray:
    """Look-ahead peak limiter: no output sample exceeds ``ceiling_dbfs``; quiet passages untouched.

    The gain needed at each sample (``ceiling / |x|``, at most 1) is spread by a minimum filter and
    then smoothed by a moving average of the same 5 ms width. Every average then covers only values
    no greater than the gain needed at its centre, so the ceiling holds exactly, while the gain
    moves smoothly (no clicks) over 5 ms before and after each peak.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    x = np.asarray(samples, dtype=np.float64)
    ceiling = 10.0 ** (ceiling_dbfs / 20.0)
    peak = np.max(np.abs(x), initial=0.0)
    if peak <= ceiling:
        return x.astype(np.float32)
    width = max(1, int(_LIMITER_WINDOW_S * sample_rate)) | 1  # odd, so the windows are centred
    with np.errstate(divide="ignore"):
        needed = np.minimum(1.0, ceiling / np.abs(x))
    gain = uniform_filter1d(minimum_filter1d(needed, width, mode="nearest"), width, mode="nearest")
    # Float rounding in the running mean can overshoot by ~1e-16; never let it exceed the need.
    y = x * np.minimum(gain, needed)
    log.debug("Limiter: peak %.2f dBFS brought to %.2f dBFS", 20 * np.log10(peak), ceiling_dbfs)
    return y.astype(np.float32)


def normalize(
    samples: np.ndarray,
    sample_rate: int,
    *,
    gain: float | None = None,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbfs: float = PEAK_CEILING_DBFS,
) -> np.ndarray:
    """Apply ``gain`` (default: the gain to ``target_lufs``), then the peak limiter; float32 out.

    The pipeline passes the gain measured on the voice's *neutral* output, so the emotion's energy
    offset (louder anger, quieter sadness) survives normalisation.
    """
    if gain is None:
        gain = loudness_gain(samples, sample_rate, target_lufs=target_lufs)
    return limit_peaks(np.asarray(samples) * gain, sample_rate, ceiling_dbfs=ceiling_dbfs)


def waveform(samples: np.ndarray, *, points: int = MAX_WAVEFORM_POINTS) -> bytes:
    """Discord's voice-message waveform: ``points`` (1-256) one-byte amplitudes, 0-255.

    The speech is cut into ``points`` equal spans (one per sample for clips shorter than that); each
    byte is its span's peak magnitude relative to the loudest span, so the shape fills the bubble
    whatever the level. All zeros for silence. The bot base64-encodes the result.
    """
    if not 1 <= points <= MAX_WAVEFORM_POINTS:
        raise ValueError(f"points must be within 1-{MAX_WAVEFORM_POINTS}, not {points}")
    x = np.abs(np.asarray(samples, dtype=np.float64))
    n = min(points, max(1, x.size))
    if x.size == 0:
        return bytes(n)
    edges = np.linspace(0, x.size, n + 1).astype(int)
    peaks = np.maximum.reduceat(x, edges[:-1])
    top = peaks.max()
    if top <= 0:
        return bytes(n)
    return bytes(np.round(peaks / top * 255).astype(np.uint8).tolist())
