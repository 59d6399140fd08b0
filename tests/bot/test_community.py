"""Community statistics as an operator runs them: every answered clip adds to one aggregate row, a
newcomer is heard against it once it holds enough clips (the reply says so), re-analysing an old
message adds nothing, and ``MOODBOT_COMMUNITY=off`` neither uses nor keeps it and deletes what was kept.

The bot runs the functional recogniser trained by the real pipeline, which saved its training corpora's
reference; Discord is the in-memory fake.
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.store import SettingsStore
from emotion_core.community import MIN_MESSAGES
from emotion_core.profile import MIN_MESSAGES as PROFILE_MESSAGES
from emotion_core.recognizer.infer import EmotionRecognizer
from tests.helpers import fakes
from tests.helpers.fakes import CHANNEL_ID
from tests.helpers.interactions import (
    CALLBACK,
    REPLY,
    VOICE,
    answer,
    context_menu_data,
    hosted_attachment,
    invoke,
    mood_data,
    post,
    privacy_data,
)

pytestmark = pytest.mark.usefixtures("auto_analysis")
COMMUNITY_NOTE = "compared with the voices MoodBot hears"


@pytest.fixture(scope="module")
def recognizer(trained_functional) -> EmotionRecognizer:
    return EmotionRecognizer.from_pretrained(trained_functional)


async def voice_message(bot, discord_api, ids, clips) -> str:
    """Post a voice message; return the footer of the mood card it got."""
    post(bot, discord_api, ids, clips("ogg-opus", duration_s=3.0), "", "audio/ogg", voice=True)
    await fakes.settle(bot)
    return discord_api.sent("POST", REPLY)[-1].payload["embeds"][0]["footer"]["text"]


async def fill(store: SettingsStore, n_functionals: int, clips: int) -> None:
    rng = np.random.default_rng(0)
    for _ in range(clips):
        await store.add_to_community(rng.normal(size=n_functionals).astype(np.float32))


async def test_answered_clips_fill_the_statistics_which_then_hear_newcomers(bot, discord_api, ids, clips):
    n = bot.recognizer.n_functionals
    assert COMMUNITY_NOTE not in await voice_message(bot, discord_api, ids, clips)
    assert (await bot.store.community(n)).count == 1
    await fill(bot.store, n, MIN_MESSAGES - 2)
    assert COMMUNITY_NOTE not in await voice_message(bot, discord_api, ids, clips)  # 99 before it
    assert COMMUNITY_NOTE in await voice_message(bot, discord_api, ids, clips)
    assert (await bot.store.community(n)).count == MIN_MESSAGES + 1

    attachment = hosted_attachment(
        discord_api, ids, clips(), "voice-message.ogg", "audio/ogg", duration_secs=3.0, waveform=b"\x10" * 64
    )
    target = fakes.message_payload(next(ids), attachments=[attachment], flags=VOICE, channel_id=CHANNEL_ID)
    invoke(bot, ids, context_menu_data(target))
    await fakes.settle(bot)
    assert (await bot.store.community(n)).count == MIN_MESSAGES + 1  # an old message is not counted again


async def test_a_person_with_a_profile_is_told_both_what_they_were_heard_against(
    bot, discord_api, ids, clips
):
    await fill(bot.store, bot.recognizer.n_functionals, MIN_MESSAGES)
    await bot.store.opt_in(fakes.MEMBER_ID)
    footers = [await voice_message(bot, discord_api, ids, clips) for _ in range(PROFILE_MESSAGES + 1)]
    assert footers[0].endswith(f"{COMMUNITY_NOTE} · voice profile: 1 of {PROFILE_MESSAGES} messages")
    assert footers[PROFILE_MESSAGES].endswith("compared with your usual voice and the voices MoodBot hears")


async def test_someone_who_opted_out_gets_an_answer_to_mood_but_is_not_counted(bot, discord_api, ids, clips):
    await bot.store.set_consent(fakes.MEMBER_ID, opted_out=True)
    invoke(bot, ids, mood_data(hosted_attachment(discord_api, ids, clips(), "clip.ogg", "audio/ogg")))
    await fakes.settle(bot)
    assert answer(discord_api).embeds  # answered
    assert await bot.store.community(bot.recognizer.n_functionals) is None


async def test_privacy_show_tells_people_about_the_statistics_while_they_are_on(bot, discord_api, ids):
    invoke(bot, ids, privacy_data("show"))
    await fakes.settle(bot)
    (callback,) = discord_api.sent("POST", CALLBACK)
    assert "average of all the voices it hears" in callback.payload["data"]["content"]


async def test_statistics_of_another_recognizer_start_afresh(bot, discord_api, ids, clips):
    await fill(bot.store, 5, 3)
    assert await bot.store.community(bot.recognizer.n_functionals) is None
    await voice_message(bot, discord_api, ids, clips)
    assert (await bot.store.community(bot.recognizer.n_functionals)).count == 1


async def test_off_deletes_the_statistics_and_neither_uses_nor_keeps_them(
    discord_api, tmp_path, recognizer, synthesizer, ids, clips
):
    config = fakes.make_config(tmp_path, community=False)
    store = SettingsStore(config.db_path)
    await fill(store, recognizer.n_functionals, MIN_MESSAGES)
    await store.close()
    bot = await fakes.start_bot(discord_api, config, recognizer=recognizer, synthesizer=synthesizer)
    try:
        assert await bot.store.community(recognizer.n_functionals) is None
        await bot.store.update(fakes.GUILD_ID, auto_analyze=True)
        assert COMMUNITY_NOTE not in await voice_message(bot, discord_api, ids, clips)
        assert await bot.store.community(recognizer.n_functionals) is None
        invoke(bot, ids, privacy_data("show"))
        await fakes.settle(bot)
        (callback,) = discord_api.sent("POST", CALLBACK)
        assert "average of all the voices" not in callback.payload["data"]["content"]
    finally:
        await bot.close()
