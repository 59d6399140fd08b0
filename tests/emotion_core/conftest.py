"""Fixtures for the emotion core's tests (plain helpers live in ``tests/helpers``).

Nothing here reads a stored file except the ``corpus_dir`` fixture, which skips where the corpora
are absent.

- ``encoded_audio`` -- :func:`tests.helpers.audio.make_encoded_audio`, cached for the session.
- ``private_tempdir`` -- ``tempfile`` pointed at an empty folder, to see what a test left in it.
- ``corpus_dir`` -- the corpora folder (``MOODBOT_CORPORA_DIR`` or ``../shared/corpora``), or a
  skip.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from emotion_core.paths import corpora_dir
from tests.helpers.audio import make_encoded_audio


@pytest.fixture(scope="session")
def encoded_audio() -> Callable[..., bytes]:
    """:func:`make_encoded_audio`, cached for the session: same arguments, same bytes, encoded once.

    The cache keys on the arguments, so pass ``samples`` only to the plain function.
    """
    return functools.cache(make_encoded_audio)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The emotional-speech corpora folder; skips the test where it is absent."""
    folder = corpora_dir()
    if not folder.is_dir():
        pytest.skip(f"corpora not found at {folder}")
    return folder


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch) -> Path:
    """Point ``tempfile`` at an empty folder for the test, to see what is left in it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
