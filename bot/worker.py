"""A bounded pool of worker threads for model work, with admission control instead of an endless queue.

Decoding, recognition, plotting and synthesis take tens to hundreds of milliseconds of CPU; run on the
event loop they would freeze the gateway heartbeat and every other reply. They run here, on threads
(numpy and TensorFlow release the GIL while they compute). The pool admits at most ``workers +
queue_size`` jobs at once; past that, :meth:`WorkerPool.reserve` raises :class:`PoolBusyError` at once so
the person gets "busy, try again" rather than a reply minutes later or never.

A reservation covers a whole job: download, model work and the reply, so that draining the pool on
shutdown waits until every accepted message has been answered.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import ParamSpec, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class PoolBusyError(Exception):
    """The pool is full or shutting down; the message is fit to show a person."""


class WorkerPool:
    """Threads for blocking work plus a cap on the jobs in flight.

    Parameters
    ----------
    workers : int
        Threads running jobs at once (match the CPU cores the models may use).
    queue_size : int
        Further jobs allowed to wait for a thread before new ones are refused.
    """

    def __init__(self, *, workers: int, queue_size: int) -> None:
        if workers < 1 or queue_size < 0:
            raise ValueError("workers must be at least 1 and queue_size at least 0")
        self.workers = workers
        self.capacity = workers + queue_size
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="moodbot-worker")
        self._in_flight = 0
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        """Jobs admitted and not yet finished (running, waiting for a thread, or replying)."""
        return self._in_flight

    def reserve(self) -> Reservation:
        """Admit one job or raise :class:`PoolBusyError` immediately; use the result as a ``with`` block."""
        if self._closing:
            raise PoolBusyError("MoodBot is restarting; try again in a minute.")
        if self._in_flight >= self.capacity:
            raise PoolBusyError("I'm busy with other clips right now; try again in a moment.")
        self._in_flight += 1
        self._idle.clear()
        return Reservation(self)

    async def drain(self, *, timeout_s: float) -> None:
        """Refuse new jobs, wait up to ``timeout_s`` for admitted ones to finish, then stop the threads."""
        self._closing = True
        if self._in_flight:
            log.info("Waiting for %d job(s) in flight before shutting down", self._in_flight)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except asyncio.TimeoutError:
            log.warning("Shutting down with %d job(s) still in flight", self._in_flight)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _release(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()

    async def _run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))


class Reservation:
    """One admitted job: run blocking calls on the pool's threads until the ``with`` block ends."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self._released = False

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``function(*args, **kwargs)`` on a worker thread and return its result."""
        return await self._pool._run(function, *args, **kwargs)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._released:
            self._released = True
            self._pool._release()
