"""NVIDIA's mel-spectrogram settings and the short-time Fourier transforms built on them.

Tacotron 2, WaveGlow and the HiFi-GAN V1 weights all use the same features: 22050 Hz audio, a
1024-point STFT with a periodic Hann window and hop 256 on reflect-padded audio, the STFT
*magnitude* (not power) projected on librosa's Slaney-normalised 80-band mel filterbank from 0 to
8000 Hz, then ``log(clamp(mel, 1e-5))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from emotion_core import spectrum

#: Floor under mel magnitudes before the log, so silence is log(1e-5) ≈ -11.5 rather than -inf.
MEL_FLOOR = 1e-5


@dataclass(frozen=True)
class MelConfig:
    """Mel-spectrogram settings; defaults are NVIDIA's (Tacotron 2 ``hparams.py``)."""

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mels: int = 80
    fmin_hz: float = 0.0
    fmax_hz: float = 8000.0


NVIDIA_MEL = MelConfig()


@lru_cache(maxsize=8)
def mel_filterbank(config: MelConfig = NVIDIA_MEL) -> np.ndarray:
    """The mel filterbank, shape ``(n_mels, n_fft // 2 + 1)``, float32 (computed once per
    config)."""
    basis = spectrum.mel_filterbank(
        config.sample_rate, config.n_fft, config.n_mels, config.fmin_hz, config.fmax_hz
    )
    basis.setflags(write=False)
    return basis


def _window(win_length: int, n_fft: int, like: Tensor) -> Tensor:
    window = torch.hann_window(win_length, periodic=True, dtype=like.dtype, device=like.device)
    pad = (n_fft - win_length) // 2
    return torch.nn.functional.pad(window, (pad, n_fft - win_length - pad))


def stft_magnitude_phase(
    audio: Tensor, *, n_fft: int, hop_length: int, win_length: int
) -> tuple[Tensor, Tensor]:
    """Magnitude and phase of the centred, reflect-padded STFT.

    ``audio`` ``(B, T)`` → two tensors ``(B, n_fft // 2 + 1, T // hop_length + 1)``.
    """
    spectrum = torch.stft(
        audio,
        n_fft,
        hop_length=hop_length,
        window=_window(win_length, n_fft, audio),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    return spectrum.abs(), spectrum.angle()


def istft_from_magnitude_phase(
    magnitude: Tensor, phase: Tensor, *, n_fft: int, hop_length: int, win_length: int
) -> Tensor:
    """Inverse of :func:`stft_magnitude_phase` by windowed overlap-add normalised by the summed
    squared window; ``(B, n_fft // 2 + 1, frames)`` → ``(B, (frames - 1) · hop_length)``."""
    spectrum = torch.polar(magnitude, phase)
    return torch.istft(
        spectrum,
        n_fft,
        hop_length=hop_length,
        window=_window(win_length, n_fft, magnitude),
        center=True,
    )


def log_mel_spectrogram(audio: np.ndarray, config: MelConfig = NVIDIA_MEL) -> np.ndarray:
    """NVIDIA's log-mel features of float audio in [-1, 1].

    ``audio`` ``(T,)`` at ``config.sample_rate`` → ``(n_mels, T // hop_length + 1)`` float32.
    """
    tensor = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)).unsqueeze(0)
    magnitude, _ = stft_magnitude_phase(
        tensor, n_fft=config.n_fft, hop_length=config.hop_length, win_length=config.win_length
    )
    mel = torch.tensor(mel_filterbank(config)) @ magnitude[0]  # a copy: the cached bank is read-only
    return torch.log(torch.clamp(mel, min=MEL_FLOOR)).numpy()
