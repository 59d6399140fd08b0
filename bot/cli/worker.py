"""``moodbot worker``: run the models for bot processes, fed jobs through Redis (``MOODBOT_REDIS_URL``).

A worker loads the models of the lanes it serves once (the recogniser for ``analysis``, the voice for
``speech``), warms them up, then takes one job at a time from each lane's arq queue (one core per lane
and process: start as many processes as the machine has cores to give). Jobs are the functions of
:mod:`bot.tasks`, run on a thread so arq's own bookkeeping (the in-progress key, results) keeps going.
SIGINT and SIGTERM stop it: it takes no more jobs and finishes the running ones (``--stop-timeout``).
A job cut short by a crash runs again on another worker once its in-progress key lapses (the job
timeout plus ten seconds), at most :data:`bot.queue.MAX_TRIES` times.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.env_file import add_env_file, load_env_file

if TYPE_CHECKING:
    from arq import Worker

    from bot.tasks import Models

log = logging.getLogger(__name__)

LANES = ("analysis", "speech")
#: Longest one job may run (s): a 60 s clip takes well under a second, a neural sentence a few.
JOB_TIMEOUT_S = 60.0
#: How long a stopping worker lets its running jobs finish (s): inside Docker's and compose's 10 s.
STOP_TIMEOUT_S = 8.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run the models for bot processes, with jobs from Redis",
        description="Take analysis and speech jobs from the Redis at MOODBOT_REDIS_URL and run them; "
        "start one per core to give (docs/deployment.md). Needs the queue extra.",
    )
    add_env_file(parser)
    parser.add_argument(
        "--lane",
        choices=(*LANES, "all"),
        default="all",
        help="which jobs to take: analysis (voice messages, /mood), speech (/speak), or all (default)",
    )
    parser.add_argument(
        "--job-timeout",
        type=float,
        default=JOB_TIMEOUT_S,
        metavar="SECONDS",
        help=f"longest one job may run before it is cut short and retried (default: {JOB_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=STOP_TIMEOUT_S,
        metavar="SECONDS",
        help="on SIGTERM or Ctrl+C, how long to let running jobs finish before handing them back "
        f"to the queue (default: {STOP_TIMEOUT_S:g}; keep it below your supervisor's stop wait)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from bot.cli.run import queue_extra_missing, redis_problem
    from bot.config import ConfigError, redis_url_from_env

    if args.job_timeout <= 0:
        print("moodbot worker: --job-timeout must be more than 0 seconds", file=sys.stderr)
        return 2
    if args.stop_timeout < 0:
        print("moodbot worker: --stop-timeout must be 0 seconds or more", file=sys.stderr)
        return 2
    if not load_env_file(args.env_file, "worker"):
        return 2
    try:
        url = redis_url_from_env(os.environ)
    except ConfigError as error:
        print(f"moodbot worker: {error}", file=sys.stderr)
        return 2
    if url is None:
        print(
            "moodbot worker: set MOODBOT_REDIS_URL to the Redis the bot uses (see .env.example)",
            file=sys.stderr,
        )
        return 2
    if missing := queue_extra_missing():
        print(f"moodbot worker: {missing}", file=sys.stderr)
        return 2
    _one_core_each()
    from bot.queue import quiet_arq_logs  # imports NumPy
    from bot.tasks import Models

    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.INFO)
    quiet_arq_logs(verbose=args.verbose)
    lanes = LANES if args.lane == "all" else (args.lane,)
    models = Models.load(lanes)
    try:
        timeouts = {"job_timeout_s": args.job_timeout, "stop_timeout_s": args.stop_timeout}
        asyncio.run(serve(models, url, lanes, **timeouts))
    except Exception as error:
        if not (line := redis_problem(error)):
            raise
        print(f"moodbot worker: {line}.", file=sys.stderr)
        return 2
    return 0


#: The thread pools of OpenMP, OpenBLAS and MKL, which NumPy, SciPy and ONNX Runtime's dependencies use.
THREAD_SETTINGS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _one_core_each() -> None:
    """One thread per numeric library, unless the operator set otherwise: a worker is one core's worth
    (start one per core), and workers whose libraries each spin up a thread per core fight over the
    cores. Measured on 2 cores, 200 clips through 2 workers: 27 clips/s without this, 46 with it
    (``benchmarks/bench_queue.py``).
    Must run before NumPy is imported."""
    for name in THREAD_SETTINGS:
        os.environ.setdefault(name, "1")


def build_workers(
    models: Models, redis: Any, lanes: tuple[str, ...], *, job_timeout_s: float
) -> list[Worker]:
    """One arq worker per lane on the same connection, each running one job at a time."""
    from arq import Worker, func

    from bot.queue import MAX_TRIES, queue_name
    from bot.tasks import TASKS

    lane_tasks = {"analysis": TASKS["analyze"], "speech": TASKS["synthesize"]}
    workers = []
    for lane in lanes:
        task = lane_tasks[lane]

        async def job(ctx: dict, *args: Any, _task: Any = task, **kwargs: Any) -> Any:
            return await asyncio.to_thread(_task, ctx["models"], *args, **kwargs)

        workers.append(
            Worker(
                functions=[func(job, name=task.__name__, max_tries=MAX_TRIES)],
                queue_name=queue_name(lane),  # type: ignore[arg-type]
                redis_pool=redis,
                ctx={"models": models},
                max_jobs=1,
                job_timeout=job_timeout_s,
                keep_result=60,
                log_results=False,  # a person's mood or words do not belong in a log
                poll_delay=0.01,  # a 5 s clip takes ~30 ms: 50 ms between polls cost a fifth of throughput
                handle_signals=False,
            )
        )
    return workers


async def serve(
    models: Models, url: str, lanes: tuple[str, ...], *, job_timeout_s: float, stop_timeout_s: float
) -> None:
    """Take jobs until SIGINT or SIGTERM; then take no more, finish the ones running (up to
    ``stop_timeout_s``) and close."""
    from bot.queue import connect

    redis = await connect(url)
    workers = build_workers(models, redis, lanes, job_timeout_s=job_timeout_s)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info("Taking %s jobs", " and ".join(lanes))
    running = [asyncio.create_task(worker.main()) for worker in workers]
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({*running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in running:
            if task.done():
                task.result()  # a worker that ended on its own: raise its error
    finally:
        stopping.cancel()
        await _wind_down(workers, running, timeout_s=stop_timeout_s)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        log.info("Worker stopped")


async def _wind_down(workers: list[Worker], running: list[asyncio.Task], *, timeout_s: float) -> None:
    """Stop taking jobs and let the running ones finish, so their answers are not lost.

    A job cut short after ``timeout_s`` is put back on the queue by arq for another worker, at once if
    it was running, after its in-progress key lapses if it was still being fetched; cancelling is
    the last resort, not the way to stop (arq's own ``close`` would also raise that cancellation)."""
    for worker in workers:
        worker.allow_pick_jobs = False
    jobs = [job for worker in workers for job in worker.tasks.values() if not job.done()]
    if jobs:
        log.info("Finishing %d job(s) before stopping", len(jobs))
        await asyncio.wait(jobs, timeout=timeout_s)
    for task in [*running, *jobs]:
        task.cancel()
    await asyncio.gather(*running, *jobs, return_exceptions=True)
    for worker in workers:
        worker.tasks.clear()  # all done; arq's close would re-raise a cancelled one
        await worker.close()
