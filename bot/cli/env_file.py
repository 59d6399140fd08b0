"""The ``--env-file`` option of the commands that read settings (``run``, ``worker``), written once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_env_file(parser: argparse.ArgumentParser) -> None:
    """Add ``--env-file`` (default ``.env``, which may be absent) to ``parser``."""
    parser.add_argument(
        "--env-file",
        type=Path,
        default=Path(".env"),
        help="file of KEY=value settings; the environment wins over it (default: .env)",
    )


def load_env_file(path: Path, command: str) -> bool:
    """Load ``path`` into the environment (which wins over it); ``False``, with one line on stderr,
    where a file was named and is not there (``.env`` itself is optional)."""
    from dotenv import load_dotenv

    if path != Path(".env") and not path.is_file():
        print(f"moodbot {command}: there is no settings file at {path}", file=sys.stderr)
        return False
    load_dotenv(path, override=False)
    return True
