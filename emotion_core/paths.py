"""Where models and corpora live, from the environment with defaults that work in a clone.

``MOODBOT_DATA_DIR`` holds everything MoodBot keeps (settings database, downloaded models);
``MOODBOT_MODELS_DIR`` points at a folder of downloaded or trained models; ``MOODBOT_CORPORA_DIR`` at the
emotional-speech corpora. In a source checkout models and corpora default to folders beside this
package, so a fresh clone works with no settings at all; an installed package (pip, pipx, a
container) keeps downloaded models in the data folder instead of inside ``site-packages``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The recogniser committed with the project (``models/ser``), used when no other path is given. It is
#: reached through the package's ``shipped_recognizer`` link, which a wheel carries as package data, so
#: a non-editable install (``pip install .``, pipx) finds it from any directory.
SHIPPED_RECOGNIZER_DIR = Path(__file__).resolve().parent / "shipped_recognizer"


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder for everything MoodBot keeps: ``$MOODBOT_DATA_DIR``, else the platform's usual place.

    Linux and other Unix: ``$XDG_DATA_HOME/moodbot`` (``~/.local/share/moodbot``); macOS:
    ``~/Library/Application Support/moodbot``; Windows: ``%LOCALAPPDATA%\\moodbot``. Under systemd set
    ``MOODBOT_DATA_DIR=/var/lib/moodbot`` (``StateDirectory=moodbot``); in a container, a volume.
    """
    if environ.get("MOODBOT_DATA_DIR"):
        return Path(environ["MOODBOT_DATA_DIR"]).expanduser()
    home = Path(environ.get("HOME") or Path.home())
    if sys.platform == "win32":
        return Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "moodbot"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "moodbot"
    return Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "moodbot"


def is_source_checkout() -> bool:
    """Whether this package runs from a clone (its ``pyproject.toml`` beside it), not an install."""
    return (PROJECT_ROOT / "pyproject.toml").is_file()


def models_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Folder for model files: ``$MOODBOT_MODELS_DIR``; else the clone's ``models/``, or for an installed
    package ``models/`` in the data folder (``site-packages`` is no place for downloads)."""
    if environ.get("MOODBOT_MODELS_DIR"):
        return Path(environ["MOODBOT_MODELS_DIR"]).expanduser()
    return PROJECT_ROOT / "models" if is_source_checkout() else data_dir(environ) / "models"


def corpora_dir() -> Path:
    """Folder of emotional-speech corpora: ``$MOODBOT_CORPORA_DIR`` or ``../shared/corpora``."""
    default = PROJECT_ROOT.parent / "shared" / "corpora"
    return Path(os.environ.get("MOODBOT_CORPORA_DIR") or default).expanduser()
