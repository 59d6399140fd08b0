"""Shared material for the bot tests: the real models, the in-memory Discord, a logged-in bot, audio.

The recogniser and synthesiser are the real ones (loaded once per session); only Discord's network
edge is fake (see :mod:`tests.helpers.fakes`). Audio is encoded on the spot by the emotion-core test
helpers, so every clip is a real Ogg/Opus, MP3 or WAV file.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emotion_core.recognizer.infer import EmotionRecognizer
from emotion_core.synth.pipeline import Synthesizer
from tests.helpers import fakes
from tests.helpers.audio import make_encoded_audio


@pytest.fixture(scope="session")
def recognizer() -> EmotionRecognizer:
    """The shipped recogniser, warmed once so the first test does not pay for compilation."""
    model = EmotionRecognizer.from_pretrained()
    model.analyze(make_encoded_audio("ogg-opus", duration_s=8.0, sample_rate=48000))
    return model


@pytest.fixture(scope="session")
def synthesizer() -> Synthesizer:
    """The offline eSpeak NG voice: the real synthesiser, fast enough for tests on two cores."""
    return Synthesizer.from_pretrained(voice="espeak")


@pytest.fixture(scope="session")
def clips() -> Callable[..., bytes]:
    """Real encoded audio: ``clips("ogg-opus", duration_s=3.0)`` (cached per arguments)."""
    cache: dict[tuple[Any, ...], bytes] = {}

    def make(fmt: str = "ogg-opus", *, duration_s: float = 3.0, silent: bool = False) -> bytes:
        key = (fmt, duration_s, silent)
        if key not in cache:
            rate = 48000
            samples = np.zeros(int(duration_s * rate), np.float32) if silent else None
            cache[key] = make_encoded_audio(fmt, duration_s=duration_s, sample_rate=rate, samples=samples)
        return cache[key]

    return make


@pytest.fixture
def ids() -> Iterator[int]:
    """Fresh snowflakes for messages, attachments and interactions."""
    return itertools.count(1600000000000000001)


@pytest.fixture
def discord_api() -> fakes.FakeDiscord:
    return fakes.FakeDiscord()


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Override in a test module (or with ``indirect``) to change the bot's settings."""
    return {}


@pytest.fixture
async def bot(
    discord_api: fakes.FakeDiscord,
    tmp_path: Path,
    recognizer: EmotionRecognizer,
    synthesizer: Synthesizer,
    config_overrides: dict[str, Any],
) -> AsyncIterator[Any]:
    """A logged-in MoodBot in the test guild, closed (and drained) after the test."""
    moodbot = await fakes.start_bot(
        discord_api,
        fakes.make_config(tmp_path, **config_overrides),
        recognizer=recognizer,
        synthesizer=synthesizer,
    )
    yield moodbot
    await moodbot.close()


@pytest.fixture
async def auto_analysis(bot: Any) -> None:
    """The test server's manager has turned automatic analysis on (it is off until someone does)."""
    await bot.store.update(fakes.GUILD_ID, auto_analyze=True)
