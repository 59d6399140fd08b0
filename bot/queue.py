"""Model work past one process: jobs on Redis, run by ``moodbot worker`` processes (arq).

With ``MOODBOT_REDIS_URL`` set, the bot process keeps the gateway, the cheap checks and the replies,
and :class:`RedisPool` stands where :class:`bot.worker.WorkerPool` stands in single-process mode:

- **Admission in Redis.** Every admitted job is a member of a sorted set per lane and one per person,
  scored by its deadline, added by one Lua script (atomic in Redis), so capacity and fair shares mean
  the same for every bot process, and a bot process that dies holding slots loses them at their
  deadline instead of leaking them.
- **One run per job id.** The message or interaction id is the job id, in the admission set and as
  arq's job id: a message seen twice (by two processes, or after a gateway resume) is answered once.
- **Deadlines.** A job expires with its interaction's token, :data:`JOB_DEADLINE_S` after admission:
  arq drops it unstarted past then, and the bot stops waiting.
- **A worker that dies** mid-job leaves the job in progress until its in-progress key expires (the job
  timeout plus ten seconds), then another worker runs it again; a second death ends it, and the person
  is told (:class:`~bot.errors.JobFailedError`).

arq was chosen over Celery, Dramatiq and taskiq because it is asyncio on both sides, as discord.py is,
and small (one dependency, redis-py); it gives job ids that cannot be enqueued twice, expiry,
retries and results, so no queue logic is written here.
"""

from __future__ import annotations

import asyncio
import logging
import math
import pickle
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from bot.errors import DuplicateJobError, FairShareError, JobFailedError, PoolBusyError
from bot.tasks import TASKS, Models
from bot.worker import FAIR_SHARE, SPEECH_WORKERS, Admitted, Lane, default_speech_queue

if TYPE_CHECKING:
    from arq.connections import ArqRedis

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Discord's interaction tokens last 15 minutes; a job left after 14 can no longer be answered.
JOB_DEADLINE_S = 14 * 60
#: Tries per job: the first, and one more if its worker died.
MAX_TRIES = 2
#: How often a lone job's result is polled (s); see :meth:`RedisPool.poll_delay_s`.
RESULT_POLL_S = 0.05
#: Prefix of every key MoodBot keeps in Redis besides arq's own.
PREFIX = "moodbot"


def queue_name(lane: Lane) -> str:
    """The arq queue of ``lane``: analysis and speech are served by their own workers."""
    return f"{PREFIX}:queue:{lane}"


# KEYS: the lane's set, the person's set. ARGV: job id, capacity, per-person share, deadline (ms).
# Returns 0 admitted, 1 duplicate, 2 over the person's share (with their count), 3 lane full.
_ADMIT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {1, 0} end
local mine = redis.call('ZCARD', KEYS[2])
if mine >= tonumber(ARGV[3]) then return {2, mine} end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {3, 0} end
local deadline = now_ms + tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], deadline, ARGV[1])
redis.call('ZADD', KEYS[2], deadline, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {0, 0}
"""


class RedisPool:
    """Admission and dispatch of model work through Redis; the bot-side half of the worker queue.

    Parameters
    ----------
    url : str
        ``MOODBOT_REDIS_URL``; connected by :meth:`open`, inside the bot's event loop.
    workers, queue_size : int
        As for :class:`~bot.worker.WorkerPool`, but for the whole deployment: analysis jobs admitted
        at once, across every bot process, are ``workers + queue_size``; speech gets
        ``SPEECH_WORKERS + default_speech_queue(queue_size)``.
    deadline_s : float
        How long a job may wait and run before it is given up.
    """

    def __init__(
        self, url: str, *, workers: int, queue_size: int, deadline_s: float = JOB_DEADLINE_S
    ) -> None:
        if workers < 1 or queue_size < 0:
            raise ValueError("workers must be at least 1 and queue_size at least 0")
        self.url = url
        self._redis: ArqRedis | None = None
        self.deadline_s = deadline_s
        self._capacity: dict[Lane, int] = {
            "analysis": workers + queue_size,
            "speech": SPEECH_WORKERS + default_speech_queue(queue_size),
        }
        self._open = 0
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._releases: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        """Connect to Redis (a refused connection raises ``redis.exceptions.ConnectionError``)."""
        if self._redis is None:
            self._redis = await connect(self.url)
            self._admit = self._redis.register_script(_ADMIT)

    @property
    def redis(self) -> ArqRedis:
        if self._redis is None:
            raise RuntimeError("the Redis pool is not open; await open() first")
        return self._redis

    @property
    def capacity(self) -> int:
        """Analysis jobs admitted at once, across all bot processes."""
        return self._capacity["analysis"]

    @property
    def in_flight(self) -> int:
        """Jobs this process admitted and has not finished (reply included)."""
        return self._open

    def poll_delay_s(self) -> float:
        """How often a job asks Redis for its result: every 50 ms alone, less often the more jobs this
        process waits for (arq polls; 200 jobs at 50 ms would be 4,000 requests a second, which on two
        cores slowed the burst it was waiting for by half)."""
        return min(1.0, RESULT_POLL_S * math.sqrt(max(1, self._open)))

    async def reserve(
        self, user_id: int = 0, lane: Lane = "analysis", *, job_id: str | None = None
    ) -> RedisReservation:
        """Admit one job for ``user_id`` in ``lane``, or raise at once: :class:`PoolBusyError` (full or
        shutting down), :class:`FairShareError`, :class:`DuplicateJobError` (the id is admitted)."""
        if self._closing:
            raise PoolBusyError("MoodBot is restarting; try again in a minute.")
        if self._releases:  # slots this process gave back count as free before it admits more
            await asyncio.gather(*self._releases, return_exceptions=True)
        job_id = f"{lane}:{job_id or uuid.uuid4().hex}"
        capacity = self._capacity[lane]
        per_user = max(1, math.floor(capacity * FAIR_SHARE))
        lane_key, user_key = f"{PREFIX}:slots:{lane}", f"{PREFIX}:slots:{lane}:user:{user_id}"
        deadline_ms = int(self.deadline_s * 1000)
        outcome, held = await self._admit(
            keys=[lane_key, user_key], args=[job_id, capacity, per_user, deadline_ms]
        )
        if outcome == 1:
            raise DuplicateJobError(f"job {job_id} is already admitted")
        if outcome == 2:
            raise FairShareError(f"You already have {held} waiting; I'll take more once those are answered.")
        if outcome == 3:
            what = "speaking for others" if lane == "speech" else "busy with other clips"
            raise PoolBusyError(f"I'm {what} right now; try again in a moment.")
        self._open += 1
        self._idle.clear()
        return RedisReservation(self, lane, job_id, (lane_key, user_key))

    def _release(self, job_id: str, keys: tuple[str, str]) -> None:
        """Give the slot back without making the caller wait; :meth:`drain` waits for these."""

        async def release() -> None:
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    for key in keys:
                        pipe.zrem(key, job_id)
                    await pipe.execute()
            except Exception as error:  # the slot still lapses at its deadline
                log.warning("Could not give back the slot of job %s: %s", job_id, error)

        task = asyncio.get_running_loop().create_task(release())
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    def _close(self) -> None:
        self._open -= 1
        if self._open == 0:
            self._idle.set()

    async def drain(self, *, timeout_s: float) -> None:
        """Refuse new jobs, wait up to ``timeout_s`` for this process's admitted ones, then close.

        Jobs already queued stay in Redis: a worker still runs them, though their answer is lost
        with this process (the person can ask again once it is back)."""
        self._closing = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except asyncio.TimeoutError:
            log.warning("Shutting down with %d queued job(s) still unanswered", self._open)
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()


class RedisReservation(Admitted):
    """One admitted job; :meth:`run` sends its task to a worker process and waits for the result."""

    def __init__(self, pool: RedisPool, lane: Lane, job_id: str, keys: tuple[str, str]) -> None:
        super().__init__()
        self._pool = pool
        self._lane = lane
        self.job_id = job_id
        self._keys = keys

    async def run(self, task: Callable[Concatenate[Models, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Enqueue ``task`` with these arguments under this job's id and return the worker's result.

        Errors raised by the task in the worker (an unreadable clip, say) are raised here."""
        from arq.jobs import SerializationError
        from arq.worker import JobExecutionFailed

        if kwargs:
            raise TypeError("a queued task takes positional arguments only")
        if TASKS.get(task.__name__) is not task:
            raise ValueError(f"{task.__name__} is not a task workers serve (bot.tasks.TASKS)")
        if not self._holding:
            raise RuntimeError("this job has given its slot back; reserve another")
        pool = self._pool
        job = await pool.redis.enqueue_job(
            task.__name__,
            *args,
            _job_id=self.job_id,
            _queue_name=queue_name(self._lane),
            _expires=timedelta(seconds=pool.deadline_s),
        )
        if job is None:
            raise DuplicateJobError(f"job {self.job_id} was already queued")
        try:
            return await job.result(timeout=pool.deadline_s, poll_delay=pool.poll_delay_s())
        except asyncio.TimeoutError as error:
            raise JobFailedError("That took too long to answer; please try again.") from error
        except SerializationError as error:
            log.error("Job %s returned what cannot be read back: %s", self.job_id, error)
            raise JobFailedError("Something went wrong on my side; please try again.") from error
        except JobExecutionFailed as error:  # arq's word for "expired unstarted" or "out of tries"
            log.warning("Job %s failed in its workers: %s", self.job_id, error)
            if "expired" in str(error):
                raise JobFailedError("That took too long to answer; please try again.") from error
            raise JobFailedError("The worker handling that stopped twice; please try again later.") from error

    def _give_back(self) -> None:
        self._pool._release(self.job_id, self._keys)

    def _finish(self) -> None:
        self._pool._close()


def quiet_arq_logs(*, verbose: bool) -> None:
    """Keep arq's chatter out of the log unless ``-v``: it logs each job's arguments at INFO (the start
    of someone's audio, their text), and its connection retries name ``localhost:6379`` whatever
    the URL says; the CLI explains a Redis it cannot reach in one line of its own instead."""
    logging.getLogger("arq.worker").setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("arq.connections").setLevel(logging.DEBUG if verbose else logging.ERROR)


async def connect(url: str) -> ArqRedis:
    """A Redis connection for arq from ``MOODBOT_REDIS_URL`` (``redis://``, ``rediss://`` or ``unix://``);
    jobs are pickled (the tasks' arguments and results are numpy arrays and frozen dataclasses)."""
    from arq import create_pool
    from arq.connections import RedisSettings

    settings = RedisSettings.from_dsn(url)
    settings.conn_retries = 2
    return await create_pool(settings, job_serializer=pickle.dumps, job_deserializer=pickle.loads)
