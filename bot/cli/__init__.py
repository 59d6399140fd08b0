"""The ``moodbot`` console script: one subcommand per module in this package.

Each subcommand module exposes ``register(subparsers)`` and imports heavy libraries (TensorFlow, torch,
discord.py) only inside its handler, so ``moodbot --help`` is instant and ``moodbot analyze`` never
loads discord.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.cli import analyze, evaluate, models, run, speak, train

_SUBCOMMANDS = (analyze, train, evaluate, speak, run, models)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser; exposed for tests and ``--help``."""
    parser = argparse.ArgumentParser(
        prog="moodbot",
        description="Hear emotion in speech and speak with emotion (a self-hosted Discord bot).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; known errors become one line on stderr and exit status 2."""
    from emotion_core.errors import EmotionCoreError

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except EmotionCoreError as error:
        print(f"moodbot {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("moodbot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
