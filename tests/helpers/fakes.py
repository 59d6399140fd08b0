"""Discord at its edge, in memory: the HTTP API and CDN the bot talks to, and gateway payloads.

Everything above the network is real discord.py: the bot builds its requests with the library's own
``HTTPClient`` and webhook adapter, and receives real ``Message`` and ``Interaction`` objects parsed by
its ``ConnectionState`` from payloads shaped like Discord's. Only the aiohttp session underneath is
replaced by :class:`FakeDiscord`, which records every request (method, path, JSON payload, uploaded
files) and answers like Discord would, so tests assert on exactly what would have gone over the wire
and on what Discord then holds (:attr:`FakeDiscord.messages`).

Discord's rules that this project depends on are enforced, each as Discord documents it (the comments
name the page of discord/discord-api-docs, or the issue, that says so): the interaction lifecycle (3 s
to answer, 15 min of token, one initial response, the first follow-up after a defer editing the
"thinking" message), voice-message validation, edits that cannot make a voice message, per-channel bot
permissions, replies to deleted messages, and per-route rate limits with Discord's headers (off unless a
test turns them on with :meth:`FakeDiscord.rate_limits`).

Used by ``tests/bot`` and by ``benchmarks/bench_bot_burst.py``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import itertools
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord.http import HTTPClient, Route
from discord.state import ConnectionState
from multidict import CIMultiDict

from bot.app import MoodBot
from bot.config import Config
from bot.store import SettingsStore
from bot.tasks import Models
from bot.worker import WorkerPool

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.token-for-tests"
APPLICATION_ID = 1100000000000000001
BOT_ID = APPLICATION_ID
GUILD_ID = 1200000000000000001
CHANNEL_ID = 1300000000000000001
OTHER_CHANNEL_ID = 1300000000000000002
OWNER_ID = 1400000000000000001
MEMBER_ID = 1400000000000000002
TIMESTAMP = "2026-11-25T13:00:00.000000+00:00"
CDN = "https://cdn.discordapp.com"
_API = re.compile(r"^https://discord\.com/api/v\d+")

#: The test guild's text channels, by id.
CHANNEL_NAMES = {CHANNEL_ID: "general", OTHER_CHANNEL_ID: "memes"}

#: Permission integers as Discord sends them in payloads.
ADMIN_PERMISSIONS = str(discord.Permissions.all().value)
MEMBER_PERMISSIONS = str(
    discord.Permissions(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        attach_files=True,
        add_reactions=True,
        read_message_history=True,
        use_application_commands=True,
        send_voice_messages=True,
    ).value
)
BOT_PERMISSIONS = MEMBER_PERMISSIONS

#: Message flags (developers/resources/message, "Message Flags").
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_VOICE_MESSAGE = 1 << 13
IS_COMPONENTS_V2 = 1 << 15
#: Flags each kind of request may set; Discord drops the others ("unsupported flag changes are
#: currently ignored without error", Edit Message). Create Message lists IS_VOICE_MESSAGE since
#: discord-api-docs#7267; an interaction's message (callback data, follow-up) may also be EPHEMERAL.
CREATE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_VOICE_MESSAGE | IS_COMPONENTS_V2
INTERACTION_FLAGS = CREATE_FLAGS | EPHEMERAL
#: "If you create a callback with the type DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE the only valid message
#: flag you may use is EPHEMERAL" (developers/interactions/receiving-and-responding).
DEFER_FLAGS = EPHEMERAL
#: Edit Message: "flags ... (SUPPRESS_EMBEDS and IS_COMPONENTS_V2 only)". Not IS_VOICE_MESSAGE: "Message
#: Edit does not support setting it" (discord-api-docs#7267), so an edit never makes a voice message.
EDIT_FLAGS = SUPPRESS_EMBEDS | IS_COMPONENTS_V2

#: "you must send an initial response within 3 seconds of receiving the event. If the 3 second
#: deadline is exceeded, the token will be invalidated"; "Interaction tokens are valid for 15 minutes"
#: (developers/interactions/receiving-and-responding).
INITIAL_RESPONSE_S = 3.0
TOKEN_LIFETIME_S = 15 * 60.0
#: Interaction callback types (receiving-and-responding, "Interaction Callback Type").
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
MAX_CONTENT_CHARS = 2000


@dataclass
class Upload:
    """One file part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    """One request the bot made: what Discord would have received."""

    method: str
    path: str
    params: dict[str, Any]
    payload: Any
    files: list[Upload] = field(default_factory=list)
    #: The Authorization header, compared with the token and never printed.
    authorization: str | None = field(default=None, repr=False)
    #: :attr:`FakeDiscord.clock` time it arrived, and the status it was answered with.
    at_s: float = 0.0
    status: int | None = None


@dataclass
class StoredMessage:
    """A message as Discord holds it now: created, then changed by edits, perhaps deleted.

    ``payload`` is the message object Discord would return for it (the gateway shape for messages
    that tests delivered as MESSAGE_CREATE).
    """

    payload: dict[str, Any]
    deleted: bool = False
    #: The interaction whose response or follow-up this is (``None`` for ordinary messages).
    interaction_id: int | None = None

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    @property
    def content(self) -> str:
        return self.payload.get("content") or ""

    @property
    def flags(self) -> int:
        return self.payload.get("flags") or 0

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.payload.get("embeds") or []

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.payload.get("attachments") or []

    @property
    def voice(self) -> bool:
        """Whether clients show this message as a voice message (the playable bubble)."""
        return bool(self.flags & IS_VOICE_MESSAGE)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred interaction's "thinking" message, not yet edited."""
        return bool(self.flags & LOADING)


@dataclass
class InteractionRecord:
    """One interaction as Discord tracks it: when it was created and how it has been answered."""

    id: int
    token: str
    channel_id: int
    #: :attr:`FakeDiscord.clock` time of the INTERACTION_CREATE.
    created_s: float
    #: The initial response's callback type, ``None`` until acknowledged.
    response_type: int | None = None
    #: The ``@original`` message (the response or the deferred "thinking" message).
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)


class FakeClock:
    """Discord's time as the fake sees it: the event loop's clock plus what tests skipped ahead.

    discord.py measures rate limits with the same loop clock, so real waits move both together;
    :meth:`advance` moves only Discord's, for deadlines a test should not sit through.
    """

    def __init__(self) -> None:
        self.skipped_s = 0.0

    def now(self) -> float:
        return asyncio.get_running_loop().time() + self.skipped_s

    def advance(self, seconds: float) -> None:
        self.skipped_s += seconds


class DiscordError(Exception):
    """A refusal as Discord sends it: HTTP status and JSON error body.

    Codes and messages are those of developers/topics/opcodes-and-status-codes ("JSON Error Codes").
    """

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors is not None:
            self.body["errors"] = errors


def _form_error(where: str, code: str, message: str) -> DiscordError:
    """400 Invalid Form Body naming the field, e.g. ``In message_reference: Unknown message``."""
    return DiscordError(
        400, 50035, "Invalid Form Body", {where: {"_errors": [{"code": code, "message": message}]}}
    )


def _missing_permissions() -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions")


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name.capitalize(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


BOT_USER = user_payload(BOT_ID, "moodbot", bot=True)
OWNER = user_payload(OWNER_ID, "owner")
MEMBER = user_payload(MEMBER_ID, "alice")
OTHER_BOT = user_payload(1400000000000000009, "otherbot", bot=True)


def member_payload(user: dict[str, Any], *, permissions: str | None = None) -> dict[str, Any]:
    payload = {
        "user": user,
        "roles": [],
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "premium_since": None,
        "pending": False,
    }
    if permissions is not None:
        payload["permissions"] = permissions
    return payload


def channel_payload(
    channel_id: int, name: str, *, bot_permissions: discord.Permissions | None = None
) -> dict[str, Any]:
    """A guild text channel; ``bot_permissions`` become a member overwrite giving the bot exactly those."""
    overwrites = []
    if bot_permissions is not None:
        everything = discord.Permissions.all().value
        overwrites.append(
            {
                "id": str(BOT_ID),
                "type": 1,  # member
                "allow": str(bot_permissions.value),
                "deny": str(everything & ~bot_permissions.value),
            }
        )
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": name,
        "position": 0,
        "permission_overwrites": overwrites,
        "parent_id": None,
        "nsfw": False,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def guild_payload(bot_permissions: Mapping[int, discord.Permissions] | None = None) -> dict[str, Any]:
    """A GUILD_CREATE payload: one server with two text channels (with the bot's overwrites, if any)."""
    bot_permissions = bot_permissions or {}
    return {
        "id": str(GUILD_ID),
        "name": "Mood Lab",
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(OWNER_ID),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_progress_bar_enabled": False,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "vanity_url_code": None,
        "preferred_locale": "en-US",
        "features": [],
        "roles": [
            {
                "id": str(GUILD_ID),
                "name": "@everyone",
                "permissions": MEMBER_PERMISSIONS,
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "emojis": [],
        "stickers": [],
        "channels": [
            channel_payload(channel_id, name, bot_permissions=bot_permissions.get(channel_id))
            for channel_id, name in CHANNEL_NAMES.items()
        ],
        "threads": [],
        "members": [member_payload(BOT_USER)],
        "member_count": 3,
        "voice_states": [],
        "presences": [],
        "large": False,
        "unavailable": False,
        "joined_at": TIMESTAMP,
    }


def attachment_payload(
    attachment_id: int,
    filename: str,
    *,
    size: int,
    content_type: str | None,
    channel_id: int = CHANNEL_ID,
    duration_secs: float | None = None,
    waveform: bytes | None = None,
) -> dict[str, Any]:
    """An attachment as Discord describes it (a voice message adds ``duration_secs`` and ``waveform``)."""
    url = f"{CDN}/attachments/{channel_id}/{attachment_id}/{filename}"
    payload: dict[str, Any] = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": f"{url}?ex=6745a0f0&is=67444f70&hm=0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "proxy_url": url.replace(CDN, "https://media.discordapp.net"),
    }
    if content_type is not None:
        payload["content_type"] = content_type
    if duration_secs is not None:
        payload["duration_secs"] = duration_secs
        payload["waveform"] = base64.b64encode(waveform or bytes(64)).decode()
    return payload


def message_payload(
    message_id: int,
    *,
    author: dict[str, Any] = MEMBER,
    channel_id: int = CHANNEL_ID,
    content: str = "",
    attachments: Iterable[dict[str, Any]] = (),
    flags: int = 0,
    guild: bool = True,
) -> dict[str, Any]:
    """A MESSAGE_CREATE payload (gateway shape, with ``guild_id`` and the partial ``member``)."""
    payload: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": list(attachments),
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": flags,
        "components": [],
    }
    if guild:
        payload["guild_id"] = str(GUILD_ID)
        member = member_payload(author)
        del member["user"]
        payload["member"] = member
    return payload


def interaction_payload(
    interaction_id: int,
    data: dict[str, Any],
    *,
    user: dict[str, Any] = MEMBER,
    permissions: str = MEMBER_PERMISSIONS,
    app_permissions: str | None = None,
    channel_id: int = CHANNEL_ID,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload for an application command used in the test guild.

    Without ``app_permissions`` the payload leaves them out and :meth:`FakeDiscord.register_interaction`
    fills in the bot's permissions in the channel; with them, the fake adopts them as the bot's
    permissions there, so the payload and the API agree either way.
    """
    payload = {
        "id": str(interaction_id),
        "application_id": str(APPLICATION_ID),
        "type": 2,
        "token": f"interaction-token-{interaction_id}",
        "version": 1,
        "guild_id": str(GUILD_ID),
        "guild": {"id": str(GUILD_ID), "locale": "en-US", "features": []},
        "channel_id": str(channel_id),
        "channel": channel_payload(channel_id, CHANNEL_NAMES.get(channel_id, "general")),
        "member": member_payload(user, permissions=permissions),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
        "data": data,
    }
    if app_permissions is not None:
        payload["app_permissions"] = app_permissions
    return payload


class _Response:
    """Just enough of ``aiohttp.ClientResponse`` for discord.py."""

    _REASONS = {
        200: "OK",
        204: "No Content",
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        429: "Too Many Requests",
    }

    def __init__(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.reason = self._REASONS.get(status, "Bad Request")
        self.headers: CIMultiDict[str] = CIMultiDict(headers or {})
        if isinstance(body, bytes):
            self._body = body
            self.headers["content-type"] = "application/octet-stream"
        elif body is None:
            self._body = b""
        else:
            self._body = json.dumps(body).encode()
            self.headers["content-type"] = "application/json"

    async def text(self, encoding: str = "utf-8") -> str:
        return self._body.decode(encoding, errors="replace")

    async def read(self) -> bytes:
        return self._body


class _Exchange:
    """What ``session.request(...)`` returns: an async context manager yielding the response."""

    def __init__(self, discord_api: FakeDiscord, method: str, url: str, kwargs: dict[str, Any]):
        self._api, self._method, self._url, self._kwargs = discord_api, method, url, kwargs

    async def __aenter__(self) -> _Response:
        return await self._api._handle(self._method, self._url, self._kwargs)

    async def __aexit__(self, *exc_info: object) -> None:
        return None


@dataclass(frozen=True)
class RateLimit:
    """One per-route limit: ``limit`` requests per ``per_s`` seconds, counted per top-level resource."""

    limit: int
    per_s: float


#: Routes with a rate limit: (methods, path, limit name); the first group is the top-level resource
#: ("channels (channel_id) ... and webhooks (webhook_id + webhook_token)", developers/topics/rate-limits).
_LIMITED_ROUTES = [
    ({"POST"}, re.compile(r"/channels/(\d+)/messages"), "per_channel"),
    ({"PUT", "DELETE"}, re.compile(r"/channels/(\d+)/messages/\d+/reactions/.+"), "reactions"),
    ({"POST", "GET", "PATCH", "DELETE"}, re.compile(r"/webhooks/(\d+/[^/]+)(?:/messages/.+)?"), "webhooks"),
]


class FakeDiscord:
    """Discord's REST API and CDN in memory, in place of the bot's aiohttp session.

    Attributes
    ----------
    requests : list[Request]
        Every API request, in order, refused ones included (CDN downloads are in ``downloads``).
    downloads : list[str]
        URLs fetched from the CDN.
    cdn_delay_s : float
        Simulated download time for each CDN fetch.
    clock : FakeClock
        Discord's time, for the interaction deadlines and rate-limit windows; ``clock.advance(s)``.
    messages : dict[int, StoredMessage]
        Every message Discord holds, by id, as it is now: the bot's (created, edited, deleted through
        the API) and those tests delivered through a state the fake is attached to.
    interactions : dict[int, InteractionRecord]
        Every interaction the gateway delivered, by id.
    invalid_requests : int
        Responses with 401, 403 or 429 (except 429s of scope ``shared``): what Discord counts towards
        its "10,000 per 10 minutes" invalid-request limit (developers/topics/rate-limits).
    """

    closed = False

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.downloads: list[str] = []
        self.cdn: dict[str, bytes] = {}
        self.cdn_delay_s = 0.0
        self.clock = FakeClock()
        self.messages: dict[int, StoredMessage] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.invalid_requests = 0
        self._by_token: dict[str, InteractionRecord] = {}
        self._bot_permissions: dict[int, discord.Permissions] = {}
        self._limits: dict[str, RateLimit] = {}
        self._windows: dict[tuple[str, str], list[float]] = {}
        self._state: ConnectionState | None = None
        self._failures: list[tuple[str, re.Pattern[str], int, dict[str, Any]]] = []
        self._ids = itertools.count(1500000000000000001)
        self._changed = asyncio.Condition()
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = [
            ("GET", re.compile(r"/users/@me"), self._me),
            ("GET", re.compile(r"/oauth2/applications/@me"), self._application),
            ("PUT", re.compile(r"/applications/\d+(/guilds/\d+)?/commands"), self._commands),
            ("POST", re.compile(r"/channels/(\d+)/typing"), lambda request, _: None),
            ("POST", re.compile(r"/channels/(\d+)/messages"), self._channel_message),
            ("PATCH", re.compile(r"/channels/(\d+)/messages/(\d+)"), self._edit_channel_message),
            ("DELETE", re.compile(r"/channels/(\d+)/messages/(\d+)"), self._delete_channel_message),
            ("PUT", re.compile(r"/channels/(\d+)/messages/(\d+)/reactions/[^/]+/@me"), self._reaction),
            ("POST", re.compile(r"/interactions/(\d+)/([^/]+)/callback"), self._callback),
            ("POST", re.compile(r"/webhooks/(\d+)/([^/]+)"), self._followup),
            (
                "GET",
                re.compile(r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)"),
                self._get_webhook_message,
            ),
            (
                "PATCH",
                re.compile(r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)"),
                self._edit_webhook_message,
            ),
            (
                "DELETE",
                re.compile(r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)"),
                self._delete_webhook_message,
            ),
        ]

    # -- test controls ----------------------------------------------------------------------------

    def host(self, url: str, data: bytes) -> None:
        """Serve ``data`` at a CDN ``url`` (query string ignored)."""
        self.cdn[url.split("?")[0]] = data

    def fail_next(self, method: str, path: str, status: int, code: int, message: str) -> None:
        """Make the next request matching ``method`` and the ``path`` regex fail like Discord does."""
        self._failures.append((method, re.compile(path), status, {"code": code, "message": message}))

    def sent(self, method: str, path: str) -> list[Request]:
        """Requests whose method matches and whose path matches the regex ``path`` in full."""
        pattern = re.compile(path)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    async def wait_for(self, method: str, path: str, count: int = 1, timeout_s: float = 30) -> list[Request]:
        """Wait until at least ``count`` requests match, and return them."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.sent(method, path)) >= count), timeout_s
            )
        return self.sent(method, path)

    def rate_limits(
        self,
        *,
        enabled: bool = True,
        per_channel: tuple[int, float] = (5, 5.0),
        reactions: tuple[int, float] = (1, 0.25),
        webhooks: tuple[int, float] = (5, 2.0),
    ) -> None:
        """Limit requests per route and resource as Discord does, or (``enabled=False``) not at all.

        Off by default. The defaults are the limits Discord's headers have been seen to report (messages
        per channel, reactions per channel, requests per webhook or interaction token); Discord documents
        no numbers ("rate limits should not be hard coded"), so the bot must follow the headers, which
        every response on a limited route then carries.
        """
        self._windows.clear()
        self._limits = (
            {
                "per_channel": RateLimit(*per_channel),
                "reactions": RateLimit(*reactions),
                "webhooks": RateLimit(*webhooks),
            }
            if enabled
            else {}
        )

    def permissions_in(self, channel_id: int) -> discord.Permissions:
        """The bot's permissions in a channel, overwrites included (what ``app_permissions`` carries)."""
        granted = self._bot_permissions.get(channel_id)
        return discord.Permissions(int(BOT_PERMISSIONS) if granted is None else granted.value)

    def set_bot_permissions(self, channel_id: int, permissions: discord.Permissions) -> None:
        """Give the bot exactly ``permissions`` in a channel, as a member overwrite.

        The API enforces them from now on; a connected bot hears a CHANNEL_UPDATE with the overwrite,
        so ``channel.permissions_for(guild.me)`` agrees, and later interactions carry them as
        ``app_permissions``. Before :func:`start_bot` they go into the guild's channels instead.
        """
        self._bot_permissions[channel_id] = discord.Permissions(permissions.value)
        if self._state is not None and channel_id in CHANNEL_NAMES:
            update = channel_payload(channel_id, CHANNEL_NAMES[channel_id], bot_permissions=permissions)
            self._state.parsers["CHANNEL_UPDATE"](update)

    def register_interaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Start an interaction's clock (the moment Discord sends INTERACTION_CREATE); return ``payload``.

        Fills in, or adopts, ``app_permissions`` (see :func:`interaction_payload`) and remembers the
        messages a context-menu command resolves. :meth:`attach` calls this for every interaction a
        test hands the bot's state; call it directly for an ``Interaction`` built by hand.
        """
        channel_id = int(payload["channel_id"])
        if "app_permissions" in payload:
            given = discord.Permissions(int(payload["app_permissions"]))
            if given != self.permissions_in(channel_id):
                self.set_bot_permissions(channel_id, given)
        else:
            payload["app_permissions"] = str(self.permissions_in(channel_id).value)
        if int(payload["id"]) not in self.interactions:  # Discord sends each interaction once
            record = InteractionRecord(int(payload["id"]), payload["token"], channel_id, self.clock.now())
            self.interactions[record.id] = record
            self._by_token[record.token] = record
        for message in ((payload.get("data") or {}).get("resolved") or {}).get("messages", {}).values():
            self._saw_message(message)
        return payload

    def delete_message(self, channel_id: int, message_id: int) -> None:
        """Someone deletes a message: replies to it now fail or lose the link, its files leave the CDN.

        A connected bot hears MESSAGE_DELETE, as from Discord ("Fires a Message Delete Gateway event",
        developers/resources/message, Delete Message).
        """
        stored = self.messages.get(message_id)
        if stored is None:
            stored = StoredMessage(message_payload(message_id, channel_id=channel_id))
            self.messages[message_id] = stored
        self._delete(stored)
        if self._state is not None:
            event = {"id": str(message_id), "channel_id": str(channel_id), "guild_id": str(GUILD_ID)}
            self._state.parsers["MESSAGE_DELETE"](event)

    def attach(self, state: ConnectionState) -> None:
        """Watch the gateway events tests hand ``state``, as Discord would have sent them.

        Every INTERACTION_CREATE goes through :meth:`register_interaction` and every MESSAGE_CREATE
        into :attr:`messages` before discord.py parses it; permission changes reach ``state`` as
        CHANNEL_UPDATE. Both the parser table the gateway uses and the ``parse_*`` attributes the
        tests call are wrapped.
        """
        self._state = state
        for event, watch in (
            ("INTERACTION_CREATE", self.register_interaction),
            ("MESSAGE_CREATE", self._saw_message),
        ):
            parse = state.parsers[event]

            def watched(data: dict[str, Any], parse: Callable[[Any], None] = parse, watch=watch) -> None:
                parse(watch(data))

            state.parsers[event] = watched
            setattr(state, f"parse_{event.lower()}", watched)

    # -- aiohttp.ClientSession surface ------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs: Any) -> _Exchange:
        return _Exchange(self, method, url, kwargs)

    def get(self, url: str, **kwargs: Any) -> _Exchange:
        return _Exchange(self, "GET", url, kwargs)

    async def close(self) -> None:
        self.closed = True

    # -- Discord ----------------------------------------------------------------------------------

    async def _handle(self, method: str, url: str, kwargs: dict[str, Any]) -> _Response:
        if url.startswith(CDN):
            return await self._download(url)
        path = _API.sub("", url)
        payload, files = _parse_body(kwargs.get("data"))
        request = Request(
            method,
            path,
            dict(kwargs.get("params") or {}),
            payload,
            files,
            (kwargs.get("headers") or {}).get("Authorization"),
            at_s=self.clock.now(),
        )
        self.requests.append(request)
        async with self._changed:
            self._changed.notify_all()
        response = self._answer(request)
        request.status = response.status
        # discord.py takes a 429 without "Via" for a Cloudflare ban and gives up; Discord sends it.
        response.headers["Via"] = "1.1 google"
        if response.status in (401, 403) or (
            response.status == 429 and response.headers.get("X-RateLimit-Scope") != "shared"
        ):
            self.invalid_requests += 1
        return response

    def _answer(self, request: Request) -> _Response:
        method, path = request.method, request.path
        for index, (fail_method, pattern, status, body) in enumerate(self._failures):
            if fail_method == method and pattern.fullmatch(path):
                del self._failures[index]
                return _Response(status, body)
        limited, headers = self._rate_limit(method, path)
        if limited is not None:
            return limited
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if route_method == method and match:
                try:
                    body = handler(request, match)
                except DiscordError as error:
                    return _Response(error.status, error.body, headers)
                if isinstance(body, _Response):
                    body.headers.update(headers)
                    return body
                return _Response(204, None, headers) if body is None else _Response(200, body, headers)
        return _Response(404, {"code": 10000, "message": f"Unknown route {method} {path}"})

    def _rate_limit(self, method: str, path: str) -> tuple[_Response | None, dict[str, str]]:
        """Count the request in its bucket: a 429 if the bucket is spent, and the headers either way.

        Header names and the 429 body follow developers/topics/rate-limits ("Header Format",
        "Exceeding A Rate Limit"); a window opens with a bucket's first request and resets ``per_s``
        later.
        """
        for methods, pattern, name in _LIMITED_ROUTES:
            match = pattern.fullmatch(path)
            if name in self._limits and method in methods and match:
                break
        else:
            return None, {}
        limit = self._limits[name]
        now = self.clock.now()
        window = self._windows.setdefault((name, match.group(1)), [now, 0])
        if now >= window[0] + limit.per_s:
            window[:] = [now, 0]
        reset_after = window[0] + limit.per_s - now
        headers = {
            "X-RateLimit-Limit": str(limit.limit),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(f"{method} {name}".encode()).hexdigest()[:16],
        }
        if window[1] >= limit.limit:
            headers |= {
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Scope": "user",
                "Retry-After": str(math.ceil(reset_after)),
            }
            body = {
                "message": "You are being rate limited.",
                "retry_after": round(reset_after, 3),
                "global": False,
            }
            return _Response(429, body, headers), headers
        window[1] += 1
        headers["X-RateLimit-Remaining"] = str(limit.limit - window[1])
        return None, headers

    async def _download(self, url: str) -> _Response:
        self.downloads.append(url)
        if self.cdn_delay_s:
            await asyncio.sleep(self.cdn_delay_s)
        data = self.cdn.get(url.split("?")[0])
        return _Response(404, b"") if data is None else _Response(200, data)

    def _me(self, request: Request, match: re.Match[str]) -> Any:
        if request.authorization != f"Bot {TOKEN}":
            return _Response(401, {"code": 0, "message": "401: Unauthorized"})
        return BOT_USER

    def _application(self, request: Request, match: re.Match[str]) -> Any:
        return {
            "id": str(APPLICATION_ID),
            "name": "MoodBot",
            "icon": None,
            "description": "Hears emotion in speech.",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": OWNER,
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "summary": "",
            "rpc_origins": [],
        }

    def _commands(self, request: Request, match: re.Match[str]) -> Any:
        return [
            {
                "description": "",
                **command,
                "id": str(next(self._ids)),
                "application_id": str(APPLICATION_ID),
                "version": "1",
            }
            for command in request.payload
        ]

    # -- messages ---------------------------------------------------------------------------------

    def _saw_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Remember a message delivered by the gateway (keeping what Discord already knows of it)."""
        message_id = int(payload["id"])
        if message_id not in self.messages:
            self.messages[message_id] = StoredMessage(payload)
        return payload

    def _granted(self, channel_id: int, *, interaction: bool) -> discord.Permissions:
        """What the bot may do in the channel for this request.

        Interaction responses and follow-ups "follow a bot user's permissions" (change log, 2023-11-01)
        but need neither View Channel nor Send Messages, so they get the overwritten permissions as
        they are. An ordinary message gets Discord's implicit denials: without View Channel nothing,
        and "Denying SEND_MESSAGES implicitly denies MENTION_EVERYONE, SEND_TTS_MESSAGES, ATTACH_FILES,
        and EMBED_LINKS" (developers/topics/permissions).
        """
        granted = self.permissions_in(channel_id)
        if interaction:
            return granted
        if not granted.view_channel:
            raise DiscordError(403, 50001, "Missing Access")
        if not granted.send_messages:
            raise _missing_permissions()
        return granted

    def _attachments(self, request: Request, channel_id: int, described: list[dict[str, Any]]) -> list[dict]:
        """The uploaded files as attachment objects, each now served at its CDN address."""
        uploads = {upload.field: upload for upload in request.files}
        attachments = []
        for entry in described:
            upload = uploads.get(f"files[{entry['id']}]")
            if upload is None:
                raise _form_error(f"attachments.{entry['id']}", "ATTACHMENT_NOT_FOUND", "Unknown attachment")
            attachment = attachment_payload(
                next(self._ids),
                entry.get("filename") or upload.filename,
                size=len(upload.data),
                content_type=upload.content_type or None,
                channel_id=channel_id,
            )
            for key in ("description", "duration_secs", "waveform"):
                if key in entry:
                    attachment[key] = entry[key]
            self.host(attachment["url"], upload.data)
            attachments.append(attachment)
        return attachments

    def _check_voice(self, request: Request, body: dict[str, Any]) -> None:
        """A voice message: one audio file with its duration and waveform, and nothing else.

        "Only a single audio attachment is allowed. No content, stickers, etc..."; "The attachment has
        additional fields: duration_secs and waveform. The Content-Type of the attachment must begin
        with audio/ to respect these fields" (developers/resources/message, "Voice Messages"); error
        codes 50159, 50160 and 50161 (developers/topics/opcodes-and-status-codes).
        """
        if any(body.get(key) for key in ("content", "embeds", "sticker_ids", "components", "poll")):
            raise DiscordError(400, 50159, "Voice messages do not support additional content.")
        described = body.get("attachments") or []
        uploads = {upload.field: upload for upload in request.files}
        upload = uploads.get(f"files[{described[0]['id']}]") if len(described) == 1 else None
        if upload is None or len(request.files) != 1 or not upload.content_type.startswith("audio/"):
            raise DiscordError(400, 50160, "Voice messages must have a single audio attachment.")
        if described[0].get("duration_secs") is None or not described[0].get("waveform"):
            raise DiscordError(400, 50161, "Voice messages must have supporting metadata.")

    def _embeds(self, body: dict[str, Any], granted: discord.Permissions, *, other_content: bool) -> list:
        """The embeds Discord keeps: without Embed Links they are dropped, or refused if alone.

        discord-api-docs#2601: an embed-only message without Embed Links gets 403 Missing Permissions;
        with other content the message goes out and the embed is not shown.
        """
        embeds = list(body.get("embeds") or [])
        if embeds and not granted.embed_links:
            if not other_content:
                raise _missing_permissions()
            return []
        return embeds

    def _reference(self, body: dict[str, Any], channel_id: int, granted: discord.Permissions) -> dict | None:
        """A reply's reference, as Discord resolves it.

        "When creating a message as a reply to another message, the current user must have the
        READ_MESSAGE_HISTORY permission"; ``fail_if_not_exists``: "whether to error if the referenced
        message doesn't exist instead of sending as a normal (non-reply) message, default true"
        (developers/resources/message). A message the fake has not seen is taken to exist (tests
        deliver messages without it); only a deleted one does not.
        """
        reference = body.get("message_reference")
        if not reference:
            return None
        if not granted.read_message_history:
            raise _missing_permissions()
        target = self.messages.get(int(reference["message_id"]))
        if target is not None and target.deleted:
            if reference.get("fail_if_not_exists", True):
                raise _form_error("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            return None
        return {
            "type": reference.get("type", 0),
            "message_id": str(reference["message_id"]),
            "channel_id": str(reference.get("channel_id") or channel_id),
            "guild_id": str(reference.get("guild_id") or GUILD_ID),
        }

    def _create(
        self,
        request: Request,
        body: dict[str, Any] | None,
        channel_id: int,
        *,
        allowed_flags: int,
        interaction: InteractionRecord | None = None,
    ) -> StoredMessage:
        """A new message, checked as Discord checks Create Message (or an interaction's message)."""
        body = body or {}
        flags = (body.get("flags") or 0) & allowed_flags
        content = body.get("content") or ""
        if len(content) > MAX_CONTENT_CHARS:
            raise _form_error(
                "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT_CHARS} or fewer in length."
            )
        granted = self._granted(channel_id, interaction=interaction is not None)
        described = body.get("attachments") or []
        if flags & IS_VOICE_MESSAGE:
            # Voice messages "do not require the Attach Files permission. The gating is purely on the
            # Send Voice Message permission" (discord-api-docs#6082).
            if not granted.send_voice_messages:
                raise _missing_permissions()
            self._check_voice(request, body)
        elif described and not granted.attach_files:
            raise _missing_permissions()
        others = bool(
            content or described or body.get("sticker_ids") or body.get("components") or body.get("poll")
        )
        embeds = self._embeds(body, granted, other_content=others)
        if not (others or embeds):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        reference = None if interaction is not None else self._reference(body, channel_id, granted)
        payload = message_payload(
            next(self._ids),
            author=BOT_USER,
            channel_id=channel_id,
            content=content,
            attachments=self._attachments(request, channel_id, described),
            flags=flags,
        )
        payload["embeds"] = embeds
        if reference is not None:
            payload["type"] = 19
            payload["message_reference"] = reference
        if interaction is not None:
            payload["webhook_id"] = str(APPLICATION_ID)
            payload["application_id"] = str(APPLICATION_ID)
        stored = StoredMessage(payload, interaction_id=None if interaction is None else interaction.id)
        self.messages[stored.id] = stored
        return stored

    def _edit(self, request: Request, stored: StoredMessage, body: dict[str, Any] | None) -> StoredMessage:
        """Edit Message (or an interaction webhook's edit): only some fields and flags can change.

        Voice messages "cannot be edited" (developers/resources/message; code 50162). Flags other than
        :data:`EDIT_FLAGS` keep their value, so an edit asking for IS_VOICE_MESSAGE leaves an ordinary
        message; editing a "thinking" message ends its loading state. New files are appended, and the
        ``attachments`` list, when given, names every attachment to keep ("Any provided files will be
        appended to the message", Edit Message).
        """
        body = body or {}
        if stored.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        if stored.voice:
            raise DiscordError(400, 50162, "Voice messages cannot be edited.")
        payload = dict(stored.payload)
        flags = payload.get("flags") or 0
        if body.get("flags") is not None:
            flags = (flags & ~EDIT_FLAGS) | (body["flags"] & EDIT_FLAGS)
        payload["flags"] = flags & ~LOADING
        if "content" in body:
            payload["content"] = body["content"] or ""
            if len(payload["content"]) > MAX_CONTENT_CHARS:
                raise _form_error(
                    "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT_CHARS} or fewer in length."
                )
        granted = self._granted(stored.channel_id, interaction=stored.interaction_id is not None)
        kept = {a["id"]: a for a in stored.attachments}
        described = body.get("attachments")
        if described is None:
            new = [{"id": upload.field[len("files[") : -1]} for upload in request.files]
            attachments = [*kept.values()]
        else:
            new = [entry for entry in described if str(entry["id"]) not in kept]
            attachments = [kept[str(entry["id"])] for entry in described if str(entry["id"]) in kept]
        if new and not granted.attach_files:
            raise _missing_permissions()
        payload["attachments"] = attachments + self._attachments(request, stored.channel_id, new)
        if "embeds" in body:
            payload["embeds"] = self._embeds(body, granted, other_content=True)
        if not (
            payload["content"] or payload["embeds"] or payload["attachments"] or payload.get("components")
        ):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        payload["edited_timestamp"] = TIMESTAMP
        stored.payload = payload
        return stored

    def _delete(self, stored: StoredMessage) -> None:
        """Gone: its files leave the CDN and it can no longer be replied to, edited or reacted to."""
        stored.deleted = True
        for attachment in stored.attachments:
            self.cdn.pop(attachment["url"].split("?")[0], None)

    def _channel_message(self, request: Request, match: re.Match[str]) -> Any:
        return self._create(request, request.payload, int(match.group(1)), allowed_flags=CREATE_FLAGS).payload

    def _stored(self, channel_id: int, message_id: int) -> StoredMessage:
        stored = self.messages.get(message_id)
        if stored is None or stored.deleted or stored.channel_id != channel_id:
            raise DiscordError(404, 10008, "Unknown Message")
        return stored

    def _edit_channel_message(self, request: Request, match: re.Match[str]) -> Any:
        stored = self._stored(int(match.group(1)), int(match.group(2)))
        if stored.payload["author"]["id"] != str(BOT_ID):
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        return self._edit(request, stored, request.payload).payload

    def _delete_channel_message(self, request: Request, match: re.Match[str]) -> Any:
        stored = self._stored(int(match.group(1)), int(match.group(2)))
        own = stored.payload["author"]["id"] == str(BOT_ID)
        if not own and not self._granted(stored.channel_id, interaction=False).manage_messages:
            raise _missing_permissions()
        self._delete(stored)
        return None

    def _reaction(self, request: Request, match: re.Match[str]) -> Any:
        """Create Reaction "requires the READ_MESSAGE_HISTORY permission" and, for the message's first
        reaction with that emoji, ADD_REACTIONS (developers/resources/message): the fake does not
        track others' reactions, so it always asks for both."""
        channel_id, message_id = int(match.group(1)), int(match.group(2))
        granted = self._granted(channel_id, interaction=False)
        if not (granted.read_message_history and granted.add_reactions):
            raise _missing_permissions()
        target = self.messages.get(message_id)
        if target is not None and target.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        return None

    # -- interactions -----------------------------------------------------------------------------

    def _callback(self, request: Request, match: re.Match[str]) -> Any:
        """Create Interaction Response: once, within 3 s of the interaction (codes 10062, 40060)."""
        record = self.interactions.get(int(match.group(1)))
        if record is None or record.token != match.group(2):
            raise DiscordError(404, 10062, "Unknown interaction")
        if record.response_type is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if self.clock.now() > record.created_s + INITIAL_RESPONSE_S:
            raise DiscordError(404, 10062, "Unknown interaction")
        body = request.payload
        kind, data = body["type"], body.get("data") or {}
        message: StoredMessage | None = None
        if kind == CHANNEL_MESSAGE_WITH_SOURCE:
            message = self._create(
                request, data, record.channel_id, allowed_flags=INTERACTION_FLAGS, interaction=record
            )
        elif kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            payload = message_payload(
                next(self._ids),
                author=BOT_USER,
                channel_id=record.channel_id,
                flags=((data.get("flags") or 0) & DEFER_FLAGS) | LOADING,
            )
            payload["webhook_id"] = payload["application_id"] = str(APPLICATION_ID)
            message = StoredMessage(payload, interaction_id=record.id)
            self.messages[message.id] = message
        record.response_type = kind
        interaction: dict[str, Any] = {"id": str(record.id), "type": 2}
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            record.original_id = message.id
            interaction |= {
                "response_message_id": str(message.id),
                "response_message_loading": message.loading,
                "response_message_ephemeral": message.ephemeral,
            }
            if kind == CHANNEL_MESSAGE_WITH_SOURCE:  # "message: Message created by the interaction"
                resource["message"] = message.payload
        if str(request.params.get("with_response")).lower() not in ("1", "true"):
            return None  # "Returns 204 unless with_response is set to true"
        return {"interaction": interaction, "resource": resource}

    def _interaction_for(self, match: re.Match[str]) -> InteractionRecord:
        """The interaction whose token a webhook request uses, while that token is good.

        Before the initial response there is no webhook yet: 404 Unknown Webhook, as discord.py#10461
        reports. After 15 minutes, or once the 3 s passed unanswered, the token is invalid: 401 code
        50027 "Invalid webhook token provided" (developers/topics/opcodes-and-status-codes).
        """
        record = self._by_token.get(match.group(2))
        if int(match.group(1)) != APPLICATION_ID or record is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        age_s = self.clock.now() - record.created_s
        if age_s > TOKEN_LIFETIME_S or (record.response_type is None and age_s > INITIAL_RESPONSE_S):
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if record.response_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return record

    def _followup(self, request: Request, match: re.Match[str]) -> Any:
        """Create Followup Message; right after a defer it edits the "thinking" message instead.

        "When using this endpoint directly after responding to an interaction with
        DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, this endpoint will function as Edit Original Interaction
        Response ... no new message will be created, and the loading message will be edited instead.
        The ephemeral flag will be ignored" (developers/interactions/receiving-and-responding). Being
        an edit, it cannot make a voice message: the flag is dropped (discord-api-docs#7158).
        """
        record = self._interaction_for(match)
        original = self.messages.get(record.original_id) if record.original_id is not None else None
        if original is not None and original.loading and not original.deleted:
            return self._edit(request, original, request.payload).payload
        message = self._create(
            request, request.payload, record.channel_id, allowed_flags=INTERACTION_FLAGS, interaction=record
        )
        record.followup_ids.append(message.id)
        return message.payload

    def _webhook_message(self, match: re.Match[str]) -> StoredMessage:
        """``@original`` or one of the interaction's follow-ups, if it still exists."""
        record = self._interaction_for(match)
        which = match.group(3)
        message_id = record.original_id if which == "@original" else int(which)
        if message_id is None or (message_id != record.original_id and message_id not in record.followup_ids):
            raise DiscordError(404, 10008, "Unknown Message")
        stored = self.messages[message_id]
        if stored.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        return stored

    def _get_webhook_message(self, request: Request, match: re.Match[str]) -> Any:
        return self._webhook_message(match).payload

    def _edit_webhook_message(self, request: Request, match: re.Match[str]) -> Any:
        return self._edit(request, self._webhook_message(match), request.payload).payload

    def _delete_webhook_message(self, request: Request, match: re.Match[str]) -> Any:
        self._delete(self._webhook_message(match))
        return None


def _parse_body(data: Any) -> tuple[Any, list[Upload]]:
    """The JSON payload and the file parts of a request body as discord.py builds it."""
    if data is None:
        return None, []
    if isinstance(data, (str, bytes)):
        return json.loads(data), []
    if isinstance(data, aiohttp.FormData):
        payload: Any = None
        files: list[Upload] = []
        for options, headers, value in data._fields:
            if options["name"] == "payload_json":
                payload = json.loads(value)
                continue
            raw = value.read() if isinstance(value, io.IOBase) else value
            files.append(
                Upload(options["name"], options.get("filename", ""), headers.get("Content-Type", ""), raw)
            )
        return payload, files
    raise TypeError(f"unexpected request body {type(data).__name__}")


def connect(http: HTTPClient, api: FakeDiscord) -> None:
    """Make discord.py's own HTTP client log in to ``api`` instead of opening an aiohttp session.

    Only ``static_login`` changes (on this instance): the real one opens the session and asks
    ``GET /users/@me``; this one puts the fake Discord in the session's place and asks the same.
    The client object stays the one the bot, its connection state and its command tree all share.
    """

    async def static_login(token: str) -> Any:
        http._HTTPClient__session = api
        http._global_over = asyncio.Event()
        http._global_over.set()
        http.token = token
        try:
            return await http.request(Route("GET", "/users/@me"))
        except discord.HTTPException as error:
            if error.status == 401:
                raise discord.LoginFailure("Improper token has been passed.") from error
            raise

    http.static_login = static_login


async def start_client(api: FakeDiscord, client: discord.Client, token: str = TOKEN) -> None:
    """Log ``client`` in against ``api``, attach the fake to its state and deliver the test guild."""
    connect(client.http, api)
    await client.login(token)
    api.attach(client._connection)
    client._connection._add_guild_from_data(guild_payload(api._bot_permissions))


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    """Settings for a test bot: a dev guild (so commands sync there) and a database in ``tmp_path``."""
    values: dict[str, Any] = {
        "discord_token": TOKEN,
        "dev_guild_id": GUILD_ID,
        "db_path": tmp_path / "moodbot.sqlite3",
        "workers": 2,
        "queue_size": 8,
        "analyze_per_minute": 100,
        "speak_per_minute": 100,
    }
    values.update(overrides)
    return Config(**values)


async def start_bot(
    api: FakeDiscord,
    config: Config,
    *,
    recognizer: Any,
    synthesizer: Any,
    pool: Any = None,
) -> MoodBot:
    """Build the bot as ``moodbot run`` does, log in against ``api`` and receive the test guild; the
    model work runs on this process's threads unless ``pool`` (a :class:`bot.queue.RedisPool`) says."""
    if pool is None:
        models = Models(recognizer, synthesizer)
        pool = WorkerPool(workers=config.workers, queue_size=config.queue_size, models=models)
    bot = MoodBot(config=config, recognizer=recognizer, store=SettingsStore(config.db_path), pool=pool)
    await start_client(api, bot, config.discord_token)
    return bot


async def settle(bot: MoodBot, timeout_s: float = 60) -> None:
    """Wait until every event handler and command the gateway payloads started has finished."""

    async def drain() -> None:
        while True:
            tasks = [
                t
                for t in asyncio.all_tasks()
                if t is not asyncio.current_task()
                and (t.get_name().startswith("discord.py: ") or t.get_name() == "CommandTree-invoker")
                and not t.done()
            ]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    await asyncio.wait_for(drain(), timeout_s)
