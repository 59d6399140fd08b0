"""``moodbot run``: start the Discord bot with settings from the environment or ``.env``.

discord.py and the models are imported inside the handler so other subcommands never load them. Start-up
problems a self-hoster can fix (no token, a rejected token, the Message Content intent switched off, a
development server the bot is not in, a settings database that is locked, unwritable or in the wrong
place, Discord closing the gateway for good) end in one line on stderr, never a traceback, and the token is
never printed or logged. SIGINT and SIGTERM stop the bot cleanly: no new work is taken, work in flight is
answered for up to ``MOODBOT_SHUTDOWN_TIMEOUT_S``, then it disconnects (docs/deployment.md sizes that
against ``docker stop`` and systemd).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import importlib.util
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING

from bot.cli.env_file import add_env_file, load_env_file

if TYPE_CHECKING:
    from bot.app import MoodBot
    from bot.config import Config

log = logging.getLogger(__name__)

_REJECTED_TOKEN = (
    "Discord rejected DISCORD_TOKEN; copy a fresh one from the Developer Portal (your application → Bot → "
    "Reset Token)."
)
#: Gateway close codes after which discord.py gives up, with what the self-hoster should do. 4014
#: (disallowed intents) is not here: discord.py raises ``PrivilegedIntentsRequired`` for it instead.
_CLOSE_ADVICE = {
    # Authentication failed: the token was reset after the REST login accepted it.
    4004: _REJECTED_TOKEN,
    # Sharding required. The bot asks Discord for its shard count at each start, so a shard only
    # outgrows its share of servers while running; a new start gets a new count.
    4011: "Discord requires more shards (gateway close code 4011: too many servers for the shard count "
    "chosen at start-up); start MoodBot again and it will ask Discord for the new count (where "
    "MOODBOT_SHARD_COUNT fixes it, raise it in every process).",
}
_CLOSE_CODES_URL = (
    "https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="start the Discord bot",
        description="Start the Discord bot. Settings come from the environment or a .env file; "
        "see .env.example and docs/discord-setup.md.",
    )
    add_env_file(parser)
    parser.add_argument(
        "--sync",
        action="store_true",
        help="publish the slash commands globally (once after installing or upgrading; without "
        "MOODBOT_DEV_GUILD_ID). Discord can take a while to show them.",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from bot.config import Config, ConfigError
    from bot.store import StoreError

    if not load_env_file(args.env_file, "run"):
        return 2
    try:
        config = Config.from_env(os.environ)
    except ConfigError as error:
        print(f"moodbot run: {error}", file=sys.stderr)
        return 2
    if config.redis_url is not None and (missing := queue_extra_missing()):
        print(f"moodbot run: {missing}", file=sys.stderr)
        return 2

    import discord

    # discord.py's handler replaces the CLI's plain one, so lines are not printed twice.
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    discord.utils.setup_logging(level=logging.DEBUG if args.verbose else config.log_level, root=True)
    if config.redis_url is not None:
        from bot.queue import quiet_arq_logs

        quiet_arq_logs(verbose=args.verbose)

    try:
        bot = _build(config, sync_global=args.sync)
    except StoreError as error:
        print(f"moodbot run: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(bot, config.discord_token))
    except Exception as error:
        line = _explain(error)
        if line is None:
            raise
        print(f"moodbot run: {line}", file=sys.stderr)
        return 2
    return 0


def queue_extra_missing() -> str | None:
    """The line to print where MOODBOT_REDIS_URL is set but arq (the `queue` extra) is not installed."""
    if importlib.util.find_spec("arq") is not None:
        return None
    return "MOODBOT_REDIS_URL needs the job queue: pip install 'moodbot[queue]' (arq and redis-py)."


def redis_problem(error: Exception) -> str | None:
    """The line for a Redis that could not be used (refused, unknown host, bad password), or ``None``
    for any other error; the bot and ``moodbot worker`` both end with it."""
    if not type(error).__module__.startswith("redis"):  # only importable with the `queue` extra
        return None
    return (
        f"could not use the Redis at MOODBOT_REDIS_URL ({error.__class__.__name__}: {error}); check "
        "that it is running and reachable"
    )


def _explain(error: Exception) -> str | None:
    """The one line for a failure the self-hoster can fix, or ``None`` for a bug (it keeps its traceback)."""
    import aiohttp
    import discord

    from bot.app import DevGuildError

    if isinstance(error, discord.LoginFailure):
        return _REJECTED_TOKEN
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return (
            "the Message Content intent is off; switch it on in the Developer Portal (your application → "
            "Bot → Privileged Gateway Intents)."
        )
    if isinstance(error, discord.ConnectionClosed):
        return _CLOSE_ADVICE.get(
            error.code,
            f"Discord closed the gateway connection with code {error.code}, after which it cannot "
            f"reconnect; see {_CLOSE_CODES_URL}",
        )
    if isinstance(error, DevGuildError):
        return str(error)
    if isinstance(error, discord.GatewayNotFound):
        # The shard count request (GET /gateway/bot) failed after the token was accepted.
        return (
            "Discord did not say where to connect (GatewayNotFound), which usually means an outage on its "
            "side; see https://discordstatus.com and try again."
        )
    if line := redis_problem(error):
        return f"{line}, or unset MOODBOT_REDIS_URL to run the models in this process."
    if isinstance(error, (OSError, aiohttp.ClientConnectionError, asyncio.TimeoutError)):
        # discord.py retries a dropped gateway itself; this is the first connection failing.
        return (
            f"could not reach Discord ({error.__class__.__name__}: {error}); check this machine's internet "
            "connection and try again."
        )
    return None


def _build(config: Config, *, sync_global: bool) -> MoodBot:
    """Open the settings store, then load the models (seconds, before the event loop starts).

    The store comes first, before even the models' imports, so that a database problem ends start-up at
    once rather than after them.
    """
    from bot.store import SettingsStore

    store = SettingsStore(config.db_path)
    try:
        from bot.app import MoodBot
        from bot.queue import RedisPool
        from bot.tasks import Models
        from bot.worker import WorkerPool
        from emotion_core import EmotionRecognizer

        log.info("Loading the models")
        pool: WorkerPool | RedisPool
        if config.redis_url is not None:
            # The workers hold the models; this process needs only the recogniser's profile facts.
            log.info("Model work goes to `moodbot worker` processes through Redis")
            recognizer = EmotionRecognizer.from_pretrained()
            pool = RedisPool(config.redis_url, workers=config.workers, queue_size=config.queue_size)
        else:
            models = Models.load()
            assert models.recognizer is not None and models.synthesizer is not None  # both lanes
            recognizer = models.recognizer
            log.info("Models loaded and warmed up (synthesizer voice: %s)", models.synthesizer.voice_name)
            pool = WorkerPool(workers=config.workers, queue_size=config.queue_size, models=models)
        _return_freed_memory()
    except BaseException:
        asyncio.run(store.close())
        raise
    return MoodBot(config=config, recognizer=recognizer, store=store, pool=pool, sync_global=sync_global)


def _return_freed_memory() -> None:
    """Hand the heap that warm-up freed back to the operating system (glibc keeps it otherwise:
    about 20 MB of the idle bot's resident memory). Elsewhere there is nothing to do."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


async def _serve(bot: MoodBot, token: str) -> None:
    """Run until the bot stops or a stop signal arrives; in both cases close (and drain) the bot."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        async with bot:
            running = asyncio.create_task(bot.start(token))
            stopping = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if running in done:
                running.result()
                return
            log.info("Stop signal received: finishing work in flight, then disconnecting")
            await bot.close()
            await running
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
