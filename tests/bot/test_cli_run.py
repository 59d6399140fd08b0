"""``moodbot run``: start-up problems end in one clear line, never a traceback or the token.

Discord is faked at its edges only: the REST API by :class:`tests.helpers.fakes.FakeDiscord`, the gateway by
:class:`FakeGateway` in place of the websocket, so discord.py's own shard and close-code handling decides
what reaches ``moodbot run``, as it would against Discord.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from discord.http import HTTPClient

from bot.app import MoodBot
from bot.cli import main, run
from bot.config import Config
from bot.store import SettingsStore
from bot.tasks import Models
from bot.worker import PoolBusyError, WorkerPool
from tests.helpers import fakes


def empty_env_file(tmp_path) -> object:
    """A settings file with nothing in it: every setting then comes from the environment."""
    path = tmp_path / "empty.env"
    path.touch()
    return path


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No settings from the developer's shell or .env, a throwaway database, the root logger restored.

    The environment is restored wholesale afterwards because ``load_dotenv`` writes the ``--env-file``
    settings into ``os.environ``, where no monkeypatch records them.
    """
    environment = dict(os.environ)
    # Each Config field is read from MOODBOT_<FIELD>, except the token.
    for name in ["DISCORD_TOKEN"] + [f"MOODBOT_{f.name.upper()}" for f in dataclasses.fields(Config)]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOODBOT_DB_PATH", str(tmp_path / "moodbot.sqlite3"))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    os.environ.clear()
    os.environ.update(environment)


def _text(payload: dict[str, Any]) -> aiohttp.WSMessage:
    return aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, json.dumps(payload), None)


class FakeGateway:
    """Discord's gateway at the websocket: HELLO, then after IDENTIFY silence or a close code.

    Stands in for the ``aiohttp`` websocket under discord.py's real ``DiscordWebSocket``, which only
    calls ``receive``, ``send_str`` and ``close`` and reads ``close_code`` and ``closed``.
    """

    def __init__(self, close_on_identify: int | None) -> None:
        self.close_code: int | None = None
        self.closed = False
        #: The IDENTIFY payload's ``d``, once sent.
        self.identify: dict[str, Any] | None = None
        self.identified = asyncio.Event()
        self._close_on_identify = close_on_identify
        self._inbox: asyncio.Queue[aiohttp.WSMessage] = asyncio.Queue()
        self._inbox.put_nowait(_text({"op": 10, "d": {"heartbeat_interval": 45_000}}))

    async def receive(self, timeout: float | None = None) -> aiohttp.WSMessage:
        return await self._inbox.get()

    async def send_str(self, data: str) -> None:
        payload = json.loads(data)
        if payload["op"] != 2:  # heartbeats
            return
        self.identify = payload["d"]
        self.identified.set()
        if self._close_on_identify is not None:
            self.close_code = self._close_on_identify
            self._inbox.put_nowait(aiohttp.WSMessage(aiohttp.WSMsgType.CLOSE, self.close_code, ""))

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        if self.closed:
            return False
        self.closed = True
        if self.close_code is None:
            self.close_code = code
        self._inbox.put_nowait(aiohttp.WSMessage(aiohttp.WSMsgType.CLOSED, None, None))
        return True


@dataclass
class Edge:
    """Both of Discord's edges for one test, and what the bot asked of them."""

    api: fakes.FakeDiscord = field(default_factory=fakes.FakeDiscord)
    #: Close code each gateway sends right after IDENTIFY; ``None`` keeps it open.
    close_on_identify: int | None = None
    gateways: list[FakeGateway] = field(default_factory=list)
    #: ``GET /gateway/bot`` requests: the shard count that auto-sharding asks for.
    shard_count_requests: int = 0


@pytest.fixture
def edge(monkeypatch) -> Edge:
    """Point discord.py's HTTP client and websocket at the fakes (one shard recommended)."""
    edge = Edge()

    async def static_login(http: HTTPClient, token: str):
        fakes.connect(http, edge.api)
        return await http.static_login(token)

    async def get_bot_gateway(http: HTTPClient):
        edge.shard_count_requests += 1
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return 1, "wss://gateway.discord.gg", limit

    async def ws_connect(http: HTTPClient, url: str, *, compress: int = 0) -> FakeGateway:
        gateway = FakeGateway(edge.close_on_identify)
        edge.gateways.append(gateway)
        return gateway

    monkeypatch.setattr(HTTPClient, "static_login", static_login)
    monkeypatch.setattr(HTTPClient, "get_bot_gateway", get_bot_gateway)
    monkeypatch.setattr(HTTPClient, "ws_connect", ws_connect)
    return edge


def _bot(config: Config, recognizer: Any, synthesizer: Any, *, sync_global: bool = False) -> MoodBot:
    """The bot ``moodbot run`` builds, from the session's models rather than a fresh load."""
    return MoodBot(
        config=config,
        recognizer=recognizer,
        store=SettingsStore(config.db_path),
        pool=WorkerPool(
            workers=config.workers, queue_size=config.queue_size, models=Models(recognizer, synthesizer)
        ),
        sync_global=sync_global,
    )


@pytest.fixture
def loaded(monkeypatch, recognizer, synthesizer) -> None:
    """Let ``moodbot run`` skip loading the models again (the tests above cover that it does)."""
    monkeypatch.setattr(
        run,
        "_build",
        lambda config, *, sync_global: _bot(config, recognizer, synthesizer, sync_global=sync_global),
    )


def _run_quietly(tmp_path, monkeypatch, **settings: str) -> int:
    """``moodbot run`` with the test token, logging at WARNING so stderr holds only what a mistake adds."""
    monkeypatch.setenv("DISCORD_TOKEN", fakes.TOKEN)
    monkeypatch.setenv("MOODBOT_LOG_LEVEL", "WARNING")
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return main(["run", "--env-file", str(empty_env_file(tmp_path))])


def test_missing_token(tmp_path, capsys):
    assert main(["run", "--env-file", str(empty_env_file(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DISCORD_TOKEN is not set" in err
    assert "Traceback" not in err


def test_token_from_env_file_rejected_by_discord(tmp_path, capsys, monkeypatch):
    rejected = "MTIz.rejected.token-that-must-not-be-printed"
    env_file = tmp_path / ".env"
    env_file.write_text(f"DISCORD_TOKEN={rejected}\nMOODBOT_LOG_LEVEL=DEBUG\n")
    api = fakes.FakeDiscord()

    async def static_login(http: HTTPClient, token: str):
        fakes.connect(http, api)  # Discord's edge: the in-memory API answers 401 to this token
        return await http.static_login(token)

    monkeypatch.setattr(HTTPClient, "static_login", static_login)

    assert main(["run", "--env-file", str(env_file)]) == 2
    captured = capsys.readouterr()
    assert "Discord rejected DISCORD_TOKEN" in captured.err
    assert "Traceback" not in captured.err
    assert rejected not in captured.err + captured.out
    assert [r.path for r in api.requests] == ["/users/@me"]


def test_discord_unreachable_is_one_line(tmp_path, capsys, monkeypatch):
    token = "MTIz.some.token-that-must-not-be-printed"
    env_file = tmp_path / ".env"
    env_file.write_text(f"DISCORD_TOKEN={token}\n")

    async def static_login(http: HTTPClient, token: str):
        raise aiohttp.ClientConnectionError("Cannot connect to host discord.com:443")

    monkeypatch.setattr(HTTPClient, "static_login", static_login)

    assert main(["run", "--env-file", str(env_file)]) == 2
    captured = capsys.readouterr()
    assert "could not reach Discord" in captured.err
    assert "Traceback" not in captured.err
    assert token not in captured.err + captured.out


@pytest.mark.parametrize(
    ("status", "code", "message"), [(403, 50001, "Missing Access"), (404, 10004, "Unknown Guild")]
)
def test_dev_guild_the_bot_is_not_in_is_one_line(
    edge, loaded, tmp_path, capsys, monkeypatch, status, code, message
):
    edge.api.fail_next("PUT", r"/applications/\d+/guilds/\d+/commands", status, code, message)

    assert _run_quietly(tmp_path, monkeypatch, MOODBOT_DEV_GUILD_ID="123456789012345678") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("moodbot run: MOODBOT_DEV_GUILD_ID=123456789012345678 is not a server")
    assert f"(Discord: {message})" in err
    assert edge.gateways == []  # stopped before connecting to the gateway


@pytest.mark.parametrize(
    ("close_code", "expected"),
    [
        (4004, "Discord rejected DISCORD_TOKEN"),
        (4011, "Discord requires more shards (gateway close code 4011"),
        (4014, "the Message Content intent is off"),
        (4013, "Discord closed the gateway connection with code 4013"),
    ],
)
def test_gateway_close_is_one_line(edge, loaded, tmp_path, capsys, monkeypatch, close_code, expected):
    edge.close_on_identify = close_code

    assert _run_quietly(tmp_path, monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"moodbot run: {expected}")
    assert fakes.TOKEN not in err
    # Auto-sharded: the shard count came from Discord, and the connection identified as shard 0 of it.
    assert edge.shard_count_requests == 1
    assert [gateway.identify["shard"] for gateway in edge.gateways] == [[0, 1]]


def test_a_redis_that_is_not_there_is_one_line(edge, tmp_path, capsys, monkeypatch):
    pytest.importorskip("arq")
    assert _run_quietly(tmp_path, monkeypatch, MOODBOT_REDIS_URL=f"unix://{tmp_path}/no-redis.sock") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("moodbot run: could not")
    assert "MOODBOT_REDIS_URL" in err


async def test_a_process_runs_the_shards_its_settings_name(edge, tmp_path, recognizer, synthesizer):
    """MOODBOT_SHARD_COUNT and MOODBOT_SHARD_IDS: this process identifies as shards 1 and 3 of 4 only."""
    bot = _bot(fakes.make_config(tmp_path, shard_count=4, shard_ids=(1, 3)), recognizer, synthesizer)
    serving = asyncio.create_task(run._serve(bot, fakes.TOKEN))
    for _ in range(1000):  # discord.py spaces identifies 5 s apart, as Discord asks
        if len(edge.gateways) == 2 and edge.gateways[1].identified.is_set():
            break
        await asyncio.sleep(0.02)
    assert [gateway.identify["shard"] for gateway in edge.gateways] == [[1, 4], [3, 4]]
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(serving, 10)
    assert all(gateway.close_code == 1000 for gateway in edge.gateways)


@pytest.mark.parametrize(("job_s", "timeout_s"), [(0.3, 5.0), (60.0, 0.5)], ids=["finishes", "too-slow"])
async def test_sigterm_drains_within_the_shutdown_timeout(
    edge, tmp_path, recognizer, synthesizer, job_s, timeout_s
):
    """SIGTERM waits for the job in flight, but never longer than ``MOODBOT_SHUTDOWN_TIMEOUT_S``."""
    bot = _bot(fakes.make_config(tmp_path, shutdown_timeout_s=timeout_s), recognizer, synthesizer)
    serving = asyncio.create_task(run._serve(bot, fakes.TOKEN))
    while not edge.gateways:
        await asyncio.sleep(0.01)
    await asyncio.wait_for(edge.gateways[0].identified.wait(), 10)
    finished = asyncio.Event()

    async def job() -> None:
        with await bot.pool.reserve():
            await asyncio.sleep(job_s)
            finished.set()

    working = asyncio.create_task(job())
    while bot.pool.in_flight == 0:  # admitted before the signal
        await asyncio.sleep(0)
    started = time.monotonic()
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(serving, timeout_s + 5)
    elapsed_s = time.monotonic() - started
    working.cancel()

    if job_s < timeout_s:
        assert finished.is_set() and job_s <= elapsed_s < timeout_s
    else:
        assert not finished.is_set() and timeout_s <= elapsed_s < timeout_s + 1.5
    assert edge.gateways[0].close_code == 1000 and bot.is_closed()
    with pytest.raises(PoolBusyError):
        await bot.pool.reserve()
