"""Hearing: analyse voice messages and audio uploads, automatically, with ``/mood`` or the context menu.

Every path does the cheap checks first (is it audio, is it small enough, is the person on cooldown, is
there room in the worker pool) so a refusal costs no download; then it downloads into memory (audio is
never written to disk), runs the recogniser and the chart on a worker thread, and answers. Automatic
analysis replies to the message without pinging anyone; an accepted message always gets an answer,
the mood or the reason there is none.
"""

from __future__ import annotations

import io
import logging
import operator
from pathlib import PurePath
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.errors import DuplicateJobError, PoolBusyError
from bot.explain import explain
from bot.outbox import Outbox
from bot.store import DEFAULTS, GuildSettings, StoreError
from bot.tasks import Analysis, Speaker, analyze
from bot.worker import Admitted
from emotion_core import (
    AUDIO_SUFFIXES,
    AudioError,
    AudioLimits,
    AudioTooLargeError,
    CommunityVoice,
    VoiceProfile,
)

if TYPE_CHECKING:
    from bot.app import MoodBot
    from emotion_core import EmotionResult

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


def is_audio(attachment: discord.Attachment) -> bool:
    """Whether an attachment is a voice message or an audio file, by flag, content type or name."""
    if attachment.is_voice_message():
        return True
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    # The name decides only when Discord sends no audio content type.
    return content_type.startswith("audio/") or PurePath(attachment.filename).suffix.lower() in AUDIO_SUFFIXES


def first_audio(message: discord.Message) -> discord.Attachment | None:
    """The message's first audio attachment (a voice message has exactly one), if any."""
    return next((a for a in message.attachments if is_audio(a)), None)


def check_size(attachment: discord.Attachment, limit_bytes: int) -> None:
    """Refuse an attachment over the limit from its declared size, before downloading a byte."""
    if attachment.size > limit_bytes:
        raise AudioTooLargeError(
            f"That file is {attachment.size / 2**20:.1f} MB; I can listen to files up to "
            f"{limit_bytes / 2**20:.0f} MB.",
            size_bytes=attachment.size,
            limit_bytes=limit_bytes,
        )


def embed_reply(analysis: Analysis) -> tuple[discord.Embed, list[discord.File]]:
    """The embed and its attachments (the chart, when there is one) for one analysis."""
    png = analysis.timeline_png
    embed = render.mood_embed(analysis.result, timeline_attached=png is not None, note=analysis.profile_note)
    files = [] if png is None else [discord.File(io.BytesIO(png), filename=render.TIMELINE_FILENAME)]
    return embed, files


class Analyze(commands.Cog):
    """Listens for audio in new messages and provides ``/mood`` and the "Analyze mood" context menu."""

    def __init__(self, bot: MoodBot) -> None:
        self.bot = bot
        self.limits = AudioLimits(
            max_bytes=bot.config.max_upload_bytes, max_duration_s=bot.config.max_audio_s
        )
        # One bucket per user shared by all three paths, so the context menu is no way around it.
        self._cooldowns = commands.CooldownMapping.from_cooldown(
            bot.config.analyze_per_minute, 60.0, operator.attrgetter("id")
        )
        self._context_menu = app_commands.ContextMenu(name="Analyze mood", callback=self.analyze_message)
        self._warned_channels: set[int] = set()  # channels whose missing permission was logged
        self.outbox = Outbox()  # automatic answers, merged under a channel's rate limit
        bot.tree.add_command(self._context_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self._context_menu.name, type=self._context_menu.type)

    # -- automatic analysis -----------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Analyse the first audio attachment of a new message, where the server (or, in a DM, the
        person) turned automatic analysis on and the author has not opted out.

        Nothing is posted for a refusal (busy, slow down, more than a fair share): in a busy channel
        refusals would outnumber the answers and use up Discord's rate limits. They are logged instead.
        """
        if message.author.bot:
            return
        attachment = first_audio(message)
        if attachment is None:
            return
        settings = await self._consented(message)
        if settings is None or not self._can_answer(message, settings):
            return
        try:
            job = await self._admit(
                message.author, attachment, f"message-{message.id}", check_size_first=False
            )
        except DuplicateJobError:
            log.info("Message %s is already being answered by another process", message.id)
            return
        except (PoolBusyError, app_commands.CommandOnCooldown) as refusal:
            log.info("Not analysing message %s from %s: %s", message.id, message.author.id, refusal)
            return
        except AudioTooLargeError as error:
            await self._send_error(message, error)
            return
        with job:
            try:
                speaker = await self._speaker(message.author)
                async with message.channel.typing():
                    analysis = await self._analyze(job, attachment, speaker)
            except discord.NotFound:
                log.info("Message %s was deleted before its clip could be fetched", message.id)
                return
            except Exception as error:
                job.done_computing()
                await self._send_error(message, error)
                return
            job.done_computing()  # the reply may wait on Discord's rate limit: it holds no slot
            await self._reply(message, analysis, settings)
            await self._learn(speaker, analysis.result, consent_checked=True)

    async def _consented(self, message: discord.Message) -> GuildSettings | None:
        """The settings to answer with, or ``None`` where automatic analysis has no consent: the server's
        switch and channels (in a DM, the person's own switch), and the author's opt-out. A settings
        database that cannot be read means no: without it there is no consent to go on."""
        try:
            consent = await self.bot.store.consent(message.author.id)
            if consent.opted_out:
                return None
            if message.guild is None:
                return DEFAULTS if consent.dm_analysis else None
            settings = await self.bot.store.get(message.guild.id)
        except StoreError as error:
            log.warning("Not analysing message %s: %s", message.id, error)
            return None
        parent_id = getattr(message.channel, "parent_id", None)
        return settings if settings.auto_analyze and settings.allows(message.channel.id, parent_id) else None

    def _can_answer(self, message: discord.Message, settings: GuildSettings) -> bool:
        """Whether the bot may answer in this channel, checked before anything is downloaded.

        A missing permission would otherwise cost a download, the analysis and a refused request
        (which counts towards Discord's limit on invalid requests); it is logged once per channel.
        """
        if message.guild is None:
            return True
        permissions = message.channel.permissions_for(message.guild.me)
        in_thread = isinstance(message.channel, discord.Thread)
        needed: dict[str, bool] = {"view_channel": True}
        if settings.reply_style == "reaction":
            needed |= {"add_reactions": True, "read_message_history": True}
        else:
            send = "send_messages_in_threads" if in_thread else "send_messages"
            needed |= {send: True, "embed_links": True, "attach_files": True}  # the chart is a file
        missing = [name for name in needed if not getattr(permissions, name)]
        if missing:
            if message.channel.id not in self._warned_channels:
                self._warned_channels.add(message.channel.id)
                log.info(
                    "Not analysing voice messages in channel %s: missing permission %s",
                    message.channel.id,
                    ", ".join(missing),
                )
            return False
        return True

    async def _reply(self, message: discord.Message, analysis: Analysis, settings: GuildSettings) -> None:
        try:
            if settings.reply_style == "reaction":
                await message.add_reaction(render.reaction_emoji(analysis.result))
                return
            embed, files = embed_reply(analysis)
            await self.outbox.reply(message, embed, files, self._reference(message))
        except discord.HTTPException as failure:
            log.info("Could not answer message %s in %s: %s", message.id, message.channel.id, failure)

    def _reference(self, message: discord.Message) -> discord.MessageReference | None:
        """A reply needs Read Message History; without it the answer is posted without the link."""
        if (
            message.guild is not None
            and not message.channel.permissions_for(message.guild.me).read_message_history
        ):
            return None
        return message.to_reference(fail_if_not_exists=False)

    async def _send_error(self, message: discord.Message, error: Exception) -> None:
        try:
            await message.channel.send(
                explain(error),
                reference=self._reference(message),  # type: ignore[arg-type]  # None is accepted
                mention_author=False,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as failure:
            log.info("Could not answer message %s in %s: %s", message.id, message.channel.id, failure)

    # -- on request -------------------------------------------------------------------------------

    @app_commands.command(name="mood")
    @app_commands.describe(clip="A voice recording or audio file: ogg, opus, wav, mp3, m4a, webm or flac")
    async def mood(self, interaction: discord.Interaction, clip: discord.Attachment) -> None:
        """Hear the mood in an audio clip."""
        await self._answer(interaction, clip, interaction.user, learn=True)

    async def analyze_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Hear the mood in an earlier message's voice message or audio file."""
        attachment = first_audio(message)
        if attachment is None:
            raise AudioError("That message has no voice message or audio file.")
        if (
            message.author.id != interaction.user.id
            and (await self.bot.store.consent(message.author.id)).opted_out
        ):
            raise AudioError(
                f"{message.author.display_name} has asked MoodBot not to analyse their messages."
            )
        # An earlier message may be analysed again and again: it is heard against its author's
        # profile but never added to it.
        await self._answer(interaction, attachment, message.author, learn=False)

    async def _answer(
        self,
        interaction: discord.Interaction,
        attachment: discord.Attachment,
        author: discord.abc.User,
        *,
        learn: bool,
    ) -> None:
        """Defer (the clip can take longer than Discord's 3 s), analyse, and answer in the deferred reply.

        Refusals (not audio, too large, slow down, busy) come before the defer, so they are private.
        """
        if not is_audio(attachment):
            raise AudioError(
                f"{attachment.filename} doesn't look like audio; send a voice message or "
                f"an ogg, opus, wav, mp3, m4a, webm or flac file."
            )
        settings = await self._settings(interaction.guild_id)
        with await self._admit(interaction.user, attachment, f"interaction-{interaction.id}") as job:
            await interaction.response.defer(thinking=True, ephemeral=settings.ephemeral)
            speaker = await self._speaker(author)
            analysis = await self._analyze(job, attachment, speaker)
            job.done_computing()
            if interaction.is_expired():
                log.info("Dropping an answer to %s: its interaction expired", interaction.user.id)
                return
            embed, files = embed_reply(analysis)
            await interaction.edit_original_response(
                embed=embed, attachments=files, allowed_mentions=NO_MENTIONS
            )
        if learn:
            await self._learn(speaker, analysis.result)

    # -- shared steps -----------------------------------------------------------------------------

    async def _settings(self, guild_id: int | None) -> GuildSettings:
        return DEFAULTS if guild_id is None else await self.bot.store.get(guild_id)

    async def _admit(
        self,
        user: discord.abc.User,
        attachment: discord.Attachment,
        job_id: str,
        *,
        check_size_first: bool = True,
    ) -> Admitted:
        """Size, cooldown, fair-share and capacity checks; raises the error to answer with.

        Automatic analysis checks the size after the cooldown, so that a flood of oversized files is
        held to the same rate as any other and cannot flood the channel with "too large" answers.
        """
        if check_size_first:
            check_size(attachment, self.bot.config.max_upload_bytes)
        bucket = self._cooldowns.get_bucket(user)
        if bucket is not None and (retry_after := bucket.update_rate_limit()):
            raise app_commands.CommandOnCooldown(bucket, retry_after)
        if not check_size_first:
            check_size(attachment, self.bot.config.max_upload_bytes)
        return await self.bot.pool.reserve(user.id, job_id=job_id)

    async def _analyze(self, job: Admitted, attachment: discord.Attachment, speaker: Speaker) -> Analysis:
        data = await attachment.read()
        return await job.run(analyze, data, self.limits, speaker, await self._community())

    async def _community(self) -> CommunityVoice | None:
        """The community statistics to hear the clip against, where they are on and kept."""
        if not self.bot.config.community or self.bot.recognizer.reference is None:
            return None
        try:
            return await self.bot.store.community(self.bot.recognizer.n_functionals)
        except StoreError as error:  # heard as before this once
            log.warning("Analysing without the community statistics: %s", error)
            return None

    async def _speaker(self, user: discord.abc.User) -> Speaker:
        """The person's opt-in state and profile; a stored profile this recogniser cannot use (another
        feature version) counts as empty and is replaced by the next message."""
        if self.bot.recognizer.profiled is None:
            return Speaker(user.id)
        try:
            stored = await self.bot.store.voice_profile(user.id)
        except StoreError as error:  # heard as anybody's voice this once, and nothing is learnt
            log.warning("Analysing without the voice profile of user %s: %s", user.id, error)
            return Speaker(user.id)
        if stored is None:
            return Speaker(user.id)
        if stored.mean is None:
            return Speaker(user.id, opted_in=True)
        try:
            profile = VoiceProfile.from_bytes(stored.count, stored.mean, self.bot.recognizer.n_functionals)
        except ValueError:
            log.warning("Discarding a voice profile that does not fit this recogniser (user %s)", user.id)
            profile = None
        return Speaker(user.id, opted_in=True, profile=profile)

    async def _learn(self, speaker: Speaker, result: EmotionResult, *, consent_checked: bool = False) -> None:
        """Add the clip to the community statistics and to an opted-in person's profile, after they have
        had their answer. ``consent_checked``: the caller has already read that the person has not
        opted out (automatic analysis does, before it analyses), so it is not read again."""
        if result.voice is None:
            return
        if self.bot.config.community and self.bot.recognizer.reference is not None:
            try:  # someone who opted out of analysis (and still uses /mood) is not counted
                if consent_checked or not (await self.bot.store.consent(speaker.user_id)).opted_out:
                    await self.bot.store.add_to_community(result.voice)
            except Exception:  # the reply is out; a failed update costs the statistics one clip
                log.exception("Could not add a clip to the community statistics")
        if not speaker.opted_in:
            return
        profile = (
            VoiceProfile.first(result.voice)
            if speaker.profile is None
            else speaker.profile.updated(result.voice)
        )
        try:
            await self.bot.store.save_profile(speaker.user_id, profile.count, profile.to_bytes())
        except Exception:  # the reply is out; a profile update that fails costs one message of history
            log.exception("Could not update the voice profile of user %s", speaker.user_id)


async def setup(bot: MoodBot) -> None:
    await bot.add_cog(Analyze(bot))
