"""``/privacy``: each person's own say over MoodBot reading their voice, in every server and in DMs.

Emotion recognition reads something personal from a voice, and the EU AI Act (Art. 50(3)) asks those
who deploy it to tell the people exposed to it. MoodBot tells them (a notice where automatic analysis
is turned on, this command everywhere) and lets each person refuse: an opt-out holds on every path
(automatic analysis in any server, someone else's "Analyze mood" on their message, their voice
profile, which it deletes). In DMs nothing is analysed on its own unless the person turns it on here.
Only ``/mood``, which a person runs on a clip they chose, is always theirs to use. Every answer is
ephemeral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.store import Consent

if TYPE_CHECKING:
    from bot.app import MoodBot

WHAT_HAPPENS = (
    "MoodBot estimates the emotion in voice messages and audio files with a machine-learning model "
    "(emotion recognition, an AI system). The audio is analysed in memory and never kept; the reply "
    "is its guess, which is often wrong. Nothing about you is stored unless you turn on a voice "
    "profile, or make a choice here."
)
#: Added where ``MOODBOT_COMMUNITY`` is on (:mod:`emotion_core.community`).
COMMUNITY_NOTE = (
    "Each clip MoodBot answers also moves an average of all the voices it hears here (numbers "
    "describing pitch, loudness and tone colour; no audio, nothing that says whose), so that it hears "
    "newcomers against the voices it knows; clips of people who opted out are left out."
)


def consent_text(consent: Consent, *, community: bool) -> str:
    """What ``/privacy show`` says about a person's choices (and the community statistics, where on)."""
    if consent.opted_out:
        mine = "You have opted out: MoodBot analyses none of your messages (`/privacy opt-in` undoes it)."
    else:
        mine = (
            "You have not opted out: where a server turned automatic analysis on, your voice messages "
            "there are analysed (`/privacy opt-out` stops it everywhere)."
        )
    dms = "on" if consent.dm_analysis and not consent.opted_out else "off"
    about = f"{WHAT_HAPPENS} {COMMUNITY_NOTE}" if community else WHAT_HAPPENS
    return f"{about}\n\n{mine}\nAutomatic analysis of what you send me in DMs: **{dms}**."


class Privacy(
    commands.GroupCog, group_name="privacy", group_description="Your say over MoodBot reading your voice"
):
    """The ``/privacy`` command group (in servers and in DMs)."""

    def __init__(self, bot: MoodBot) -> None:
        self.bot = bot
        super().__init__()

    async def _answer(self, interaction: discord.Interaction, consent: Consent, lead: str = "") -> None:
        about = consent_text(consent, community=self.bot.config.community)
        text = f"{lead}\n\n{about}" if lead else about
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """What MoodBot does with your voice, and your choices."""
        await self._answer(interaction, await self.bot.store.consent(interaction.user.id))

    @app_commands.command(name="opt-out")
    async def opt_out(self, interaction: discord.Interaction) -> None:
        """Never analyse my messages, in any server or DM; delete my voice profile."""
        consent = await self.bot.store.set_consent(interaction.user.id, opted_out=True)
        await self._answer(interaction, consent, "Done: MoodBot will not analyse your messages anywhere.")

    @app_commands.command(name="opt-in")
    async def opt_in(self, interaction: discord.Interaction) -> None:
        """Undo an opt-out: servers that turned automatic analysis on may analyse my messages again."""
        consent = await self.bot.store.set_consent(interaction.user.id, opted_out=False)
        await self._answer(interaction, consent, "Done: your opt-out is lifted.")

    @app_commands.command(name="dm-analysis")
    @app_commands.describe(enabled="Analyse the voice messages you send MoodBot in a DM as they arrive")
    async def dm_analysis(self, interaction: discord.Interaction, enabled: bool) -> None:
        """Turn automatic analysis of your DMs to MoodBot on or off."""
        consent = await self.bot.store.set_consent(interaction.user.id, dm_analysis=enabled)
        lead = "Done." if not consent.opted_out else "Saved, but you have opted out, which comes first."
        await self._answer(interaction, consent, lead)


async def setup(bot: MoodBot) -> None:
    await bot.add_cog(Privacy(bot))
