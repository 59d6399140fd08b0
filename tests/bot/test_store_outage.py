"""The bot when its settings database cannot be used: ``moodbot run`` stops with one line, and a
database that fails while the bot runs (here: locked by another program past the busy timeout) still
gets every person an answer.

The lock is real: a second SQLite connection holding ``BEGIN EXCLUSIVE`` on the bot's own file, with the
bot's store reopened on a short busy timeout so that each refused statement costs 0.1 s.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable

import pytest

from bot.cli import main
from bot.explain import STORE_FAILED
from bot.store import DEFAULTS, SettingsStore
from tests.helpers import fakes
from tests.helpers.fakes import GUILD_ID
from tests.helpers.interactions import (
    CALLBACK,
    EPHEMERAL,
    hosted_attachment,
    invoke,
    mood_data,
    post,
    profile_command,
    settings_data,
)

ADMIN = {"user": fakes.OWNER, "permissions": fakes.ADMIN_PERMISSIONS}


@pytest.fixture
async def locked(bot) -> AsyncIterator[Callable[[], None]]:
    """The bot's database, locked by another program until the test calls the value (or ends)."""
    path = bot.config.db_path
    await bot.store.close()
    bot.store = SettingsStore(path, busy_timeout_s=0.1)  # closed with the bot
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        if holder.in_transaction:
            holder.execute("ROLLBACK")

    yield release
    release()
    holder.close()


@pytest.mark.usefixtures("auto_analysis")
async def test_a_voice_message_is_left_alone_while_consent_cannot_be_read(
    bot, discord_api, ids, clips, locked, caplog
):
    before = len(discord_api.requests)
    with caplog.at_level(logging.WARNING, logger="bot.exts.analyze"):
        message_id = post(bot, discord_api, ids, clips(), "", "audio/ogg", voice=True)
        await fakes.settle(bot)

    assert len(discord_api.requests) == before and discord_api.downloads == []  # no consent to go on
    assert f"Not analysing message {message_id}" in caplog.text
    assert "locked" in caplog.text


@pytest.mark.parametrize(
    "data",
    [
        settings_data("auto", options=[{"name": "enabled", "type": 5, "value": False}]),
        settings_data("channels", "clear"),
        settings_data("show"),
        profile_command("delete"),
        profile_command("show"),
    ],
    ids=[
        "moodbot-auto",
        "moodbot-channels-clear",
        "moodbot-show",
        "voiceprofile-delete",
        "voiceprofile-show",
    ],
)
async def test_a_command_gets_a_private_try_again(bot, discord_api, ids, locked, data):
    invoke(bot, ids, data, **ADMIN)
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert callback.payload["data"]["content"] == STORE_FAILED
    assert callback.payload["data"]["flags"] & EPHEMERAL


async def test_mood_answers_privately_rather_than_guess_the_servers_privacy_setting(
    bot, discord_api, ids, clips, locked
):
    attachment = hosted_attachment(discord_api, ids, clips(), "a.ogg", "audio/ogg")
    invoke(bot, ids, mood_data(attachment))
    await fakes.settle(bot)

    (callback,) = discord_api.sent("POST", CALLBACK)
    assert callback.payload["data"]["content"] == STORE_FAILED
    assert callback.payload["data"]["flags"] & EPHEMERAL
    assert discord_api.downloads == []


async def test_a_failed_change_changed_nothing(bot, discord_api, ids, locked):
    invoke(bot, ids, settings_data("auto", options=[{"name": "enabled", "type": 5, "value": False}]), **ADMIN)
    await fakes.settle(bot)
    locked()
    assert await bot.store.get(GUILD_ID) == DEFAULTS


# -- start-up ---------------------------------------------------------------------------------------


@pytest.fixture
def root_logger():
    """``moodbot run`` installs discord.py's log handler; put the test runner's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("where", ["folder", "file-as-parent"])
def test_moodbot_run_stops_with_one_line(tmp_path, capsys, monkeypatch, root_logger, where):
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=MTIz.some.token\n")
    if where == "folder":
        path = tmp_path / "moodbot.sqlite3"
        path.mkdir()
    else:
        (tmp_path / "data").write_text("not a folder")
        path = tmp_path / "data" / "moodbot.sqlite3"
    for name in ("DISCORD_TOKEN", "MOODBOT_DEV_GUILD_ID", "MOODBOT_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOODBOT_DB_PATH", str(path))

    assert main(["run", "--env-file", str(env_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("moodbot run: The settings database ")
    assert "MOODBOT_DB_PATH" in err and "Traceback" not in err
