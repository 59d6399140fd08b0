"""A person's voice profile: the running mean of the utterance functionals of their voice messages.

Much of what separates one person's angry from another's neutral is simply who is speaking: pitch,
timbre and loudness habits. A profile lets the recogniser compare a clip with the person's usual
voice instead of with everybody's. It holds one vector (the mean of
:func:`~emotion_core.functionals.utterance_functionals` over their messages) and a count, nothing
else about the audio: no samples, no transcript, no labels. Which emotions the messages carried is
unknown and does not matter; the profile network was trained on exactly such unlabelled means
(:mod:`emotion_core.recognizer.functional_train`).

The mean is cumulative up to :data:`MEMORY` messages and then moves as an exponential average with
that horizon, so it follows a voice that changes (a new microphone, a cold) without growing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Messages a profile needs before it is used. In leave-one-corpus-out and speaker-fold
#: cross-validation the speaker-independent and profile networks together beat the first alone from a
#: profile of 2 messages on (README, "Voice profiles"); one more is a margin against a person's first
#: messages all being in one mood, which the corpora's random draws do not test.
MIN_MESSAGES = 3
#: Horizon of the running mean, in messages.
MEMORY = 50


@dataclass(frozen=True)
class VoiceProfile:
    """``count`` messages heard; ``mean`` their mean functionals, float32 ``(n_functionals,)``."""

    count: int
    mean: np.ndarray

    @classmethod
    def first(cls, functionals: np.ndarray) -> VoiceProfile:
        """The profile after one message."""
        return cls(1, np.asarray(functionals, dtype=np.float32).copy())

    def updated(self, functionals: np.ndarray) -> VoiceProfile:
        """The profile with one more message (``functionals`` of the whole clip)."""
        functionals = np.asarray(functionals, dtype=np.float32)
        if functionals.shape != self.mean.shape:
            raise ValueError(f"functionals of shape {functionals.shape}, profile of {self.mean.shape}")
        weight = 1.0 / min(self.count + 1, MEMORY)
        mean = self.mean + weight * (functionals - self.mean)
        return VoiceProfile(self.count + 1, mean.astype(np.float32))

    @property
    def ready(self) -> bool:
        """Whether there are enough messages for the profile to be used."""
        return self.count >= MIN_MESSAGES

    def to_bytes(self) -> bytes:
        """The mean as little-endian float32, for a database column."""
        return self.mean.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, count: int, data: bytes, n_functionals: int) -> VoiceProfile:
        """Inverse of :meth:`to_bytes`; raises ``ValueError`` if ``data`` is not ``n_functionals``
        finite floats (a profile from another feature version is discarded by the caller)."""
        mean = np.frombuffer(data, dtype="<f4")
        if mean.size != n_functionals or count < 1 or not np.isfinite(mean).all():
            raise ValueError("stored voice profile does not match this recogniser")
        return cls(int(count), mean.astype(np.float32))
