"""``moodbot run``: start the Discord bot with settings from the environment or ``.env``.

discord.py and the models are imported inside the handler so other subcommands never load them. Start-up
problems a self-hoster can fix (no token, a rejected token, the Message Content intent switched off, a
settings database that is locked, unwritable or in the wrong place) end in one line on stderr, never a
traceback, and the token is never printed or logged. SIGINT and SIGTERM stop the bot cleanly: no new work
is taken, work in flight is answered, then it disconnects.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import MoodBot
    from bot.config import Config

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="start the Discord bot",
        description="Start the Discord bot. Settings come from the environment or a .env file; "
        "see .env.example and docs/discord-setup.md.",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=Path(".env"),
        help="file of KEY=value settings; the environment wins over it (default: .env)",
    )
    parser.add_argument(
        "--sync",
        action="store_true",
        help="publish the slash commands globally (once after installing or upgrading; without "
        "MOODBOT_DEV_GUILD_ID). Discord can take a while to show them.",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from dotenv import load_dotenv

    from bot.config import Config, ConfigError
    from bot.store import StoreError

    load_dotenv(args.env_file, override=False)
    try:
        config = Config.from_env(os.environ)
    except ConfigError as error:
        print(f"moodbot run: {error}", file=sys.stderr)
        return 2

    import aiohttp
    import discord

    # discord.py's handler replaces the CLI's plain one, so lines are not printed twice.
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    discord.utils.setup_logging(level=logging.DEBUG if args.verbose else config.log_level, root=True)

    try:
        bot = _build(config, sync_global=args.sync)
    except StoreError as error:
        print(f"moodbot run: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(bot, config.discord_token))
    except discord.LoginFailure:
        print(
            "moodbot run: Discord rejected DISCORD_TOKEN; copy a fresh one from the Developer "
            "Portal (your application → Bot → Reset Token).",
            file=sys.stderr,
        )
        return 2
    except (OSError, aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
        # discord.py retries a dropped gateway itself; this is the first connection failing.
        print(
            f"moodbot run: could not reach Discord ({error.__class__.__name__}: {error}); check "
            "this machine's internet connection and try again.",
            file=sys.stderr,
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print(
            "moodbot run: the Message Content intent is off; switch it on in the Developer Portal "
            "(your application → Bot → Privileged Gateway Intents).",
            file=sys.stderr,
        )
        return 2
    return 0


def _build(config: Config, *, sync_global: bool) -> MoodBot:
    """Open the settings store, then load the models (seconds, before the event loop starts).

    The store comes first, before even the models' imports, so that a database problem ends start-up at
    once rather than after them.
    """
    from bot.store import SettingsStore

    store = SettingsStore(config.db_path)
    try:
        from bot.app import MoodBot
        from bot.exts.analyze import warm_up
        from bot.worker import WorkerPool
        from emotion_core.recognizer.infer import EmotionRecognizer
        from emotion_core.synth.pipeline import Synthesizer

        log.info("Loading the models")
        recognizer = EmotionRecognizer.from_pretrained()
        synthesizer = Synthesizer.from_pretrained()
        log.info("Warming up the models (synthesiser voice: %s)", synthesizer.voice_name)
        warm_up(recognizer, synthesizer)
    except BaseException:
        asyncio.run(store.close())
        raise
    return MoodBot(
        config=config,
        recognizer=recognizer,
        synthesizer=synthesizer,
        store=store,
        pool=WorkerPool(workers=config.workers, queue_size=config.queue_size),
        sync_global=sync_global,
    )


async def _serve(bot: MoodBot, token: str) -> None:
    """Run until the bot stops or a stop signal arrives; in both cases close (and drain) the bot."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
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
