"""Tiny randomly initialized Tacotron 2 and WaveGlow models, and a stand-in for NVIDIA's ``glow``
module, so checkpoints in each published layout can be built per test session."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import torch

from emotion_core.synth.tacotron2 import Tacotron2, Tacotron2Config
from emotion_core.synth.waveglow import WaveGlow, WaveGlowConfig

TINY_TACOTRON2 = Tacotron2Config(
    symbols_embedding_dim=16,
    encoder_kernel_size=3,
    encoder_n_convolutions=2,
    encoder_embedding_dim=16,
    decoder_rnn_dim=24,
    prenet_dim=8,
    attention_rnn_dim=20,
    attention_dim=8,
    attention_location_n_filters=4,
    attention_location_kernel_size=5,
    postnet_embedding_dim=12,
    postnet_kernel_size=3,
    postnet_n_convolutions=3,
)

TINY_WAVEGLOW = WaveGlowConfig(
    n_flows=4, n_group=8, n_early_every=2, n_early_size=2, n_layers=2, n_channels=8, kernel_size=3
)

#: A stand-in for NVIDIA's ``glow`` module, written for these tests: the same module tree and
#: attribute names, built with torch's (old-style) weight normalisation, so pickling a model gives a
#: checkpoint shaped like ``waveglow_256channels_universal_v5.pt`` or its predecessors.
GLOW_SOURCE = textwrap.dedent(
    """
    import torch
    import torch.nn.backends.thnn
    from torch import nn
    from torch.nn.utils import weight_norm


    class WN(nn.Module):
        def __init__(self, n_in, n_cond, n_layers, n_channels, kernel_size, fused):
            super().__init__()
            self.n_layers, self.n_channels = n_layers, n_channels
            self.in_layers, self.res_skip_layers = nn.ModuleList(), nn.ModuleList()
            self.start = weight_norm(nn.Conv1d(n_in, n_channels, 1))
            self.end = nn.Conv1d(n_channels, 2 * n_in, 1)
            if fused:
                self.cond_layer = weight_norm(nn.Conv1d(n_cond, 2 * n_channels * n_layers, 1))
            else:
                self.cond_layers = nn.ModuleList()
            for i in range(n_layers):
                d = 2 ** i
                pad = d * (kernel_size - 1) // 2
                self.in_layers.append(weight_norm(nn.Conv1d(
                    n_channels, 2 * n_channels, kernel_size, dilation=d, padding=pad)))
                if not fused:
                    self.cond_layers.append(weight_norm(nn.Conv1d(n_cond, 2 * n_channels, 1)))
                out = 2 * n_channels if i < n_layers - 1 else n_channels
                self.res_skip_layers.append(weight_norm(nn.Conv1d(n_channels, out, 1)))


    class Invertible1x1Conv(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv1d(c, c, 1, bias=False)
            self.conv.weight.data = torch.linalg.qr(torch.randn(c, c))[0][..., None]


    class OldBackend:
        # Modules pickled by torch < 1.2 carried a backend object that pickled like this.
        def __reduce__(self):
            return (torch.nn.backends.thnn._get_thnn_function_backend, ())


    class WaveGlow(nn.Module):
        def __init__(self, n_mel_channels, n_flows, n_group, n_early_every, n_early_size, WN_config,
                     fused=True):
            super().__init__()
            self._backend = OldBackend()
            self.upsample = nn.ConvTranspose1d(n_mel_channels, n_mel_channels, 1024, stride=256)
            self.n_flows, self.n_group = n_flows, n_group
            self.n_early_every, self.n_early_size = n_early_every, n_early_size
            self.WN, self.convinv = nn.ModuleList(), nn.ModuleList()
            n_half, remaining = n_group // 2, n_group
            for k in range(n_flows):
                if k % n_early_every == 0 and k > 0:
                    n_half -= n_early_size // 2
                    remaining -= n_early_size
                self.convinv.append(Invertible1x1Conv(remaining))
                self.WN.append(WN(n_half, n_mel_channels * n_group, fused=fused, **WN_config))
            self.n_remaining_channels = remaining
    """
)


def tiny_tacotron2(seed: int = 0) -> Tacotron2:
    torch.manual_seed(seed)
    model = Tacotron2(TINY_TACOTRON2)
    # Non-trivial batch-norm statistics, so a load that skipped them would show.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def tiny_waveglow(seed: int = 0, cond_layout: str = "fused") -> WaveGlow:
    torch.manual_seed(seed)
    model = WaveGlow(replace(TINY_WAVEGLOW, cond_layout=cond_layout))  # type: ignore[arg-type]
    # Like NVIDIA's initialisation: orthogonal channel mixing
    # and small coupling outputs, so the random
    # flow stays near unit scale instead of amplifying the noise a thousandfold.
    for conv in model.convinv:
        channels = conv.conv.weight.shape[0]
        conv.conv.weight.data = torch.linalg.qr(torch.randn(channels, channels))[0][..., None]
    for wn in model.WN:
        wn.end.weight.data.mul_(0.05)
        wn.end.bias.data.mul_(0.05)
    return model.eval()
