"""Where models and corpora live, from the environment with defaults that work in a clone.

``MOODBOT_MODELS_DIR`` points at a folder of downloaded or trained models; ``MOODBOT_CORPORA_DIR`` at the
emotional-speech corpora. Both default to folders beside this package in a source checkout, so a fresh
clone works with no settings at all.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The recogniser committed with the project (``models/ser``), used when no other path is given. It is
#: reached through the package's ``shipped_recognizer`` link, which a wheel carries as package data, so
#: a non-editable install (``pip install .``, pipx) finds it from any directory.
SHIPPED_RECOGNIZER_DIR = Path(__file__).resolve().parent / "shipped_recognizer"


def models_dir() -> Path:
    """Folder for model files: ``$MOODBOT_MODELS_DIR`` or the project's ``models/``."""
    return Path(os.environ.get("MOODBOT_MODELS_DIR") or PROJECT_ROOT / "models").expanduser()


def tts_models_dir() -> Path:
    """Folder for speech-synthesis checkpoints (Tacotron 2, WaveGlow, HiFi-GAN)."""
    return models_dir() / "tts"


def corpora_dir() -> Path:
    """Folder of emotional-speech corpora: ``$MOODBOT_CORPORA_DIR`` or ``../shared/corpora``."""
    default = PROJECT_ROOT.parent / "shared" / "corpora"
    return Path(os.environ.get("MOODBOT_CORPORA_DIR") or default).expanduser()
