"""The short-time spectrum, Slaney mel filter banks and silence trimming, in NumPy.

These are librosa's definitions (``stft`` with a centred, zero-padded periodic Hann window;
``filters.mel`` with Slaney's mel scale and area normalisation; ``effects.trim``), and the tests check
them against librosa value for value. They are written out here because serving needs nothing else of
librosa, and importing it costs more than a whole analysis: about 1.5 s of numba and scikit-learn
imports at every start, a 30 s JIT compile on the first run, and 260 MB of install. librosa stays the
reference, and the training and synthesis extras still use it.
"""

from __future__ import annotations

import numpy as np

#: Frames transformed at a time by :func:`stft_power`.
BLOCK_FRAMES = 128
#: Smallest power before a logarithm (librosa's ``amin``).
AMIN = 1e-10
# Slaney's mel scale: linear below 1 kHz, 200/3 Hz per mel, logarithmic above (27 mels per factor 6.4).
_HZ_PER_MEL = 200.0 / 3
_LOG_HZ = 1000.0
_LOG_MEL = _LOG_HZ / _HZ_PER_MEL
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel of frequencies in Hz."""
    hz = np.asanyarray(hz, dtype=np.float64)
    linear = hz / _HZ_PER_MEL
    logarithmic = _LOG_MEL + np.log(np.maximum(hz, _LOG_HZ) / _LOG_HZ) / _LOG_STEP
    return np.where(hz >= _LOG_HZ, logarithmic, linear)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Frequencies in Hz of Slaney mels."""
    mel = np.asanyarray(mel, dtype=np.float64)
    linear = mel * _HZ_PER_MEL
    logarithmic = _LOG_HZ * np.exp(_LOG_STEP * (np.maximum(mel, _LOG_MEL) - _LOG_MEL))
    return np.where(mel >= _LOG_MEL, logarithmic, linear)


def mel_band_edges_hz(n_mels: int, fmin_hz: float, fmax_hz: float) -> np.ndarray:
    """The ``n_mels + 2`` frequencies (Hz), evenly spaced in Slaney mels, that bound the triangular
    bands: band ``b`` rises from edge ``b``, peaks at edge ``b + 1`` and falls to edge ``b + 2``."""
    return mel_to_hz(np.linspace(hz_to_mel(fmin_hz), hz_to_mel(fmax_hz), n_mels + 2))


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin_hz: float, fmax_hz: float) -> np.ndarray:
    """Triangular filters evenly spaced in Slaney mels, each scaled to unit area in Hz (so a band's
    energy does not grow with its width); shape ``(n_mels, 1 + n_fft // 2)``, float32."""
    fft_hz = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    edges_hz = mel_band_edges_hz(n_mels, fmin_hz, fmax_hz)
    widths = np.diff(edges_hz)
    ramps = np.subtract.outer(edges_hz, fft_hz)
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None].astype(np.float32)
    return weights


def _frames(samples: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """Centred frames: the signal zero-padded by half a frame at each end, ``(frames, frame_length)``."""
    padded = np.pad(samples, frame_length // 2)
    if padded.size < frame_length:
        padded = np.pad(padded, (0, frame_length - padded.size))
    return np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop_length]


def stft_power(samples: np.ndarray, n_fft: int, hop_length: int, win_length: int) -> np.ndarray:
    """Power spectrum per frame, ``(frames, 1 + n_fft // 2)`` float32: a periodic Hann window of
    ``win_length`` centred in ``n_fft``, frames centred on multiples of ``hop_length``."""
    window = np.zeros(n_fft)
    offset = (n_fft - win_length) // 2
    window[offset : offset + win_length] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win_length) / win_length)
    frames = _frames(np.asarray(samples, dtype=np.float32), n_fft, hop_length)
    power = np.empty((frames.shape[0], n_fft // 2 + 1), np.float32)
    # In blocks, as librosa does: whole-clip temporaries of several MB cost more in fresh pages than
    # the transform itself (a 10 s clip: 0.9 ms in blocks, 3.6 ms at once; the same values).
    for start in range(0, frames.shape[0], BLOCK_FRAMES):
        block = np.fft.rfft(frames[start : start + BLOCK_FRAMES] * window, axis=1).astype(np.complex64)
        power[start : start + BLOCK_FRAMES] = block.real**2 + block.imag**2
    return power


def power_to_db(power: np.ndarray, ref: float = 1.0) -> np.ndarray:
    """``10 log10(power / ref)``, with power and ref floored at :data:`AMIN`."""
    return 10.0 * np.log10(np.maximum(AMIN, power)) - 10.0 * np.log10(max(AMIN, ref))


def trim_bounds(samples: np.ndarray, top_db: float, frame_length: int, hop_length: int) -> tuple[int, int]:
    """Start and end sample of the stretch from the first to the last frame whose mean power is within
    ``top_db`` of the loudest frame's; ``(0, 0)`` when no frame is (silence)."""
    frames = _frames(np.asarray(samples, dtype=np.float32), frame_length, hop_length)
    mean_square = np.mean(np.abs(frames) ** 2, axis=1)
    db = power_to_db(mean_square, ref=float(mean_square.max(initial=0.0)))
    loud = np.flatnonzero(db > -top_db)
    if loud.size == 0:
        return 0, 0
    return int(loud[0] * hop_length), min(samples.shape[-1], int((loud[-1] + 1) * hop_length))
