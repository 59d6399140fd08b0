"""Per-guild settings: defaults with no setup, persistence, migrations, and a damaged database file."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from bot.store import DEFAULTS, MIGRATIONS, SCHEMA_VERSION, SettingsStore, StoreError

GUILD = 42


async def test_defaults_need_no_row(tmp_path):
    store = SettingsStore(tmp_path / "s.sqlite3")
    try:
        assert await store.get(GUILD) == DEFAULTS
        assert DEFAULTS.auto_analyze and DEFAULTS.reply_style == "embed" and not DEFAULTS.ephemeral
        assert DEFAULTS.allows(123)
    finally:
        await store.close()


async def test_changes_survive_reopening(tmp_path):
    path = tmp_path / "nested" / "s.sqlite3"
    store = SettingsStore(path)
    await store.update(GUILD, ephemeral=True)
    await store.update(GUILD, reply_style="reaction")
    await store.add_channel(GUILD, 7)
    await store.add_channel(GUILD, 8)
    await store.remove_channel(GUILD, 7)
    await store.close()

    reopened = SettingsStore(path)
    try:
        settings = await reopened.get(GUILD)
        assert (settings.ephemeral, settings.reply_style, settings.auto_analyze) == (True, "reaction", True)
        assert settings.allowed_channel_ids == {8}
        assert (await reopened.clear_channels(GUILD)).allowed_channel_ids == frozenset()
        assert await reopened.get(GUILD + 1) == DEFAULTS
    finally:
        await reopened.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_unknown_reply_style_is_refused(tmp_path):
    store = SettingsStore(tmp_path / "s.sqlite3")
    try:
        with pytest.raises(ValueError):
            await store.update(GUILD, reply_style="shout")  # type: ignore[arg-type]
    finally:
        await store.close()


async def test_corrupt_file_is_moved_aside_and_the_bot_starts_fresh(tmp_path, caplog):
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        store = SettingsStore(path)
    try:
        assert await store.get(GUILD) == DEFAULTS
        await store.update(GUILD, auto_analyze=False)
    finally:
        await store.close()
    (aside,) = tmp_path.glob("s.sqlite3.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    assert "could not be read" in caplog.text and str(aside) in caplog.text


async def test_a_newer_schema_is_not_touched(tmp_path):
    path = tmp_path / "s.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        SettingsStore(path)
    assert path.exists() and not list(tmp_path.glob("*.corrupt-*"))


async def test_a_version_1_database_keeps_its_settings_and_gains_voice_profiles(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as connection:
        for statement in MIGRATIONS[1]:
            connection.execute(statement)
        connection.execute("INSERT INTO guild_settings VALUES (42, 0, 'reaction', 1)")
        connection.execute("PRAGMA user_version = 1")
    connection.close()
    store = SettingsStore(path)
    try:
        settings = await store.get(GUILD)
        assert (settings.auto_analyze, settings.reply_style, settings.ephemeral) == (False, "reaction", True)
        assert await store.voice_profile(5) is None
        await store.save_profile(5, 3, b"\x00" * 8)  # not opted in: nothing is created
        assert await store.voice_profile(5) is None
        assert (await store.opt_in(5)).count == 0
        await store.save_profile(5, 3, b"\x00" * 8)
        assert (await store.voice_profile(5)).count == 3
        assert await store.delete_profile(5) and not await store.delete_profile(5)
    finally:
        await store.close()
