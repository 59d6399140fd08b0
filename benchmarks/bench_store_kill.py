"""Kill a process writing settings with SIGKILL at random moments, 50 times, and count intact databases.

Each run starts a fresh writer (``tests/helpers/store_writer.py``: change two fields, add a channel, report
the step, repeat) on a new file, kills it after a random delay from process start (so some kills land
while the file is being created and migrated), then reopens the file as the bot would. A run is intact
when the file opens without being set aside, passes ``PRAGMA integrity_check`` and holds every step the
writer reported as done. Target: 50 of 50. The test suite does the same ten times.

Run from the project root: ``.venv/bin/python -m benchmarks.bench_store_kill``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path

from tests.helpers import store_writer


def main(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    failures: list[str] = []
    acknowledged: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(args.runs):
            path = Path(folder) / f"run{attempt}" / "moodbot.sqlite3"
            path.parent.mkdir()
            run = store_writer.kill_while_writing(path, rng.uniform(args.min_delay_s, args.max_delay_s))
            acknowledged.append(run.acknowledged)
            problems = store_writer.damage_after_kill(path, run)
            if problems:
                failures.append(f"run {attempt} (killed after {run.delay_s:.3f} s): {'; '.join(problems)}")
    intact = args.runs - len(failures)
    print(f"{intact}/{args.runs} intact after SIGKILL")
    print(
        f"steps acknowledged before the kill: median {statistics.median(acknowledged):.0f}, "
        f"max {max(acknowledged)}, {sum(a == 0 for a in acknowledged)} runs killed before the first"
    )
    for failure in failures:
        print(failure)
    return 0 if not failures else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-delay-s", type=float, default=0.05)
    parser.add_argument("--max-delay-s", type=float, default=0.5)
    sys.exit(main(parser.parse_args()))
