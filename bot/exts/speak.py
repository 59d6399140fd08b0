"""Speaking: ``/speak`` says a sentence with an emotion and posts it as a Discord voice message.

Synthesis takes from a fraction of a second (the offline eSpeak NG voice) to several seconds (neural
voices), so the command defers first and synthesises on the speech lane's own thread (a run of ``/speak``
never makes voice messages wait). The audio goes out as a voice message, a new channel message posted by
the bot (see :mod:`bot.voice_message` for why not a follow-up), and the deferred reply becomes its label:
which emotion, which voice, and that the speech is synthetic. Where the bot may not post voice messages
in the channel (a missing permission, a DM, or Discord refusing it) the reply itself carries the audio as
an ordinary Ogg attachment, with the same label.
"""

from __future__ import annotations

import io
import logging
import operator
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.tasks import Spoken, synthesize
from bot.voice_message import send_voice_message
from emotion_core import MAX_TEXT_CHARS, Emotion, clean_text

if TYPE_CHECKING:
    from bot.app import MoodBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
#: Alt text of the plain-file fallback, read out by screen readers.
SYNTHETIC_ALT_TEXT = "Synthetic speech made by MoodBot, not a recording of a person"


class Speak(commands.Cog):
    """Provides ``/speak``."""

    def __init__(self, bot: MoodBot) -> None:
        self.bot = bot
        self._cooldowns = commands.CooldownMapping.from_cooldown(
            bot.config.speak_per_minute, 60.0, operator.attrgetter("id")
        )

    @app_commands.command(name="speak")
    @app_commands.describe(
        text=f"What to say, up to {MAX_TEXT_CHARS} characters",
        emotion="How to say it",
        intensity="How strongly, from 0 (barely) to 1 (fully); 0.5 if left out",
    )
    @app_commands.choices(
        emotion=[app_commands.Choice(name=e.value.capitalize(), value=e.value) for e in Emotion]
    )
    async def speak(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, MAX_TEXT_CHARS],
        emotion: str,
        intensity: app_commands.Range[float, 0.0, 1.0] = 0.5,
    ) -> None:
        """Say something out loud with an emotion."""
        # Discord enforces the length too, but check before deferring so the refusal is private.
        text = clean_text(text)
        mood = Emotion.parse(emotion)
        bucket = self._cooldowns.get_bucket(interaction.user)
        if bucket is not None and (retry_after := bucket.update_rate_limit()):
            raise app_commands.CommandOnCooldown(bucket, retry_after)
        job_id = f"interaction-{interaction.id}"
        with await self.bot.pool.reserve(interaction.user.id, "speech", job_id=job_id) as job:
            await interaction.response.defer(thinking=True)
            spoken = await job.run(synthesize, text, mood, intensity)
            job.done_computing()
            if interaction.is_expired():
                log.info(
                    "Dropping /speak for %s: its interaction expired while synthesising", interaction.user.id
                )
                return
            await self._post(interaction, spoken, mood)

    async def _post(self, interaction: discord.Interaction, spoken: Spoken, mood: Emotion) -> None:
        """A voice message in the channel where the bot may post one; otherwise the reply carries the file."""
        label = synthetic_label(mood, spoken.voice)
        if may_post_voice(interaction) and interaction.channel_id is not None:
            try:
                message = await send_voice_message(
                    self.bot.http,
                    interaction.channel_id,
                    spoken.ogg,
                    duration_s=spoken.duration_s,
                    waveform=spoken.waveform,
                )
            except discord.HTTPException as error:
                log.warning("Discord refused the voice message (%s); sending a plain attachment", error)
            else:
                channel = f"https://discord.com/channels/{interaction.guild_id}/{interaction.channel_id}"
                await interaction.edit_original_response(
                    content=f"{label}: {channel}/{message['id']}", allowed_mentions=NO_MENTIONS
                )
                return
        await interaction.edit_original_response(
            content=label,
            attachments=[discord.File(io.BytesIO(spoken.ogg), filename=f"moodbot-synthetic-{mood.value}.ogg",
                                      description=SYNTHETIC_ALT_TEXT)],
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip


def synthetic_label(mood: Emotion, voice: str) -> str:
    """The line that says what the audio is: which emotion, which voice, and that it is synthetic."""
    return f"{mood.emoji} {mood.value.capitalize()}, spoken by {voice} · synthetic speech, made by MoodBot"


def may_post_voice(interaction: discord.Interaction) -> bool:
    """Whether the bot itself may post a voice message where the command was used.

    ``app_permissions`` are the bot's permissions in that channel as Discord computed them; in a DM or a
    server the bot is not in (a user-installed command) it cannot post at all, only answer.
    """
    if interaction.guild_id is None or interaction.guild is None or interaction.channel_id is None:
        return False
    permissions = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    may_send = permissions.send_messages_in_threads if in_thread else permissions.send_messages
    return (
        permissions.view_channel and may_send and permissions.attach_files and permissions.send_voice_messages
    )


async def setup(bot: MoodBot) -> None:
    await bot.add_cog(Speak(bot))
