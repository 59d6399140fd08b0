"""Tacotron 2 (Shen et al., 2018): symbol ids → 80-band log-mel spectrogram, for inference on CPU.

Module and parameter names match NVIDIA's releases (``NVIDIA/tacotron2`` and DeepLearningExamples),
so their state dicts load strictly and the same weights give the same output as their code. The
sizes come from the checkpoint (:meth:`Tacotron2Config.from_state_dict`) rather than from constants
here.

Shapes use B for batch, T_in for symbols, T_out for mel frames and n_mels for mel bands; mel values
are NVIDIA's ``log(clamp(magnitude_mel, 1e-5))`` at 22050 Hz, hop 256, window 1024, fmax 8000 Hz.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from emotion_core.synth.sizes import SizeRange, as_size, check_parameter_count, check_sizes, shape_of

log = logging.getLogger(__name__)

#: Prenet dropout stays on at inference, as in the paper: it is the decoder's only source of
# variation
#: and models trained with it sound worse without it.
PRENET_DROPOUT = 0.5


#: The sizes a Tacotron 2 may have, generous around NVIDIA's published model (its value after each
#: line): room for any Tacotron 2 trained so far, but no single size that could exhaust memory. The
#: kernels are odd so that "same" padding keeps the length; the encoder's width is even because its
#: bidirectional LSTM gives half to each direction.
TACOTRON2_SIZES: Mapping[str, SizeRange] = MappingProxyType(
    {
        "n_symbols": SizeRange(1, 2048),  # 148
        "symbols_embedding_dim": SizeRange(2, 2048),  # 512
        "encoder_kernel_size": SizeRange(1, 31, "odd"),  # 5
        "encoder_n_convolutions": SizeRange(1, 16),  # 3
        "encoder_embedding_dim": SizeRange(2, 2048, "even"),  # 512
        "n_mel_channels": SizeRange(1, 512),  # 80
        "n_frames_per_step": SizeRange(1, 8),  # 1
        "decoder_rnn_dim": SizeRange(1, 4096),  # 1024
        "prenet_dim": SizeRange(1, 2048),  # 256
        "attention_rnn_dim": SizeRange(1, 4096),  # 1024
        "attention_dim": SizeRange(1, 1024),  # 128
        "attention_location_n_filters": SizeRange(1, 512),  # 32
        "attention_location_kernel_size": SizeRange(1, 127, "odd"),  # 31
        "postnet_embedding_dim": SizeRange(1, 2048),  # 512
        "postnet_kernel_size": SizeRange(1, 31, "odd"),  # 5
        "postnet_n_convolutions": SizeRange(1, 16),  # 5
        "sampling_rate": SizeRange(8000, 48000),  # 22050
    }
)

#: Most values a Tacotron 2's state dict may hold: about 5x NVIDIA's published model (28.2 million),
#: 0.6 GiB as float32. The ranges above alone would allow LSTMs of hundreds of millions.
TACOTRON2_MAX_PARAMETERS = 150_000_000


@dataclass(frozen=True)
class Tacotron2Config:
    """Architecture of a Tacotron 2 model; field names are NVIDIA's hparams names.

    Defaults are those of NVIDIA's ``hparams.py`` (the published LJSpeech model), but loaders build
    the config from the checkpoint, never from these defaults alone. Every size is checked against
    :data:`TACOTRON2_SIZES` and the total against :data:`TACOTRON2_MAX_PARAMETERS` on construction
    (``ValueError`` naming the field), so no model is ever built from sizes a file made up.
    """

    n_symbols: int = 148
    symbols_embedding_dim: int = 512
    encoder_kernel_size: int = 5
    encoder_n_convolutions: int = 3
    encoder_embedding_dim: int = 512
    n_mel_channels: int = 80
    n_frames_per_step: int = 1
    decoder_rnn_dim: int = 1024
    prenet_dim: int = 256
    attention_rnn_dim: int = 1024
    attention_dim: int = 128
    attention_location_n_filters: int = 32
    attention_location_kernel_size: int = 31
    postnet_embedding_dim: int = 512
    postnet_kernel_size: int = 5
    postnet_n_convolutions: int = 5
    #: Audio rate the model was trained at, in Hz; checkpoints do not record it, LJSpeech is 22050.
    sampling_rate: int = 22050

    def __post_init__(self) -> None:
        check_sizes(self, TACOTRON2_SIZES)
        if self.symbols_embedding_dim != self.encoder_embedding_dim:
            raise ValueError(
                f"symbols_embedding_dim ({self.symbols_embedding_dim}) must equal encoder_embedding_dim "
                f"({self.encoder_embedding_dim}): the encoder's first convolution reads the embeddings"
            )
        check_parameter_count("Tacotron 2", self.parameter_count(), TACOTRON2_MAX_PARAMETERS)

    def parameter_count(self) -> int:
        """Values in the model's state dict (parameters and batch-norm statistics), worked out from
        the sizes alone so that a model's size can be checked before any of it is allocated."""

        def conv_bn(c_in: int, c_out: int, kernel: int) -> int:
            # Convolution weight and bias; batch-norm weight, bias, running mean and variance, and
            # num_batches_tracked.
            return c_out * c_in * kernel + c_out + 4 * c_out + 1

        def lstm(n_in: int, hidden: int) -> int:
            # One direction of an LSTM, or an LSTMCell: four gates' input and hidden weights, two biases.
            return 4 * hidden * (n_in + hidden + 2)

        encoder = self.encoder_embedding_dim
        frame = self.n_mel_channels * self.n_frames_per_step
        postnet = [self.n_mel_channels, *[self.postnet_embedding_dim] * (self.postnet_n_convolutions - 1)]
        postnet.append(self.n_mel_channels)
        return (
            self.n_symbols * self.symbols_embedding_dim
            + self.encoder_n_convolutions * conv_bn(encoder, encoder, self.encoder_kernel_size)
            + 2 * lstm(encoder, encoder // 2)
            + (frame + self.prenet_dim) * self.prenet_dim
            + lstm(self.prenet_dim + encoder, self.attention_rnn_dim)
            # Attention: query, memory and v projections, then the location convolution and dense.
            + (self.attention_rnn_dim + encoder + 1) * self.attention_dim
            + self.attention_location_n_filters
            * (2 * self.attention_location_kernel_size + self.attention_dim)
            + lstm(self.attention_rnn_dim + encoder, self.decoder_rnn_dim)
            # Frame projection and stop gate, both with a bias.
            + (self.decoder_rnn_dim + encoder + 1) * (frame + 1)
            + sum(
                conv_bn(c_in, c_out, self.postnet_kernel_size)
                for c_in, c_out in zip(postnet[:-1], postnet[1:], strict=True)
            )
        )

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], *, base: Tacotron2Config) -> Tacotron2Config:
        """``base`` (usually inferred from the tensors) overridden by a config dict such as
        DeepLearningExamples' ``checkpoint['config']``; keys that are not architecture
        (``max_decoder_steps``, ``mask_padding``, ...) are ignored."""
        names = {field.name for field in fields(cls)}
        return replace(base, **{key: as_size(key, value) for key, value in values.items() if key in names})  # type: ignore[arg-type]

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, Tensor]) -> Tacotron2Config:
        """Infer every size from the tensor shapes of an (unprefixed) NVIDIA state dict.

        Raises ``KeyError`` when an expected tensor is missing and ``ValueError`` when one has the
        wrong number of dimensions or the sizes are out of range.
        """

        def count(prefix: str) -> int:
            return len({key[len(prefix) :].split(".")[0] for key in state_dict if key.startswith(prefix)})

        def shape(key: str, ndim: int) -> tuple[int, ...]:
            return shape_of(state_dict, key, ndim)

        embedding = shape("embedding.weight", 2)
        encoder_conv = shape("encoder.convolutions.0.0.conv.weight", 3)
        location_conv = shape("decoder.attention_layer.location_layer.location_conv.conv.weight", 3)
        postnet_conv = shape("postnet.convolutions.0.0.conv.weight", 3)
        n_mel_channels = postnet_conv[1]
        projection_rows = shape("decoder.linear_projection.linear_layer.weight", 2)[0]
        return cls(
            n_symbols=embedding[0],
            symbols_embedding_dim=embedding[1],
            encoder_kernel_size=encoder_conv[2],
            encoder_n_convolutions=count("encoder.convolutions."),
            encoder_embedding_dim=encoder_conv[0],
            n_mel_channels=n_mel_channels,
            # With no mel channels there are no frames either; the range check then names the first.
            n_frames_per_step=projection_rows // n_mel_channels if n_mel_channels > 0 else 0,
            decoder_rnn_dim=shape("decoder.decoder_rnn.weight_hh", 2)[1],
            prenet_dim=shape("decoder.prenet.layers.0.linear_layer.weight", 2)[0],
            attention_rnn_dim=shape("decoder.attention_rnn.weight_hh", 2)[1],
            attention_dim=shape("decoder.attention_layer.query_layer.linear_layer.weight", 2)[0],
            attention_location_n_filters=location_conv[0],
            attention_location_kernel_size=location_conv[2],
            postnet_embedding_dim=postnet_conv[0],
            postnet_kernel_size=postnet_conv[2],
            postnet_n_convolutions=count("postnet.convolutions."),
        )


@dataclass(frozen=True)
class Tacotron2Options:
    """Runtime knobs of the autoregressive decoder.

    Attributes
    ----------
    max_decoder_steps : int
        Most mel frames one decoder run may produce (1000 frames = 11.6 s at 22050 Hz, hop 256)
        before it is stopped, for inputs whose stop gate never fires.
    gate_threshold : float
        The decoder stops at the first frame whose stop probability, ``sigmoid(gate)``, exceeds
        this.
    """

    max_decoder_steps: int = 1000
    gate_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.max_decoder_steps < 1:
            raise ValueError(f"max_decoder_steps must be at least 1, got {self.max_decoder_steps}")
        if not 0.0 <= self.gate_threshold <= 1.0:
            raise ValueError(f"gate_threshold must be within [0, 1], got {self.gate_threshold}")


@dataclass(frozen=True)
class Tacotron2Output:
    """What one decoder run produced (batch of one).

    Attributes
    ----------
    mel : Tensor
        Decoder output before the postnet, shape ``(1, n_mels, T_out)``.
    mel_postnet : Tensor
        Decoder output refined by the postnet, shape ``(1, n_mels, T_out)``: give this to a vocoder.
    gate : Tensor
        Stop-token logits per frame, shape ``(1, T_out)``.
    alignments : Tensor
        Attention weights per output step over the symbols, shape ``(1, T_out, T_in)``.
    reached_max_decoder_steps : bool
        True when the stop gate never fired and the decoder was cut off.
    """

    mel: Tensor
    mel_postnet: Tensor
    gate: Tensor
    alignments: Tensor
    reached_max_decoder_steps: bool


class LinearNorm(nn.Module):
    """A linear layer held as ``linear_layer``: NVIDIA's wrapper name, so parameter names match."""

    def __init__(self, in_dim: int, out_dim: int, *, bias: bool = True) -> None:
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_layer(x)


class ConvNorm(nn.Module):
    """A 'same'-padded 1-d convolution held as ``conv`` (NVIDIA's parameter naming)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, bias: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            in_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2, bias=bias
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


def _conv_bn(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    """Convolution then batch norm, as ``Sequential`` so the names are ``<i>.0.conv`` and
    ``<i>.1``."""
    return nn.Sequential(ConvNorm(in_channels, out_channels, kernel_size), nn.BatchNorm1d(out_channels))


class LocationLayer(nn.Module):
    """Where attention was (previous and cumulative weights), as features of size attention_dim."""

    def __init__(self, n_filters: int, kernel_size: int, attention_dim: int) -> None:
        super().__init__()
        self.location_conv = ConvNorm(2, n_filters, kernel_size, bias=False)
        self.location_dense = LinearNorm(n_filters, attention_dim, bias=False)

    def forward(self, weights_cat: Tensor) -> Tensor:
        """``(B, 2, T_in)`` → ``(B, T_in, attention_dim)``."""
        return self.location_dense(self.location_conv(weights_cat).transpose(1, 2))


class Attention(nn.Module):
    """Location-sensitive additive attention (Chorowski et al., 2015)."""

    def __init__(self, config: Tacotron2Config) -> None:
        super().__init__()
        self.query_layer = LinearNorm(config.attention_rnn_dim, config.attention_dim, bias=False)
        self.memory_layer = LinearNorm(config.encoder_embedding_dim, config.attention_dim, bias=False)
        self.v = LinearNorm(config.attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(
            config.attention_location_n_filters,
            config.attention_location_kernel_size,
            config.attention_dim,
        )

    def forward(
        self, query: Tensor, memory: Tensor, processed_memory: Tensor, weights_cat: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Attend over the encoder output.

        query ``(B, attention_rnn_dim)``, memory ``(B, T_in, encoder_dim)``, processed_memory ``(B,
        T_in, attention_dim)``, weights_cat ``(B, 2, T_in)`` → context ``(B, encoder_dim)`` and
        weights ``(B, T_in)``.
        """
        energies = self.v(
            torch.tanh(
                self.query_layer(query.unsqueeze(1)) + self.location_layer(weights_cat) + processed_memory
            )
        ).squeeze(-1)
        weights = F.softmax(energies, dim=1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights


class Prenet(nn.Module):
    """Two ReLU layers with always-on dropout that squeeze the previous frame before the decoder."""

    def __init__(self, in_dim: int, sizes: list[int]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            LinearNorm(i, o, bias=False) for i, o in zip([in_dim, *sizes[:-1]], sizes, strict=True)
        )

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = F.dropout(F.relu(layer(x)), p=PRENET_DROPOUT, training=True)
        return x


class Encoder(nn.Module):
    """Convolutions over symbol embeddings, then a bidirectional LSTM."""

    def __init__(self, config: Tacotron2Config) -> None:
        super().__init__()
        dim = config.encoder_embedding_dim
        self.convolutions = nn.ModuleList(
            _conv_bn(dim, dim, config.encoder_kernel_size) for _ in range(config.encoder_n_convolutions)
        )
        self.lstm = nn.LSTM(dim, dim // 2, 1, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, embedding_dim, T_in)`` → ``(B, T_in, encoder_embedding_dim)``, unpadded input."""
        for conv in self.convolutions:
            x = F.dropout(F.relu(conv(x)), 0.5, self.training)
        outputs, _ = self.lstm(x.transpose(1, 2))
        return outputs


class Decoder(nn.Module):
    """Autoregressive decoder: prenet, attention LSTM, attention, decoder LSTM, frame and gate
    heads."""

    def __init__(self, config: Tacotron2Config) -> None:
        super().__init__()
        self.config = config
        frame_dim = config.n_mel_channels * config.n_frames_per_step
        encoder_dim = config.encoder_embedding_dim
        self.prenet = Prenet(frame_dim, [config.prenet_dim, config.prenet_dim])
        self.attention_rnn = nn.LSTMCell(config.prenet_dim + encoder_dim, config.attention_rnn_dim)
        self.attention_layer = Attention(config)
        self.decoder_rnn = nn.LSTMCell(config.attention_rnn_dim + encoder_dim, config.decoder_rnn_dim)
        self.linear_projection = LinearNorm(config.decoder_rnn_dim + encoder_dim, frame_dim)
        self.gate_layer = LinearNorm(config.decoder_rnn_dim + encoder_dim, 1)

    def forward(self, memory: Tensor, options: Tacotron2Options) -> tuple[Tensor, Tensor, Tensor, bool]:
        """Decode until the gate fires or ``options.max_decoder_steps``.

        memory ``(1, T_in, encoder_dim)`` → frames ``(1, n_mels, T_out)``, gate logits ``(1,
        T_out)``, alignments ``(1, T_out, T_in)`` and whether the step limit was hit.
        """
        config = self.config
        batch, n_in = memory.shape[0], memory.shape[1]

        def zeros(*shape: int) -> Tensor:
            return memory.new_zeros(shape)

        attention_h = zeros(batch, config.attention_rnn_dim)
        attention_c = zeros(batch, config.attention_rnn_dim)
        decoder_h = zeros(batch, config.decoder_rnn_dim)
        decoder_c = zeros(batch, config.decoder_rnn_dim)
        weights = zeros(batch, n_in)
        weights_cum = zeros(batch, n_in)
        context = zeros(batch, config.encoder_embedding_dim)
        processed_memory = self.attention_layer.memory_layer(memory)
        # The "go" frame is silence-free zeros; later inputs are the previous predicted frame(s).
        frame = zeros(batch, config.n_mel_channels * config.n_frames_per_step)

        frames, gates, alignments = [], [], []
        reached_limit = False
        while True:
            cell_input = torch.cat((self.prenet(frame), context), -1)
            attention_h, attention_c = self.attention_rnn(cell_input, (attention_h, attention_c))
            weights_cat = torch.cat((weights.unsqueeze(1), weights_cum.unsqueeze(1)), dim=1)
            context, weights = self.attention_layer(attention_h, memory, processed_memory, weights_cat)
            weights_cum = weights_cum + weights
            decoder_h, decoder_c = self.decoder_rnn(
                torch.cat((attention_h, context), -1), (decoder_h, decoder_c)
            )
            hidden_context = torch.cat((decoder_h, context), dim=1)
            frame = self.linear_projection(hidden_context)
            gate = self.gate_layer(hidden_context)
            frames.append(frame)
            gates.append(gate.squeeze(1))
            alignments.append(weights)
            if torch.sigmoid(gate).max() > options.gate_threshold:
                break
            if len(frames) == options.max_decoder_steps:
                reached_limit = True
                log.debug("Tacotron 2 reached max_decoder_steps=%d", options.max_decoder_steps)
                break

        # (T_out, B, n_mels * n_frames_per_step) → (B, n_mels, T_out * n_frames_per_step)
        mel = torch.stack(frames, dim=1).reshape(batch, -1, config.n_mel_channels).transpose(1, 2)
        return mel, torch.stack(gates, dim=1), torch.stack(alignments, dim=1), reached_limit


class Postnet(nn.Module):
    """Five convolutions that predict a residual correcting the decoder's mel frames."""

    def __init__(self, config: Tacotron2Config) -> None:
        super().__init__()
        n_mels, dim, kernel = (
            config.n_mel_channels,
            config.postnet_embedding_dim,
            config.postnet_kernel_size,
        )
        channels = [n_mels] + [dim] * (config.postnet_n_convolutions - 1) + [n_mels]
        self.convolutions = nn.ModuleList(
            _conv_bn(c_in, c_out, kernel) for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
        )

    def forward(self, x: Tensor) -> Tensor:
        """``(B, n_mels, T_out)`` → residual of the same shape."""
        last = len(self.convolutions) - 1
        for index, conv in enumerate(self.convolutions):
            x = conv(x)
            if index < last:
                x = torch.tanh(x)
            x = F.dropout(x, 0.5, self.training)
        return x


class Tacotron2(nn.Module):
    """Symbol ids → mel spectrogram. Build with a config, load weights, call :meth:`infer`."""

    def __init__(self, config: Tacotron2Config) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.n_symbols, config.symbols_embedding_dim)
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.postnet = Postnet(config)

    @torch.no_grad()
    def infer(self, symbol_ids: Tensor, options: Tacotron2Options = Tacotron2Options()) -> Tacotron2Output:
        """Synthesise the mel spectrogram of one symbol sequence.

        Parameters
        ----------
        symbol_ids : Tensor
            Integer ids, shape ``(1, T_in)`` or ``(T_in,)``, on the model's device.
        options : Tacotron2Options
            Decoder limits.
        """
        if symbol_ids.dim() == 1:
            symbol_ids = symbol_ids.unsqueeze(0)
        if symbol_ids.shape[0] != 1 or symbol_ids.shape[1] == 0:
            raise ValueError(f"expected one non-empty sequence, got shape {tuple(symbol_ids.shape)}")
        if int(symbol_ids.max()) >= self.config.n_symbols or int(symbol_ids.min()) < 0:
            raise ValueError(f"symbol ids must lie in [0, {self.config.n_symbols})")
        embedded = self.embedding(symbol_ids.long()).transpose(1, 2)
        memory = self.encoder(embedded)
        mel, gate, alignments, reached_limit = self.decoder(memory, options)
        mel_postnet = mel + self.postnet(mel)
        return Tacotron2Output(mel, mel_postnet, gate, alignments, reached_limit)
