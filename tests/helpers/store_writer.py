"""Other processes writing settings to one database file, for the store's concurrency and crash tests.

:func:`hammer` runs in a ``multiprocessing`` child: two of them change different fields and channels of
one guild at the same time. Run as ``python -m tests.helpers.store_writer PATH``, this module writes settings
in a loop and prints the number of each write once it returned (was committed), until it is killed;
:func:`kill_while_writing` does that with SIGKILL at a chosen moment and :func:`damage_after_kill` says
what, if anything, was lost. ``benchmarks/bench_store_kill.py`` repeats it 50 times.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.store import REPLY_STYLES, GuildSettings, SettingsStore

if TYPE_CHECKING:
    from multiprocessing.synchronize import Barrier

GUILD = 42
PROJECT_ROOT = Path(__file__).resolve().parents[2]

Role = Literal["ephemeral", "style"]


def channel(role: Role, i: int) -> int:
    """The channel a role adds in step ``i``; the roles' channels never overlap."""
    return (1_000 if role == "ephemeral" else 2_000) + i


def expected_after_hammer(n: int) -> GuildSettings:
    """The guild's settings once both roles ran ``n`` steps: each role's last value of its own fields (all
    different from the defaults) and every channel either kept (one in three is removed again)."""
    return GuildSettings(
        auto_analyze=False,
        allowed_channel_ids=frozenset(
            channel(r, i) for r in ("ephemeral", "style") for i in range(n) if i % 3
        ),
        reply_style="reaction",
        ephemeral=True,
    )


def hammer(path: Path, role: Role, n: int, start: Barrier) -> None:
    """``n`` steps of one role, begun when every process has reached ``start``."""
    start.wait()
    asyncio.run(_hammer(path, role, n))


async def _hammer(path: Path, role: Role, n: int) -> None:
    # A generous timeout: the other process holds the write lock for many short transactions.
    store = SettingsStore(path, busy_timeout_s=30)
    try:
        for i in range(n):
            last = (n - 1 - i) % 2 == 0  # alternates, and the final step sets the non-default value
            if role == "ephemeral":
                await store.update(GUILD, ephemeral=last)
            else:
                await store.update(GUILD, reply_style="reaction" if last else "embed", auto_analyze=not last)
            await store.add_channel(GUILD, channel(role, i))
            if i % 3 == 0:
                await store.remove_channel(GUILD, channel(role, i))
    finally:
        await store.close()


def written(k: int) -> tuple[bool, str]:
    """``(ephemeral, reply_style)`` as the looping writer's step ``k`` sets them (step 0: the defaults)."""
    return k % 2 == 1, REPLY_STYLES[k % 2]


async def write_forever(path: Path) -> None:
    """Step ``k``: change two fields, add channel ``k``, then report ``k`` on stdout."""
    store = SettingsStore(path)
    k = 0
    while True:
        ephemeral, reply_style = written(k)
        await store.update(GUILD, ephemeral=ephemeral, reply_style=reply_style)  # type: ignore[arg-type]
        await store.add_channel(GUILD, k)
        print(k, flush=True)
        k += 1


@dataclass(frozen=True)
class KillRun:
    """One writer killed with SIGKILL: how many steps it had reported done when it died."""

    delay_s: float
    acknowledged: int


def kill_while_writing(path: Path, delay_s: float) -> KillRun:
    """Start the looping writer on ``path``, SIGKILL it ``delay_s`` after starting (possibly while it is
    still creating the database), and collect the steps it reported."""
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.store_writer", str(path)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay_s)
    writer.send_signal(signal.SIGKILL)
    out, _ = writer.communicate()
    lines = out.split(b"\n")[:-1]  # only whole lines were reported
    assert [int(line) for line in lines] == list(range(len(lines)))
    return KillRun(delay_s, len(lines))


def damage_after_kill(path: Path, run: KillRun) -> list[str]:
    """What the killed writer lost or left broken (empty when the file is intact): the file must open
    without being set aside, pass an integrity check, hold every acknowledged step, and at most one more."""
    settings = asyncio.run(reopened(path))
    problems = [f"set aside: {p.name}" for p in path.parent.glob(f"{path.name}.corrupt-*")]
    with sqlite3.connect(path) as connection:
        (verdict,) = connection.execute("PRAGMA integrity_check").fetchone()
    connection.close()
    if verdict != "ok":
        problems.append(f"integrity_check: {verdict}")
    done = run.acknowledged
    missing = set(range(done)) - settings.allowed_channel_ids
    if missing:
        problems.append(f"lost channels {sorted(missing)}")
    if not settings.allowed_channel_ids <= set(range(done + 1)):
        problems.append(
            f"channels never written: {sorted(settings.allowed_channel_ids - set(range(done + 1)))}"
        )
    # The step after the last acknowledged one may have committed its update before the kill.
    fields = (settings.ephemeral, settings.reply_style)
    if fields not in {written(max(done - 1, 0)), written(done)}:
        problems.append(f"fields {fields} after {done} acknowledged steps")
    return problems


async def reopened(path: Path) -> GuildSettings:
    """The guild's settings as a freshly opened store reads them (and closes again)."""
    store = SettingsStore(path)
    try:
        return await store.get(GUILD)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(write_forever(Path(sys.argv[1])))
