"""Per-guild settings, people's own consent choices and opted-in voice profiles in SQLite, kept across
restarts.

Guild settings are what server managers chose with ``/moodbot``; automatic analysis is off until they
turn it on. A person's choices (:class:`Consent`, from ``/privacy``) hold everywhere: an opt-out from
all analysis of their messages, and automatic analysis of what they send the bot in DMs. A voice
profile exists only for a person who asked for one with ``/voiceprofile on``: one row with a message
count and a vector of voice statistics (see :mod:`emotion_core.profile`), deleted with ``/voiceprofile
delete`` or by opting out. The community statistics (:mod:`emotion_core.community`) are one row of
aggregate statistics of every clip analysed, with nothing to say whose; the operator turns them off
(and deletes them) with ``MOODBOT_COMMUNITY=off``.

The defaults are declared once (:data:`DEFAULTS`), so a guild that never touched the settings has no row
and behaves like a fresh install. SQL lives in named constants, the schema version in
``PRAGMA user_version`` with one migration per version.

Opening tells damage from trouble. A file SQLite reports as corrupt ("file is not a database", "database
disk image is malformed", a failed ``PRAGMA quick_check``) is moved aside with a logged warning and the
bot starts fresh, because losing a few toggles beats refusing to start. Anything else (locked past the
busy timeout, permission denied, a read-only folder, a folder at the path, a file where a folder should
be) raises :class:`StoreError` with one line a person can act on: such a file is healthy, and moving it
aside would silently hand every server the defaults.

Several processes may share one file: every change is one SQL statement naming only the fields it
changes (``COALESCE`` keeps the others as they are on disk, in the same statement), channels are rows,
and reads always go to the file (two indexed lookups, no cache that could go stale), so nobody's change
is overwritten by another's old copy. SQLite calls run on one dedicated thread (the connection belongs
to it), so the event loop never waits on disk; after start-up every SQLite failure surfaces as
:class:`StoreError`, which the handlers answer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np

from bot.errors import StoreError
from emotion_core import CommunityVoice

log = logging.getLogger(__name__)

ReplyStyle = Literal["embed", "reaction"]
REPLY_STYLES: tuple[ReplyStyle, ...] = ("embed", "reaction")

#: How long a statement waits for another connection's lock before giving up, in seconds.
BUSY_TIMEOUT_S = 5.0

T = TypeVar("T")


@dataclass(frozen=True)
class GuildSettings:
    """One guild's choices. The field defaults are the defaults of every guild."""

    #: Analyse voice messages and audio uploads as they are posted. Off until a server manager turns it
    #: on, which posts a notice: people are told before their voices are read for emotion.
    auto_analyze: bool = False
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


@dataclass(frozen=True)
class Consent:
    """One person's own choices, which hold in every server and in DMs."""

    #: Never analyse this person's messages: not automatically, not from someone else's context menu.
    opted_out: bool = False
    #: Analyse the voice messages this person sends the bot in a DM as they arrive.
    dm_analysis: bool = False


NO_CHOICES = Consent()

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
    # Consent first: automatic analysis was on by default, so a stored "on" may never have been chosen.
    # Every server starts this version with it off, until a manager turns it on and a notice is posted.
    3: (
        "UPDATE guild_settings SET auto_analyze = 0",
        """
        CREATE TABLE people (
            user_id     INTEGER PRIMARY KEY,
            opted_out   INTEGER NOT NULL,
            dm_analysis INTEGER NOT NULL,
            updated_at  REAL    NOT NULL
        )
        """,
    ),
    # One row: the running statistics of every clip analysed (emotion_core.community), nobody's own.
    4: (
        """
        CREATE TABLE community_voice (
            id         INTEGER PRIMARY KEY CHECK (id = 1),
            count      INTEGER NOT NULL,
            stats      BLOB    NOT NULL,
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
# A NULL parameter keeps that field: as stored for an existing row, the default for a new one. Reading
# the stored value inside the one statement (under the write lock) is what makes concurrent changes of
# different fields safe.
UPDATE_SETTINGS = """
INSERT INTO guild_settings (guild_id, auto_analyze, reply_style, ephemeral)
VALUES (
    :guild_id,
    COALESCE(:auto_analyze, :default_auto_analyze),
    COALESCE(:reply_style, :default_reply_style),
    COALESCE(:ephemeral, :default_ephemeral)
)
ON CONFLICT (guild_id) DO UPDATE SET
    auto_analyze = COALESCE(:auto_analyze, auto_analyze),
    reply_style  = COALESCE(:reply_style, reply_style),
    ephemeral    = COALESCE(:ephemeral, ephemeral)
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
SELECT_COMMUNITY = "SELECT count, stats FROM community_voice WHERE id = 1"
SAVE_COMMUNITY = """
INSERT INTO community_voice (id, count, stats, updated_at) VALUES (1, :count, :stats, :now)
ON CONFLICT (id) DO UPDATE SET count = :count, stats = :stats, updated_at = :now
"""
DELETE_COMMUNITY = "DELETE FROM community_voice"
SELECT_CONSENT = "SELECT opted_out, dm_analysis FROM people WHERE user_id = :user_id"
UPDATE_CONSENT = """
INSERT INTO people (user_id, opted_out, dm_analysis, updated_at)
VALUES (:user_id, COALESCE(:opted_out, 0), COALESCE(:dm_analysis, 0), :now)
ON CONFLICT (user_id) DO UPDATE SET
    opted_out   = COALESCE(:opted_out, opted_out),
    dm_analysis = COALESCE(:dm_analysis, dm_analysis),
    updated_at  = :now
"""

# SQLite's primary result codes (``sqlite3.SQLITE_*`` only exists from Python 3.11).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB = 5, 6, 11, 13, 26
#: Before Python 3.11 errors carry no code, only SQLite's fixed message for it.
_CODES_BY_MESSAGE = {
    "database is locked": SQLITE_BUSY,
    "database disk image is malformed": SQLITE_CORRUPT,
    "database or disk is full": SQLITE_FULL,
    "file is not a database": SQLITE_NOTADB,
}
#: The end of every start-up message: what to change when the file cannot be fixed in place.
ELSEWHERE = "or set MOODBOT_DB_PATH to another file"


@dataclass(frozen=True)
class StoredProfile:
    """An opted-in person's profile as stored: ``count`` messages, ``mean`` their statistics
    (``None`` until the first message)."""

    count: int
    mean: bytes | None


class SettingsStore:
    """Guild settings backed by one SQLite file; every method is safe to await from the event loop.

    Parameters
    ----------
    path : Path
        The database file, created with its folder when missing.
    busy_timeout_s : float
        How long one statement waits for another connection's lock, in seconds, before it fails.

    Raises
    ------
    StoreError
        The file cannot be opened, migrated and written (it is left where it is).
    """

    def __init__(self, path: Path | str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="moodbot-db")
        try:
            self._connection: sqlite3.Connection = self._executor.submit(self._open).result()
        except BaseException:
            self._executor.shutdown(wait=False)
            raise

    # -- public API -------------------------------------------------------------------------------

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings as stored now: its saved choices over :data:`DEFAULTS`."""
        return await self._call(self._read, guild_id)

    async def update(
        self,
        guild_id: int,
        *,
        auto_analyze: bool | None = None,
        reply_style: ReplyStyle | None = None,
        ephemeral: bool | None = None,
    ) -> GuildSettings:
        """Change some of a guild's settings (``None`` keeps one as stored) and return the result."""
        if reply_style is not None and reply_style not in REPLY_STYLES:
            raise ValueError(f"reply_style must be one of {REPLY_STYLES}, not {reply_style!r}")
        return await self._call(
            self._write,
            guild_id,
            UPDATE_SETTINGS,
            auto_analyze=None if auto_analyze is None else int(auto_analyze),
            reply_style=reply_style,
            ephemeral=None if ephemeral is None else int(ephemeral),
            default_auto_analyze=int(DEFAULTS.auto_analyze),
            default_reply_style=DEFAULTS.reply_style,
            default_ephemeral=int(DEFAULTS.ephemeral),
        )

    async def add_channel(self, guild_id: int, channel_id: int) -> GuildSettings:
        """Allow automatic analysis in ``channel_id`` (which limits it to the allowed channels)."""
        return await self._call(self._write, guild_id, INSERT_CHANNEL, channel_id=channel_id)

    async def remove_channel(self, guild_id: int, channel_id: int) -> GuildSettings:
        """Stop allowing ``channel_id``; when none are left every channel is allowed again."""
        return await self._call(self._write, guild_id, DELETE_CHANNEL, channel_id=channel_id)

    async def clear_channels(self, guild_id: int) -> GuildSettings:
        """Allow automatic analysis in every channel again."""
        return await self._call(self._write, guild_id, DELETE_CHANNELS)

    async def voice_profile(self, user_id: int) -> StoredProfile | None:
        """The person's stored profile, or ``None`` when they have not opted in."""
        return await self._call(self._read_profile, user_id)

    async def opt_in(self, user_id: int) -> StoredProfile:
        """Start keeping a voice profile for the person (an existing one is kept)."""
        return await self._call(self._opt_in, user_id)

    async def save_profile(self, user_id: int, count: int, mean: bytes) -> None:
        """Store an updated profile; does nothing for a person who is not (or no longer) opted in."""
        await self._call(
            self._execute, UPDATE_PROFILE, user_id=user_id, count=count, mean=mean, now=time.time()
        )

    async def delete_profile(self, user_id: int) -> bool:
        """Forget the person's profile and opt them out; whether there was one."""
        return await self._call(self._execute, DELETE_PROFILE, user_id=user_id) > 0

    async def community(self, n_functionals: int) -> CommunityVoice | None:
        """The community statistics so far, or ``None`` when there are none (or they were made by a
        recogniser with other features, and will be started afresh by the next clip)."""
        return await self._call(self._read_community, n_functionals)

    async def add_to_community(self, functionals: np.ndarray) -> CommunityVoice:
        """Add one analysed clip's functionals to the community statistics, read and written in one
        transaction so that clips analysed at once by several processes all count."""
        return await self._call(self._add_to_community, np.asarray(functionals, dtype=np.float32))

    async def delete_community(self) -> bool:
        """Forget the community statistics; whether there were any."""
        return await self._call(self._execute, DELETE_COMMUNITY) > 0

    async def consent(self, user_id: int) -> Consent:
        """The person's own choices (:data:`NO_CHOICES` for someone who never made any)."""
        return await self._call(self._read_consent, user_id)

    async def set_consent(
        self, user_id: int, *, opted_out: bool | None = None, dm_analysis: bool | None = None
    ) -> Consent:
        """Change some of a person's choices (``None`` keeps one); opting out also deletes their voice
        profile, in the same transaction."""
        return await self._call(self._write_consent, user_id, opted_out, dm_analysis)

    async def close(self) -> None:
        """Close the database (again is harmless); later reads and writes fail."""
        if self._closed:
            return
        self._closed = True
        await self._call(self._connection.close)
        self._executor.shutdown(wait=True)

    async def _call(self, function: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run ``function`` on the database thread; any SQLite failure becomes :class:`StoreError`."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))
        except sqlite3.Error as error:
            raise StoreError(f"The settings database {self.path} failed: {error}", path=self.path) from error

    # -- on the database thread: start-up ----------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """Check the location, set a damaged file aside, then connect, migrate and prove we can write."""
        _prepare_folder(self.path)
        try:
            damage = self._damage()
            if damage is not None:
                self._set_aside(damage)
            connection = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
            try:
                _migrate(connection, self.path)
                _check_writable(connection)
            except BaseException:
                connection.close()
                raise
            return connection
        except sqlite3.Error as error:
            raise _unusable(self.path, error, self.busy_timeout_s) from error

    def _damage(self) -> str | None:
        """What SQLite says is wrong with the file if it is corrupt; ``None`` if it is readable. Any other
        failure (locked, unreadable) is raised: it says nothing about the file's contents."""
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout_s)
        try:
            (verdict,) = connection.execute(QUICK_CHECK).fetchone()
        except sqlite3.DatabaseError as error:
            if _result_code(error) in (SQLITE_CORRUPT, SQLITE_NOTADB):
                return str(error)
            raise
        finally:
            connection.close()
        if verdict == "ok":
            return None
        # A report of many lines under a "*** in database main ***" heading; the first finding will do.
        findings = [line for line in verdict.splitlines() if line and not line.startswith("***")]
        return f"quick_check: {(findings or [verdict])[0]}"

    def _set_aside(self, damage: str) -> None:
        """Move the damaged file away under a new name. Only the file: SQLite has already rolled back or
        removed any journal beside it while checking it, so none is left to meet the new file."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        attempt = 1
        while aside.exists():
            attempt += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{attempt}")
        try:
            self.path.replace(aside)
        except OSError as error:
            raise StoreError(
                f"The settings database {self.path} is damaged ({damage}) and could not be moved aside "
                f"({error.strerror}); move it away yourself to start with default settings, {ELSEWHERE}.",
                path=self.path,
            ) from error
        log.warning(
            "Settings database %s is damaged (%s); moved it to %s and started with default settings for "
            "every server.",
            self.path,
            damage,
            aside,
        )

    # -- on the database thread: reads and writes ---------------------------------------------------

    def _read(self, guild_id: int) -> GuildSettings:
        with _transaction(self._connection, "BEGIN"):  # one snapshot for both tables
            return self._select(guild_id)

    def _write(self, guild_id: int, statement: str, **parameters: object) -> GuildSettings:
        """Run one change and read the guild's settings back in the same transaction."""
        with _transaction(self._connection):
            self._connection.execute(statement, {"guild_id": guild_id, **parameters})
            return self._select(guild_id)

    def _select(self, guild_id: int) -> GuildSettings:
        row = self._connection.execute(SELECT_SETTINGS, {"guild_id": guild_id}).fetchone()
        channels = frozenset(c for (c,) in self._connection.execute(SELECT_CHANNELS, {"guild_id": guild_id}))
        if row is None:
            return GuildSettings(allowed_channel_ids=channels)
        auto_analyze, reply_style, ephemeral = row
        return GuildSettings(
            auto_analyze=bool(auto_analyze),
            allowed_channel_ids=channels,
            reply_style=reply_style if reply_style in REPLY_STYLES else DEFAULTS.reply_style,
            ephemeral=bool(ephemeral),
        )

    def _read_profile(self, user_id: int) -> StoredProfile | None:
        row = self._connection.execute(SELECT_PROFILE, {"user_id": user_id}).fetchone()
        return None if row is None else StoredProfile(int(row[0]), row[1])

    def _opt_in(self, user_id: int) -> StoredProfile:
        with _transaction(self._connection):
            self._connection.execute(INSERT_PROFILE, {"user_id": user_id, "now": time.time()})
            return self._read_profile(user_id)  # type: ignore[return-value]

    def _read_community(self, n_functionals: int) -> CommunityVoice | None:
        row = self._connection.execute(SELECT_COMMUNITY).fetchone()
        if row is None:
            return None
        try:
            return CommunityVoice.from_bytes(int(row[0]), row[1], n_functionals)
        except ValueError:
            return None

    def _add_to_community(self, functionals: np.ndarray) -> CommunityVoice:
        with _transaction(self._connection):
            stored = self._read_community(functionals.size)
            community = CommunityVoice.first(functionals) if stored is None else stored.updated(functionals)
            parameters = {"count": community.count, "stats": community.to_bytes(), "now": time.time()}
            self._connection.execute(SAVE_COMMUNITY, parameters)
            return community

    def _read_consent(self, user_id: int) -> Consent:
        row = self._connection.execute(SELECT_CONSENT, {"user_id": user_id}).fetchone()
        return NO_CHOICES if row is None else Consent(opted_out=bool(row[0]), dm_analysis=bool(row[1]))

    def _write_consent(self, user_id: int, opted_out: bool | None, dm_analysis: bool | None) -> Consent:
        parameters = {
            "user_id": user_id,
            "opted_out": None if opted_out is None else int(opted_out),
            "dm_analysis": None if dm_analysis is None else int(dm_analysis),
            "now": time.time(),
        }
        with _transaction(self._connection):
            self._connection.execute(UPDATE_CONSENT, parameters)
            if opted_out:
                self._connection.execute(DELETE_PROFILE, {"user_id": user_id})
            return self._read_consent(user_id)

    def _execute(self, statement: str, **parameters: object) -> int:
        """One statement in its own transaction; the number of rows it changed."""
        return self._connection.execute(statement, parameters).rowcount


@contextmanager
def _transaction(connection: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """Commit the block or roll it back. Writes take the write lock at once (``IMMEDIATE``): a read lock
    upgraded later can fail at once instead of waiting for the busy timeout."""
    connection.execute(begin)
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:  # SQLite rolls back by itself after some errors (disk full)
            connection.execute("ROLLBACK")
        raise


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Bring the schema up to :data:`SCHEMA_VERSION`, one migration per transaction; a process starting
    at the same time may have done a step already, so each re-reads the version under the write lock."""
    for target in range(_version(connection, path) + 1, SCHEMA_VERSION + 1):
        with _transaction(connection):
            if _version(connection, path) >= target:
                continue
            for statement in MIGRATIONS[target]:
                connection.execute(statement)
            connection.execute(SET_VERSION.format(version=target))
        log.info("Settings database migrated to schema version %d", target)


def _version(connection: sqlite3.Connection, path: Path) -> int:
    (version,) = connection.execute(GET_VERSION).fetchone()
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The settings database {path} has schema version {version}, newer than this MoodBot "
            f"understands ({SCHEMA_VERSION}); upgrade MoodBot, {ELSEWHERE}.",
            path=path,
        )
    return int(version)


def _check_writable(connection: sqlite3.Connection) -> None:
    """Fail at start-up, not at the first ``/moodbot`` command: a write that needs the lock and the journal
    file beside the database (so a read-only folder shows), rolled back."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(SET_VERSION.format(version=SCHEMA_VERSION))
    finally:
        if connection.in_transaction:  # not after an error SQLite rolled back itself
            connection.execute("ROLLBACK")


def _prepare_folder(path: Path) -> None:
    """Create the database's folder, or say in one line why there cannot be a database at ``path``."""
    if path.is_dir():
        raise StoreError(
            f"The settings database {path} is a folder, not a file; set MOODBOT_DB_PATH to a file such as "
            f"{path / 'moodbot.sqlite3'}.",
            path=path,
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        raise StoreError(
            f"The settings database {path} cannot be created: {blocker} is a file, not a folder; move that "
            f"file away, {ELSEWHERE}.",
            path=path,
        ) from error
    except OSError as error:
        raise StoreError(
            f"The folder {path.parent} for the settings database cannot be created ({error.strerror}); "
            f"create it for the user running MoodBot, {ELSEWHERE}.",
            path=path,
        ) from error


def _unusable(path: Path, error: sqlite3.Error, busy_timeout_s: float) -> StoreError:
    """The one-line start-up message for a healthy file SQLite cannot use, from the code and the file
    system (SQLite says "unable to open database file" for most of these)."""
    code = _result_code(error)
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        reason = (
            f"is locked: another program has kept a write open on it for over {busy_timeout_s:g} s; close "
            "that program (another MoodBot, a database browser) and start again"
        )
    elif path.exists() and not os.access(path, os.R_OK | os.W_OK):
        reason = (
            "cannot be read and written (permission denied); give the user running MoodBot read and "
            "write access to it"
        )
    elif not os.access(path.parent, os.W_OK | os.X_OK):
        reason = (
            f"cannot be written: its folder {path.parent} is read-only and SQLite keeps a journal file "
            "beside the database; make the folder writable for the user running MoodBot"
        )
    elif code == SQLITE_FULL:
        reason = "cannot be written: the disk is full; free some space and start again"
    else:
        reason = f"cannot be used ({error}); check the file and its folder"
    return StoreError(f"The settings database {path} {reason}, {ELSEWHERE}.", path=path)


def _result_code(error: sqlite3.Error) -> int | None:
    """SQLite's primary result code for ``error`` (extended codes keep it in the low byte)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if code is not None else _CODES_BY_MESSAGE.get(str(error))
