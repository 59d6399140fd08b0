"""The long fuzz of :func:`emotion_core.audio.decode`: the figures the README reports for hostile uploads.

Run from the project root (it borrows the suite's hostile-input generator)::

    nice -n 10 .venv/bin/python -m benchmarks.fuzz_decode --count 10000 [--seed 20261203] [--json F]

Each input is decoded from its bytes under a memory sampler; every tenth also from a file, to
compare. Reported: crashes (any exception but ``AudioError``), decodes over 5 s, peak memory growth
per decode (max and 99th percentile), bytes and path disagreeing, temporary files and child
processes left behind, and the outcome per kind. Any crash is printed with its index, so it can be
replayed with ``hostile_inputs(seed, index + 1)``.
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from emotion_core.audio import decode
from emotion_core.errors import AudioError
from tests.helpers.hostile_audio import PeakRss, child_processes, hostile_inputs

SLOW_S = 5.0  # a decode longer than this counts as slow (the target: none)
PATH_EVERY = 10  # every n-th input is also decoded from a file


def _outcome(source: bytes | Path) -> tuple[str, object]:
    try:
        wave = decode(source)
    except AudioError as error:
        return "refused", str(error)
    return "decoded", (wave.samples.size, float(np.sum(wave.samples, dtype=np.float64)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    temp_root = Path(tempfile.mkdtemp(prefix="moodbot-fuzz-"))
    tempfile.tempdir = str(temp_root / "tmp")  # what decode leaves behind shows up here
    Path(tempfile.tempdir).mkdir()
    crashes, slow, disagreements, growth, times = [], [], 0, [], []
    per_kind: collections.Counter[tuple[str, str]] = collections.Counter()
    started = time.perf_counter()
    for index, (kind, data) in enumerate(hostile_inputs(args.seed, args.count)):
        began = time.perf_counter()
        with PeakRss() as memory:
            try:
                outcome = _outcome(data)
            except Exception as error:  # noqa: BLE001 -- counting exactly these is the point
                crashes.append((index, kind, f"{type(error).__name__}: {error}"))
                outcome = ("crashed", None)
        elapsed = time.perf_counter() - began
        times.append(elapsed)
        growth.append(memory.growth)
        per_kind[kind, outcome[0]] += 1
        if elapsed > SLOW_S:
            slow.append((index, kind, round(elapsed, 2)))
        if index % PATH_EVERY == 0 and outcome[0] != "crashed":
            path = temp_root / "upload.bin"
            path.write_bytes(data)
            disagreements += _outcome(path) != outcome
            path.unlink()
        if (index + 1) % 1000 == 0:
            print(f"{index + 1} inputs, {time.perf_counter() - started:.0f} s", flush=True)
    left_behind = sorted(str(p) for p in Path(tempfile.tempdir).rglob("*"))
    figures = {
        "seed": args.seed,
        "inputs": args.count,
        "crashes": len(crashes),
        "decodes_over_5_s": len(slow),
        "max_decode_s": round(max(times), 3),
        "p99_decode_s": round(float(np.percentile(times, 99)), 3),
        "max_growth_mib": round(max(growth) / 2**20, 1),
        "p99_growth_mib": round(float(np.percentile(growth, 99)) / 2**20, 1),
        "bytes_vs_path_disagreements": disagreements,
        "bytes_vs_path_compared": len(range(0, args.count, PATH_EVERY)),
        "files_left_behind": len(left_behind),
        "child_processes_left": len(child_processes()),
        "wall_s": round(time.perf_counter() - started, 1),
        "per_kind": {f"{kind}/{result}": n for (kind, result), n in sorted(per_kind.items())},
    }
    for crash in crashes[:20]:
        print("crash:", *crash)
    for entry in slow[:20]:
        print("slow:", *entry)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
