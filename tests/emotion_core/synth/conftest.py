"""Fixtures for the synthesis tests (the tiny models themselves: ``tests/helpers/tiny_models.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers.tiny_models import GLOW_SOURCE


@pytest.fixture
def glow_module(tmp_path: Path):
    """Import a throwaway module named ``glow`` and remove every trace of it afterwards."""
    folder = tmp_path / "glow_src"
    folder.mkdir()
    (folder / "glow.py").write_text(GLOW_SOURCE)
    sys.path.insert(0, str(folder))
    try:
        import glow

        yield glow
    finally:
        sys.modules.pop("glow", None)
        sys.path.remove(str(folder))
