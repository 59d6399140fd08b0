"""``/moodbot``: the per-server settings, for members with the Manage Server permission.

The group is hidden from other members by default (``default_permissions``) and only exists in servers
(``guild_only``); because server owners can change who sees a command, every call also checks the
caller's permission. All answers are ephemeral: settings are nobody else's business. Changes are saved
at once (see :mod:`bot.store`) and survive restarts.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.store import GuildSettings

if TYPE_CHECKING:
    from bot.app import MoodBot

log = logging.getLogger(__name__)

#: Posted where automatic analysis starts, so that people are told before their voices are read for
#: emotion (EU AI Act, Art. 50(3)), and told how to refuse.
NOTICE = (
    "\N{STUDIO MICROPHONE} **MoodBot now listens to voice messages {where}.** It estimates the emotion "
    "in voice messages and audio files posted here with a machine-learning model and replies with its "
    "guess, which is often wrong. The audio is analysed in memory and never kept. "
    "`/privacy opt-out` stops it for your messages, everywhere; `/privacy show` says more."
)

#: Channel kinds whose messages (or threads) can carry voice messages.
AnalyzedChannel = discord.TextChannel | discord.VoiceChannel | discord.StageChannel | discord.ForumChannel


def settings_embed(settings: GuildSettings) -> discord.Embed:
    """The current settings as a card."""
    channels = (
        ", ".join(f"<#{channel_id}>" for channel_id in sorted(settings.allowed_channel_ids))
        or "every channel I can read"
    )
    embed = discord.Embed(title="MoodBot settings", color=discord.Color.blurple())
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
        await self._show(interaction, await self.bot.store.get(_guild_id(interaction)))

    async def _announce(
        self, interaction: discord.Interaction, settings: GuildSettings, channel_ids: set[int]
    ) -> str:
        """Post :data:`NOTICE` where analysis has just started; a line naming any channel it could not reach.

        With no channel list analysis runs everywhere, and the notice goes to the channel the command was
        used in, saying so (posting in every channel of a large server would be spam).
        """
        everywhere = not settings.allowed_channel_ids
        here = [] if interaction.channel_id is None else [interaction.channel_id]
        targets = here if everywhere else sorted(channel_ids)
        where = "in every channel of this server" if everywhere else "in this channel"
        missed = []
        for channel_id in targets:
            channel = interaction.guild.get_channel_or_thread(channel_id) if interaction.guild else None
            try:
                if not isinstance(channel, discord.abc.Messageable):
                    raise LookupError("not a channel I can see and post in")
                await channel.send(
                    NOTICE.format(where=where), allowed_mentions=discord.AllowedMentions.none()
                )
            except (discord.HTTPException, LookupError) as error:
                log.info("Could not post the analysis notice in channel %s: %s", channel_id, error)
                missed.append(f"<#{channel_id}>")
        if not missed:
            return ""
        return f"I couldn't post the notice in {', '.join(missed)}: please tell the people there yourself."

    async def _show_after_change(
        self, interaction: discord.Interaction, settings: GuildSettings, started_in: set[int] | None
    ) -> None:
        """Show the settings; first announce analysis where it has just started (``started_in``)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        note = await self._announce(interaction, settings, started_in) if started_in is not None else ""
        await interaction.followup.send(
            note or discord.utils.MISSING, embed=settings_embed(settings), ephemeral=True
        )

    @app_commands.command(name="auto")
    @app_commands.describe(enabled="Analyse voice messages and audio files as they are posted")
    async def auto(self, interaction: discord.Interaction, enabled: bool) -> None:
        """Turn automatic analysis of new voice messages on or off (turning it on posts a notice)."""
        before = await self.bot.store.get(_guild_id(interaction))
        settings = await self.bot.store.update(_guild_id(interaction), auto_analyze=enabled)
        starts = enabled and not before.auto_analyze
        await self._show_after_change(
            interaction, settings, set(settings.allowed_channel_ids) if starts else None
        )

    @app_commands.command(name="style")
    @app_commands.describe(style="embed: a card with the mood; reaction: only the mood emoji")
    async def style(self, interaction: discord.Interaction, style: Literal["embed", "reaction"]) -> None:
        """Choose how MoodBot answers voice messages it analyses on its own."""
        await self._show(interaction, await self.bot.store.update(_guild_id(interaction), reply_style=style))

    @app_commands.command(name="ephemeral")
    @app_commands.describe(enabled="Answer /mood and 'Analyze mood' so only the asker sees it")
    async def ephemeral(self, interaction: discord.Interaction, enabled: bool) -> None:
        """Make answers to /mood and the context menu private or public."""
        await self._show(interaction, await self.bot.store.update(_guild_id(interaction), ephemeral=enabled))

    @channels.command(name="add")
    @app_commands.describe(channel="A channel where new voice messages are analysed")
    async def channels_add(self, interaction: discord.Interaction, channel: AnalyzedChannel) -> None:
        """Analyse voice messages automatically in this channel (and only the listed ones)."""
        before = await self.bot.store.get(_guild_id(interaction))
        settings = await self.bot.store.add_channel(_guild_id(interaction), channel.id)
        # From "every channel" to a list, the channel was covered already; else it is new to analysis.
        starts = (
            settings.auto_analyze
            and bool(before.allowed_channel_ids)
            and channel.id not in before.allowed_channel_ids
        )
        await self._show_after_change(interaction, settings, {channel.id} if starts else None)

    @channels.command(name="remove")
    @app_commands.describe(channel="A channel to take off the list")
    async def channels_remove(self, interaction: discord.Interaction, channel: AnalyzedChannel) -> None:
        """Stop analysing voice messages automatically in this channel."""
        await self._show(interaction, await self.bot.store.remove_channel(_guild_id(interaction), channel.id))

    @channels.command(name="clear")
    async def channels_clear(self, interaction: discord.Interaction) -> None:
        """Analyse voice messages automatically in every channel again."""
        before = await self.bot.store.get(_guild_id(interaction))
        settings = await self.bot.store.clear_channels(_guild_id(interaction))
        starts = settings.auto_analyze and bool(before.allowed_channel_ids)
        await self._show_after_change(interaction, settings, set() if starts else None)

    @channels.command(name="list")
    async def channels_list(self, interaction: discord.Interaction) -> None:
        """List the channels where voice messages are analysed automatically."""
        await self._show(interaction, await self.bot.store.get(_guild_id(interaction)))


def _guild_id(interaction: discord.Interaction) -> int:
    """The server a command came from; these commands are server-only, so Discord always sends one."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def setup(bot: MoodBot) -> None:
    await bot.add_cog(Admin(bot))
