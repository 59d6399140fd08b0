"""Bounded worker threads for model work, with admission control, separate lanes and fair shares.

Decoding, recognition, plotting and synthesis take tens to hundreds of milliseconds of CPU; run on the
event loop they would freeze the gateway heartbeat and every other reply. They run here, on threads
(numpy and TensorFlow release the GIL while they compute). Three rules keep overload within bounds:

- **Admission, not an endless queue.** Each lane admits at most its threads plus its queue; past that,
  :meth:`WorkerPool.reserve` raises :class:`PoolBusyError` at once, so nobody waits minutes for a reply.
- **Separate lanes.** Speech (``/speak``) and analysis have their own threads and capacity, so a run of
  ``/speak`` requests cannot make every voice message posted meanwhile "busy", nor the reverse.
- **Fair shares.** One person may hold at most :data:`FAIR_SHARE` of a lane's capacity; a flood from one
  account is refused at its share and everyone else still gets in (:class:`FairShareError`).

A slot is held for the download and the model work only: :meth:`Reservation.done_computing` gives it
back before the reply is sent, so a reply waiting out Discord's rate limits does not keep other clips
out. The job itself stays open until its ``with`` block ends, so draining on shutdown still waits until
every accepted message has been answered.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Concatenate, Literal, ParamSpec, Self, TypeVar

from bot.errors import DuplicateJobError, FairShareError, PoolBusyError
from bot.tasks import Models

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

Lane = Literal["analysis", "speech"]
#: Largest share of a lane's capacity one person may hold at once (at least one job).
FAIR_SHARE = 0.25
SPEECH_WORKERS = 1  # synthesis threads: speech is asked for rarely and each request is one sentence


@dataclass
class _LaneState:
    """One lane: its threads, its capacity and who holds its slots."""

    executor: ThreadPoolExecutor
    capacity: int
    per_user: int
    computing: int = 0
    holders: collections.Counter[int] = field(default_factory=collections.Counter)


def default_speech_queue(queue_size: int) -> int:
    """Speech jobs allowed to wait beside ``queue_size`` analysis jobs: a quarter, at least 1."""
    return max(1, queue_size // 4)


class WorkerPool:
    """Threads for blocking work plus caps on the jobs in flight, per lane and per person.

    Parameters
    ----------
    workers : int
        Analysis threads (match the CPU cores the models may use).
    queue_size : int
        Further analysis jobs allowed to wait for a thread before new ones are refused.
    speech_workers : int
        Synthesis threads.
    speech_queue_size : int, optional
        Speech jobs allowed to wait; a quarter of ``queue_size`` (at least 1) by default.
    models : Models
        What the tasks (:mod:`bot.tasks`) run on; each is called with them first.
    """

    def __init__(
        self,
        *,
        workers: int,
        queue_size: int,
        speech_workers: int = SPEECH_WORKERS,
        speech_queue_size: int | None = None,
        models: Models | None = None,
    ) -> None:
        if workers < 1 or queue_size < 0 or speech_workers < 1:
            raise ValueError("workers must be at least 1 and queue_size at least 0")
        speech_queue = default_speech_queue(queue_size) if speech_queue_size is None else speech_queue_size
        self.models = models or Models()
        self._lanes = {
            "analysis": self._lane("analysis", workers, workers + queue_size),
            "speech": self._lane("speech", speech_workers, speech_workers + speech_queue),
        }
        self._open = 0
        self._job_ids: set[str] = set()
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def open(self) -> None:
        """Nothing to connect to: the threads start with the pool (the Redis pool connects here)."""

    @staticmethod
    def _lane(name: str, threads: int, capacity: int) -> _LaneState:
        executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"moodbot-{name}")
        return _LaneState(executor, capacity, max(1, math.floor(capacity * FAIR_SHARE)))

    @property
    def capacity(self) -> int:
        """Analysis jobs admitted at once (threads plus queue)."""
        return self._lanes["analysis"].capacity

    @property
    def in_flight(self) -> int:
        """Jobs admitted and not yet finished (computing, waiting for a thread, or replying)."""
        return self._open

    def computing(self, lane: Lane = "analysis") -> int:
        """Slots of ``lane`` held now (jobs downloading, waiting for a thread or computing)."""
        return self._lanes[lane].computing

    async def reserve(
        self, user_id: int = 0, lane: Lane = "analysis", *, job_id: str | None = None
    ) -> Reservation:
        """Admit one job for ``user_id`` in ``lane`` or raise :class:`PoolBusyError` at once.

        Use the result as a ``with`` block around the whole job, reply included. A ``job_id`` already
        admitted and not yet finished raises :class:`DuplicateJobError` (asynchronous only because the
        Redis pool's admission is a round trip; this one never waits).
        """
        state = self._lanes[lane]
        if self._closing:
            raise PoolBusyError("MoodBot is restarting; try again in a minute.")
        if job_id is not None and job_id in self._job_ids:
            raise DuplicateJobError(f"job {job_id} is already admitted")
        if state.holders[user_id] >= state.per_user:
            raise FairShareError(
                f"You already have {state.holders[user_id]} waiting; I'll take more once those are answered."
            )
        if state.computing >= state.capacity:
            what = "speaking for others" if lane == "speech" else "busy with other clips"
            raise PoolBusyError(f"I'm {what} right now; try again in a moment.")
        state.computing += 1
        state.holders[user_id] += 1
        self._open += 1
        self._idle.clear()
        if job_id is not None:
            self._job_ids.add(job_id)
        return Reservation(self, state, user_id, job_id)

    async def drain(self, *, timeout_s: float) -> None:
        """Refuse new jobs, wait up to ``timeout_s`` for admitted ones to finish, then stop the threads."""
        self._closing = True
        if self._open:
            log.info("Waiting for %d job(s) in flight before shutting down", self._open)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except asyncio.TimeoutError:
            log.warning("Shutting down with %d job(s) still in flight", self._open)
        for state in self._lanes.values():
            state.executor.shutdown(wait=False, cancel_futures=True)

    def _give_back(self, state: _LaneState, user_id: int) -> None:
        state.computing -= 1
        state.holders[user_id] -= 1
        if state.holders[user_id] <= 0:
            del state.holders[user_id]

    def _close(self, job_id: str | None) -> None:
        self._job_ids.discard(job_id or "")
        self._open -= 1
        if self._open == 0:
            self._idle.set()


class Admitted:
    """The life of an admitted job, for either pool: it holds a slot until :meth:`done_computing`
    (called before replying) and stays open, for the drain, until its ``with`` block ends. Subclasses
    say how a slot is given back (:meth:`_give_back`) and a job closed (:meth:`_finish`)."""

    def __init__(self) -> None:
        self._holding = True
        self._open = True

    async def run(self, task: Callable[Concatenate[Models, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one task of :mod:`bot.tasks` on the loaded models and return its result."""
        raise NotImplementedError

    def _give_back(self) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def done_computing(self) -> None:
        """Give the slot back before replying; the job stays open (for the drain) until the block ends."""
        if self._holding:
            self._holding = False
            self._give_back()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.done_computing()
        if self._open:
            self._open = False
            self._finish()


class Reservation(Admitted):
    """One admitted job: run tasks on its lane's threads until :meth:`done_computing`."""

    def __init__(self, pool: WorkerPool, state: _LaneState, user_id: int, job_id: str | None = None) -> None:
        super().__init__()
        self._pool = pool
        self._state = state
        self._user_id = user_id
        self._job_id = job_id

    async def run(self, task: Callable[Concatenate[Models, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``task(models, *args, **kwargs)`` on a worker thread and return its result."""
        if not self._holding:
            raise RuntimeError("this job has given its slot back; reserve another")
        loop = asyncio.get_running_loop()
        call = functools.partial(task, self._pool.models, *args, **kwargs)
        return await loop.run_in_executor(self._state.executor, call)

    def _give_back(self) -> None:
        self._pool._give_back(self._state, self._user_id)

    def _finish(self) -> None:
        self._pool._close(self._job_id)
