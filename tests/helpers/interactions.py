"""Gateway payloads as Discord sends them, for driving the bot in tests: a message with an attachment,
slash commands, the context menu, and the request paths and flags the fake API records.

Built on :mod:`tests.helpers.fakes`; every function hands its payload to the bot's own
``ConnectionState`` exactly as the gateway would.
"""

from __future__ import annotations

from typing import Any

from tests.helpers import fakes
from tests.helpers.fakes import APPLICATION_ID, CHANNEL_ID, GUILD_ID

CALLBACK = r"/interactions/\d+/[^/]+/callback"
FOLLOWUP = rf"/webhooks/{APPLICATION_ID}/[^/]+"
ORIGINAL = rf"/webhooks/{APPLICATION_ID}/[^/]+/messages/@original"
DEFERRED = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: the "thinking" answer
MESSAGE = 4  # CHANNEL_MESSAGE_WITH_SOURCE
EPHEMERAL = 64
VOICE = 8192  # the IS_VOICE_MESSAGE message flag


def pings_nobody(allowed_mentions: dict[str, Any]) -> bool:
    return allowed_mentions["parse"] == [] and not allowed_mentions.get("replied_user", False)


def answer(discord_api) -> fakes.StoredMessage:
    """The one interaction's reply (its ``@original``) as Discord holds it now, after every edit."""
    (record,) = discord_api.interactions.values()
    return discord_api.messages[record.original_id]


def invoke(bot, ids, data: dict[str, Any], **kwargs: Any) -> None:
    bot._connection.parse_interaction_create(fakes.interaction_payload(next(ids), data, **kwargs))


def hosted_attachment(discord_api, ids, data: bytes, filename: str, content_type: str, **kwargs) -> dict:
    attachment = fakes.attachment_payload(
        next(ids), filename, size=len(data), content_type=content_type, **kwargs
    )
    discord_api.host(attachment["url"], data)
    return attachment


def mood_data(attachment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "1",
        "name": "mood",
        "type": 1,
        "guild_id": str(GUILD_ID),
        "options": [{"name": "clip", "type": 11, "value": attachment["id"]}],
        "resolved": {"attachments": {attachment["id"]: attachment}},
    }


def context_menu_data(target: dict[str, Any]) -> dict[str, Any]:
    """The "Analyze mood" message command invoked on the message payload ``target``."""
    return {
        "id": "4",
        "name": "Analyze mood",
        "type": 3,
        "guild_id": str(GUILD_ID),
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}},
    }


def settings_data(*path: str, options: list[dict[str, Any]] | None = None, resolved=None) -> dict:
    """``/moodbot <path...>`` with ``options`` on the innermost subcommand."""
    inner: list[dict[str, Any]] = options or []
    for index, name in enumerate(reversed(path)):
        kind = 1 if index == 0 else 2
        inner = [{"name": name, "type": kind, "options": inner}]
    data = {"id": "3", "name": "moodbot", "type": 1, "guild_id": str(GUILD_ID), "options": inner}
    if resolved:
        data["resolved"] = resolved
    return data


def privacy_data(name: str, options: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``/privacy <name>`` with ``options``."""
    return {
        "id": "5",
        "name": "privacy",
        "type": 1,
        "options": [{"name": name, "type": 1, "options": options or []}],
    }


def speak_data(text: str, emotion: str, intensity: float | None = None) -> dict[str, Any]:
    options = [
        {"name": "text", "type": 3, "value": text},
        {"name": "emotion", "type": 3, "value": emotion},
    ]
    if intensity is not None:
        options.append({"name": "intensity", "type": 10, "value": intensity})
    return {"id": "2", "name": "speak", "type": 1, "guild_id": str(GUILD_ID), "options": options}


REPLY = rf"/channels/{CHANNEL_ID}/messages"
NO_PINGS = {"parse": [], "replied_user": False}


def post(
    bot,
    discord_api,
    ids,
    data: bytes,
    filename: str,
    content_type: str | None,
    *,
    voice: bool = False,
    author=fakes.MEMBER,
    size: int | None = None,
    channel_id: int = CHANNEL_ID,
) -> int:
    """Host ``data`` on the CDN and deliver a MESSAGE_CREATE carrying it; return the message id."""
    message_id, attachment_id = next(ids), next(ids)
    filename = "voice-message.ogg" if voice else filename
    attachment = fakes.attachment_payload(
        attachment_id,
        filename,
        size=len(data) if size is None else size,
        content_type=content_type,
        channel_id=channel_id,
        duration_secs=3.0 if voice else None,
        waveform=bytes(range(0, 256, 4)) if voice else None,
    )
    discord_api.host(attachment["url"], data)
    bot._connection.parse_message_create(
        fakes.message_payload(
            message_id,
            author=author,
            channel_id=channel_id,
            attachments=[attachment],
            flags=VOICE if voice else 0,
        )
    )
    return message_id


def profile_command(name: str) -> dict:
    return {
        "id": "5",
        "name": "voiceprofile",
        "type": 1,
        "guild_id": str(GUILD_ID),
        "options": [{"name": name, "type": 1}],
    }
