"""Bursts of voice messages through the bot's real handler path, against the in-memory Discord.

Measures what a busy server would feel, with and without Discord's per-channel limit on messages
(5 per 5 s, emulated by the fake with real 429s and Retry-After): how many clips were answered, that no
refusal message was posted, the time from a message to its answer (median and 95th percentile), the
event loop's worst lateness (a ticker asks to wake every 10 ms; target < 100 ms); one flooder followed by
ten others (target: the others' median wait <= 2 s); the process's peak resident memory; and the time to
answer a single 10 s voice message with the download excluded (target < 1 s).

Run from the project root: ``nice -n 10 .venv/bin/python -m benchmarks.bench_bot_burst [--messages 100]``.
The real recogniser (``models/ser``) and the offline voice are used; only Discord's HTTP edge is fake.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from bot import outbox
from bot.tasks import Models, warm_up
from emotion_core.recognizer.infer import EmotionRecognizer
from emotion_core.synth.pipeline import Synthesizer
from tests.helpers import fakes
from tests.helpers.audio import make_encoded_audio

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


async def started_bot(api: fakes.FakeDiscord, folder: str, recognizer, synthesizer, **overrides):
    """The bot in the fake guild, with automatic analysis turned on as a server manager would."""
    config = fakes.make_config(Path(folder), **overrides)
    bot = await fakes.start_bot(api, config, recognizer=recognizer, synthesizer=synthesizer)
    await bot.store.update(fakes.GUILD_ID, auto_analyze=True)
    return bot, config


def answered_ids(request: fakes.Request) -> list[int]:
    """The messages a reply answers: its reference, or for a merged reply each card's link."""
    payload = request.payload or {}
    if payload.get("message_reference"):
        return [int(payload["message_reference"]["message_id"])]
    return [int(e["author"]["url"].rsplit("/", 1)[1]) for e in payload.get("embeds", []) if e.get("author")]


def answer_times(api: fakes.FakeDiscord, posted_at: dict[int, float]) -> dict[int, float]:
    """Seconds from each message's arrival to the accepted reply to it (429s excluded)."""
    times = {}
    for request in api.sent("POST", REPLY):
        if request.status == 200:
            for message_id in answered_ids(request):
                times[message_id] = request.at_s - posted_at[message_id]
    return times


def summary(times: list[float]) -> tuple[float, float]:
    """Median and 95th percentile of ``times`` (s); zeros for none."""
    if not times:
        return 0.0, 0.0
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def burst(recognizer, synthesizer, *, count: int, queue_size: int, clip: bytes, limited: bool) -> dict:
    """``count`` people post one voice message each at once in one channel."""
    api = fakes.FakeDiscord()
    if limited:
        api.rate_limits(per_channel=(5, 5.0))  # what Discord's headers report for a channel's messages
    with tempfile.TemporaryDirectory() as folder:
        bot, config = await started_bot(api, folder, recognizer, synthesizer, queue_size=queue_size)
        payloads = [voice_message(api, 10_000 + 10 * i, 20_000 + i, clip, 4.0) for i in range(count)]
        posted_at = {}
        started = time.perf_counter()
        with LagMeter() as lag:
            for payload in payloads:
                posted_at[int(payload["id"])] = api.clock.now()
                bot._connection.parse_message_create(payload)
            await fakes.settle(bot, timeout_s=900)
        elapsed = time.perf_counter() - started
        await bot.close()
    replies = [r for r in api.sent("POST", REPLY) if r.status == 200]
    times = answer_times(api, posted_at)
    median, p95 = summary(list(times.values()))
    return {
        "messages": count,
        "capacity": config.capacity,
        "limited": limited,
        "answered": len(times),
        "refusals_posted": sum(not r.payload.get("embeds") for r in replies),
        "reply_messages": len(replies),
        "rate_limited_429": sum(r.status == 429 for r in api.requests),
        "median_s": median,
        "p95_s": p95,
        "seconds": elapsed,
        "p99_lag_ms": lag.percentile_ms(0.99),
        "max_lag_ms": lag.percentile_ms(1.0),
    }


async def flood(recognizer, synthesizer, *, flood: int, others: int, clip: bytes) -> dict:
    """One person posts ``flood`` voice messages, then ``others`` people post one each, same channel."""
    api = fakes.FakeDiscord()
    api.rate_limits(per_channel=(5, 5.0))
    with tempfile.TemporaryDirectory() as folder:
        bot, config = await started_bot(api, folder, recognizer, synthesizer, queue_size=16)
        flooder = [voice_message(api, 100_000 + 10 * i, 30_000, clip, 4.0) for i in range(flood)]
        polite = [voice_message(api, 200_000 + 10 * i, 40_000 + i, clip, 4.0) for i in range(others)]
        posted_at = {}
        for payload in flooder + polite:
            posted_at[int(payload["id"])] = api.clock.now()
            bot._connection.parse_message_create(payload)
        await fakes.settle(bot, timeout_s=900)
        await bot.close()
    times = answer_times(api, posted_at)
    waits = [times[int(p["id"])] for p in polite if int(p["id"]) in times]
    median, p95 = summary(waits)
    replies = [r for r in api.sent("POST", REPLY) if r.status == 200]
    return {
        "flooder_answered": sum(int(p["id"]) in times for p in flooder),
        "others_answered": len(waits),
        "others": others,
        "others_median_s": median,
        "others_p95_s": p95,
        "refusals_posted": sum(not r.payload.get("embeds") for r in replies),
        "capacity": config.capacity,
    }


async def single(recognizer, synthesizer, *, runs: int, clip: bytes) -> list[float]:
    api = fakes.FakeDiscord()
    with tempfile.TemporaryDirectory() as folder:
        bot, _ = await started_bot(api, folder, recognizer, synthesizer)
        latencies = []
        for run in range(runs + 1):  # the first run warms the handler path and is not counted
            payload = voice_message(api, 50_000 + 10 * run, 60_000 + run, clip, 10.0)
            started = time.perf_counter()
            bot._connection.parse_message_create(payload)
            await api.wait_for("POST", REPLY, count=run + 1)
            if run:
                latencies.append(time.perf_counter() - started)
            await fakes.settle(bot)
            await asyncio.sleep(outbox.WINDOW_S / outbox.BURST)  # one message at a time: a quiet channel
        await bot.close()
    return latencies


async def main(args: argparse.Namespace) -> None:
    rss_start = peak_rss_mb()
    recognizer = EmotionRecognizer.from_pretrained()
    synthesizer = Synthesizer.from_pretrained(voice="espeak")
    short = make_encoded_audio("ogg-opus", duration_s=4.0, sample_rate=48000)
    long = make_encoded_audio("ogg-opus", duration_s=10.0, sample_rate=48000)
    warm_up(Models(recognizer, synthesizer))  # as `moodbot run` does before connecting
    rss_models = peak_rss_mb()

    rows = [
        await burst(recognizer, synthesizer, count=args.messages, queue_size=16, clip=short, limited=False),
        await burst(recognizer, synthesizer, count=args.messages, queue_size=16, clip=short, limited=True),
    ]
    flooded = await flood(recognizer, synthesizer, flood=args.messages, others=10, clip=short)
    latencies = await single(recognizer, synthesizer, runs=args.runs, clip=long)

    print(f"\nBurst of {args.messages} voice messages (4 s Ogg/Opus each, one person each), 2 workers")
    print(
        f"{'limit 5/5s':>10} {'capacity':>8} {'answered':>8} {'messages':>8} {'refusals':>8} {'429s':>5} "
        f"{'median s':>8} "
        f"{'p95 s':>6} {'total s':>7} {'lag p99 ms':>10} {'max ms':>7}"
    )
    for row in rows:
        print(
            f"{'yes' if row['limited'] else 'no':>10} {row['capacity']:>8} {row['answered']:>8} "
            f"{row['reply_messages']:>8} "
            f"{row['refusals_posted']:>8} {row['rate_limited_429']:>5} {row['median_s']:>8.2f} "
            f"{row['p95_s']:>6.2f} {row['seconds']:>7.2f} {row['p99_lag_ms']:>10.1f} "
            f"{row['max_lag_ms']:>7.1f}"
        )
    print(
        f"\nOne flooder ({args.messages} messages) then 10 others, one channel, limit 5/5s: "
        f"others answered {flooded['others_answered']}/{flooded['others']}, median wait "
        f"{flooded['others_median_s']:.2f} s, p95 {flooded['others_p95_s']:.2f} s; flooder answered "
        f"{flooded['flooder_answered']}; refusal messages posted {flooded['refusals_posted']}"
    )
    print(f"\nSingle 10 s voice message in a quiet channel, download excluded, {len(latencies)} runs")
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
