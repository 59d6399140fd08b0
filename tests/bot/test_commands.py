"""Slash commands and the context menu, through discord.py's command tree.

Interactions are built from INTERACTION_CREATE payloads and handed to the bot's ``ConnectionState``
exactly as the gateway would; assertions are on the interaction callback (``defer``, immediate answers)
and the follow-up webhook requests that reach the fake Discord API.
"""

from __future__ import annotations

import asyncio
import base64

import pytest

from bot.store import DEFAULTS, SettingsStore
from emotion_core import MAX_TEXT_CHARS
from tests.helpers import fakes
from tests.helpers.fakes import APPLICATION_ID, CHANNEL_ID, GUILD_ID, OTHER_CHANNEL_ID
from tests.helpers.interactions import (
    CALLBACK,
    DEFERRED,
    EPHEMERAL,
    FOLLOWUP,
    MESSAGE,
    ORIGINAL,
    VOICE,
    answer,
    context_menu_data,
    hosted_attachment,
    invoke,
    mood_data,
    pings_nobody,
    privacy_data,
    settings_data,
    speak_data,
)


async def test_setup_hook_syncs_the_commands_to_the_dev_guild(bot, discord_api):
    (sync,) = discord_api.sent("PUT", rf"/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands")
    commands = {c["name"]: c for c in sync.payload}
    assert set(commands) == {"mood", "speak", "moodbot", "voiceprofile", "privacy", "Analyze mood"}
    assert commands["Analyze mood"]["type"] == 3
    assert str(commands["moodbot"]["default_member_permissions"]) == "32"  # Manage Server
    assert commands["moodbot"]["contexts"] == [0]  # servers only
    speak = {o["name"]: o for o in commands["speak"]["options"]}
    assert [c["value"] for c in speak["emotion"]["choices"]] == [
        "neutral",
        "happy",
        "sad",
        "angry",
        "fearful",
        "disgusted",
        "surprised",
    ]
    assert (speak["intensity"]["min_value"], speak["intensity"]["max_value"]) == (0.0, 1.0)
    assert speak["text"]["max_length"] == MAX_TEXT_CHARS
    assert all(o["description"] for c in commands.values() for o in c.get("options", []))


async def test_mood_defers_then_answers_in_the_deferred_reply(bot, discord_api, ids, clips):
    attachment = hosted_attachment(discord_api, ids, clips("ogg-opus", duration_s=7.0), "a.ogg", "audio/ogg")
    invoke(bot, ids, mood_data(attachment))
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert callback.payload["type"] == DEFERRED
    assert not callback.payload.get("data", {}).get("flags", 0) & EPHEMERAL
    (edit,) = discord_api.sent("PATCH", ORIGINAL)
    assert pings_nobody(edit.payload["allowed_mentions"])
    reply = answer(discord_api)
    assert not reply.loading and not reply.ephemeral
    (embed,) = reply.embeds
    assert "confident" in embed["description"] or "Not sure" in embed["title"]  # calibrated verdict
    assert [a["filename"] for a in reply.attachments] == ["mood-timeline.png"]


async def test_mood_answers_privately_when_the_guild_asks(bot, discord_api, ids, clips):
    await bot.store.update(GUILD_ID, ephemeral=True)
    attachment = hosted_attachment(discord_api, ids, clips(), "a.ogg", "audio/ogg")
    invoke(bot, ids, mood_data(attachment))
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert callback.payload["data"]["flags"] & EPHEMERAL
    reply = answer(discord_api)
    assert reply.ephemeral and reply.embeds


async def test_an_error_after_a_public_defer_is_still_private(bot, discord_api, ids):
    attachment = hosted_attachment(discord_api, ids, b"RIFF" + bytes(3000), "broken.wav", "audio/wav")
    invoke(bot, ids, mood_data(attachment))
    await fakes.settle(bot)

    assert discord_api.sent("POST", CALLBACK)[0].payload["type"] == DEFERRED  # public "thinking"
    shown = [m for m in discord_api.messages.values() if m.interaction_id is not None and not m.deleted]
    (error,) = shown  # the public "thinking" reply is gone; only the private error is left
    assert error.ephemeral and "read" in error.content


async def test_an_expired_interaction_gets_no_more_requests(bot, discord_api, ids, clips):
    import datetime

    import discord

    discord_api.cdn_delay_s = 0.5
    attachment = hosted_attachment(discord_api, ids, clips(), "a.ogg", "audio/ogg")
    almost = discord.utils.utcnow() - datetime.timedelta(minutes=15) + datetime.timedelta(seconds=0.3)
    payload = fakes.interaction_payload(discord.utils.time_snowflake(almost), mood_data(attachment))
    bot._connection.parse_interaction_create(payload)  # its token runs out while the clip downloads
    await asyncio.sleep(0.1)
    discord_api.clock.advance(15 * 60)
    await fakes.settle(bot)
    assert discord_api.sent("POST", CALLBACK)[0].payload["type"] == DEFERRED
    assert discord_api.sent("PATCH", ORIGINAL) == [] and discord_api.sent("POST", FOLLOWUP) == []
    assert discord_api.invalid_requests == 0


async def test_mood_refuses_a_non_audio_file_at_once(bot, discord_api, ids):
    attachment = hosted_attachment(discord_api, ids, b"\x89PNG....", "cat.png", "image/png")
    invoke(bot, ids, mood_data(attachment))
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert callback.payload["type"] == MESSAGE
    assert callback.payload["data"]["flags"] & EPHEMERAL
    assert "doesn't look like audio" in callback.payload["data"]["content"]
    assert discord_api.downloads == []


async def test_context_menu_analyzes_an_earlier_voice_message(bot, discord_api, ids, clips):
    attachment = hosted_attachment(
        discord_api, ids, clips(), "voice-message.ogg", "audio/ogg", duration_secs=3.0, waveform=b"\x10" * 64
    )
    target = fakes.message_payload(next(ids), attachments=[attachment], flags=VOICE)
    invoke(bot, ids, context_menu_data(target))
    await fakes.settle(bot)

    assert discord_api.sent("POST", CALLBACK)[0].payload["type"] == DEFERRED
    card = answer(discord_api).embeds[0]
    assert "confident" in card["description"] or "Not sure" in card["title"]  # calibrated verdict


async def test_context_menu_refuses_on_an_opted_out_author(bot, discord_api, ids, clips):
    await bot.store.set_consent(fakes.MEMBER_ID, opted_out=True)
    attachment = hosted_attachment(discord_api, ids, clips(), "voice-message.ogg", "audio/ogg")
    target = fakes.message_payload(next(ids), attachments=[attachment], flags=VOICE)
    invoke(bot, ids, context_menu_data(target), user=fakes.OWNER)
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert callback.payload["data"]["flags"] & EPHEMERAL
    assert "asked MoodBot not to analyse" in callback.payload["data"]["content"]
    assert discord_api.downloads == []


async def test_context_menu_on_a_message_without_audio(bot, discord_api, ids):
    target = fakes.message_payload(next(ids), content="just text")
    invoke(bot, ids, context_menu_data(target))
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert "no voice message or audio file" in callback.payload["data"]["content"]


async def test_speak_posts_a_real_voice_message_and_labels_it(bot, discord_api, ids):
    invoke(bot, ids, speak_data("What a lovely day @everyone", "happy", 0.8))
    await fakes.settle(bot)

    assert discord_api.sent("POST", CALLBACK)[0].payload["type"] == DEFERRED
    (posted,) = discord_api.sent("POST", rf"/channels/{CHANNEL_ID}/messages")  # a new message, not an edit
    body = posted.payload
    assert body["flags"] == VOICE and "content" not in body
    assert pings_nobody(body["allowed_mentions"])
    (described,) = body["attachments"]
    assert described["duration_secs"] > 0.5
    assert 0 < len(base64.b64decode(described["waveform"])) <= 256
    (upload,) = posted.files
    assert upload.content_type == "audio/ogg"
    assert upload.data.startswith(b"OggS") and b"OpusHead" in upload.data[:64]
    voice = [m for m in discord_api.messages.values() if m.voice]
    assert len(voice) == 1 and voice[0].channel_id == CHANNEL_ID  # what Discord shows: a voice bubble
    label = answer(discord_api)
    assert "Happy, spoken by" in label.content and "synthetic speech" in label.content
    assert str(voice[0].id) in label.content  # a link to the voice message


async def test_speak_falls_back_to_an_attachment_when_discord_refuses(bot, discord_api, ids):
    discord_api.fail_next("POST", rf"/channels/{CHANNEL_ID}/messages", 403, 50013, "Missing Permissions")
    invoke(bot, ids, speak_data("Oh no", "sad"))
    await fakes.settle(bot)

    reply = answer(discord_api)
    assert not reply.voice and not reply.loading
    assert "Sad" in reply.content and "eSpeak" in reply.content and "synthetic" in reply.content
    (attachment,) = reply.attachments
    assert attachment["filename"] == "moodbot-synthetic-sad.ogg"
    assert "not a recording" in attachment["description"]


async def test_speak_sends_an_attachment_without_the_voice_message_permission(bot, discord_api, ids):
    import discord

    without_voice = discord.Permissions(int(fakes.BOT_PERMISSIONS))
    without_voice.send_voice_messages = False
    invoke(bot, ids, speak_data("Hello", "neutral"), app_permissions=str(without_voice.value))
    await fakes.settle(bot)

    assert discord_api.sent("POST", rf"/channels/{CHANNEL_ID}/messages") == []  # no refused request
    reply = answer(discord_api)
    assert reply.content.startswith("\N{NEUTRAL FACE} Neutral")
    assert reply.attachments[0]["filename"] == "moodbot-synthetic-neutral.ogg"
    assert discord_api.invalid_requests == 0


async def test_speak_refuses_text_over_the_limit(bot, discord_api, ids):
    invoke(bot, ids, speak_data("a" * (MAX_TEXT_CHARS + 1), "angry"))
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert callback.payload["type"] == MESSAGE
    assert callback.payload["data"]["flags"] & EPHEMERAL
    assert discord_api.sent("POST", FOLLOWUP) == []


@pytest.mark.parametrize("config_overrides", [{"speak_per_minute": 1}])
async def test_speak_cooldown(bot, discord_api, ids):
    invoke(bot, ids, speak_data("One", "happy"))
    await fakes.settle(bot)
    invoke(bot, ids, speak_data("Two", "happy"))
    await fakes.settle(bot)

    first, second = discord_api.sent("POST", CALLBACK)
    assert first.payload["type"] == DEFERRED
    assert "Slow down" in second.payload["data"]["content"]


@pytest.mark.parametrize(
    "data",
    [
        settings_data("auto", options=[{"name": "enabled", "type": 5, "value": False}]),
        settings_data("channels", "clear"),
    ],
    ids=["auto", "channels-clear"],
)
async def test_settings_need_manage_server(bot, discord_api, ids, data):
    invoke(bot, ids, data)
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert "Manage Server" in callback.payload["data"]["content"]
    assert callback.payload["data"]["flags"] & EPHEMERAL
    assert await bot.store.get(GUILD_ID) == DEFAULTS


async def test_settings_change_and_survive_a_restart(bot, discord_api, ids, tmp_path):
    admin = {"user": fakes.OWNER, "permissions": fakes.ADMIN_PERMISSIONS}
    invoke(bot, ids, settings_data("auto", options=[{"name": "enabled", "type": 5, "value": False}]), **admin)
    invoke(
        bot, ids, settings_data("style", options=[{"name": "style", "type": 3, "value": "reaction"}]), **admin
    )
    channel = fakes.channel_payload(OTHER_CHANNEL_ID, "memes") | {"permissions": fakes.ADMIN_PERMISSIONS}
    invoke(
        bot,
        ids,
        settings_data(
            "channels",
            "add",
            options=[{"name": "channel", "type": 7, "value": str(OTHER_CHANNEL_ID)}],
            resolved={"channels": {str(OTHER_CHANNEL_ID): channel}},
        ),
        **admin,
    )
    await fakes.settle(bot)
    invoke(bot, ids, settings_data("show"), **admin)
    await fakes.settle(bot)

    callbacks = discord_api.sent("POST", CALLBACK)
    assert len(callbacks) == 4
    shown = callbacks[-1].payload["data"]
    assert shown["flags"] & EPHEMERAL
    fields = {f["name"]: f["value"] for f in shown["embeds"][0]["fields"]}
    assert fields["Automatic analysis"] == "off"
    assert fields["Reply style"] == "reaction"
    assert fields["Analysed channels"] == f"<#{OTHER_CHANNEL_ID}>"

    await bot.close()
    reopened = SettingsStore(tmp_path / "moodbot.sqlite3")
    try:
        settings = await reopened.get(GUILD_ID)
    finally:
        await reopened.close()
    assert settings.auto_analyze is False
    assert settings.reply_style == "reaction"
    assert settings.allowed_channel_ids == {OTHER_CHANNEL_ID}
    assert settings.allows(OTHER_CHANNEL_ID) and not settings.allows(CHANNEL_ID)


ADMIN = {"user": fakes.OWNER, "permissions": fakes.ADMIN_PERMISSIONS}


async def test_turning_analysis_on_posts_a_notice_where_it_starts(bot, discord_api, ids):
    invoke(bot, ids, settings_data("auto", options=[{"name": "enabled", "type": 5, "value": True}]), **ADMIN)
    await fakes.settle(bot)

    (notice,) = [
        m for m in discord_api.messages.values() if m.channel_id == CHANNEL_ID and not m.interaction_id
    ]
    assert "now listens to voice messages in every channel" in notice.content
    assert "/privacy opt-out" in notice.content
    assert (await bot.store.get(GUILD_ID)).auto_analyze
    assert answer(discord_api).ephemeral  # the settings card, for the manager only

    invoke(bot, ids, settings_data("auto", options=[{"name": "enabled", "type": 5, "value": True}]), **ADMIN)
    await fakes.settle(bot)
    assert len(discord_api.sent("POST", rf"/channels/{CHANNEL_ID}/messages")) == 1  # once, when it starts


async def test_a_notice_that_cannot_be_posted_is_named_to_the_manager(bot, discord_api, ids):
    import discord

    muted = discord.Permissions(int(fakes.BOT_PERMISSIONS))
    muted.send_messages = False
    discord_api.set_bot_permissions(CHANNEL_ID, muted)
    invoke(bot, ids, settings_data("auto", options=[{"name": "enabled", "type": 5, "value": True}]), **ADMIN)
    await fakes.settle(bot)
    assert f"couldn't post the notice in <#{CHANNEL_ID}>" in answer(discord_api).content


async def test_privacy_opt_out_is_kept_and_explained(bot, discord_api, ids):
    await bot.store.opt_in(fakes.MEMBER_ID)
    invoke(bot, ids, privacy_data("opt-out"))
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert callback.payload["data"]["flags"] & EPHEMERAL
    assert "will not analyse your messages anywhere" in callback.payload["data"]["content"]
    assert (await bot.store.consent(fakes.MEMBER_ID)).opted_out
    assert await bot.store.voice_profile(fakes.MEMBER_ID) is None


async def test_dm_voice_messages_are_analyzed_only_after_the_person_turns_it_on(bot, discord_api, ids, clips):
    dm_channel = 1300000000000000099

    def send_dm() -> None:
        attachment = hosted_attachment(
            discord_api, ids, clips(), "voice-message.ogg", "audio/ogg", channel_id=dm_channel,
            duration_secs=3.0, waveform=b"\x10" * 64,
        )  # fmt: skip
        payload = fakes.message_payload(
            next(ids), channel_id=dm_channel, attachments=[attachment], flags=VOICE, guild=False
        )
        bot._connection.parse_message_create(payload)

    send_dm()
    await fakes.settle(bot)
    assert discord_api.downloads == []  # DMs too: nothing on its own until the person asks
    invoke(bot, ids, privacy_data("dm-analysis", [{"name": "enabled", "type": 5, "value": True}]))
    await fakes.settle(bot)
    send_dm()
    await fakes.settle(bot)
    assert len(discord_api.downloads) == 1
    (reply,) = discord_api.sent("POST", rf"/channels/{dm_channel}/messages")
    assert reply.payload["embeds"]
