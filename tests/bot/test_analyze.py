"""Hearing, end to end: gateway MESSAGE_CREATE payloads in, the requests the bot sends out.

Each test feeds real discord.py ``Message`` objects (parsed from Discord-shaped payloads by the bot's
own ``ConnectionState``) through the real handler, real recogniser and real renderer, and asserts on
what reached the fake Discord API: content, embeds, files, reply reference, mentions.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import render
from tests.helpers import fakes
from tests.helpers.fakes import CHANNEL_ID, GUILD_ID, OTHER_CHANNEL_ID
from tests.helpers.interactions import NO_PINGS, REPLY, post

pytestmark = pytest.mark.usefixtures("auto_analysis")  # a manager turned it on; it starts off


async def test_voice_message_gets_a_mood_card_in_reply(bot, discord_api, ids, clips):
    message_id = post(bot, discord_api, ids, clips("ogg-opus", duration_s=3.0), "", "audio/ogg", voice=True)
    await fakes.settle(bot)

    assert discord_api.sent("POST", rf"/channels/{CHANNEL_ID}/typing")
    assert len(discord_api.downloads) == 1
    (reply,) = discord_api.sent("POST", REPLY)
    body = reply.payload
    assert body["message_reference"]["message_id"] == message_id
    assert body["message_reference"]["fail_if_not_exists"] is False
    assert body["allowed_mentions"] == NO_PINGS
    (embed,) = body["embeds"]
    assert any(e.emoji in embed["title"] for e in render.COLORS)
    assert "confident" in embed["description"] or "Not sure" in embed["title"]  # calibrated verdict
    assert embed["footer"]["text"].startswith("Analysed 3.")
    assert "\N{FULL BLOCK}" in embed["fields"][0]["value"] or "\N{LIGHT SHADE}" in embed["fields"][0]["value"]
    assert reply.files == []  # a 3 s clip gets no chart


async def test_long_mp3_upload_gets_a_timeline_chart(bot, discord_api, ids, clips):
    post(bot, discord_api, ids, clips("mp3", duration_s=8.0), "standup.mp3", "audio/mpeg")
    await fakes.settle(bot)

    (reply,) = discord_api.sent("POST", REPLY)
    (chart,) = reply.files
    assert chart.filename == render.TIMELINE_FILENAME
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    (embed,) = reply.payload["embeds"]
    assert embed["image"]["url"] == f"attachment://{render.TIMELINE_FILENAME}"
    assert reply.payload["attachments"][0]["filename"] == render.TIMELINE_FILENAME


async def test_audio_recognized_by_extension_without_content_type(bot, discord_api, ids, clips):
    post(bot, discord_api, ids, clips("flac", duration_s=2.0), "memo.FLAC", None)
    await fakes.settle(bot)
    assert len(discord_api.sent("POST", REPLY)) == 1


@pytest.mark.parametrize(
    ("author", "filename", "content_type"),
    [
        (fakes.MEMBER, "cat.png", "image/png"),
        (fakes.BOT_USER, "voice-message.ogg", "audio/ogg"),
        (fakes.OTHER_BOT, "voice-message.ogg", "audio/ogg"),
    ],
    ids=["image", "own-message", "other-bot"],
)
async def test_ignored_messages_get_nothing(bot, discord_api, ids, clips, author, filename, content_type):
    before = len(discord_api.requests)
    post(bot, discord_api, ids, clips(), filename, content_type, author=author)
    await fakes.settle(bot)
    assert discord_api.requests[before:] == []
    assert discord_api.downloads == []


async def test_huge_attachment_is_refused_before_download(bot, discord_api, ids, clips):
    post(bot, discord_api, ids, clips(), "podcast.wav", "audio/wav", size=500 * 1024 * 1024)
    await fakes.settle(bot)

    assert discord_api.downloads == []
    (reply,) = discord_api.sent("POST", REPLY)
    assert "500.0 MB" in reply.payload["content"] and "25 MB" in reply.payload["content"]
    assert reply.payload["allowed_mentions"] == NO_PINGS


@pytest.mark.parametrize(
    ("data_kind", "expected"),
    [("short", "short"), ("garbage", ""), ("silence", "No speech found")],
)
async def test_unusable_audio_still_gets_an_answer(bot, discord_api, ids, clips, data_kind, expected):
    data = {
        "short": lambda: clips("ogg-opus", duration_s=0.2),
        "garbage": lambda: b"OggS" + bytes(range(256)) * 8,
        "silence": lambda: clips("ogg-opus", duration_s=2.0, silent=True),
    }[data_kind]()
    post(bot, discord_api, ids, data, "clip.ogg", "audio/ogg")
    await fakes.settle(bot)

    (reply,) = discord_api.sent("POST", REPLY)
    text = reply.payload.get("content") or reply.payload["embeds"][0]["title"]
    assert expected.lower() in text.lower()
    assert "went wrong" not in text  # a known error, not a bug


async def test_reaction_style_adds_the_mood_emoji(bot, discord_api, ids, clips):
    await bot.store.update(GUILD_ID, reply_style="reaction")
    message_id = post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
    await fakes.settle(bot)

    (reaction,) = discord_api.sent("PUT", rf"/channels/{CHANNEL_ID}/messages/{message_id}/reactions/.+/@me")
    assert discord_api.sent("POST", REPLY) == []
    assert reaction.path.split("/")[-2]  # the URL-quoted emoji


async def test_guild_settings_switch_automatic_analysis_off_and_limit_channels(bot, discord_api, ids, clips):
    await bot.store.update(GUILD_ID, auto_analyze=False)
    post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
    await fakes.settle(bot)
    assert discord_api.downloads == []

    await bot.store.update(GUILD_ID, auto_analyze=True)
    await bot.store.add_channel(GUILD_ID, OTHER_CHANNEL_ID)
    post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
    post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True, channel_id=OTHER_CHANNEL_ID)
    await fakes.settle(bot)
    assert discord_api.sent("POST", REPLY) == []
    assert len(discord_api.sent("POST", rf"/channels/{OTHER_CHANNEL_ID}/messages")) == 1


@pytest.mark.parametrize("config_overrides", [{"workers": 1, "queue_size": 0}])
async def test_overload_posts_no_refusal_and_logs_it(bot, discord_api, ids, clips, caplog):
    discord_api.cdn_delay_s = 0.3  # the first clip is still downloading when the second arrives
    with caplog.at_level(logging.INFO, logger="bot.exts.analyze"):
        first = post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
        second = post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True, author=fakes.OWNER)
        await fakes.settle(bot)

    (reply,) = discord_api.sent("POST", REPLY)  # a refusal would only add noise to a busy channel
    assert reply.payload["message_reference"]["message_id"] == first and reply.payload["embeds"]
    assert f"Not analysing message {second}" in caplog.text and "busy" in caplog.text


@pytest.mark.parametrize("config_overrides", [{"analyze_per_minute": 1}])
async def test_cooldown_per_user_is_silent(bot, discord_api, ids, clips):
    post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
    await fakes.settle(bot)
    post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
    await fakes.settle(bot)

    (first,) = discord_api.sent("POST", REPLY)
    assert first.payload["embeds"]
    assert len(discord_api.downloads) == 1


@pytest.mark.parametrize("config_overrides", [{"workers": 1, "queue_size": 7}])  # capacity 8, share 2
async def test_one_flooder_cannot_crowd_out_the_others(bot, discord_api, ids, clips):
    discord_api.cdn_delay_s = 0.2
    for _ in range(6):
        post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)  # the flooder
    others = [post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True, author=fakes.OWNER)]
    await fakes.settle(bot)

    answered = [r.payload["message_reference"]["message_id"] for r in discord_api.sent("POST", REPLY)]
    assert set(others) <= set(answered)
    assert len(answered) == 2 + len(others)  # the flooder's fair share, and everyone else


async def test_an_opted_out_author_is_never_analyzed(bot, discord_api, ids, clips):
    await bot.store.set_consent(fakes.MEMBER_ID, opted_out=True)
    post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
    await fakes.settle(bot)
    assert discord_api.downloads == [] and discord_api.sent("POST", REPLY) == []


async def test_a_server_that_never_turned_analysis_on_gets_nothing(bot, discord_api, ids, clips):
    await bot.store.update(GUILD_ID, auto_analyze=False)  # as on a fresh install
    before = len(discord_api.requests)
    post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
    await fakes.settle(bot)
    assert discord_api.downloads == [] and len(discord_api.requests) == before


async def test_a_deleted_message_gets_nothing_and_one_log_line(bot, discord_api, ids, clips, caplog):
    with caplog.at_level(logging.INFO, logger="bot.exts.analyze"):
        message_id = post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
        discord_api.cdn.clear()  # deleted before the handler fetches it: the CDN answers 404
        await fakes.settle(bot)
    assert discord_api.sent("POST", REPLY) == []
    assert f"Message {message_id} was deleted" in caplog.text and "Traceback" not in caplog.text


async def test_close_waits_for_work_in_flight(bot, discord_api, ids, clips):
    discord_api.cdn_delay_s = 0.3
    post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
    await asyncio.sleep(0.05)  # the handler has started downloading
    await bot.close()
    assert len(discord_api.sent("POST", REPLY)) == 1
    assert discord_api.closed


def test_warm_up_runs_the_whole_path(recognizer, synthesizer):
    from bot.tasks import Models, warm_up

    warm_up(Models(recognizer, synthesizer))


async def test_answers_waiting_on_the_rate_limit_are_merged_not_dropped(bot, discord_api, ids, clips):
    discord_api.rate_limits(per_channel=(2, 1.0))  # a tight channel limit, so the test waits 1 s
    people = [fakes.user_payload(1400000000000000100 + i, f"person{i}") for i in range(8)]
    posted = [post(bot, discord_api, ids, clips(duration_s=7.0), "", "audio/ogg", voice=True, author=p)
              for p in people]  # fmt: skip
    await fakes.settle(bot)

    replies = [r for r in discord_api.sent("POST", REPLY) if r.status == 200]
    answered = []
    for reply in replies:
        if reply.payload.get("message_reference"):
            answered.append(reply.payload["message_reference"]["message_id"])
            continue
        embeds = reply.payload["embeds"]
        assert len(embeds) > 1 and all(e["author"]["name"].endswith("'s clip") for e in embeds)
        answered += [int(e["author"]["url"].rsplit("/", 1)[1]) for e in embeds]
        names = [f.filename for f in reply.files]
        assert len(set(names)) == len(names)  # each card's chart under its own name
        assert {e["image"]["url"] for e in embeds} == {f"attachment://{name}" for name in names}
    assert sorted(answered) == sorted(posted)  # every clip answered once
    assert len(replies) < len(posted)  # in fewer messages than clips
    assert all(r.payload.get("embeds") for r in replies)  # and no refusal among them


async def test_a_channel_the_bot_cannot_answer_in_costs_nothing(bot, discord_api, ids, clips, caplog):
    import discord

    muted = discord.Permissions(int(fakes.BOT_PERMISSIONS))
    muted.send_messages = False
    discord_api.set_bot_permissions(CHANNEL_ID, muted)
    await fakes.settle(bot)
    before = len(discord_api.requests)
    with caplog.at_level(logging.INFO, logger="bot.exts.analyze"):
        for _ in range(3):
            post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
        await fakes.settle(bot)

    assert discord_api.downloads == [] and len(discord_api.requests) == before  # not even a 403
    assert discord_api.invalid_requests == 0
    assert caplog.text.count("missing permission send_messages") == 1  # logged once per channel
