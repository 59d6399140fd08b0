"""Errors raised by the emotion core.

Every error carries a message fit to show a person as is (the bot replies with ``str(error)``), plus the
facts that caused it as attributes, so callers can react without parsing text.
"""

from __future__ import annotations

import functools


class EmotionCoreError(Exception):
    """Base class of every error this package raises on purpose."""


class AudioError(EmotionCoreError):
    """The audio could not be used: unreadable, corrupt, empty, too large, too short or not finite."""


class AudioTooLargeError(AudioError):
    """The input is over the upload-size limit; raised before any decoding."""

    def __init__(self, message: str, *, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(message)
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes

    def __reduce__(self):  # pickled whole (a queued job's error travels back to the bot)
        partial = functools.partial(type(self), size_bytes=self.size_bytes, limit_bytes=self.limit_bytes)
        return partial, self.args


class AudioTooShortError(AudioError):
    """The decoded audio is shorter than the minimum that can carry an emotion."""

    def __init__(self, message: str, *, duration_s: float, min_duration_s: float) -> None:
        super().__init__(message)
        self.duration_s = duration_s
        self.min_duration_s = min_duration_s

    def __reduce__(self):  # pickled whole (a queued job's error travels back to the bot)
        partial = functools.partial(
            type(self), duration_s=self.duration_s, min_duration_s=self.min_duration_s
        )
        return partial, self.args


class ModelError(EmotionCoreError):
    """A model artifact is missing, incomplete or does not match its configuration."""


class CheckpointError(ModelError):
    """A speech-synthesis checkpoint could not be read or does not match the expected layout."""


class SynthesisError(EmotionCoreError):
    """Speech could not be synthesised from the given text and settings."""


class TextError(SynthesisError):
    """The text to speak is empty, too long or has nothing pronounceable."""


class DownloadError(EmotionCoreError):
    """A model download failed or its checksum did not match; nothing partial is left behind."""
