"""A burst of voice messages through the bot's real handler path, against the in-memory Discord.

Measures what a busy server would feel: the event loop's worst lateness while 50 voice messages are
decoded, recognised and answered (a ticker task asks to wake every 10 ms and records how late it
wakes; target < 100 ms), whether every message got an answer, the process's peak resident memory,
and the time to answer a single 10 s voice message with the download excluded (target < 1 s).

Run from the project root: ``nice -n 10 .venv/bin/python benchmarks/bench_bot_burst.py``.
The real recogniser (``models/ser``) and the offline voice are used; only Discord's HTTP edge is fake.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # the fake Discord lives with the tests

from bot.exts.analyze import warm_up  # noqa: E402
from emotion_core.recognizer.infer import EmotionRecognizer  # noqa: E402
from emotion_core.synth.pipeline import Synthesizer  # noqa: E402
from tests.bot import fakes  # noqa: E402
from tests.emotion_core.conftest import make_encoded_audio  # noqa: E402

TICK_S = 0.010
REPLY = rf"/channels/{fakes.CHANNEL_ID}/messages"


class LagMeter:
    """A task that sleeps ``TICK_S`` at a time and records how much later than asked it wakes."""

    def __init__(self) -> None:
        self.lags_s: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + TICK_S
            await asyncio.sleep(TICK_S)
            self.lags_s.append(loop.time() - asked)

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.lags_s) or [0.0]
        return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def __enter__(self) -> LagMeter:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()


def voice_message(api: fakes.FakeDiscord, message_id: int, user_id: int, data: bytes, duration_s: float):
    attachment = fakes.attachment_payload(
        message_id + 1,
        "voice-message.ogg",
        size=len(data),
        content_type="audio/ogg",
        duration_secs=duration_s,
        waveform=bytes(64),
    )
    api.host(attachment["url"], data)
    author = fakes.user_payload(user_id, f"user{user_id % 1000}")
    return fakes.message_payload(message_id, author=author, attachments=[attachment], flags=8192)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def burst(recognizer, synthesizer, *, count: int, queue_size: int, clip: bytes) -> dict:
    api = fakes.FakeDiscord()
    with tempfile.TemporaryDirectory() as folder:
        config = fakes.make_config(Path(folder), queue_size=queue_size)
        bot = await fakes.start_bot(api, config, recognizer=recognizer, synthesizer=synthesizer)
        payloads = [voice_message(api, 10_000 + 10 * i, 20_000 + i, clip, 4.0) for i in range(count)]
        started = time.perf_counter()
        with LagMeter() as lag:
            for payload in payloads:
                bot._connection.parse_message_create(payload)
            await fakes.settle(bot, timeout_s=600)
        elapsed = time.perf_counter() - started
        replies = api.sent("POST", REPLY)
        await bot.close()
    answered = {r.payload["message_reference"]["message_id"] for r in replies}
    return {
        "messages": count,
        "capacity": config.capacity,
        "answered": len(answered),
        "moods": sum(bool(r.payload.get("embeds")) for r in replies),
        "busy": sum("busy" in (r.payload.get("content") or "") for r in replies),
        "seconds": elapsed,
        "p99_lag_ms": lag.percentile_ms(0.99),
        "max_lag_ms": lag.percentile_ms(1.0),
    }


async def single(recognizer, synthesizer, *, runs: int, clip: bytes) -> list[float]:
    api = fakes.FakeDiscord()
    with tempfile.TemporaryDirectory() as folder:
        bot = await fakes.start_bot(
            api, fakes.make_config(Path(folder)), recognizer=recognizer, synthesizer=synthesizer
        )
        latencies = []
        for run in range(runs + 1):  # the first run warms the handler path and is not counted
            payload = voice_message(api, 50_000 + 10 * run, 60_000 + run, clip, 10.0)
            started = time.perf_counter()
            bot._connection.parse_message_create(payload)
            await api.wait_for("POST", REPLY, count=run + 1)
            if run:
                latencies.append(time.perf_counter() - started)
            await fakes.settle(bot)
        await bot.close()
    return latencies


async def main(args: argparse.Namespace) -> None:
    rss_start = peak_rss_mb()
    recognizer = EmotionRecognizer.from_pretrained()
    synthesizer = Synthesizer.from_pretrained(voice="espeak")
    short = make_encoded_audio("ogg-opus", duration_s=4.0, sample_rate=48000)
    long = make_encoded_audio("ogg-opus", duration_s=10.0, sample_rate=48000)
    warm_up(recognizer, synthesizer)  # as `moodbot run` does before connecting
    rss_models = peak_rss_mb()

    rows = [
        await burst(recognizer, synthesizer, count=args.messages, queue_size=args.messages, clip=short),
        await burst(recognizer, synthesizer, count=args.messages, queue_size=16, clip=short),
    ]
    latencies = await single(recognizer, synthesizer, runs=args.runs, clip=long)

    print(f"\nBurst of {args.messages} voice messages (4 s Ogg/Opus each), 2 workers")
    print(
        f"{'capacity':>8} {'answered':>9} {'moods':>6} {'busy':>5} {'total s':>8} "
        f"{'loop lag p99 ms':>16} {'max ms':>7}"
    )
    for row in rows:
        print(
            f"{row['capacity']:>8} {row['answered']:>6}/{row['messages']:<2} {row['moods']:>6} "
            f"{row['busy']:>5} {row['seconds']:>8.2f} {row['p99_lag_ms']:>16.1f} {row['max_lag_ms']:>7.1f}"
        )
    print(f"\nSingle 10 s voice message, download excluded, {len(latencies)} runs")
    print(f"median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    load_1min = os.getloadavg()[0]
    print(f"\nLoad average during the run: {load_1min:.1f} on {os.cpu_count()} CPUs")
    print(
        f"Peak RSS: {peak_rss_mb():.0f} MB (interpreter {rss_start:.0f} MB, "
        f"after loading models {rss_models:.0f} MB)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50, help="voice messages in the burst")
    parser.add_argument("--runs", type=int, default=10, help="single-message timings")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
