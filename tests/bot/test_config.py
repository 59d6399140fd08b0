"""Process settings from the environment: defaults, validation, and a token that never shows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Config, ConfigError

TOKEN = "MTIz.secret.token"


def test_defaults_with_only_a_token(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = Config.from_env({"DISCORD_TOKEN": f"  {TOKEN}\n", "HOME": str(tmp_path)})
    assert config.discord_token == TOKEN
    assert config.dev_guild_id is None
    assert config.db_path == tmp_path / ".local" / "share" / "moodbot" / "moodbot.sqlite3"  # not the cwd
    assert config.max_upload_bytes == 25 * 1024 * 1024
    assert config.capacity == config.workers + config.queue_size
    assert config.log_level == logging.INFO


def test_every_setting_is_read():
    config = Config.from_env(
        {
            "DISCORD_TOKEN": TOKEN,
            "MOODBOT_DEV_GUILD_ID": "123",
            "MOODBOT_DB_PATH": "/tmp/x.sqlite3",
            "MOODBOT_MAX_UPLOAD_MB": "8",
            "MOODBOT_MAX_AUDIO_S": "30",
            "MOODBOT_WORKERS": "4",
            "MOODBOT_QUEUE_SIZE": "0",
            "MOODBOT_ANALYZE_PER_MINUTE": "2",
            "MOODBOT_SPEAK_PER_MINUTE": "1",
            "MOODBOT_SHUTDOWN_TIMEOUT_S": "5",
            "MOODBOT_LOG_LEVEL": "debug",
            "MOODBOT_REDIS_URL": "redis://queue.internal:6379/2",
            "MOODBOT_SHARD_COUNT": "4",
            "MOODBOT_SHARD_IDS": "3, 1",
            "MOODBOT_COMMUNITY": "Off",
        }
    )
    assert (config.dev_guild_id, config.workers, config.queue_size) == (123, 4, 0)
    assert (config.max_upload_mb, config.max_audio_s, config.shutdown_timeout_s) == (8.0, 30.0, 5.0)
    assert (config.analyze_per_minute, config.speak_per_minute) == (2, 1)
    assert config.db_path == Path("/tmp/x.sqlite3")
    assert config.log_level == logging.DEBUG
    assert config.redis_url == "redis://queue.internal:6379/2"
    assert (config.shard_count, config.shard_ids) == (4, (1, 3))
    assert not config.community


def test_one_process_and_discords_shard_count_by_default():
    config = Config.from_env({"DISCORD_TOKEN": TOKEN})
    assert (config.redis_url, config.shard_count, config.shard_ids) == (None, None, None)
    assert config.community
    assert Config.from_env({"DISCORD_TOKEN": TOKEN, "MOODBOT_SHARD_COUNT": "2"}).shard_ids is None  # all


def test_the_example_env_file_lists_every_setting():
    example = (Path(__file__).parents[2] / ".env.example").read_text()
    names = {line.split("=")[0].lstrip("# ") for line in example.splitlines() if "=" in line}
    assert {
        "DISCORD_TOKEN",
        "MOODBOT_DEV_GUILD_ID",
        "MOODBOT_DB_PATH",
        "MOODBOT_MAX_UPLOAD_MB",
        "MOODBOT_MAX_AUDIO_S",
        "MOODBOT_WORKERS",
        "MOODBOT_QUEUE_SIZE",
        "MOODBOT_ANALYZE_PER_MINUTE",
        "MOODBOT_SPEAK_PER_MINUTE",
        "MOODBOT_SHUTDOWN_TIMEOUT_S",
        "MOODBOT_LOG_LEVEL",
        "MOODBOT_REDIS_URL",
        "MOODBOT_SHARD_COUNT",
        "MOODBOT_SHARD_IDS",
        "MOODBOT_COMMUNITY",
    } <= names


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": "  "}, "DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": TOKEN[:5] + "\n" + TOKEN[5:]}, "line break"),
        ({"DISCORD_TOKEN": TOKEN + " extra"}, "on one line"),
        ({"DISCORD_TOKEN": TOKEN, "MOODBOT_WORKERS": "two"}, "MOODBOT_WORKERS='two' is not a whole number"),
        ({"DISCORD_TOKEN": TOKEN, "MOODBOT_WORKERS": "0"}, "at least 1"),
        ({"DISCORD_TOKEN": TOKEN, "MOODBOT_LOG_LEVEL": "LOUD"}, "MOODBOT_LOG_LEVEL"),
        ({"DISCORD_TOKEN": TOKEN, "MOODBOT_REDIS_URL": "localhost:6379"}, "must start with redis://"),
        ({"DISCORD_TOKEN": TOKEN, "MOODBOT_SHARD_IDS": "0"}, "MOODBOT_SHARD_IDS needs MOODBOT_SHARD_COUNT"),
        ({"DISCORD_TOKEN": TOKEN, "MOODBOT_SHARD_COUNT": "0"}, "MOODBOT_SHARD_COUNT.*at least 1"),
        ({"DISCORD_TOKEN": TOKEN, "MOODBOT_SHARD_COUNT": "2", "MOODBOT_SHARD_IDS": "0,x"}, "comma-separated"),
        ({"DISCORD_TOKEN": TOKEN, "MOODBOT_SHARD_COUNT": "2", "MOODBOT_SHARD_IDS": "2"}, r"lie in 0\.\.1"),
        ({"DISCORD_TOKEN": TOKEN, "MOODBOT_COMMUNITY": "sometimes"}, "neither on nor off"),
    ],
)
def test_bad_settings_name_the_variable(environ, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env(environ)


def test_the_token_stays_out_of_repr():
    assert TOKEN not in repr(Config.from_env({"DISCORD_TOKEN": TOKEN}))


def test_all_state_lives_under_one_data_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environ = {"DISCORD_TOKEN": TOKEN, "HOME": str(tmp_path)}
    assert Config.from_env(environ | {"MOODBOT_DATA_DIR": "/var/lib/moodbot"}).db_path == Path(
        "/var/lib/moodbot/moodbot.sqlite3"
    )
    assert Config.from_env(environ | {"XDG_DATA_HOME": "/srv/data"}).db_path == Path(
        "/srv/data/moodbot/moodbot.sqlite3"
    )
    assert Config.from_env(environ | {"MOODBOT_DB_PATH": "/tmp/x.sqlite3"}).db_path == Path("/tmp/x.sqlite3")


def test_an_older_default_database_in_the_working_folder_is_kept(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "moodbot.sqlite3").write_bytes(b"")  # where MoodBot up to 0.1 put it
    with caplog.at_level(logging.WARNING):
        config = Config.from_env({"DISCORD_TOKEN": TOKEN, "HOME": str(tmp_path)})
    assert config.db_path == Path("moodbot.sqlite3")
    assert "older MoodBot's default" in caplog.text
