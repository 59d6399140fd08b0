"""The bot itself: a ``commands.AutoShardedBot`` that receives its models, settings store and worker pool.

Everything the extensions need is passed to the constructor (as discord.py's
``examples/advanced_startup.py`` does), so tests and the benchmark build the same bot with a temporary
database and the real models, and the extensions never reach for globals. ``setup_hook`` loads one
extension per feature and syncs slash commands to the development guild; ``close`` first lets
in-flight work finish so that every accepted message still gets its reply.

The bot is auto-sharded because Discord refuses a single gateway connection once a bot is in 2,500
servers (close code 4011, "sharding required"). Auto-sharding asks Discord for its recommended shard
count at every start (``GET /gateway/bot``); below about 1,000 servers that is one shard, so a small
bot runs exactly as an unsharded one does, and a growing one keeps starting without a code change.
Past one process, ``MOODBOT_SHARD_COUNT`` fixes the count for every process and ``MOODBOT_SHARD_IDS``
names the shards this one runs (each shard in exactly one process); with Redis (``MOODBOT_REDIS_URL``)
their capacity and fair shares are shared and the models run in ``moodbot worker`` processes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.config import Config
from bot.errors import DevGuildError
from bot.store import SettingsStore
from bot.worker import WorkerPool

if TYPE_CHECKING:
    from bot.queue import RedisPool
    from emotion_core import EmotionRecognizer

log = logging.getLogger(__name__)

#: One extension per feature; ``errors`` first so its handler is in place before any command runs.
EXTENSIONS: tuple[str, ...] = (
    "bot.exts.errors",
    "bot.exts.analyze",
    "bot.exts.speak",
    "bot.exts.admin",
    "bot.exts.profile",
    "bot.exts.privacy",
)


class MoodBot(commands.AutoShardedBot):
    """MoodBot's Discord client.

    Parameters
    ----------
    config : Config
        Process settings (token, limits, cooldowns).
    recognizer : EmotionRecognizer
        The recogniser whose profile network and feature size the voice profiles follow; the model
        work itself runs wherever ``pool`` sends it.
    store : SettingsStore
        Per-guild settings.
    pool : WorkerPool or RedisPool
        Admission control for model work, and where it runs: threads of this process, or worker
        processes fed through Redis.
    sync_global : bool
        Publish the slash commands globally in ``setup_hook`` (once after install or upgrade; with
        ``config.dev_guild_id`` set they are synced to that guild on every start instead).
    """

    def __init__(
        self,
        *,
        config: Config,
        recognizer: EmotionRecognizer,
        store: SettingsStore,
        pool: WorkerPool | RedisPool,
        sync_global: bool = False,
        extensions: Sequence[str] = EXTENSIONS,
    ) -> None:
        # MoodBot never joins a voice channel (its voice messages are uploads), so discord.py's warning at
        # every start that voice support is not installed is noise; these flags are its off switch.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.default()
        # Reading attachments of ordinary messages needs the privileged Message Content intent.
        intents.message_content = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            # The bot never pings anyone, whatever text it repeats back.
            allowed_mentions=discord.AllowedMentions.none(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            shard_count=config.shard_count,
            # None, discord.py's own default, runs every shard; its typed options leave None out.
            shard_ids=None if config.shard_ids is None else list(config.shard_ids),  # type: ignore[arg-type]
        )
        self.config = config
        self.recognizer = recognizer
        self.store = store
        self.pool = pool
        self.sync_global = sync_global
        self.initial_extensions = tuple(extensions)

    async def setup_hook(self) -> None:
        """Load the extensions and publish the slash commands where they should appear.

        Raises
        ------
        DevGuildError
            Discord refused the sync to ``config.dev_guild_id`` (not a server the bot is in).
        """
        await self.pool.open()
        if not self.config.community and await self.store.delete_community():
            log.info("MOODBOT_COMMUNITY is off: the community statistics were deleted")
        for extension in self.initial_extensions:
            await self.load_extension(extension)
        if self.config.dev_guild_id is not None:
            guild = discord.Object(id=self.config.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                synced = await self.tree.sync(guild=guild)
            except (discord.Forbidden, discord.NotFound) as error:
                raise DevGuildError(guild.id, error.text or str(error.status)) from error
            log.info("Synced %d command(s) to development guild %s", len(synced), guild.id)
        elif self.sync_global:
            synced = await self.tree.sync()
            log.info("Synced %d global command(s); Discord may take a while to show them", len(synced))

    async def on_ready(self) -> None:
        user_id = self.user.id if self.user else None
        log.info("Logged in as %s (id %s) in %d server(s)", self.user, user_id, len(self.guilds))

    async def close(self) -> None:
        """Stop taking work, let admitted jobs reply, then disconnect and close the database."""
        await self.pool.drain(timeout_s=self.config.shutdown_timeout_s)
        await super().close()
        await self.store.close()
