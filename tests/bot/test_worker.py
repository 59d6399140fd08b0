"""The worker pool: work leaves the event loop, admission is bounded, shutdown drains."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.worker import PoolBusyError, WorkerPool


async def test_jobs_run_on_worker_threads():
    pool = WorkerPool(workers=1, queue_size=0)
    with pool.reserve() as job:
        name = await job.run(lambda: threading.current_thread().name)
    assert name.startswith("moodbot-worker")
    assert pool.in_flight == 0
    await pool.drain(timeout_s=1)


async def test_admission_stops_at_workers_plus_queue():
    pool = WorkerPool(workers=1, queue_size=1)
    first, second = pool.reserve(), pool.reserve()
    with pytest.raises(PoolBusyError, match="busy"):
        pool.reserve()
    with first, second:
        pass
    with pool.reserve():
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
    with pool.reserve() as job:
        await job.run(time.sleep, 0.3)
    task.cancel()
    assert ticks >= 10
    await pool.drain(timeout_s=1)


async def test_drain_waits_for_admitted_jobs_and_then_refuses():
    pool = WorkerPool(workers=1, queue_size=0)
    finished = asyncio.Event()

    async def job() -> None:
        with pool.reserve() as reservation:
            await reservation.run(time.sleep, 0.2)
            finished.set()

    task = asyncio.create_task(job())
    await asyncio.sleep(0.05)
    await pool.drain(timeout_s=5)
    assert finished.is_set()
    await task
    with pytest.raises(PoolBusyError, match="restarting"):
        pool.reserve()
