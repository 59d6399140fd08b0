"""The ``moodbot`` console script: one subcommand per module in this package.

Each subcommand module exposes ``register(subparsers)`` and imports heavy libraries (TensorFlow, torch,
discord.py) only inside its handler, so ``moodbot --help`` is instant and ``moodbot analyze`` never
loads discord.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from bot.cli import analyze, calibrate, evaluate, listen, models, run, speak, train, worker

_SUBCOMMANDS = (analyze, train, evaluate, calibrate, speak, listen, run, worker, models)
#: Environment every subcommand runs with unless the user set it: numpy's BLAS (OpenBLAS) on one
#: thread. Its products here are small (a clip's mel filter bank), where a second thread costs more
#: than it gives, and its idle threads spin on the core that recognition's pitch tracker runs on
#: (README, "Libraries we chose": the recogniser's timing). Read once, when numpy loads OpenBLAS, so
#: it is set before anything imports numpy.
PROCESS_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1"}
#: Subcommands that load the recogniser, and so TensorFlow.
_USES_TENSORFLOW = frozenset({"train", "evaluate", "calibrate"})


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with the C++ start-up banner (oneDNN, CPU features) kept off the terminal.

    Those lines come from native code before any Python logging exists, so the only way to keep
    them out of a user's terminal is to point file descriptor 2 elsewhere for the import.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _version() -> str:
    """The installed package's version (``pyproject.toml``), or "unknown" when run from a bare checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("moodbot")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser; exposed for tests and ``--help``."""
    parser = argparse.ArgumentParser(
        prog="moodbot",
        description="Hear emotion in speech and speak with emotion (a self-hosted Discord bot).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; known errors become one line on stderr and exit status 2."""
    for name, value in PROCESS_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    from emotion_core import EmotionCoreError

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command in _USES_TENSORFLOW and not args.verbose:
        _import_tensorflow_quietly()
    try:
        return int(args.func(args) or 0)
    except EmotionCoreError as error:
        print(f"moodbot {args.command}: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file or folder we were pointed at: unwritable, full, gone
        where = f" ({error.filename})" if error.filename else ""
        print(f"moodbot {args.command}: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("moodbot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
