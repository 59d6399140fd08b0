"""Per-guild settings: defaults with no setup, persistence, migrations; a damaged file set aside, a
healthy one that cannot be used refused in one line; two stores or processes on one file; SIGKILL.

Every test uses a real SQLite file in ``tmp_path``; "another program" is a second ``sqlite3``
connection, a second store, or other OS processes (:mod:`tests.helpers.store_writer`).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import random
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pytest

from bot.store import DEFAULTS, MIGRATIONS, SCHEMA_VERSION, Consent, GuildSettings, SettingsStore, StoreError
from tests.helpers import store_writer
from tests.helpers.store_writer import GUILD, reopened


def _permissions_enforced() -> bool:
    """Whether this process is refused a file it has no permission for (root, with its usual
    capabilities, is not: ``os.geteuid() == 0`` alone would also skip a root without them)."""
    with tempfile.TemporaryDirectory() as folder:
        locked_out = Path(folder) / "locked-out"
        locked_out.touch(mode=0o000)
        try:
            locked_out.open("rb").close()
        except PermissionError:
            return True
        return False


needs_permissions = pytest.mark.skipif(not _permissions_enforced(), reason="root ignores file permissions")


async def saved_settings(path: Path) -> GuildSettings:
    """Create ``path`` with some non-default settings for :data:`GUILD`; return them."""
    store = SettingsStore(path)
    try:
        await store.update(GUILD, reply_style="reaction", ephemeral=True)
        return await store.add_channel(GUILD, 7)
    finally:
        await store.close()


def refusal(path: Path, **kwargs: float) -> str:
    """The message of the StoreError that opening ``path`` raises; it must be one line naming the file."""
    with pytest.raises(StoreError) as caught:
        SettingsStore(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and caught.value.path == path
    return message


async def test_defaults_need_no_row(tmp_path):
    store = SettingsStore(tmp_path / "s.sqlite3")
    try:
        assert await store.get(GUILD) == DEFAULTS
        assert not DEFAULTS.auto_analyze  # consent first: off until a server manager turns it on
        assert DEFAULTS.reply_style == "embed" and not DEFAULTS.ephemeral
        assert DEFAULTS.allows(123)
    finally:
        await store.close()


async def test_changes_survive_reopening(tmp_path):
    path = tmp_path / "nested" / "s.sqlite3"
    store = SettingsStore(path)
    await store.update(GUILD, ephemeral=True)
    await store.update(GUILD, reply_style="reaction")
    await store.update(GUILD, auto_analyze=True)
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


async def test_a_version_2_database_asks_every_server_for_consent_again(tmp_path, caplog):
    path = tmp_path / "v2.sqlite3"
    with sqlite3.connect(path) as connection:
        for version in (1, 2):
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
        connection.execute("INSERT INTO guild_settings VALUES (42, 1, 'embed', 0)")  # "on" by the old default
        connection.execute("INSERT INTO voice_profiles VALUES (5, 3, NULL, 0)")
        connection.execute("PRAGMA user_version = 2")
    connection.close()
    store = SettingsStore(path)
    try:
        assert not (await store.get(42)).auto_analyze
        assert (await store.voice_profile(5)).count == 3  # people's own choices are kept
        assert await store.consent(5) == Consent()
    finally:
        await store.close()


async def test_consent_is_per_person_and_opting_out_deletes_the_profile(tmp_path):
    store = SettingsStore(tmp_path / "s.sqlite3")
    try:
        assert await store.consent(5) == Consent(opted_out=False, dm_analysis=False)
        await store.opt_in(5)
        assert await store.set_consent(5, dm_analysis=True) == Consent(opted_out=False, dm_analysis=True)
        assert await store.set_consent(5, opted_out=True) == Consent(opted_out=True, dm_analysis=True)
        assert await store.voice_profile(5) is None  # gone with the opt-out, in the same transaction
        assert await store.consent(6) == Consent()
        assert (await store.set_consent(5, opted_out=False)).dm_analysis  # one field at a time
    finally:
        await store.close()


# -- a damaged file is set aside -------------------------------------------------------------------


def garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database" * 100)


def malformed(path: Path) -> None:
    """Overwrite part of the first page's b-tree header (SQLite: "database disk image is malformed")."""
    data = bytearray(path.read_bytes())
    data[100:132] = b"\x07" * 32
    path.write_bytes(bytes(data))


def bad_cell_pointers(path: Path) -> None:
    """Overwrite the cell pointers of the guild_settings table's page: readable, but ``quick_check`` fails."""
    data = bytearray(path.read_bytes())
    data[4096 + 8 : 4096 + 40] = b"\x07" * 32
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [garbage, malformed, bad_cell_pointers])
async def test_a_corrupt_file_is_moved_aside_and_the_bot_starts_fresh(tmp_path, caplog, damage):
    path = tmp_path / "s.sqlite3"
    await saved_settings(path)
    damage(path)
    damaged = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        store = SettingsStore(path)
    try:
        assert await store.get(GUILD) == DEFAULTS
        await store.update(GUILD, auto_analyze=False)
    finally:
        await store.close()
    (aside,) = tmp_path.glob("s.sqlite3.corrupt-*")
    assert aside.read_bytes() == damaged
    (record,) = caplog.records
    assert "damaged" in record.getMessage() and str(aside) in record.getMessage()
    assert "\n" not in record.getMessage()
    assert (await reopened(path)).auto_analyze is False


# -- a healthy file that cannot be used is refused, and left as it is ---------------------------------


async def test_a_locked_database_stops_start_up_and_is_left_alone(tmp_path):
    path = tmp_path / "s.sqlite3"
    saved = await saved_settings(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program in the middle of a write
    try:
        message = refusal(path, busy_timeout_s=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked" in message and "MOODBOT_DB_PATH" in message
    assert [p.name for p in tmp_path.iterdir()] == ["s.sqlite3"]
    assert await reopened(path) == saved


async def test_a_lock_released_within_the_busy_timeout_is_waited_for(tmp_path):
    path = tmp_path / "s.sqlite3"
    saved = await saved_settings(path)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, holder.execute, "ROLLBACK")
    store = await asyncio.to_thread(SettingsStore, path, busy_timeout_s=5)
    holder.close()
    try:
        assert await store.get(GUILD) == saved
    finally:
        await store.close()


async def test_a_folder_at_the_path_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    path.mkdir()
    assert "is a folder" in refusal(path)
    assert (
        path.is_dir() and list(path.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == [path.name]
    )


@pytest.mark.parametrize("below", ["s.sqlite3", "sub/s.sqlite3"])
async def test_a_file_where_a_folder_should_be_is_refused(tmp_path, below):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    message = refusal(blocker / below)
    assert f"{blocker} is a file, not a folder" in message
    assert blocker.read_text() == "not a folder" and [p.name for p in tmp_path.iterdir()] == ["data"]


@needs_permissions
@pytest.mark.parametrize("existing", [True, False], ids=["existing-file", "new-file"])
async def test_a_read_only_folder_is_refused(tmp_path, existing):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "s.sqlite3"
    saved = await saved_settings(path) if existing else None
    folder.chmod(0o555)
    try:
        message = refusal(path)
    finally:
        folder.chmod(0o755)
    assert "read-only" in message and str(folder) in message
    assert [p.name for p in folder.iterdir()] == (["s.sqlite3"] if existing else [])
    if existing:
        assert await reopened(path) == saved


@needs_permissions
@pytest.mark.parametrize("mode", [0o000, 0o444], ids=["unreadable", "read-only-file"])
async def test_a_file_without_permission_is_refused(tmp_path, mode):
    path = tmp_path / "s.sqlite3"
    saved = await saved_settings(path)
    path.chmod(mode)
    try:
        assert "permission denied" in refusal(path)
    finally:
        path.chmod(0o644)
    assert [p.name for p in tmp_path.iterdir()] == ["s.sqlite3"]
    assert await reopened(path) == saved


# -- several writers on one file --------------------------------------------------------------------


async def test_two_stores_on_one_file_keep_each_others_changes(tmp_path):
    path = tmp_path / "s.sqlite3"
    first, second = SettingsStore(path), SettingsStore(path)
    try:
        assert await first.get(GUILD) == await second.get(GUILD) == DEFAULTS  # both have read the row
        await first.update(GUILD, ephemeral=True)
        await second.update(GUILD, reply_style="reaction")
        await first.add_channel(GUILD, 1)
        await second.add_channel(GUILD, 2)
        await first.update(GUILD, auto_analyze=False)
        await second.remove_channel(GUILD, 1)
        expected = GuildSettings(
            auto_analyze=False, allowed_channel_ids=frozenset({2}), reply_style="reaction", ephemeral=True
        )
        assert await first.get(GUILD) == await second.get(GUILD) == expected

        await asyncio.gather(
            *(first.add_channel(GUILD, 100 + i) for i in range(20)),
            *(second.add_channel(GUILD, 200 + i) for i in range(20)),
            first.update(GUILD, ephemeral=False),
            second.update(GUILD, auto_analyze=True),
        )
        settings = await first.get(GUILD)
        assert settings.allowed_channel_ids == {2} | set(range(100, 120)) | set(range(200, 220))
        assert (settings.auto_analyze, settings.reply_style, settings.ephemeral) == (True, "reaction", False)
    finally:
        await first.close()
        await second.close()


def test_two_processes_on_one_file_lose_nothing(tmp_path):
    path, steps = tmp_path / "s.sqlite3", 40
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    writers = [
        context.Process(target=store_writer.hammer, args=(path, role, steps, start))
        for role in ("ephemeral", "style")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0]
    assert asyncio.run(reopened(path)) == store_writer.expected_after_hammer(steps)


def test_sigkill_while_writing_loses_nothing_acknowledged(tmp_path):
    """Ten kills at random moments (from process start, so some land while the file is being created);
    ``benchmarks/bench_store_kill.py`` does fifty."""
    rng = random.Random(9)
    for attempt in range(10):
        path = tmp_path / f"run{attempt}" / "s.sqlite3"
        path.parent.mkdir()
        run = store_writer.kill_while_writing(path, rng.uniform(0.05, 0.5))
        assert store_writer.damage_after_kill(path, run) == [], run


async def test_community_statistics_count_every_clip_of_every_process(tmp_path):
    path = tmp_path / "shared.sqlite3"
    first, second = SettingsStore(path), SettingsStore(path)
    try:
        assert await first.community(4) is None and not await first.delete_community()
        clips = [np.full(4, float(i), np.float32) for i in range(40)]
        await asyncio.gather(
            *(store.add_to_community(c) for store, c in zip([first, second] * 20, clips, strict=True))
        )
        stats = await second.community(4)
        assert stats.count == 40  # no update lost between the two connections
        np.testing.assert_allclose(stats.mean, np.mean(range(40)), rtol=1e-5)
        assert await first.community(5) is None  # another recogniser's feature size
        assert await second.delete_community() and await first.community(4) is None
    finally:
        await first.close()
        await second.close()
