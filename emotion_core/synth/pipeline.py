"""Text to emotional speech: a voice, then the emotion renderer, then loudness, as one typed result.

    text -> check -> voice.synthesize -> neutral samples --(gain to -16 LUFS)
         -> the renderer's rule, rendered by the voice itself or by WORLD afterwards
         -> peak limiter -> Speech (which says which voice ran) -> Ogg/Opus or WAV

A *voice* is anything with ``name``, ``sample_rate`` and ``synthesize(text) -> (samples, rate)``:
Tacotron 2 + a vocoder (``emotion_core.synth.neural``) when its weights are present, else the
offline neural voice Hibari (``emotion_core.synth.hibari_voice``), else eSpeak NG. Every voice
gets the same :class:`ProsodyRenderer`'s rule for an emotion and intensity. A voice that exposes
its F0 and durations (:class:`NativeProsodyVoice`: Hibari) renders the rule itself; the others
speak neutrally and WORLD warps that afterwards (:meth:`ProsodyRenderer.apply`).

Loudness: the gain to ``TARGET_LUFS`` is measured on the voice's neutral output and applied to the
rendered speech, so the emotion's energy offset (louder anger, quieter sadness) survives; a
look-ahead limiter keeps peaks under -1 dBFS. ``Speech.samples`` are therefore already normalised,
and ``to_ogg``/``to_wav``/``save`` write them as they are.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from emotion_core import audio, hub
from emotion_core.errors import CheckpointError, ModelError, SynthesisError
from emotion_core.labels import Emotion
from emotion_core.synth import output
from emotion_core.synth.prosody import NEUTRAL_RULE, ProsodyRenderer, ProsodyRule
from emotion_core.synth.request import (
    SPEECH_FORMATS,
    VOCODER_NAMES,
    VOICE_NAMES,
    VocoderName,
    VoiceName,
    check_intensity,
    clean_text,
)

log = logging.getLogger(__name__)


class Voice(Protocol):
    """Anything that turns text into neutral speech."""

    @property
    def name(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Return ``(samples, sample_rate)``: float32 mono in [-1, 1]."""
        ...


@dataclass(frozen=True, eq=False)
class Speech:
    """Synthesised, emotion-rendered, loudness-normalised speech and how it was made.

    Attributes
    ----------
    samples : np.ndarray, shape (n_samples,), float32
        Mono speech at ``sample_rate``, normalised (neutral at -16 LUFS, peaks under -1 dBFS);
        read-only.
    sample_rate : int
        Hz (22050 for both eSpeak NG and Tacotron 2).
    text : str
        The text as spoken (whitespace collapsed).
    emotion : Emotion
    intensity : float
        0-1.
    voice : str
        Which voice ran, for people: e.g. ``"eSpeak NG en-us (offline voice)"``.
    """

    samples: np.ndarray
    sample_rate: int
    text: str
    emotion: Emotion
    intensity: float
    voice: str

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"samples must be mono, shape (n,), not {samples.shape}")
        samples.flags.writeable = False
        object.__setattr__(self, "samples", samples)

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.samples.size / self.sample_rate

    def to_ogg(self) -> bytes:
        """Ogg/Opus, 48 kHz mono (about 32 kbit/s): a Discord voice message's format."""
        return audio.encode(self.samples, self.sample_rate, fmt="ogg")

    def to_wav(self) -> bytes:
        """16-bit PCM WAV at ``sample_rate``."""
        return audio.encode(self.samples, self.sample_rate, fmt="wav")

    def save(self, path: str | Path) -> Path:
        """Write to ``path``: ``.ogg``/``.opus`` as Ogg/Opus, ``.wav`` as WAV; ``ValueError``
        else."""
        path = Path(path)
        fmt = SPEECH_FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(f"Cannot tell the format of {path.name!r}: use .ogg, .opus or .wav.")
        data = self.to_ogg() if fmt == "ogg" else self.to_wav()
        path.write_bytes(data)
        return path

    def waveform(self, points: int = output.MAX_WAVEFORM_POINTS) -> bytes:
        """Discord's voice-message waveform: up to ``points`` (max 256) one-byte amplitudes."""
        return output.waveform(self.samples, points=points)


@runtime_checkable
class NativeProsodyVoice(Voice, Protocol):
    """A voice that renders a :class:`ProsodyRule` itself (through its own F0 and durations) rather
    than having WORLD warp its neutral output afterwards."""

    def synthesize_with(
        self, text: str, rule: ProsodyRule | None, *, seed: int = 0
    ) -> tuple[np.ndarray, int]:
        """Return ``(samples, sample_rate)`` of ``text`` said with ``rule`` (``None``: neutral)."""
        ...


class Synthesizer:
    """Speaks text with an emotion; one per process, shared by threads.

    Parameters
    ----------
    voice : Voice
        Produces neutral speech.
    renderer : ProsodyRenderer, optional
        Adds the emotion; the literature-based table by default.
    target_lufs : float
        Loudness of neutral output.
    native_prosody : bool
        Let a voice that can (:class:`NativeProsodyVoice`, i.e. Hibari) render the renderer's rule
        itself; ``False`` sends every voice through WORLD (for comparisons).
    """

    def __init__(
        self,
        voice: Voice,
        *,
        renderer: ProsodyRenderer | None = None,
        target_lufs: float = output.TARGET_LUFS,
        native_prosody: bool = True,
    ) -> None:
        self.voice = voice
        self.renderer = renderer or ProsodyRenderer()
        self.target_lufs = target_lufs
        # The voice again, typed as one that renders rules itself, when it may and can.
        self._native = voice if native_prosody and isinstance(voice, NativeProsodyVoice) else None
        # Neural models are not re-entrant; eSpeak has its own process-wide lock as well.
        self._lock = threading.Lock()

    @property
    def native_prosody(self) -> bool:
        """Whether the voice renders the emotion itself (else WORLD does, afterwards)."""
        return self._native is not None

    @property
    def voice_name(self) -> str:
        """Which voice this synthesiser speaks with, for people."""
        return self.voice.name

    @classmethod
    def from_pretrained(
        cls,
        models_dir: Path | None = None,
        *,
        voice: VoiceName = "auto",
        vocoder: VocoderName = "waveglow",
        native_prosody: bool = True,
    ) -> Synthesizer:
        """Build the best available synthesiser.

        Parameters
        ----------
        models_dir : Path, optional
            The models folder (``$MOODBOT_MODELS_DIR``, default ``models/``); TTS checkpoints are
            read from its ``tts/`` subfolder under the file names in ``emotion_core.hub``.
        voice : {"auto", "tacotron2", "hibari", "espeak"}
            ``"auto"`` uses Tacotron 2 + ``vocoder`` when their weights are present and load, else
            the offline neural voice (Hibari), else eSpeak NG: the fallback is logged at INFO when
            Tacotron 2's weights are absent, at WARNING when they are there but they or the vocoder's
            are refused (any :class:`ModelError`: unreadable, hostile, sizes out of range, models
            that do not fit each other); ``"tacotron2"`` raises :class:`CheckpointError` instead of
            falling back; ``"hibari"`` and ``"espeak"`` always use that offline voice.
        vocoder : {"waveglow", "hifigan", "griffinlim"}
            Turns Tacotron 2's mel spectrogram into audio (Griffin-Lim needs no weights).
        native_prosody : bool
            False renders emotion with WORLD even for a voice that renders it itself (Hibari): the
            benchmarks' ``--world``, to compare the two paths.
        """
        from emotion_core.synth.espeak import EspeakVoice

        if voice not in VOICE_NAMES:
            raise ValueError(f"voice must be one of {', '.join(VOICE_NAMES)}, not {voice!r}")
        if vocoder not in VOCODER_NAMES:
            raise ValueError(f"vocoder must be one of {', '.join(VOCODER_NAMES)}, not {vocoder!r}")
        if voice == "espeak":
            return cls(EspeakVoice(), native_prosody=native_prosody)
        if voice == "hibari":
            return cls(_offline_voice(require_neural=True), native_prosody=native_prosody)
        try:
            neural = _load_neural(models_dir, vocoder)
        except (ModelError, ImportError) as e:
            if voice == "tacotron2":
                if isinstance(e, ModelError):
                    raise
                raise CheckpointError(f"Tacotron 2 cannot run here: {e}") from e
            # Absent weights are the normal offline set-up; weights that fail to load are a problem.
            present = hub.path_of("tacotron2", models_dir=models_dir).is_file()
            log.log(logging.WARNING if present else logging.INFO, "Using the offline voice: %s", e)
            return cls(_offline_voice(require_neural=False), native_prosody=native_prosody)
        return cls(neural, native_prosody=native_prosody)

    def speak(self, text: str, emotion: Emotion = Emotion.NEUTRAL, *, intensity: float = 0.5) -> Speech:
        """Speak ``text`` with ``emotion`` at ``intensity`` (0 neutral, 1 full-blown).

        Thread-safe. Raises :class:`TextError` for empty or over-long text, ``ValueError`` for an
        intensity outside [0, 1], :class:`SynthesisError` when the voice fails.
        """
        cleaned = clean_text(text)
        emotion = Emotion(emotion)
        check_intensity(intensity)
        rule = self.renderer.rule(emotion, intensity)
        with self._lock:
            if self._native is None:
                samples, sample_rate = self.voice.synthesize(cleaned)
            else:  # neutral on the same native path as the emotion, with nothing changed
                samples, sample_rate = self._native.synthesize_with(cleaned, NEUTRAL_RULE)
                rendered = samples
                if rule != NEUTRAL_RULE:
                    rendered = _checked(self._native.synthesize_with(cleaned, rule)[0], self.voice.name)
        samples = _checked(samples, self.voice.name)
        # The gain is the neutral rendering's, so the rule's own level change survives.
        gain = output.loudness_gain(samples, sample_rate, target_lufs=self.target_lufs)
        if self._native is None:
            rendered = self.renderer.apply(samples, sample_rate, rule)
        normalized = output.normalize(rendered, sample_rate, gain=gain)
        log.debug(
            "Spoke %d chars as %s (%.2f) with %s: %.2f s",
            len(cleaned),
            emotion.value,
            intensity,
            self.voice.name,
            normalized.size / sample_rate,
        )
        return Speech(
            samples=normalized,
            sample_rate=sample_rate,
            text=cleaned,
            emotion=emotion,
            intensity=float(intensity),
            voice=self.voice.name,
        )


def _checked(samples: np.ndarray, voice: str) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or samples.size == 0 or not np.all(np.isfinite(samples)):
        raise SynthesisError(f"{voice} produced no usable audio.")
    return samples


def _offline_voice(*, require_neural: bool) -> Voice:
    """Hibari's bundled neural voice, or eSpeak NG where it cannot load (unless it is required)."""
    from emotion_core.synth.espeak import EspeakVoice

    try:
        from emotion_core.synth.hibari_voice import HibariVoice

        return HibariVoice()
    except Exception as error:  # a missing package, or an ONNX Runtime that refuses the voice's file
        if require_neural:
            raise SynthesisError(f"The Hibari voice cannot run here: {error}") from error
        log.warning("Using eSpeak NG: the Hibari voice cannot run here (%s)", error)
        return EspeakVoice()


def _load_neural(models_dir: Path | None, vocoder: VocoderName) -> Voice:
    """Tacotron 2 + ``vocoder`` from ``models_dir/tts``; :class:`CheckpointError` if weights are
    absent.

    The neural modules (and torch) are imported only here, so the offline voice never loads them.
    """
    tacotron2_path = hub.path_of("tacotron2", models_dir=models_dir)
    if not tacotron2_path.is_file():
        raise CheckpointError(
            f"No Tacotron 2 checkpoint at {tacotron2_path} (get it with: moodbot models download tacotron2)."
        )
    vocoder_path: Path | None = None
    if vocoder == "waveglow":
        # The 256-channel WaveGlow is NVIDIA's recommended CPU model; the 512-channel one only stands in.
        candidates = [hub.path_of(name, models_dir=models_dir) for name in ("waveglow", "waveglow-512")]
        vocoder_path = next((path for path in candidates if path.is_file()), None)
        if vocoder_path is None:
            raise CheckpointError(
                f"No WaveGlow checkpoint at {candidates[0]} "
                "(get it with: moodbot models download waveglow, or choose another vocoder)."
            )

    from emotion_core.synth import vocoders
    from emotion_core.synth.neural import NeuralTTS

    voc: vocoders.Vocoder
    if vocoder_path is not None:
        voc = vocoders.load_waveglow_vocoder(vocoder_path)
    elif vocoder == "hifigan":
        voc = vocoders.load_hifigan_vocoder("LJSpeech")  # the generator trained on Tacotron 2's own speaker
    else:
        voc = vocoders.GriffinLimVocoder()
    return NeuralTTS.from_checkpoints(tacotron2_path, vocoder=voc)
