"""``/voiceprofile``: a person's own, opt-in voice profile, which they can see and delete at any time.

With a profile, MoodBot hears each of the person's new voice messages relative to their usual voice
(after :data:`~emotion_core.profile.MIN_MESSAGES` messages; until then, as anybody's). It keeps one row:
a message count and averaged voice statistics, nothing that can replay or transcribe what was said.
Nobody else can see, create or delete someone's profile. Every answer is ephemeral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from emotion_core import MIN_MESSAGES

if TYPE_CHECKING:
    from bot.app import MoodBot

WHAT_IS_KEPT = (
    "I keep one thing: averaged statistics of your voice (pitch, loudness and tone colour) over your "
    "voice messages, and how many there were. No audio, no words, no moods."
)


def status_text(count: int | None) -> str:
    """What ``/voiceprofile show`` says for a profile of ``count`` messages (``None``: no profile)."""
    if count is None:
        return "You have no voice profile. `/voiceprofile on` starts one."
    if count >= MIN_MESSAGES:
        return f"Your voice profile has {count} messages: I compare new ones with your usual voice."
    return (
        f"Your voice profile has {count} of the {MIN_MESSAGES} messages it needs; until then I hear you "
        "as I hear anyone."
    )


class VoiceProfiles(commands.GroupCog, group_name="voiceprofile", group_description="Your own voice profile"):
    """The ``/voiceprofile`` command group (in servers and in DMs)."""

    def __init__(self, bot: MoodBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="on")
    async def on(self, interaction: discord.Interaction) -> None:
        """Let MoodBot learn your usual voice, so it can hear your moods against it."""
        if self.bot.recognizer.profiled is None:
            await interaction.response.send_message(
                "This MoodBot's recogniser has no profile model, so it cannot use voice profiles.",
                ephemeral=True,
            )
            return
        if (await self.bot.store.consent(interaction.user.id)).opted_out:
            await interaction.response.send_message(
                "You have opted out of mood analysis, so there is nothing to learn a profile from; "
                "`/privacy opt-in` first if you want one.",
                ephemeral=True,
            )
            return
        stored = await self.bot.store.opt_in(interaction.user.id)
        await interaction.response.send_message(
            f"{WHAT_IS_KEPT} `/voiceprofile delete` forgets it at any time.\n{status_text(stored.count)}",
            ephemeral=True,
        )

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Say whether you have a voice profile and how far along it is."""
        stored = await self.bot.store.voice_profile(interaction.user.id)
        await interaction.response.send_message(
            status_text(None if stored is None else stored.count), ephemeral=True
        )

    @app_commands.command(name="delete")
    async def delete(self, interaction: discord.Interaction) -> None:
        """Forget your voice profile and stop keeping one."""
        existed = await self.bot.store.delete_profile(interaction.user.id)
        text = "Deleted: your voice profile is gone." if existed else "You had no voice profile."
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: MoodBot) -> None:
    await bot.add_cog(VoiceProfiles(bot))
