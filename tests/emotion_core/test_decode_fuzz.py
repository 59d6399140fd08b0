"""A seeded fuzz of :func:`emotion_core.audio.decode`: hostile uploads get the project's own errors.

Each input (see ``hostile_audio``) is decoded from its bytes, and every third also from a file; what
is checked is what a person running the bot relies on: no error but :class:`AudioError` (never a
traceback), the same answer from bytes and from a path, a plausible length or none, bounded memory
growth, and no temporary file or child process left behind. Times are measured by
``benchmarks/fuzz_decode.py``, not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotion_core.audio import decode
from emotion_core.errors import AudioError
from tests.helpers.hostile_audio import PeakRss, child_processes, hostile_inputs

SEED = 20261203
COUNT = 240
MAX_GROWTH_BYTES = 300 * 1024 * 1024  # the budget for one decode's peak memory growth


def _outcome(source: bytes | Path) -> tuple[str, object]:
    """What a decode gave: its samples' digest and length, or its error type and message."""
    try:
        wave = decode(source)
    except AudioError as error:
        return type(error).__name__, str(error)
    assert wave.original_duration_s is None or wave.original_duration_s <= 24 * 3600
    return "ok", (wave.samples.size, float(np.sum(wave.samples.astype(np.float64))), wave.truncated)


def test_hostile_uploads_get_only_audio_errors(tmp_path: Path, private_tempdir: Path) -> None:
    worst_growth, failures = 0, []
    children_before = set(child_processes())  # earlier tests' helpers (a resource tracker, say) may live on
    for index, (kind, data) in enumerate(hostile_inputs(SEED, COUNT)):
        with PeakRss() as memory:
            from_bytes = _outcome(data)  # anything but AudioError fails the test here
        worst_growth = max(worst_growth, memory.growth)
        if index % 3 == 0:
            path = tmp_path / f"upload-{index}.ogg"
            path.write_bytes(data)
            if (from_path := _outcome(path)) != from_bytes:
                failures.append((index, kind, from_bytes, from_path))
            path.unlink()
        if from_bytes[0] != "ok":
            message = str(from_bytes[1])
            assert message[0].isupper() and message.endswith("."), (index, kind, message)
            assert "ffmpeg" not in message and "0x" not in message, (index, kind, message)
    assert failures == []
    assert worst_growth <= MAX_GROWTH_BYTES, worst_growth / 2**20
    assert list(private_tempdir.iterdir()) == []
    assert set(child_processes()) <= children_before
