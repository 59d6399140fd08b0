"""MoodBot's emotion core: audio in, features, recognition, training and synthesis. Never imports discord.

The public API is re-exported here and loaded lazily, so ``import emotion_core`` stays instant and only
the parts used pull in TensorFlow (recognition) or torch (synthesis)::

    from emotion_core import EmotionRecognizer, decode
    result = EmotionRecognizer.from_pretrained().analyze("voice-message.ogg")
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AudioLimits": "emotion_core.audio",
    "Waveform": "emotion_core.audio",
    "decode": "emotion_core.audio",
    "encode": "emotion_core.audio",
    "Emotion": "emotion_core.labels",
    "EMOTIONS": "emotion_core.labels",
    "EmotionCoreError": "emotion_core.errors",
    "AudioError": "emotion_core.errors",
    "AudioTooLargeError": "emotion_core.errors",
    "AudioTooShortError": "emotion_core.errors",
    "ModelError": "emotion_core.errors",
    "CheckpointError": "emotion_core.errors",
    "SynthesisError": "emotion_core.errors",
    "TextError": "emotion_core.errors",
    "DownloadError": "emotion_core.errors",
    "EmotionRecognizer": "emotion_core.recognizer.infer",
    "EmotionResult": "emotion_core.recognizer.infer",
    "TimelinePoint": "emotion_core.recognizer.infer",
    "Synthesizer": "emotion_core.synth.pipeline",
    "Speech": "emotion_core.synth.pipeline",
    "MAX_TEXT_CHARS": "emotion_core.synth.pipeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'emotion_core' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
