"""The one place where errors become answers.

Known errors become a short sentence for the person who asked: the emotion core's errors already carry
a message fit to show (``str(error)``), and the bot adds its own few (busy, cooldown, permissions, the
settings database failing for a moment).
Anything else is a bug: it is logged with its traceback and the person gets a generic apology rather
than silence. Slash commands reach :func:`explain` through the command tree's ``on_error``
(:mod:`bot.exts.errors`); the automatic voice-message handler calls it directly.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.errors import JobFailedError, PoolBusyError
from bot.store import StoreError
from emotion_core import EmotionCoreError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on my side; it has been logged. Please try again later."
# Every store change is one transaction, so a failed one changed nothing.
STORE_FAILED = (
    "I couldn't read or save settings just now (my database is busy or unavailable), so nothing was "
    "changed. Please try again in a moment."
)


def explain(error: BaseException) -> str:
    """The short answer for ``error``; unexpected errors are logged here with their traceback."""
    if isinstance(error, (app_commands.CommandInvokeError, app_commands.TransformerError)):
        error = error.__cause__ or error
    if isinstance(error, (EmotionCoreError, PoolBusyError, JobFailedError)):
        return str(error)
    if isinstance(error, StoreError):
        log.warning("Settings database error: %s", error)
        return STORE_FAILED
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.MissingPermissions):
        return "Only members with the Manage Server permission can change MoodBot's settings."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, discord.Forbidden):
        log.info("Missing a Discord permission: %s", error)
        return "I'm missing a permission in this channel (I need to send messages and attach files)."
    if isinstance(error, discord.NotFound):
        log.info("Gone before I could use it: %s", error)
        return "That message or file is gone (deleted before I could fetch it)."
    log.error("Unexpected error", exc_info=error)
    return UNEXPECTED
