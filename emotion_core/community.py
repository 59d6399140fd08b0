"""What the voices a deployment hears are like on average, so a newcomer's first message is heard
against them rather than against the actors the recogniser learned from.

Acted corpora differ from each other (and from Discord) in microphones, rooms, languages and how loud
and tense the actors were; a recogniser trained on some of them hears another corpus's neutral as
angry. Leave-one-corpus-out cross-validation found that mapping a new corpus's utterance functionals
onto the training corpora's (each functional's mean and spread of the new corpus moved onto those of
the training corpora) and averaging the answer with the plain one raised the mean UAR from 0.376 to
0.418 and cut the share of clips called angry on RAVDESS and EmoDB; a community network trained on
corpora aligned the same way, its answer averaged in too, took it to 0.425 (recogniser v7; v8: 0.380
to 0.431; README, "The community"). In a
deployment the new corpus is the deployment: :class:`CommunityVoice` is the running mean and variance
of the functionals of every clip the bot has analysed, from everybody, with nothing to say whose;
:class:`Reference` is the same statistics of the training corpora, saved with the model.

Unlike a :class:`~emotion_core.profile.VoiceProfile`, which describes one person and is opt-in, this is
one aggregate of many people; it is used only after :data:`MIN_MESSAGES` clips.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Clips the community statistics need before they are used. In cross-validation 30 clips of other
#: speakers did as well as 300 (README); 100 keeps the statistics an average of many people rather
#: than of a quiet server's first two or three, and leaves room for a real community's mix.
MIN_MESSAGES = 100
#: Horizon of the running statistics, in clips.
MEMORY = 2000
#: The file in a model folder that holds the training corpora's :class:`Reference`.
REFERENCE_FILE = "community_reference.json"
_FLOOR = 1e-6  # spreads below this are treated as this (a constant functional carries nothing)


@dataclass(frozen=True)
class CommunityVoice:
    """``count`` clips heard; ``mean`` and ``var`` of their functionals, float32 ``(n_functionals,)``."""

    count: int
    mean: np.ndarray
    var: np.ndarray

    @classmethod
    def first(cls, functionals: np.ndarray) -> CommunityVoice:
        """The statistics after one clip."""
        mean = np.asarray(functionals, dtype=np.float32).copy()
        return cls(1, mean, np.zeros_like(mean))

    def updated(self, functionals: np.ndarray) -> CommunityVoice:
        """The statistics with one more clip: exact mean and variance up to :data:`MEMORY` clips, then
        exponentially weighted with that horizon (West, 1979), so they follow a community that changes."""
        x = np.asarray(functionals, dtype=np.float32)
        if x.shape != self.mean.shape:
            raise ValueError(f"functionals of shape {x.shape}, statistics of {self.mean.shape}")
        weight = 1.0 / min(self.count + 1, MEMORY)
        delta = x - self.mean
        mean = self.mean + weight * delta
        var = (1.0 - weight) * (self.var + weight * delta**2)
        return CommunityVoice(self.count + 1, mean.astype(np.float32), var.astype(np.float32))

    @property
    def ready(self) -> bool:
        return self.count >= MIN_MESSAGES

    def to_bytes(self) -> bytes:
        """Mean then variance as little-endian float32, for a database column."""
        return np.concatenate([self.mean, self.var]).astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, count: int, data: bytes, n_functionals: int) -> CommunityVoice:
        """Inverse of :meth:`to_bytes`; raises ``ValueError`` where ``data`` does not hold
        ``n_functionals`` finite means and non-negative variances (another feature version)."""
        values = np.frombuffer(data, dtype="<f4")
        if values.size != 2 * n_functionals or count < 1 or not np.isfinite(values).all():
            raise ValueError("stored community statistics do not match this recogniser")
        mean, var = values[:n_functionals].astype(np.float32), values[n_functionals:].astype(np.float32)
        if (var < 0).any():
            raise ValueError("stored community statistics do not match this recogniser")
        return cls(int(count), mean, var)


@dataclass(frozen=True)
class Reference:
    """The training corpora's functionals: the mean over corpora of each corpus's mean and spread,
    so that every corpus counts once whatever its size (as in training's draws)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def of(cls, functionals: np.ndarray, corpora: Sequence[str]) -> Reference:
        """From ``functionals`` ``(clips, n_functionals)`` of clips from ``corpora`` (one name per clip)."""
        names = np.asarray(corpora)
        groups = [functionals[names == corpus] for corpus in sorted(set(corpora))]
        return cls(
            np.mean([g.mean(axis=0) for g in groups], axis=0).astype(np.float32),
            np.mean([g.std(axis=0) for g in groups], axis=0).astype(np.float32),
        )

    def save(self, folder: Path) -> None:
        data = {"mean": self.mean.tolist(), "std": self.std.tolist()}
        (folder / REFERENCE_FILE).write_text(json.dumps(data) + "\n")

    @classmethod
    def load(cls, folder: Path, n_functionals: int) -> Reference | None:
        """The folder's reference, or ``None`` where it has none; ``ValueError`` where it does not fit."""
        path = folder / REFERENCE_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        mean, std = np.asarray(data["mean"], np.float32), np.asarray(data["std"], np.float32)
        if (
            mean.shape != (n_functionals,)
            or std.shape != (n_functionals,)
            or not np.isfinite([mean, std]).all()
        ):
            raise ValueError(f"{path} does not fit this recogniser's {n_functionals} functionals")
        return cls(mean, std)


def align(functionals: np.ndarray, mean: np.ndarray, std: np.ndarray, reference: Reference) -> np.ndarray:
    """``functionals`` of a community with this ``mean`` and ``std`` moved onto the reference's."""
    return ((functionals - mean) / np.maximum(std, _FLOOR) * reference.std + reference.mean).astype(
        np.float32
    )


def fuse_answers(
    plain: Sequence[np.ndarray], aligned: Sequence[np.ndarray] = (), community_net: np.ndarray | None = None
) -> np.ndarray:
    """How the speaker-independent networks answer together: the mean of their calibrated
    probabilities. ``plain`` holds each view's answer to the clip as it is (the full functionals and,
    where the model has one, the prosody network's); once the community statistics are ready,
    ``aligned`` holds each view's answer to the clip aligned on them, and ``community_net`` the
    community network's (trained on corpora aligned the same way). Every answer weighs the same: the
    plain average beat each part, and weightings of them, in cross-validation."""
    answers = [*plain, *aligned, *([] if community_net is None else [community_net])]
    return np.mean(answers, axis=0)
