"""Neural text-to-speech: text → Tacotron 2 → mel → a vocoder → audio, one chunk of text at a time.

Long text is split by the front end into sentences and clauses (see :mod:`emotion_core.synth.text`),
each is synthesised on its own so it never meets the decoder's step limit, and the pieces are joined
with short pauses.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from emotion_core.errors import CheckpointError, SynthesisError
from emotion_core.synth.checkpoints import load_tacotron2
from emotion_core.synth.tacotron2 import Tacotron2, Tacotron2Options
from emotion_core.synth.text import N_SYMBOLS, TextOptions, prepare_text
from emotion_core.synth.vocoders import Vocoder

log = logging.getLogger(__name__)

_DEFAULT_OPTIONS = Tacotron2Options()
_DEFAULT_TEXT_OPTIONS = TextOptions()
#: PyTorch threads for synthesis. PyTorch takes every core by default; with the other core busy (the bot
#: analysing a clip), Tacotron 2's step-by-step decoder then waited on the busy core at every step and
#: ran 13 times slower on 2 threads than on 1 (real-time factor 4.74 against 0.36, MACHINE-NOTES).
#: The bot synthesises one sentence at a time on its own speech lane, so one thread loses nothing.
TORCH_THREADS = 1


class NeuralTTS:
    """Tacotron 2 paired with a vocoder.

    Parameters
    ----------
    tacotron2 : Tacotron2
        A loaded model.
    vocoder : Vocoder
        Turns its mel spectrograms into audio; must take the model's mel bands and run at its
        sample rate (``ValueError`` else).
    options : Tacotron2Options
        Decoder limits.
    text_options : TextOptions
        Text length limits, chunk size and pauses.
    """

    def __init__(
        self,
        tacotron2: Tacotron2,
        vocoder: Vocoder,
        options: Tacotron2Options = _DEFAULT_OPTIONS,
        text_options: TextOptions = _DEFAULT_TEXT_OPTIONS,
    ) -> None:
        config = tacotron2.config
        if vocoder.sample_rate != config.sampling_rate:
            raise ValueError(
                f"{vocoder.name} runs at {vocoder.sample_rate} Hz but Tacotron 2 at {config.sampling_rate} Hz"
            )
        if vocoder.n_mels != config.n_mel_channels:
            raise ValueError(
                f"{vocoder.name} takes {vocoder.n_mels} mel bands, Tacotron 2 makes {config.n_mel_channels}"
            )
        if config.n_symbols < N_SYMBOLS:
            raise ValueError(
                f"Tacotron 2 has {config.n_symbols} symbol embeddings but the text front end uses {N_SYMBOLS}"
            )
        torch.set_num_threads(TORCH_THREADS)  # process-wide: torch does nothing else in MoodBot
        self.tacotron2 = tacotron2.eval()
        self.vocoder = vocoder
        self.options = options
        self.text_options = text_options

    @classmethod
    def from_checkpoints(
        cls,
        tacotron2_path: str | Path,
        *,
        vocoder: Vocoder,
        options: Tacotron2Options = _DEFAULT_OPTIONS,
        text_options: TextOptions = _DEFAULT_TEXT_OPTIONS,
    ) -> NeuralTTS:
        """Load Tacotron 2 from ``tacotron2_path`` (any format of
        :func:`~emotion_core.synth.checkpoints.load_tacotron2`) and pair it with ``vocoder``.

        Raises
        ------
        CheckpointError
            If the checkpoint is missing, unreadable or does not fit, or it does not fit ``vocoder``
            or the text front end (mel bands, sample rate, symbols).
        """
        tacotron2 = load_tacotron2(tacotron2_path)
        try:
            return cls(tacotron2, vocoder, options, text_options)
        except ValueError as e:
            raise CheckpointError(f"Tacotron 2 from {tacotron2_path} does not fit: {e}.") from e

    @property
    def name(self) -> str:
        """Which voice this is, e.g. ``"Tacotron 2 + WaveGlow"``."""
        return f"Tacotron 2 + {self.vocoder.name}"

    @property
    def sample_rate(self) -> int:
        """Rate of the audio :meth:`synthesize` returns, in Hz."""
        return self.vocoder.sample_rate

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Speak ``text``.

        Returns
        -------
        samples : np.ndarray
            Mono float32 audio in [-1, 1], shape ``(n_samples,)``.
        sample_rate : int
            In Hz.

        Raises
        ------
        TextError
            If the text is too long, has an unknown ARPAbet phone or nothing pronounceable.
        SynthesisError
            If a model fails on the text.
        """
        chunks = prepare_text(text, self.text_options)
        pieces: list[np.ndarray] = []
        for index, chunk in enumerate(chunks):
            ids = torch.tensor([chunk.symbol_ids], dtype=torch.long)
            try:
                output = self.tacotron2.infer(ids, self.options)
                audio = self.vocoder.vocode(output.mel_postnet[0])
            except (RuntimeError, ValueError) as e:
                raise SynthesisError(f"Speech synthesis failed on {chunk.text!r}: {e}") from e
            if output.reached_max_decoder_steps:
                log.warning("Chunk %r never emitted a stop token; its audio was cut off", chunk.text)
            pieces.append(audio)
            if index < len(chunks) - 1:
                pieces.append(np.zeros(round(chunk.pause_after_s * self.sample_rate), np.float32))
        return np.concatenate(pieces).astype(np.float32, copy=False), self.sample_rate
