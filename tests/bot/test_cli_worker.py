"""``moodbot worker``: a setting it cannot use ends in one clear line and status 2, never a traceback.

Running jobs is covered with a real Redis and real worker processes in :mod:`tests.bot.test_queue`.
"""

from __future__ import annotations

import logging

import pytest

from bot.cli import main
from bot.cli.worker import THREAD_SETTINGS


@pytest.fixture(autouse=True)
def no_redis_setting(monkeypatch):
    """No Redis from the developer's shell; the logging levels the command sets are put back."""
    for name in ("MOODBOT_REDIS_URL", *THREAD_SETTINGS):  # the thread settings it sets are undone too
        monkeypatch.delenv(name, raising=False)
    loggers = [logging.getLogger(name) for name in ("", "arq.worker", "arq.connections")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def _worker(tmp_path, *args: str) -> int:
    env_file = tmp_path / "empty.env"
    env_file.touch()
    return main(["worker", "--env-file", str(env_file), *args])


@pytest.mark.parametrize(
    ("url", "args", "expected"),
    [
        (None, (), "set MOODBOT_REDIS_URL to the Redis the bot uses"),
        ("localhost:6379", (), "MOODBOT_REDIS_URL must start with redis://"),
        ("redis://localhost:6379", ("--job-timeout", "0"), "--job-timeout must be more than 0 seconds"),
    ],
)
def test_unusable_settings_are_one_line(tmp_path, capsys, monkeypatch, url, args, expected):
    if url is not None:
        monkeypatch.setenv("MOODBOT_REDIS_URL", url)

    assert _worker(tmp_path, *args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"moodbot worker: {expected}")


def test_a_redis_that_is_not_there_is_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("arq")
    monkeypatch.setenv("MOODBOT_REDIS_URL", f"unix://{tmp_path}/no-redis.sock")

    assert _worker(tmp_path, "--lane", "analysis") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("moodbot worker: could not use the Redis at MOODBOT_REDIS_URL")


def test_a_missing_env_file_is_one_line(tmp_path, capsys):
    assert main(["worker", "--env-file", str(tmp_path / "nope.env")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.env" in err
