"""The worker pool: work leaves the event loop, admission is bounded per lane and per person, a reply
holds no slot, shutdown drains."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.errors import DuplicateJobError
from bot.tasks import Models
from bot.worker import FairShareError, PoolBusyError, WorkerPool


def _sleep(_models: Models, seconds: float) -> None:
    time.sleep(seconds)


async def test_jobs_run_on_worker_threads():
    pool = WorkerPool(workers=1, queue_size=0)
    with await pool.reserve() as job:
        name = await job.run(lambda _models: threading.current_thread().name)
    assert name.startswith("moodbot-analysis")
    assert pool.in_flight == 0
    await pool.drain(timeout_s=1)


async def test_admission_stops_at_workers_plus_queue():
    pool = WorkerPool(workers=1, queue_size=1)
    first, second = await pool.reserve(1), await pool.reserve(2)
    with pytest.raises(PoolBusyError, match="busy"):
        await pool.reserve(3)
    with first, second:
        pass
    with await pool.reserve():
        pass
    await pool.drain(timeout_s=1)


async def test_the_loop_keeps_running_while_a_job_blocks():
    pool = WorkerPool(workers=1, queue_size=0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    with await pool.reserve() as job:
        await job.run(_sleep, 0.3)
    task.cancel()
    assert ticks >= 10
    await pool.drain(timeout_s=1)


async def test_drain_waits_for_admitted_jobs_and_then_refuses():
    pool = WorkerPool(workers=1, queue_size=0)
    finished = asyncio.Event()

    async def job() -> None:
        with await pool.reserve() as reservation:
            await reservation.run(_sleep, 0.2)
            finished.set()

    task = asyncio.create_task(job())
    await asyncio.sleep(0.05)
    await pool.drain(timeout_s=5)
    assert finished.is_set()
    await task
    with pytest.raises(PoolBusyError, match="restarting"):
        await pool.reserve()


async def test_one_person_cannot_hold_more_than_a_fair_share():
    pool = WorkerPool(workers=2, queue_size=10)  # capacity 12, a quarter of it each
    flooder = [await pool.reserve(7) for _ in range(3)]
    with pytest.raises(FairShareError, match="already have 3"):
        await pool.reserve(7)
    others = [await pool.reserve(user) for user in range(100, 109)]  # everyone else still gets in
    with pytest.raises(PoolBusyError):
        await pool.reserve(200)
    for job in flooder + others:
        job.__exit__(None, None, None)
    assert pool.in_flight == 0
    await pool.drain(timeout_s=1)


async def test_speech_and_analysis_have_separate_capacity():
    pool = WorkerPool(workers=1, queue_size=4)  # speech: one thread and one waiting
    speech = [await pool.reserve(user, "speech") for user in (1, 2)]
    with pytest.raises(PoolBusyError, match="speaking"):
        await pool.reserve(3, "speech")
    with await pool.reserve(3) as job:  # a voice message is still analysed meanwhile
        assert (await job.run(lambda _models: threading.current_thread())).name.startswith("moodbot-analysis")
    for job in speech:
        job.__exit__(None, None, None)
    await pool.drain(timeout_s=1)


async def test_a_reply_waiting_on_a_rate_limit_holds_no_slot():
    pool = WorkerPool(workers=1, queue_size=0)
    replied = asyncio.Event()

    async def job() -> None:
        with await pool.reserve(1) as reservation:
            await reservation.run(_sleep, 0.01)
            reservation.done_computing()
            await replied.wait()  # the reply is stuck behind Discord's rate limit

    task = asyncio.create_task(job())
    while pool.computing() == 1 or pool.in_flight == 0:
        await asyncio.sleep(0.01)
    with await pool.reserve(2):  # another clip gets the thread meanwhile
        pass
    drained = asyncio.create_task(pool.drain(timeout_s=5))
    await asyncio.sleep(0.05)
    assert not drained.done()  # the drain still waits for the reply
    replied.set()
    await task
    await drained


async def test_a_job_id_is_admitted_once_until_it_finishes():
    pool = WorkerPool(workers=1, queue_size=4)
    with await pool.reserve(1, job_id="message-1"):
        with pytest.raises(DuplicateJobError):
            await pool.reserve(2, job_id="message-1")
    with await pool.reserve(1, job_id="message-1"):  # finished: the id may run again
        pass
    await pool.drain(timeout_s=1)
