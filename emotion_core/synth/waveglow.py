"""WaveGlow (Prenger et al., 2019): a flow that turns Gaussian noise into audio, conditioned on a
mel spectrogram, run here in its inverse (synthesis) direction only.

Module and parameter names match NVIDIA's releases (``NVIDIA/waveglow`` ``glow.py`` and
DeepLearningExamples), in both layouts of the WaveNet-like coupling network: the newer one with one
``cond_layer`` producing the conditioning of all layers at once, and the older one with a
``cond_layers`` list. Weight normalisation is a training device; the loader folds ``weight_g`` and
``weight_v`` into plain ``weight`` tensors before loading, as NVIDIA's ``remove_weightnorm`` does.

Shapes: B batch, F mel frames, T = F × hop samples, G = ``n_group`` samples folded into channels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal, get_args

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from emotion_core.synth.sizes import SizeRange, as_size, check_parameter_count, check_sizes, shape_of

CondLayout = Literal["fused", "per_layer"]

#: The sizes a WaveGlow may have, generous around NVIDIA's published models (their values after each
#: line). Every coupling halves a flow's channels, so ``n_group`` and ``n_early_size`` are even; the
#: kernel is odd so that "same" padding keeps the length; dilations double per layer up to 2**15.
WAVEGLOW_SIZES: Mapping[str, SizeRange] = MappingProxyType(
    {
        "n_mel_channels": SizeRange(1, 512),  # 80
        "n_flows": SizeRange(1, 32),  # 12
        "n_group": SizeRange(2, 64, "even"),  # 8
        "n_early_every": SizeRange(1, 32),  # 4
        "n_early_size": SizeRange(0, 62, "even"),  # 2
        "n_layers": SizeRange(1, 16),  # 8
        "n_channels": SizeRange(1, 1024),  # 256 or 512
        "kernel_size": SizeRange(1, 31, "odd"),  # 3
        "upsample_kernel_size": SizeRange(1, 4096),  # 1024
        "upsample_stride": SizeRange(16, 2048),  # 256, the hop length
        "sampling_rate": SizeRange(8000, 48000),  # 22050
    }
)

#: Most values a WaveGlow's state dict may hold: 1.5x NVIDIA's largest published model (512
#: channels, 268 million; the 256-channel one has 88 million), 1.5 GiB as float32.
WAVEGLOW_MAX_PARAMETERS = 400_000_000

#: Most values the largest tensor of synthesis may hold per mel frame (see
#: :meth:`WaveGlowConfig.values_per_frame`): 4x NVIDIA's 512-channel model, 4 MiB a frame as
#: float32, about 350 MiB for the denoiser's one-second bias measurement at load time. Sizes within
#: the parameter limit could otherwise need tens of GiB for that one second.
WAVEGLOW_MAX_VALUES_PER_FRAME = 1 << 20

#: Most multiply-adds synthesis may take per mel frame (see :meth:`WaveGlowConfig.macs_per_frame`):
#: 2x NVIDIA's 512-channel model (8.4 billion; the 256-channel one takes 2.6). The denoiser spends 88
#: frames' worth at load time, so sizes within the other limits could otherwise keep a load busy for
#: half an hour.
WAVEGLOW_MAX_MACS_PER_FRAME = 16_000_000_000


@dataclass(frozen=True)
class WaveGlowConfig:
    """Architecture of a WaveGlow model; names follow NVIDIA's ``config.json``.

    Attributes
    ----------
    n_mel_channels, n_flows, n_group, n_early_every, n_early_size : int
        Mel bands; flow steps; audio samples folded into one step's channels; every how many flows a
        few channels are emitted early; how many.
    n_layers, n_channels, kernel_size : int
        The ``WN_config`` of each coupling network: dilated layers, hidden channels, kernel width.
    cond_layout : {"fused", "per_layer"}
        ``"fused"``: one ``cond_layer`` per coupling network (NVIDIA/waveglow after 2019);
        ``"per_layer"``: ``cond_layers.<i>`` (older releases, DeepLearningExamples).
    upsample_kernel_size, upsample_stride : int
        The transposed convolution that stretches mel frames to samples; the stride is the hop
        length.
    sampling_rate : int
        Audio rate in Hz; checkpoints do not record it, NVIDIA's models are 22050 Hz.

    Every size is checked against :data:`WAVEGLOW_SIZES`, and the whole against
    :data:`WAVEGLOW_MAX_PARAMETERS`, :data:`WAVEGLOW_MAX_VALUES_PER_FRAME` and
    :data:`WAVEGLOW_MAX_MACS_PER_FRAME`, on construction (``ValueError`` naming the field or the
    limit), so no model is ever built from sizes a file made up.
    """

    n_mel_channels: int = 80
    n_flows: int = 12
    n_group: int = 8
    n_early_every: int = 4
    n_early_size: int = 2
    n_layers: int = 8
    n_channels: int = 256
    kernel_size: int = 3
    cond_layout: CondLayout = "fused"
    upsample_kernel_size: int = 1024
    upsample_stride: int = 256
    sampling_rate: int = 22050

    def __post_init__(self) -> None:
        check_sizes(self, WAVEGLOW_SIZES)
        if self.cond_layout not in get_args(CondLayout):
            raise ValueError(
                f"cond_layout is {self.cond_layout!r}; allowed: {', '.join(get_args(CondLayout))}"
            )
        if self.flow_channels()[-1] < 2:
            raise ValueError(
                f"n_early_size={self.n_early_size} every {self.n_early_every} of {self.n_flows} flows leaves "
                f"{self.flow_channels()[-1]} of n_group={self.n_group} channels; at least 2 must remain"
            )
        if self.upsample_kernel_size < self.upsample_stride:
            raise ValueError(
                f"upsample_kernel_size ({self.upsample_kernel_size}) must be at least upsample_stride "
                f"({self.upsample_stride}), or the upsampled mel has gaps"
            )
        check_parameter_count("WaveGlow", self.parameter_count(), WAVEGLOW_MAX_PARAMETERS)
        if self.values_per_frame() > WAVEGLOW_MAX_VALUES_PER_FRAME:
            raise ValueError(
                f"these sizes make WaveGlow hold {self.values_per_frame():,} values per mel frame in one "
                f"tensor; the limit is {WAVEGLOW_MAX_VALUES_PER_FRAME:,}"
            )
        if self.macs_per_frame() > WAVEGLOW_MAX_MACS_PER_FRAME:
            raise ValueError(
                f"these sizes make WaveGlow take {self.macs_per_frame():,} multiply-adds per mel frame; the "
                f"limit is {WAVEGLOW_MAX_MACS_PER_FRAME:,}"
            )

    def flow_channels(self) -> list[int]:
        """Channels each flow transforms, per flow: ``n_group`` less the ``n_early_size`` channels
        emitted before every ``n_early_every``-th flow."""
        channels, remaining = [], self.n_group
        for k in range(self.n_flows):
            if k % self.n_early_every == 0 and k > 0:
                remaining -= self.n_early_size
            channels.append(remaining)
        return channels

    def half_channels(self) -> list[int]:
        """Channels of ``audio_0`` entering each flow's coupling network, per flow."""
        return [channels // 2 for channels in self.flow_channels()]

    def parameter_count(self) -> int:
        """Values in the model's state dict (weight normalisation folded), worked out from the sizes
        alone so that a model's size can be checked before any of it is allocated."""
        mels, hidden, layers = self.n_mel_channels, self.n_channels, self.n_layers
        upsample = self._upsample_parameter_count()
        # Per coupling network, apart from start and end: the conditioning (fused or per layer, the
        # same count), the dilated layers, and the residual/skip layers (the last one skip only).
        coupling = (
            2 * hidden * layers * (mels * self.n_group + 1)
            + layers * (2 * hidden * hidden * self.kernel_size + 2 * hidden)
            + (layers - 1) * (2 * hidden * hidden + 2 * hidden)
            + hidden * hidden
            + hidden
        )
        total = upsample
        for channels in self.flow_channels():
            half = channels // 2
            # start, end, and the invertible 1x1 convolution (no bias).
            total += coupling + (half + 1) * hidden + 2 * half * (hidden + 1) + channels * channels
        return total

    def _upsample_parameter_count(self) -> int:
        return self.n_mel_channels**2 * self.upsample_kernel_size + self.n_mel_channels

    def _steps_per_frame(self) -> int:
        # Each flow step holds n_group samples; a mel frame spans hop samples.
        return max(1, self.upsample_stride // self.n_group)

    def values_per_frame(self) -> int:
        """Values per mel frame of the largest tensor synthesis holds: the conditioning of all layers
        at once (fused layout) or of one layer, or the grouped spectrogram, at ``hop / n_group``
        steps a frame."""
        conditioning = 2 * self.n_channels * (self.n_layers if self.cond_layout == "fused" else 1)
        return max(conditioning, self.n_mel_channels * self.n_group) * self._steps_per_frame()

    def macs_per_frame(self) -> int:
        """Multiply-adds to synthesise one mel frame (biases counted as one each, a slight
        overestimate): every coupling and 1x1 weight is used once per step, at ``hop / n_group``
        steps a frame, and every upsampling weight once per frame."""
        upsample = self._upsample_parameter_count()
        return (self.parameter_count() - upsample) * self._steps_per_frame() + upsample

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], *, base: WaveGlowConfig) -> WaveGlowConfig:
        """``base`` (usually inferred from the tensors) overridden by NVIDIA's config dict, with its
        nested ``WN_config``, e.g. DeepLearningExamples' ``checkpoint['config']``. Keys that are not
        architecture are ignored; the conditioning layout always comes from ``base``."""
        flat = dict(values)
        wn_config = flat.pop("WN_config", {})
        if isinstance(wn_config, Mapping):
            flat.update(wn_config)
        names = cls.__dataclass_fields__.keys() - {"cond_layout"}
        return replace(base, **{key: as_size(key, value) for key, value in flat.items() if key in names})  # type: ignore[call-overload, arg-type]

    @classmethod
    def from_state_dict(
        cls,
        state_dict: Mapping[str, Tensor],
        *,
        upsample_stride: int = 256,
        sampling_rate: int = 22050,
    ) -> WaveGlowConfig:
        """Infer the sizes from tensor shapes (weight-normalised or plain weights both work).

        The upsampling stride cannot be seen in a shape; it defaults to NVIDIA's hop of 256. Raises
        ``KeyError`` when an expected tensor is missing and ``ValueError`` when one has the wrong
        number of dimensions or the sizes are out of range.
        """

        def weight_shape(prefix: str) -> tuple[int, ...]:
            key = prefix + ".weight" if prefix + ".weight" in state_dict else prefix + ".weight_v"
            return shape_of(state_dict, key, 3)

        def indices(pattern: str) -> set[int]:
            regex = re.compile(pattern)
            return {int(m.group(1)) for key in state_dict if (m := regex.match(key))}

        upsample = shape_of(state_dict, "upsample.weight", 3)
        in_layer = weight_shape("WN.0.in_layers.0")
        n_flows = len(indices(r"WN\.(\d+)\."))
        channels = [shape_of(state_dict, f"convinv.{k}.conv.weight", 3)[0] for k in range(n_flows)]
        n_group = channels[0]
        early = [k for k in range(1, n_flows) if channels[k] < channels[k - 1]]
        n_early_every = early[0] if early else n_flows
        n_early_size = channels[early[0] - 1] - channels[early[0]] if early else 0
        fused = any(key.startswith("WN.0.cond_layer.") for key in state_dict)
        return cls(
            n_mel_channels=upsample[0],
            n_flows=n_flows,
            n_group=n_group,
            n_early_every=n_early_every,
            n_early_size=n_early_size,
            n_layers=len(indices(r"WN\.0\.in_layers\.(\d+)\.")),
            n_channels=in_layer[1],
            kernel_size=in_layer[2],
            cond_layout="fused" if fused else "per_layer",
            upsample_kernel_size=upsample[2],
            upsample_stride=upsample_stride,
            sampling_rate=sampling_rate,
        )


@dataclass(frozen=True)
class WaveGlowOptions:
    """Runtime knobs of WaveGlow synthesis.

    Attributes
    ----------
    sigma : float
        Standard deviation of the input noise; below the training value of 1 trades variety for
        cleanliness (NVIDIA's demos use 0.666).
    denoiser_strength : float
        How much of the model's bias spectrum (its output for silence) to subtract; 0 disables the
        denoiser. NVIDIA suggests 0.01-0.1.
    seed : int or None
        Seed for the noise, for repeatable audio; ``None`` draws from torch's global generator.
    """

    sigma: float = 0.666
    denoiser_strength: float = 0.01
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.sigma < 0 or self.denoiser_strength < 0:
            raise ValueError("sigma and denoiser_strength must not be negative")


class Invertible1x1Conv(nn.Module):
    """A learned orthogonal-ish channel mixing; synthesis applies its inverse."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size=1, bias=False)

    def inverse(self, z: Tensor) -> Tensor:
        """Undo the mixing: ``(B, channels, T/G)`` → same shape. The inverse is computed in fp32
        from the current weight on every call (a c×c matrix, negligible), so it can never go
        stale."""
        w_inverse = torch.linalg.inv(self.conv.weight.squeeze(-1).float()).to(z.dtype)
        return F.conv1d(z, w_inverse.unsqueeze(-1))


class WN(nn.Module):
    """The WaveNet-like network of an affine coupling: non-causal dilated convolutions (dilation
    doubling every layer) gated by tanh·sigmoid, conditioned on the upsampled mel."""

    def __init__(self, n_in_channels: int, n_cond_channels: int, config: WaveGlowConfig) -> None:
        super().__init__()
        self.n_layers = config.n_layers
        self.n_channels = channels = config.n_channels
        self.start = nn.Conv1d(n_in_channels, channels, 1)
        self.end = nn.Conv1d(channels, 2 * n_in_channels, 1)
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        self.fused_cond = config.cond_layout == "fused"
        if self.fused_cond:
            self.cond_layer = nn.Conv1d(n_cond_channels, 2 * channels * config.n_layers, 1)
        else:
            self.cond_layers = nn.ModuleList(
                nn.Conv1d(n_cond_channels, 2 * channels, 1) for _ in range(config.n_layers)
            )
        for i in range(config.n_layers):
            dilation = 2**i
            self.in_layers.append(
                nn.Conv1d(
                    channels,
                    2 * channels,
                    config.kernel_size,
                    dilation=dilation,
                    padding=dilation * (config.kernel_size - 1) // 2,
                )
            )
            # The last layer only feeds the skip path, so it has no residual half.
            res_skip_channels = 2 * channels if i < config.n_layers - 1 else channels
            self.res_skip_layers.append(nn.Conv1d(channels, res_skip_channels, 1))

    def forward(self, audio: Tensor, spect: Tensor) -> Tensor:
        """audio ``(B, n_in, T/G)``, spect ``(B, n_mels·G, T/G)`` → ``(B, 2·n_in, T/G)`` holding the
        shift (first half) and log-scale (second half) of the coupling."""
        channels = self.n_channels
        audio = self.start(audio)
        output = torch.zeros_like(audio)
        cond_all = self.cond_layer(spect) if self.fused_cond else None
        for i in range(self.n_layers):
            if cond_all is not None:
                cond = cond_all[:, i * 2 * channels : (i + 1) * 2 * channels, :]
            else:
                cond = self.cond_layers[i](spect)
            acts = self.in_layers[i](audio) + cond
            acts = torch.tanh(acts[:, :channels, :]) * torch.sigmoid(acts[:, channels:, :])
            res_skip = self.res_skip_layers[i](acts)
            if i < self.n_layers - 1:
                audio = audio + res_skip[:, :channels, :]
                output = output + res_skip[:, channels:, :]
            else:
                output = output + res_skip
        return self.end(output)


class WaveGlow(nn.Module):
    """Mel spectrogram → waveform by inverting the flow from Gaussian noise."""

    def __init__(self, config: WaveGlowConfig) -> None:
        super().__init__()
        self.config = config
        self.upsample = nn.ConvTranspose1d(
            config.n_mel_channels,
            config.n_mel_channels,
            config.upsample_kernel_size,
            stride=config.upsample_stride,
        )
        n_cond = config.n_mel_channels * config.n_group
        self.WN = nn.ModuleList(WN(n_half, n_cond, config) for n_half in config.half_channels())
        self.convinv = nn.ModuleList(Invertible1x1Conv(channels) for channels in config.flow_channels())
        self.n_remaining_channels = config.flow_channels()[-1]

    def _group_spectrogram(self, mel: Tensor) -> Tensor:
        """``(B, n_mels, F)`` → ``(B, n_mels·G, F·hop/G)``: upsample to samples, then fold G samples
        of every band into channels, band-major, to match the grouped audio."""
        spect = self.upsample(mel)
        # The transposed convolution overhangs by kernel - stride samples; NVIDIA drops them at the
        # end.
        overhang = self.upsample.kernel_size[0] - self.upsample.stride[0]
        spect = spect[:, :, : spect.shape[2] - overhang]
        group = self.config.n_group
        spect = spect.unfold(2, group, group).permute(0, 2, 1, 3)
        return spect.reshape(spect.shape[0], spect.shape[1], -1).permute(0, 2, 1)

    @torch.no_grad()
    def infer(self, mel: Tensor, sigma: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
        """Synthesise audio.

        Parameters
        ----------
        mel : Tensor
            Log-mel spectrogram, shape ``(B, n_mels, F)``, on the model's device.
        sigma : float
            Noise standard deviation.
        generator : torch.Generator or None
            Source of the noise; ``None`` uses torch's global generator. Noise is drawn in NVIDIA's
            order (the remaining channels first, then each early block), so one seed gives the same
            z.

        Returns
        -------
        Tensor
            Audio, shape ``(B, F·hop)``, nominally in [-1, 1] (not clipped).
        """
        config = self.config
        spect = self._group_spectrogram(mel)
        batch, steps = spect.shape[0], spect.shape[2]

        def noise(channels: int) -> Tensor:
            z = torch.randn(batch, channels, steps, generator=generator, device=spect.device)
            return sigma * z.to(spect.dtype)

        audio = noise(self.n_remaining_channels)
        for k in reversed(range(config.n_flows)):
            n_half = audio.shape[1] // 2
            audio_0, audio_1 = audio[:, :n_half, :], audio[:, n_half:, :]
            output = self.WN[k](audio_0, spect)
            log_s, shift = output[:, n_half:, :], output[:, :n_half, :]
            audio_1 = (audio_1 - shift) / torch.exp(log_s)
            audio = self.convinv[k].inverse(torch.cat([audio_0, audio_1], 1))  # type: ignore[operator]  # a ModuleList item
            if k % config.n_early_every == 0 and k > 0:
                audio = torch.cat((noise(config.n_early_size), audio), 1)
        return audio.permute(0, 2, 1).reshape(batch, -1)
