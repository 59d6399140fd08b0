"""Removes WaveGlow's bias: the faint hiss a trained model adds to everything, even silence.

The bias spectrum is WaveGlow's output for an all-zero mel with no noise (sigma 0). It depends only
on the weights, so it is computed once when the denoiser is built and kept as a buffer; denoising
then subtracts ``strength × bias`` from each frame's STFT magnitude and resynthesises with the
original phase.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from emotion_core.synth.stft import istft_from_magnitude_phase, stft_magnitude_phase
from emotion_core.synth.waveglow import WaveGlow

#: Mel frames of the silent input used to measure the bias (NVIDIA's value, about one second).
BIAS_FRAMES = 88


class Denoiser(nn.Module):
    """Spectral subtraction of a WaveGlow model's bias.

    Parameters
    ----------
    waveglow : WaveGlow
        The model whose bias to measure; read once here and not kept.
    n_fft, hop_length, win_length : int
        STFT used for the subtraction (NVIDIA: 1024, 256, 1024).
    """

    bias_spec: Tensor

    def __init__(
        self,
        waveglow: WaveGlow,
        *,
        n_fft: int = 1024,
        hop_length: int = 256,
        win_length: int = 1024,
    ) -> None:
        super().__init__()
        self.n_fft, self.hop_length, self.win_length = n_fft, hop_length, win_length
        weight = waveglow.upsample.weight
        silence = torch.zeros(
            (1, waveglow.config.n_mel_channels, BIAS_FRAMES),
            dtype=weight.dtype,
            device=weight.device,
        )
        # sigma=0 makes the noise irrelevant; a private generator keeps the global RNG untouched.
        generator = torch.Generator(device=weight.device).manual_seed(0)
        with torch.no_grad():
            bias_audio = waveglow.infer(silence, sigma=0.0, generator=generator).float()
            bias_spec, _ = self._stft(bias_audio)
        # Keep the first frame's magnitude, shape (1, n_fft // 2 + 1, 1), to broadcast over frames.
        self.register_buffer("bias_spec", bias_spec[:, :, :1].clone())

    def _stft(self, audio: Tensor) -> tuple[Tensor, Tensor]:
        return stft_magnitude_phase(
            audio, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length
        )

    @torch.no_grad()
    def forward(self, audio: Tensor, strength: float = 0.1) -> Tensor:
        """Denoise ``audio`` ``(B, T)`` → ``(B, (T // hop_length) · hop_length)``."""
        magnitude, phase = self._stft(audio.float())
        magnitude = torch.clamp(magnitude - self.bias_spec * strength, min=0.0)
        return istft_from_magnitude_phase(
            magnitude,
            phase,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
        )
