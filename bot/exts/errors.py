"""Installs :func:`bot.explain.explain` as the command tree's error handler: every failed slash command
or menu gets a private, one-sentence answer."""

from __future__ import annotations

import contextlib
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.explain import explain

log = logging.getLogger(__name__)


class ErrorHandler(commands.Cog):
    """Installs :meth:`on_app_command_error` as the command tree's error handler while loaded."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._previous_handler = bot.tree.on_error
        bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]  # discord.py's way

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous_handler  # type: ignore[method-assign]

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Answer the person privately, even when the command had already deferred in public.

        The first follow-up after a defer edits the deferred reply, whose visibility was fixed when it
        was deferred: a "private" follow-up would show the error to everyone. So the public "thinking"
        reply is deleted first and the error sent as a new, ephemeral follow-up. An interaction past its
        15-minute token gets nothing: each request would fail.
        """
        text = explain(error)
        mentions = discord.AllowedMentions.none()
        try:
            if not interaction.response.is_done():
                await interaction.response.send_message(text, ephemeral=True, allowed_mentions=mentions)
                return
            if interaction.is_expired():
                log.info("Not answering /%s: its interaction expired (%s)", interaction.command, text)
                return
            with contextlib.suppress(discord.NotFound):
                await interaction.delete_original_response()
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=mentions)
        except discord.HTTPException as failure:
            log.warning("Could not send an error answer for /%s: %s", interaction.command, failure)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ErrorHandler(bot))
