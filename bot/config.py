"""Process settings for the bot, read once from the environment (and ``.env``) into one frozen object.

Everything a self-hoster may tune lives here with its default, so the rest of the bot receives a
``Config`` instead of reading ``os.environ`` itself. ``.env.example`` lists the same settings with comments.
Per-guild choices made by server managers (auto-analysis, channels, reply style) are not here: they live
in the database (see :mod:`bot.store`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bot.errors import ConfigError
from emotion_core import data_dir

log = logging.getLogger(__name__)

_MEBIBYTE = 1024 * 1024


@dataclass(frozen=True)
class Config:
    """The bot's process settings. Build it with :meth:`from_env`; the token never appears in ``repr``."""

    #: Bot token from the Developer Portal (Bot → Reset Token). Kept out of ``repr`` and logs.
    discord_token: str = field(repr=False)
    #: Guild where slash commands are synced instantly at start-up; ``None`` means global commands.
    dev_guild_id: int | None = None
    #: SQLite file holding per-guild settings: ``$MOODBOT_DB_PATH``, else ``moodbot.sqlite3`` in the data
    #: folder (see :func:`data_dir`), never relative to wherever the bot happened to be started.
    db_path: Path = Path("moodbot.sqlite3")
    #: Largest attachment the bot downloads, in MiB; checked against the attachment's size first.
    max_upload_mb: float = 25.0
    #: Longest stretch of a clip that is analysed, in seconds; longer clips are cut and say so.
    max_audio_s: float = 60.0
    #: Threads running the models; each holds one clip or one sentence at a time.
    workers: int = 2
    #: Jobs allowed to wait for a worker; beyond this people are told the bot is busy.
    queue_size: int = 16
    #: Analyses (automatic, ``/mood`` and the context menu together) per user per minute.
    analyze_per_minute: int = 6
    #: ``/speak`` uses per user per minute.
    speak_per_minute: int = 3
    #: Seconds to wait for in-flight work when shutting down before closing anyway. 8 s fits inside
    #: ``docker stop``'s 10 s grace period with time left to disconnect and close the database; raise
    #: the supervisor's grace period with it (docs/deployment.md).
    shutdown_timeout_s: float = 8.0
    #: Level for discord.py's log handler: DEBUG, INFO, WARNING or ERROR.
    log_level: int = logging.INFO
    #: ``$MOODBOT_REDIS_URL``: run the models in ``moodbot worker`` processes fed through this Redis
    #: (:mod:`bot.queue`); ``None`` runs them on threads of this process. May hold a password.
    redis_url: str | None = field(default=None, repr=False)
    #: ``$MOODBOT_SHARD_COUNT``: the shards of the whole bot; ``None`` asks Discord for its count.
    shard_count: int | None = None
    #: ``$MOODBOT_SHARD_IDS`` (comma-separated): the shards this process runs; ``None`` runs them all.
    shard_ids: tuple[int, ...] | None = None
    #: ``$MOODBOT_COMMUNITY`` (``on``/``off``): keep aggregate statistics of every clip analysed and hear
    #: newcomers against them (:mod:`emotion_core.community`); ``off`` also deletes the stored ones.
    community: bool = True

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.max_upload_mb * _MEBIBYTE)

    @property
    def capacity(self) -> int:
        """Jobs accepted at once: the ones running plus the ones waiting."""
        return self.workers + self.queue_size

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        """Read the settings from ``environ`` (usually ``os.environ`` after loading ``.env``).

        Raises
        ------
        ConfigError
            The token is missing or a number is malformed or out of range.
        """
        token = environ.get("DISCORD_TOKEN", "").strip()
        if not token:
            raise ConfigError(
                "DISCORD_TOKEN is not set: put the bot token in .env or the environment "
                "(see docs/discord-setup.md)."
            )
        if any(c.isspace() or not c.isprintable() or not c.isascii() for c in token):
            raise ConfigError(
                "DISCORD_TOKEN has a space, line break or other character no token has: "
                "copy it again from the Developer Portal (Bot → Reset Token), on one line."
            )
        guild = environ.get("MOODBOT_DEV_GUILD_ID", "").strip()
        level_name = environ.get("MOODBOT_LOG_LEVEL", "INFO").strip().upper()
        level = logging.getLevelName(level_name)
        if not isinstance(level, int):
            raise ConfigError(f"MOODBOT_LOG_LEVEL={level_name!r} is not DEBUG, INFO, WARNING or ERROR.")
        return cls(
            discord_token=token,
            dev_guild_id=_number(environ, "MOODBOT_DEV_GUILD_ID", int, 1) if guild else None,
            db_path=_db_path(environ),
            max_upload_mb=_number(environ, "MOODBOT_MAX_UPLOAD_MB", float, 0.001, cls.max_upload_mb),
            max_audio_s=_number(environ, "MOODBOT_MAX_AUDIO_S", float, 1.0, cls.max_audio_s),
            workers=_number(environ, "MOODBOT_WORKERS", int, 1, cls.workers),
            queue_size=_number(environ, "MOODBOT_QUEUE_SIZE", int, 0, cls.queue_size),
            analyze_per_minute=_number(environ, "MOODBOT_ANALYZE_PER_MINUTE", int, 1, cls.analyze_per_minute),
            speak_per_minute=_number(environ, "MOODBOT_SPEAK_PER_MINUTE", int, 1, cls.speak_per_minute),
            shutdown_timeout_s=_number(
                environ, "MOODBOT_SHUTDOWN_TIMEOUT_S", float, 0.0, cls.shutdown_timeout_s
            ),
            log_level=level,
            redis_url=redis_url_from_env(environ),
            community=_switch(environ, "MOODBOT_COMMUNITY", cls.community),
            **_shards(environ),
        )


def _switch(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """An on/off setting: on, off, true, false, yes, no, 1 or 0 (any case); unset is ``default``."""
    text = environ.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("on", "true", "yes", "1"):
        return True
    if text in ("off", "false", "no", "0"):
        return False
    raise ConfigError(f"{name}={text!r} is neither on nor off.")


def redis_url_from_env(environ: Mapping[str, str]) -> str | None:
    """``$MOODBOT_REDIS_URL`` checked for a scheme arq can use, or ``None`` where it is unset."""
    url = environ.get("MOODBOT_REDIS_URL", "").strip()
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            "MOODBOT_REDIS_URL must start with redis://, rediss:// or unix:// "
            "(for example redis://localhost:6379/0)."
        )
    return url


def _shards(environ: Mapping[str, str]) -> dict:
    """``shard_count`` and ``shard_ids`` from the environment, checked against each other."""
    count_text = environ.get("MOODBOT_SHARD_COUNT", "").strip()
    ids_text = environ.get("MOODBOT_SHARD_IDS", "").strip()
    if not count_text:
        if ids_text:
            raise ConfigError("MOODBOT_SHARD_IDS needs MOODBOT_SHARD_COUNT, the shards of the whole bot.")
        return {}
    count = _number(environ, "MOODBOT_SHARD_COUNT", int, 1)
    if not ids_text:
        return {"shard_count": count}
    try:
        ids = tuple(sorted({int(part) for part in ids_text.split(",")}))
    except ValueError:
        raise ConfigError(
            f"MOODBOT_SHARD_IDS={ids_text!r} is not a comma-separated list of numbers."
        ) from None
    if ids[0] < 0 or ids[-1] >= count:
        raise ConfigError(f"MOODBOT_SHARD_IDS must lie in 0..{count - 1} (MOODBOT_SHARD_COUNT={count}).")
    return {"shard_count": count, "shard_ids": ids}


_Number = TypeVar("_Number", int, float)


def _number(
    environ: Mapping[str, str],
    name: str,
    kind: type[_Number],
    minimum: float,
    default: _Number | None = None,
) -> _Number:
    """Parse ``environ[name]`` as ``kind`` no smaller than ``minimum``; blank means ``default``."""
    raw = environ.get(name, "").strip()
    if not raw and default is not None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        noun = "whole number" if kind is int else "number"
        raise ConfigError(f"{name}={raw!r} is not a {noun}.") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}.")
    return value


DB_FILE = "moodbot.sqlite3"


def _db_path(environ: Mapping[str, str]) -> Path:
    """``$MOODBOT_DB_PATH``, else the data folder's database; a ``moodbot.sqlite3`` left in the working
    folder by an older MoodBot (whose default that was) is still used, with a warning, so that upgrading
    does not silently hand every server fresh settings."""
    if environ.get("MOODBOT_DB_PATH"):
        return Path(environ["MOODBOT_DB_PATH"]).expanduser()
    default = data_dir(environ) / DB_FILE
    legacy = Path(DB_FILE)
    if not default.exists() and legacy.is_file():
        log.warning(
            "Using %s from the working folder (an older MoodBot's default); move it to %s or set "
            "MOODBOT_DB_PATH to keep using it from anywhere.",
            legacy.resolve(),
            default,
        )
        return legacy
    return default
