"""Discord at its edge, in memory: the HTTP API and CDN the bot talks to, and gateway payloads.

Everything above the network is real discord.py: the bot builds its requests with the library's own
``HTTPClient`` and webhook adapter, and receives real ``Message`` and ``Interaction`` objects parsed by
its ``ConnectionState`` from payloads shaped like Discord's. Only the aiohttp session underneath is
replaced by :class:`FakeDiscord`, which records every request (method, path, JSON payload, uploaded
files) and answers like Discord would, so tests assert on exactly what would have gone over the wire.

Used by ``tests/bot`` and by ``benchmarks/bench_bot_burst.py``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord.http import HTTPClient, Route
from multidict import CIMultiDict

from bot.app import MoodBot
from bot.config import Config
from bot.store import SettingsStore
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


def channel_payload(channel_id: int, name: str) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "parent_id": None,
        "nsfw": False,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def guild_payload() -> dict[str, Any]:
    """A GUILD_CREATE payload: one server with two text channels."""
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
            channel_payload(CHANNEL_ID, "general"),
            channel_payload(OTHER_CHANNEL_ID, "memes"),
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
    app_permissions: str = BOT_PERMISSIONS,
    channel_id: int = CHANNEL_ID,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload for an application command used in the test guild."""
    return {
        "id": str(interaction_id),
        "application_id": str(APPLICATION_ID),
        "type": 2,
        "token": f"interaction-token-{interaction_id}",
        "version": 1,
        "guild_id": str(GUILD_ID),
        "guild": {"id": str(GUILD_ID), "locale": "en-US", "features": []},
        "channel_id": str(channel_id),
        "channel": channel_payload(channel_id, "general"),
        "member": member_payload(user, permissions=permissions),
        "app_permissions": app_permissions,
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
        "data": data,
    }


class _Response:
    """Just enough of ``aiohttp.ClientResponse`` for discord.py."""

    def __init__(self, status: int, body: Any = None) -> None:
        self.status = status
        self.reason = {200: "OK", 204: "No Content", 401: "Unauthorized", 404: "Not Found"}.get(
            status, "Bad Request"
        )
        self.headers: CIMultiDict[str] = CIMultiDict()
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


class FakeDiscord:
    """Discord's REST API and CDN in memory, in place of the bot's aiohttp session.

    Attributes
    ----------
    requests : list[Request]
        Every API request, in order (CDN downloads are in ``downloads``).
    downloads : list[str]
        URLs fetched from the CDN.
    cdn_delay_s : float
        Simulated download time for each CDN fetch.
    """

    closed = False

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.downloads: list[str] = []
        self.cdn: dict[str, bytes] = {}
        self.cdn_delay_s = 0.0
        self._failures: list[tuple[str, re.Pattern[str], int, dict[str, Any]]] = []
        self._ids = itertools.count(1500000000000000001)
        self._changed = asyncio.Condition()
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = [
            ("GET", re.compile(r"/users/@me"), self._me),
            ("GET", re.compile(r"/oauth2/applications/@me"), self._application),
            ("PUT", re.compile(r"/applications/\d+(/guilds/\d+)?/commands"), self._commands),
            ("POST", re.compile(r"/channels/(\d+)/typing"), lambda request, _: None),
            ("POST", re.compile(r"/channels/(\d+)/messages"), self._channel_message),
            ("PUT", re.compile(r"/channels/\d+/messages/\d+/reactions/[^/]+/@me"), lambda r, _: None),
            ("POST", re.compile(r"/interactions/(\d+)/[^/]+/callback"), self._callback),
            ("POST", re.compile(r"/webhooks/\d+/[^/]+"), self._followup),
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
        )
        self.requests.append(request)
        async with self._changed:
            self._changed.notify_all()
        for index, (fail_method, pattern, status, body) in enumerate(self._failures):
            if fail_method == method and pattern.fullmatch(path):
                del self._failures[index]
                return _Response(status, body)
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if route_method == method and match:
                body = handler(request, match)
                if isinstance(body, _Response):
                    return body
                return _Response(204) if body is None else _Response(200, body)
        return _Response(404, {"code": 10000, "message": f"Unknown route {method} {path}"})

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

    def _message(self, request: Request, channel_id: int, *, webhook: bool) -> dict[str, Any]:
        body = request.payload or {}
        attachments = [
            {
                **attachment,
                "id": str(next(self._ids)),
                "size": len(request.files[int(attachment["id"])].data),
                "url": f"{CDN}/attachments/{channel_id}/0/{attachment['filename']}",
                "proxy_url": f"https://media.discordapp.net/attachments/{channel_id}/0/x",
                "content_type": request.files[int(attachment["id"])].content_type,
            }
            for attachment in body.get("attachments", [])
        ]
        payload = message_payload(
            next(self._ids),
            author=BOT_USER,
            channel_id=channel_id,
            content=body.get("content") or "",
            attachments=attachments,
            flags=body.get("flags", 0),
        )
        payload["embeds"] = body.get("embeds", [])
        if body.get("message_reference"):
            payload["type"] = 19
            payload["message_reference"] = body["message_reference"]
        if webhook:
            payload["webhook_id"] = str(APPLICATION_ID)
            payload["application_id"] = str(APPLICATION_ID)
        return payload

    def _channel_message(self, request: Request, match: re.Match[str]) -> Any:
        return self._message(request, int(match.group(1)), webhook=False)

    def _followup(self, request: Request, match: re.Match[str]) -> Any:
        return self._message(request, CHANNEL_ID, webhook=True)

    def _callback(self, request: Request, match: re.Match[str]) -> Any:
        body = request.payload
        data = body.get("data") or {}
        interaction = {
            "id": match.group(1),
            "type": 2,
            "response_message_loading": body["type"] == 5,
            "response_message_ephemeral": bool(data.get("flags", 0) & 64),
        }
        resource: dict[str, Any] = {"type": body["type"]}
        if body["type"] == 4:
            message = self._message(Request("POST", "", {}, data, request.files), CHANNEL_ID, webhook=True)
            interaction["response_message_id"] = message["id"]
            resource["message"] = message
        return {"interaction": interaction, "resource": resource}


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
) -> MoodBot:
    """Build the bot as ``moodbot run`` does, log in against ``api`` and receive the test guild."""
    bot = MoodBot(
        config=config,
        recognizer=recognizer,
        synthesizer=synthesizer,
        store=SettingsStore(config.db_path),
        pool=WorkerPool(workers=config.workers, queue_size=config.queue_size),
    )
    connect(bot.http, api)
    await bot.login(config.discord_token)
    bot._connection._add_guild_from_data(guild_payload())
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
