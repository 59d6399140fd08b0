"""Voice profiles as a person uses them: opt in, messages fill the profile, replies say when it is
used, delete forgets it; nobody gets one without asking, and re-analysing an old message adds nothing.

The bot here runs the functional recogniser trained by the real pipeline (``trained_functional``),
which has a profile network; Discord is the in-memory fake.
"""

from __future__ import annotations

import pytest

from emotion_core.profile import MIN_MESSAGES
from emotion_core.recognizer.infer import EmotionRecognizer
from tests.helpers import fakes
from tests.helpers.fakes import CHANNEL_ID, MEMBER_ID
from tests.helpers.interactions import (
    CALLBACK,
    EPHEMERAL,
    REPLY,
    VOICE,
    context_menu_data,
    hosted_attachment,
    invoke,
    post,
    profile_command,
)

pytestmark = pytest.mark.usefixtures("auto_analysis")


@pytest.fixture(scope="module")
def recognizer(trained_functional) -> EmotionRecognizer:
    return EmotionRecognizer.from_pretrained(trained_functional)


@pytest.fixture
def config_overrides():
    return {"analyze_per_minute": 100}


async def command(bot, discord_api, ids, name: str) -> str:
    invoke(bot, ids, profile_command(name))
    await fakes.settle(bot)
    answer = discord_api.sent("POST", CALLBACK)[-1].payload
    assert answer["data"]["flags"] & EPHEMERAL
    return answer["data"]["content"]


async def voice_message(bot, discord_api, ids, clips) -> str:
    """Post a voice message; return the footer of the mood card it got."""
    post(bot, discord_api, ids, clips("ogg-opus", duration_s=3.0), "", "audio/ogg", voice=True)
    await fakes.settle(bot)
    return discord_api.sent("POST", REPLY)[-1].payload["embeds"][0]["footer"]["text"]


async def test_nobody_gets_a_profile_without_asking(bot, discord_api, ids, clips):
    footer = await voice_message(bot, discord_api, ids, clips)
    assert "profile" not in footer and "usual voice" not in footer
    assert await bot.store.voice_profile(MEMBER_ID) is None
    assert "no voice profile" in await command(bot, discord_api, ids, "show")


async def test_opted_in_messages_fill_the_profile_until_it_is_used_then_delete_forgets_it(
    bot, discord_api, ids, clips
):
    text = await command(bot, discord_api, ids, "on")
    assert "No audio" in text and "/voiceprofile delete" in text
    footers = [await voice_message(bot, discord_api, ids, clips) for _ in range(MIN_MESSAGES + 1)]
    assert footers[0].endswith(f"voice profile: 1 of {MIN_MESSAGES} messages")
    assert all("usual voice" not in f for f in footers[:MIN_MESSAGES])
    assert footers[MIN_MESSAGES].endswith("compared with your usual voice")
    stored = await bot.store.voice_profile(MEMBER_ID)
    assert stored.count == MIN_MESSAGES + 1 and len(stored.mean) == 4 * bot.recognizer.n_functionals
    assert f"{MIN_MESSAGES + 1} messages" in await command(bot, discord_api, ids, "show")

    assert "Deleted" in await command(bot, discord_api, ids, "delete")
    assert await bot.store.voice_profile(MEMBER_ID) is None
    footer = await voice_message(bot, discord_api, ids, clips)
    assert "profile" not in footer and "usual voice" not in footer
    assert "no voice profile" in await command(bot, discord_api, ids, "delete")


async def test_analyzing_an_old_message_again_adds_nothing(bot, discord_api, ids, clips):
    await command(bot, discord_api, ids, "on")
    attachment = hosted_attachment(
        discord_api, ids, clips(), "voice-message.ogg", "audio/ogg", duration_secs=3.0, waveform=b"\x10" * 64
    )
    target = fakes.message_payload(next(ids), attachments=[attachment], flags=VOICE, channel_id=CHANNEL_ID)
    for _ in range(3):
        invoke(bot, ids, context_menu_data(target))
        await fakes.settle(bot)
    assert (await bot.store.voice_profile(MEMBER_ID)).count == 0


async def test_a_profile_from_another_recognizer_is_replaced(bot, discord_api, ids, clips):
    await command(bot, discord_api, ids, "on")
    await bot.store.save_profile(MEMBER_ID, 40, b"\x00" * 12)  # another recogniser's statistics
    footer = await voice_message(bot, discord_api, ids, clips)
    assert "usual voice" not in footer
    stored = await bot.store.voice_profile(MEMBER_ID)
    assert stored.count == 1 and len(stored.mean) == 4 * bot.recognizer.n_functionals
