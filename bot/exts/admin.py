"""``/moodbot``: the per-server settings, for members with the Manage Server permission.

The group is hidden from other members by default (``default_permissions``) and only exists in servers
(``guild_only``); because server owners can change who sees a command, every call also checks the
caller's permission. All answers are ephemeral: settings are nobody else's business. Changes are saved
at once (see :mod:`bot.store`) and survive restarts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.store import GuildSettings

if TYPE_CHECKING:
    from bot.app import MoodBot

#: Channel kinds whose messages (or threads) can carry voice messages.
AnalysedChannel = discord.TextChannel | discord.VoiceChannel | discord.StageChannel | discord.ForumChannel


def settings_embed(settings: GuildSettings) -> discord.Embed:
    """The current settings as a card."""
    channels = (
        ", ".join(f"<#{channel_id}>" for channel_id in sorted(settings.allowed_channel_ids))
        or "every channel I can read"
    )
    embed = discord.Embed(title="MoodBot settings", colour=discord.Colour.blurple())
    embed.add_field(name="Automatic analysis", value="on" if settings.auto_analyze else "off")
    embed.add_field(name="Reply style", value=settings.reply_style)
    embed.add_field(name="Private answers to /mood", value="on" if settings.ephemeral else "off")
    embed.add_field(name="Analysed channels", value=channels, inline=False)
    return embed


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Admin(commands.GroupCog, group_name="moodbot", group_description="MoodBot's settings for this server"):
    """The ``/moodbot`` command group."""

    channels = app_commands.Group(name="channels", description="Limit automatic analysis to some channels")

    def __init__(self, bot: MoodBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Enforce Manage Server even where a server made the commands visible to everyone."""
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    async def _show(self, interaction: discord.Interaction, settings: GuildSettings) -> None:
        await interaction.response.send_message(embed=settings_embed(settings), ephemeral=True)

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show MoodBot's settings for this server."""
        await self._show(interaction, await self.bot.store.get(interaction.guild_id))

    @app_commands.command(name="auto")
    @app_commands.describe(enabled="Analyse voice messages and audio files as they are posted")
    async def auto(self, interaction: discord.Interaction, enabled: bool) -> None:
        """Turn automatic analysis of new voice messages on or off."""
        await self._show(interaction, await self.bot.store.update(interaction.guild_id, auto_analyze=enabled))

    @app_commands.command(name="style")
    @app_commands.describe(style="embed: a card with the mood; reaction: only the mood emoji")
    async def style(self, interaction: discord.Interaction, style: Literal["embed", "reaction"]) -> None:
        """Choose how MoodBot answers voice messages it analyses on its own."""
        await self._show(interaction, await self.bot.store.update(interaction.guild_id, reply_style=style))

    @app_commands.command(name="ephemeral")
    @app_commands.describe(enabled="Answer /mood and 'Analyze mood' so only the asker sees it")
    async def ephemeral(self, interaction: discord.Interaction, enabled: bool) -> None:
        """Make answers to /mood and the context menu private or public."""
        await self._show(interaction, await self.bot.store.update(interaction.guild_id, ephemeral=enabled))

    @channels.command(name="add")
    @app_commands.describe(channel="A channel where new voice messages are analysed")
    async def channels_add(self, interaction: discord.Interaction, channel: AnalysedChannel) -> None:
        """Analyse voice messages automatically in this channel (and only the listed ones)."""
        await self._show(interaction, await self.bot.store.add_channel(interaction.guild_id, channel.id))

    @channels.command(name="remove")
    @app_commands.describe(channel="A channel to take off the list")
    async def channels_remove(self, interaction: discord.Interaction, channel: AnalysedChannel) -> None:
        """Stop analysing voice messages automatically in this channel."""
        await self._show(interaction, await self.bot.store.remove_channel(interaction.guild_id, channel.id))

    @channels.command(name="clear")
    async def channels_clear(self, interaction: discord.Interaction) -> None:
        """Analyse voice messages automatically in every channel again."""
        await self._show(interaction, await self.bot.store.clear_channels(interaction.guild_id))

    @channels.command(name="list")
    async def channels_list(self, interaction: discord.Interaction) -> None:
        """List the channels where voice messages are analysed automatically."""
        await self._show(interaction, await self.bot.store.get(interaction.guild_id))


async def setup(bot: MoodBot) -> None:
    await bot.add_cog(Admin(bot))
