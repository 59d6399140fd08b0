"""``moodbot run``: start-up problems end in one clear line, never a traceback or the token."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from discord.http import HTTPClient

from bot.cli import main
from tests.bot import fakes


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No token from the developer's shell or .env, a throwaway database, and the root logger restored."""
    for name in ("DISCORD_TOKEN", "MOODBOT_DEV_GUILD_ID", "MOODBOT_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOODBOT_DB_PATH", str(tmp_path / "moodbot.sqlite3"))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_missing_token(tmp_path, capsys):
    assert main(["run", "--env-file", str(tmp_path / "absent.env")]) == 2
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
