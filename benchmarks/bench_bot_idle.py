"""The bot's resident memory when idle: everything `moodbot run` does before connecting to Discord.

Builds the bot exactly as `moodbot run` does (settings store, the shipped recogniser and its profile
network, the default voice, warm-up, the extensions loaded), in a fresh process, then reports the
resident set (what the bot holds while it waits for messages) and the peak. Target (issue 11): idle
<= 300 MB.

    python -m benchmarks.bench_bot_idle
"""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


async def main() -> None:
    started = time.perf_counter()
    from bot.cli.run import _build
    from bot.config import Config
    from bot.worker import WorkerPool

    with tempfile.TemporaryDirectory() as data:
        config = Config.from_env({"DISCORD_TOKEN": "x" * 59, "MOODBOT_DATA_DIR": data})
        bot = _build(config, sync_global=False)
        await bot.setup_hook()  # the extensions and the worker pool, as on connect
        ready_s = time.perf_counter() - started
        await asyncio.sleep(1.0)
        idle = rss_mb()
        assert isinstance(bot.pool, WorkerPool), "without MOODBOT_REDIS_URL the models live in the bot"
        synthesizer = bot.pool.models.synthesizer
        print(f"voice: {synthesizer.voice_name if synthesizer else 'none'}")
        print(
            f"ready in {ready_s:.2f} s; idle resident memory {idle:.0f} MB; "
            f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
            f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
        )
        await bot.pool.drain(timeout_s=1.0)  # never connected: close the parts, not the gateway
        await bot.store.close()


if __name__ == "__main__":
    asyncio.run(main())
