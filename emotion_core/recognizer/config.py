"""The one frozen configuration saved with every recogniser and read back by its loader.

``config.json`` beside the weights holds the features, the architecture, the label order and the
timeline settings, so a model folder fully describes how to rebuild and feed its network: training and
serving cannot drift, and no code is ever loaded from a model folder.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from emotion_core.errors import ModelError
from emotion_core.features import FeatureConfig
from emotion_core.labels import EMOTIONS, Emotion

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
#: Sub-folder of a model folder holding its profile network (heard against a voice profile).
PROFILE_DIR = "profile"
#: Sub-folder of a model folder holding its community network (heard against community statistics).
COMMUNITY_DIR = "community"
#: Sub-folder of a model folder holding its prosody network (the speaker-independent second view).
PROSODY_DIR = "prosody"
FORMAT_VERSION = 1
#: The pitch tracker of models saved before MoodBot 0.3, whose configs do not name one, so that
#: they are still heard with the features they were trained on.
PITCH_BEFORE_0_3 = {"pitch_speed": 4, "pitch_refine": True}
#: Models saved before MoodBot 0.9 were trained without the voicing statistics.
VOICING_BEFORE_0_9 = {"voicing": False}
#: Models saved before MoodBot 0.15 were trained without the loudness modulation statistics.
MODULATION_BEFORE_0_15 = {"modulation": False}
#: What a saved config that does not name a feature option was trained with: options added later.
FEATURES_OF_OLDER_MODELS = {**PITCH_BEFORE_0_3, **VOICING_BEFORE_0_9, **MODULATION_BEFORE_0_15}


@dataclass(frozen=True)
class ArchitectureConfig:
    """Network shape.

    ``tdnn`` is MoodBot's recogniser: dilated 1-D convolutions over log-mel frames with residual
    connections, attentive statistics pooling (so any length works) and a small classifier.
    ``functional`` is a small network on utterance functionals (:mod:`emotion_core.functionals`):
    the one that generalises best to corpora it never heard, and trains in seconds.
    ``seed_dense`` is the seed tutorial's network (MFCC means -> Dense 256 -> 128 -> classes, with
    dropout), kept as the baseline every evaluation compares against.

    ``hidden`` are the functional network's layer widths. ``band_means`` keeps the log-mel band
    means among its inputs (they carry the microphone's colouring as well as the voice).
    ``speaker_norm`` marks a network trained on functionals centred on the speaker's own mean: it
    needs a voice profile and is only used with one. ``corpus_aligned`` marks a network trained on
    functionals with every training corpus aligned onto the training reference (its own mean and
    spread moved onto the reference's, :func:`emotion_core.community.align`): it needs community
    statistics and only hears clips aligned on them. ``members`` > 1 makes the functional network an
    ensemble of that many, trained with different seeds, their logits averaged: the spread between
    training runs, larger than most design choices, averages out.

    ``prosody`` marks a network that hears only the prosodic functionals
    (:func:`~emotion_core.functionals.prosody_columns`: loudness, pitch, rhythm, voice quality; no
    spectral shape). Beside the speaker-independent network it is a second view whose mistakes
    differ: averaging the two answers gained in leave-one-corpus-out, where a second network of the
    same view did not (README, "What was tried").

    ``input_quantiles`` > 0 maps every input feature through that many of its training quantiles onto
    a standard normal before standardisation (:class:`~emotion_core.recognizer.model.GaussianQuantiles`,
    a rank-Gauss transform); 0 standardises the functionals as they are. The recipe uses 100 since
    recogniser v12 (``TrainConfig``); 0 stays the default here so that configs saved before 0.17.0,
    which have no such key, load as they were trained.
    """

    kind: Literal["tdnn", "seed_dense", "functional"] = "tdnn"
    channels: int = 128
    dilations: tuple[int, ...] = (1, 2, 3, 4)
    embedding: int = 128
    dropout: float = 0.3
    band_norm: bool = False
    hidden: tuple[int, ...] = (256, 128)
    band_means: bool = True
    speaker_norm: bool = False
    corpus_aligned: bool = False
    members: int = 1
    prosody: bool = False
    input_quantiles: int = 0

    @property
    def companion(self) -> str | None:
        """Which companion network this is (``"profile"``, ``"community"`` or ``"prosody"``), or
        ``None`` for a network that answers on its own: a companion is only used beside the model
        folder above it, which supplies the profile, the community statistics or the other view."""
        if self.kind != "functional":
            return None
        if self.speaker_norm:
            return "profile"
        if self.corpus_aligned:
            return "community"
        return "prosody" if self.prosody else None


@dataclass(frozen=True)
class TimelineConfig:
    """Sliding windows for the mood over time of long clips (seconds)."""

    window_s: float = 3.0
    hop_s: float = 1.5
    min_clip_s: float = 6.0  # shorter clips get one overall prediction and no timeline


@dataclass(frozen=True)
class RecognizerConfig:
    """Everything needed to rebuild a recogniser and compute its input."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    architecture: ArchitectureConfig = field(default_factory=ArchitectureConfig)
    labels: tuple[Emotion, ...] = EMOTIONS
    timeline: TimelineConfig = field(default_factory=TimelineConfig)
    format_version: int = FORMAT_VERSION

    @property
    def angry_index(self) -> int | None:
        """Where angry is among :attr:`labels`, the class the angry offset discounts; ``None`` for a
        label set without it."""
        return self.labels.index(Emotion.ANGRY) if Emotion.ANGRY in self.labels else None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["labels"] = [label.value for label in self.labels]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RecognizerConfig:
        """Rebuild from :meth:`to_dict` output; unknown or missing keys raise :class:`ModelError`."""
        try:
            if data.get("format_version") != FORMAT_VERSION:
                raise ModelError(
                    f"model format {data.get('format_version')!r} is not supported "
                    f"(this MoodBot reads format {FORMAT_VERSION})"
                )
            arch = dict(data["architecture"])
            arch["dilations"] = tuple(arch["dilations"])
            if "hidden" in arch:
                arch["hidden"] = tuple(arch["hidden"])
            return cls(
                features=FeatureConfig(**{**FEATURES_OF_OLDER_MODELS, **data["features"]}),
                architecture=ArchitectureConfig(**arch),
                labels=tuple(Emotion(name) for name in data["labels"]),
                timeline=TimelineConfig(**data["timeline"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"invalid recogniser config: {error}") from error

    def save(self, folder: Path) -> None:
        (folder / CONFIG_FILE).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> RecognizerConfig:
        path = folder / CONFIG_FILE
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except FileNotFoundError as error:
            raise ModelError(f"no recogniser at {folder}: {CONFIG_FILE} is missing") from error
        except json.JSONDecodeError as error:
            raise ModelError(f"{path} is not valid JSON: {error}") from error
