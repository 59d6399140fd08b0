"""Speaking: ``/speak`` says a sentence with an emotion and posts it as a Discord voice message.

Synthesis takes from a fraction of a second (the offline eSpeak NG voice) to several seconds (neural
voices), so the command defers first and synthesises on a worker thread. The audio goes out as a voice
message when the bot may send one here and the answer is public; otherwise, or if Discord refuses it,
as an ordinary Ogg attachment with a line saying which emotion and which voice were used.
"""

from __future__ import annotations

import io
import logging
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.voice_message import MAX_WAVEFORM_POINTS, send_voice_followup
from emotion_core.labels import Emotion
from emotion_core.synth.pipeline import MAX_TEXT_CHARS, clean_text

if TYPE_CHECKING:
    from bot.app import MoodBot
    from emotion_core.synth.pipeline import Synthesizer

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


@dataclass(frozen=True)
class Spoken:
    """Synthesised speech, encoded and ready to upload."""

    ogg: bytes
    waveform: bytes
    duration_s: float
    voice: str


def synthesise(synthesizer: Synthesizer, text: str, emotion: Emotion, intensity: float) -> Spoken:
    """Speak and encode (Ogg/Opus plus the voice-message waveform); blocking, runs on a worker thread."""
    speech = synthesizer.speak(text, emotion, intensity=intensity)
    return Spoken(
        ogg=speech.to_ogg(),
        waveform=speech.waveform(points=MAX_WAVEFORM_POINTS),
        duration_s=speech.duration_s,
        voice=speech.voice,
    )


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
        retry_after = bucket.update_rate_limit()
        if retry_after:
            raise app_commands.CommandOnCooldown(bucket, retry_after)
        with self.bot.pool.reserve() as job:
            await interaction.response.defer(thinking=True)
            spoken = await job.run(synthesise, self.bot.synthesizer, text, mood, intensity)
            await self._post(interaction, spoken, mood)

    async def _post(self, interaction: discord.Interaction, spoken: Spoken, mood: Emotion) -> None:
        """A voice message where the bot may send one, an ordinary attachment otherwise."""
        if interaction.app_permissions.send_voice_messages:
            try:
                await send_voice_followup(
                    interaction, spoken.ogg, duration_s=spoken.duration_s, waveform=spoken.waveform
                )
                return
            except discord.HTTPException as error:
                log.warning("Discord refused the voice message (%s); sending a plain attachment", error)
        await interaction.followup.send(
            f"{mood.emoji} {mood.value.capitalize()}, spoken by {spoken.voice}",
            file=discord.File(io.BytesIO(spoken.ogg), filename=f"moodbot-{mood.value}.ogg"),
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: MoodBot) -> None:
    await bot.add_cog(Speak(bot))
