"""Per-guild settings and opted-in voice profiles in SQLite, kept across restarts.

Guild settings are what server managers chose with ``/moodbot``. A voice profile exists only for a
person who asked for one with ``/voiceprofile on``: one row with a message count and a vector of
voice statistics (see :mod:`emotion_core.profile`), deleted with ``/voiceprofile delete``.

The defaults are declared once (:data:`DEFAULTS`), so a guild that never touched the settings has no row
and behaves like a fresh install. SQL lives in named constants, the schema version in
``PRAGMA user_version`` with one migration per version. A file SQLite cannot read is moved aside and the
bot starts fresh with a logged warning, because losing a few toggles beats refusing to start.

SQLite calls run on one dedicated thread (the connection belongs to it), so the event loop never waits
on disk; settings are cached after the first read since every voice message looks them up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

log = logging.getLogger(__name__)

ReplyStyle = Literal["embed", "reaction"]
REPLY_STYLES: tuple[ReplyStyle, ...] = ("embed", "reaction")

T = TypeVar("T")


@dataclass(frozen=True)
class GuildSettings:
    """One guild's choices. The field defaults are the defaults of every guild."""

    #: Analyse voice messages and audio uploads as they are posted.
    auto_analyze: bool = True
    #: Channels where automatic analysis runs; empty means every channel the bot can read.
    allowed_channel_ids: frozenset[int] = frozenset()
    #: ``"embed"`` replies with a card; ``"reaction"`` only adds the mood emoji.
    reply_style: ReplyStyle = "embed"
    #: Answer ``/mood`` and the context menu so only the person who asked sees it.
    ephemeral: bool = False

    def allows(self, channel_id: int, parent_id: int | None = None) -> bool:
        """Whether automatic analysis runs in this channel (a thread counts as its parent channel)."""
        if not self.allowed_channel_ids:
            return True
        return channel_id in self.allowed_channel_ids or parent_id in self.allowed_channel_ids


DEFAULTS = GuildSettings()

#: Schema version -> statements that bring a database from the previous version to it.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """
        CREATE TABLE guild_settings (
            guild_id     INTEGER PRIMARY KEY,
            auto_analyze INTEGER NOT NULL,
            reply_style  TEXT    NOT NULL,
            ephemeral    INTEGER NOT NULL
        )
        """,
        """
        CREATE TABLE allowed_channels (
            guild_id   INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            PRIMARY KEY (guild_id, channel_id)
        )
        """,
    ),
    2: (
        """
        CREATE TABLE voice_profiles (
            user_id    INTEGER PRIMARY KEY,
            count      INTEGER NOT NULL,
            mean       BLOB,
            updated_at REAL    NOT NULL
        )
        """,
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)

QUICK_CHECK = "PRAGMA quick_check"
GET_VERSION = "PRAGMA user_version"
SET_VERSION = "PRAGMA user_version = {version:d}"
SELECT_SETTINGS = "SELECT auto_analyze, reply_style, ephemeral FROM guild_settings WHERE guild_id = :guild_id"
UPSERT_SETTINGS = """
INSERT INTO guild_settings (guild_id, auto_analyze, reply_style, ephemeral)
VALUES (:guild_id, :auto_analyze, :reply_style, :ephemeral)
ON CONFLICT (guild_id) DO UPDATE SET
    auto_analyze = excluded.auto_analyze,
    reply_style  = excluded.reply_style,
    ephemeral    = excluded.ephemeral
"""
SELECT_CHANNELS = "SELECT channel_id FROM allowed_channels WHERE guild_id = :guild_id"
INSERT_CHANNEL = (
    "INSERT OR IGNORE INTO allowed_channels (guild_id, channel_id) VALUES (:guild_id, :channel_id)"
)
DELETE_CHANNEL = "DELETE FROM allowed_channels WHERE guild_id = :guild_id AND channel_id = :channel_id"
DELETE_CHANNELS = "DELETE FROM allowed_channels WHERE guild_id = :guild_id"
SELECT_PROFILE = "SELECT count, mean FROM voice_profiles WHERE user_id = :user_id"
INSERT_PROFILE = (
    "INSERT OR IGNORE INTO voice_profiles (user_id, count, mean, updated_at) VALUES (:user_id, 0, NULL, :now)"
)
# Only an opted-in person's row is updated: a profile is never created by analysing a message.
UPDATE_PROFILE = (
    "UPDATE voice_profiles SET count = :count, mean = :mean, updated_at = :now WHERE user_id = :user_id"
)
DELETE_PROFILE = "DELETE FROM voice_profiles WHERE user_id = :user_id"


@dataclass(frozen=True)
class StoredProfile:
    """An opted-in person's profile as stored: ``count`` messages, ``mean`` their statistics
    (``None`` until the first message)."""

    count: int
    mean: bytes | None


class StoreError(RuntimeError):
    """The database cannot be used as is and moving it aside would lose data we must not lose."""


class SettingsStore:
    """Guild settings backed by one SQLite file; every method is safe to await from the event loop.

    Parameters
    ----------
    path : Path
        The database file, created with its folder when missing.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="moodbot-db")
        self._cache: dict[int, GuildSettings] = {}
        self._closed = False
        # Read-modify-write of one guild's row must not interleave with another command's.
        self._writing = asyncio.Lock()
        self._connection: sqlite3.Connection = self._executor.submit(self._open).result()

    # -- public API -------------------------------------------------------------------------------

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings: its saved choices over :data:`DEFAULTS`."""
        cached = self._cache.get(guild_id)
        if cached is None:
            cached = self._cache[guild_id] = await self._call(self._load, guild_id)
        return cached

    async def update(
        self,
        guild_id: int,
        *,
        auto_analyze: bool | None = None,
        reply_style: ReplyStyle | None = None,
        ephemeral: bool | None = None,
    ) -> GuildSettings:
        """Change some of a guild's settings (``None`` keeps one) and return the result."""
        if reply_style is not None and reply_style not in REPLY_STYLES:
            raise ValueError(f"reply_style must be one of {REPLY_STYLES}, not {reply_style!r}")
        changes = {
            "auto_analyze": auto_analyze,
            "reply_style": reply_style,
            "ephemeral": ephemeral,
        }
        async with self._writing:
            current = await self.get(guild_id)
            new = dataclasses.replace(current, **{k: v for k, v in changes.items() if v is not None})
            await self._call(self._save, guild_id, new)
            self._cache[guild_id] = new
        return new

    async def add_channel(self, guild_id: int, channel_id: int) -> GuildSettings:
        """Allow automatic analysis in ``channel_id`` (which limits it to the allowed channels)."""
        return await self._write(guild_id, INSERT_CHANNEL, channel_id=channel_id)

    async def remove_channel(self, guild_id: int, channel_id: int) -> GuildSettings:
        """Stop allowing ``channel_id``; when none are left every channel is allowed again."""
        return await self._write(guild_id, DELETE_CHANNEL, channel_id=channel_id)

    async def clear_channels(self, guild_id: int) -> GuildSettings:
        """Allow automatic analysis in every channel again."""
        return await self._write(guild_id, DELETE_CHANNELS)

    async def voice_profile(self, user_id: int) -> StoredProfile | None:
        """The person's stored profile, or ``None`` when they have not opted in."""
        row = await self._call(self._fetch, SELECT_PROFILE, user_id=user_id)
        return None if row is None else StoredProfile(int(row[0]), row[1])

    async def opt_in(self, user_id: int) -> StoredProfile:
        """Start keeping a voice profile for the person (an existing one is kept)."""
        await self._call(self._execute, INSERT_PROFILE, user_id=user_id, now=time.time())
        return await self.voice_profile(user_id)  # type: ignore[return-value]

    async def save_profile(self, user_id: int, count: int, mean: bytes) -> None:
        """Store an updated profile; does nothing for a person who is not (or no longer) opted in."""
        await self._call(
            self._execute, UPDATE_PROFILE, user_id=user_id, count=count, mean=mean, now=time.time()
        )

    async def delete_profile(self, user_id: int) -> bool:
        """Forget the person's profile and opt them out; whether there was one."""
        return await self._call(self._delete, DELETE_PROFILE, user_id=user_id)

    async def close(self) -> None:
        """Close the database (again is harmless); later reads and writes fail."""
        if self._closed:
            return
        self._closed = True
        await self._call(self._connection.close)
        self._executor.shutdown(wait=True)

    # -- on the database thread -------------------------------------------------------------------

    async def _call(self, function: Callable[..., T], *args: object, **kwargs: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))

    async def _write(self, guild_id: int, statement: str, **parameters: object) -> GuildSettings:
        async with self._writing:
            await self._call(self._execute, statement, guild_id=guild_id, **parameters)
            self._cache.pop(guild_id, None)
            return await self.get(guild_id)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._migrate(sqlite3.connect(self.path))
        except sqlite3.DatabaseError as error:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            self.path.replace(aside)
            log.warning(
                "Settings database %s could not be read (%s); moved it to %s and started with "
                "default settings for every server.",
                self.path,
                error,
                aside,
            )
            return self._migrate(sqlite3.connect(self.path))

    def _migrate(self, connection: sqlite3.Connection) -> sqlite3.Connection:
        """Bring the schema up to :data:`SCHEMA_VERSION`, one migration per transaction."""
        try:
            (verdict,) = connection.execute(QUICK_CHECK).fetchone()
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {verdict}")
            (version,) = connection.execute(GET_VERSION).fetchone()
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"The settings database has schema version {version}, newer than this MoodBot "
                    f"understands ({SCHEMA_VERSION}); upgrade MoodBot or point MOODBOT_DB_PATH elsewhere."
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                with connection:
                    for statement in MIGRATIONS[target]:
                        connection.execute(statement)
                    connection.execute(SET_VERSION.format(version=target))
                log.info("Settings database migrated to schema version %d", target)
        except BaseException:
            connection.close()
            raise
        return connection

    def _load(self, guild_id: int) -> GuildSettings:
        row = self._connection.execute(SELECT_SETTINGS, {"guild_id": guild_id}).fetchone()
        channels = self._connection.execute(SELECT_CHANNELS, {"guild_id": guild_id}).fetchall()
        settings = DEFAULTS
        if row is not None:
            auto_analyze, reply_style, ephemeral = row
            settings = GuildSettings(
                auto_analyze=bool(auto_analyze),
                reply_style=reply_style if reply_style in REPLY_STYLES else DEFAULTS.reply_style,
                ephemeral=bool(ephemeral),
            )
        return dataclasses.replace(settings, allowed_channel_ids=frozenset(c for (c,) in channels))

    def _save(self, guild_id: int, settings: GuildSettings) -> None:
        with self._connection:
            self._connection.execute(
                UPSERT_SETTINGS,
                {
                    "guild_id": guild_id,
                    "auto_analyze": int(settings.auto_analyze),
                    "reply_style": settings.reply_style,
                    "ephemeral": int(settings.ephemeral),
                },
            )

    def _execute(self, statement: str, **parameters: object) -> None:
        with self._connection:
            self._connection.execute(statement, parameters)

    def _fetch(self, statement: str, **parameters: object) -> tuple | None:
        return self._connection.execute(statement, parameters).fetchone()

    def _delete(self, statement: str, **parameters: object) -> bool:
        with self._connection:
            return self._connection.execute(statement, parameters).rowcount > 0
