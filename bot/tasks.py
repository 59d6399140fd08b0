"""The model work the bot asks for, as plain functions of the loaded models and picklable values.

Each task takes :class:`Models` first and returns a frozen dataclass, so the same function runs on a
thread of this process (:class:`bot.worker.WorkerPool`) or in a worker process fed by Redis
(:mod:`bot.queue`, where the function's name is the job's name and its arguments and result are
pickled). Nothing here touches Discord.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot import render
from bot.voice_message import MAX_WAVEFORM_POINTS
from emotion_core import MIN_MESSAGES, AudioLimits, CommunityVoice, Emotion, VoiceProfile

if TYPE_CHECKING:
    from emotion_core import EmotionRecognizer, EmotionResult, Synthesizer


@dataclass(frozen=True)
class Models:
    """What the tasks run on; a worker process loads only the lanes it serves (``None`` otherwise)."""

    recognizer: EmotionRecognizer | None = None
    synthesizer: Synthesizer | None = None

    @classmethod
    def load(cls, lanes: Collection[str] = ("analysis", "speech")) -> Models:
        """The models ``lanes`` need (``"analysis"``: the recogniser, ``"speech"``: the voice), loaded
        once and warmed up (:func:`warm_up`): what ``moodbot run`` and ``moodbot worker`` start with."""
        from emotion_core import EmotionRecognizer, Synthesizer

        models = cls(
            EmotionRecognizer.from_pretrained() if "analysis" in lanes else None,
            Synthesizer.from_pretrained() if "speech" in lanes else None,
        )
        warm_up(models)
        return models


@dataclass(frozen=True)
class Speaker:
    """Whose voice a clip is, as far as profiles go: opted in or not, and their profile so far."""

    user_id: int
    opted_in: bool = False
    profile: VoiceProfile | None = None

    def note(self, result: EmotionResult) -> str | None:
        """The reply's word on what the clip was heard against (the person's usual voice, the voices
        MoodBot hears, both, or neither) and on a profile still filling; ``None`` where there is
        nothing to say."""
        against = [
            text
            for text, used in (
                ("your usual voice", result.compared_with_profile),
                ("the voices MoodBot hears", result.compared_with_community),
            )
            if used
        ]
        parts = [f"compared with {' and '.join(against)}"] if against else []
        if self.opted_in and not result.compared_with_profile:
            count = 0 if self.profile is None else self.profile.count
            parts.append(f"voice profile: {min(count + 1, MIN_MESSAGES)} of {MIN_MESSAGES} messages")
        return " · ".join(parts) or None


@dataclass(frozen=True)
class Analysis:
    """What analysis hands back: the recogniser's result, for longer clips the chart PNG, and the
    line about the speaker's voice profile."""

    result: EmotionResult
    timeline_png: bytes | None
    profile_note: str | None = None


@dataclass(frozen=True)
class Spoken:
    """Synthesised speech, encoded and ready to upload."""

    ogg: bytes
    waveform: bytes
    duration_s: float
    voice: str


def analyze(
    models: Models,
    data: bytes,
    limits: AudioLimits,
    speaker: Speaker | None = None,
    community: CommunityVoice | None = None,
) -> Analysis:
    """Decode, recognise (against the community statistics where given) and draw the chart; blocking."""
    if models.recognizer is None:
        raise RuntimeError("this worker does not serve the analysis lane")
    speaker = speaker or Speaker(0)
    result = models.recognizer.analyze(data, limits=limits, profile=speaker.profile, community=community)
    png = render.timeline_png(result) if render.wants_timeline(result) else None
    return Analysis(result, png, speaker.note(result))


def synthesize(models: Models, text: str, emotion: Emotion, intensity: float) -> Spoken:
    """Speak and encode (Ogg/Opus plus the voice-message waveform); blocking."""
    if models.synthesizer is None:
        raise RuntimeError("this worker does not serve the speech lane")
    speech = models.synthesizer.speak(text, emotion, intensity=intensity)
    return Spoken(
        ogg=speech.to_ogg(),
        waveform=speech.waveform(points=MAX_WAVEFORM_POINTS),
        duration_s=speech.duration_s,
        voice=speech.voice,
    )


#: Every task a worker process serves, by the name its jobs carry.
TASKS = {task.__name__: task for task in (analyze, synthesize)}


def warm_up(models: Models) -> None:
    """Pay the one-off costs (JIT compilation, ONNX Runtime's first run, matplotlib's font cache) at
    start-up. Otherwise the first person to send a voice message waits seconds for them, and the first
    chart holds the GIL long enough to stall the event loop. Uses eight seconds of real synthesised
    speech so the windowed (timeline) path runs too; a worker without a voice warms the voice only
    or nothing, and its first clip pays the recogniser's share.
    """
    if models.synthesizer is None:
        return
    speech = models.synthesizer.speak("Warming up: how does this sound?", Emotion.NEUTRAL)
    if models.recognizer is None:
        return
    repeats = math.ceil(8.0 * speech.sample_rate / speech.samples.size)
    result = models.recognizer.predict(np.tile(speech.samples, repeats), speech.sample_rate)
    if render.wants_timeline(result):
        render.timeline_png(result)
