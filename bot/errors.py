"""Every error the bot raises itself, under one base: :class:`MoodBotError`.

Each also keeps the built-in base it had (``ValueError`` for a bad setting, ``RuntimeError`` for a
database or Discord refusal), so ``except`` clauses written for those still catch them. The core's
errors are :class:`emotion_core.errors.EmotionCoreError`; these are the bot's own.
"""

from __future__ import annotations

from pathlib import Path


class MoodBotError(Exception):
    """Base of the bot's own errors; the message is fit to show the person who can fix it."""


class ConfigError(MoodBotError, ValueError):
    """A setting is missing or malformed; the message names the variable and says what to do."""


class StoreError(MoodBotError, RuntimeError):
    """The settings database cannot be used: at start-up, with one line that says what to change; later
    (locked past the busy timeout, disk full), for one read or write, which did not happen."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        #: The database file.
        self.path = path


class DevGuildError(MoodBotError, RuntimeError):
    """``MOODBOT_DEV_GUILD_ID`` names a server the bot cannot publish its commands to.

    Discord answers a guild command sync with 403 Missing Access when the bot is not in that server (or
    was invited without the ``applications.commands`` scope) and with 404 Unknown Guild when no such
    server exists; either way the fix is in the setting or the invitation, so the message says which.

    Attributes
    ----------
    guild_id : int
        The configured development server.
    reason : str
        Discord's own words for the refusal, e.g. ``"Missing Access"``.
    """

    def __init__(self, guild_id: int, reason: str) -> None:
        self.guild_id = guild_id
        self.reason = reason
        super().__init__(
            f"MOODBOT_DEV_GUILD_ID={guild_id} is not a server this bot can add its commands to "
            f"(Discord: {reason}); check the ID, invite the bot there with the applications.commands "
            "scope (docs/discord-setup.md, step 2), or leave it empty to use global commands."
        )


class PoolBusyError(MoodBotError):
    """The lane is full or shutting down; the message is fit to show a person."""


class FairShareError(PoolBusyError):
    """This person already holds their fair share of the lane; the message is fit to show them."""


class JobFailedError(MoodBotError):
    """A queued job did not finish: its worker stopped twice on it, or it outlived its deadline; the
    message is fit to show the person who asked."""


class DuplicateJobError(MoodBotError):
    """A job with this id is already admitted (the same message seen twice, as after a gateway
    resume): another bot process is answering it, so this one stays quiet."""
