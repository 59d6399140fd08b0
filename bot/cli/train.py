"""``moodbot train``: train the recogniser and the seed baseline from one command, reproducibly."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emotion_core import TrainConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a recogniser on the corpora",
        description="Speaker-independent split, augmentation, training, evaluation and model card.",
    )
    parser.add_argument("-o", "--out", type=Path, default=Path("runs/ser"), help="artifact folder")
    parser.add_argument(
        "--corpora",
        nargs="+",
        default=None,
        metavar="NAME",
        help="corpora to use (default: all six: RAVDESS TESS SAVEE nEMO EmoDB IndianEmoSpeech)",
    )
    parser.add_argument(
        "--corpora-dir",
        type=Path,
        default=None,
        help="folder of corpora (default: $MOODBOT_CORPORA_DIR or ../shared/corpora)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the whole run (default 0)")
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs")
    parser.add_argument("--workers", type=int, default=2, help="processes for feature extraction")
    parser.set_defaults(func=run)


def with_corpora(config: TrainConfig, args: argparse.Namespace) -> TrainConfig:
    """``config`` on ``args.corpora`` (when given), after checking that each is known and present
    below ``args.corpora_dir``; raises the error to show the user otherwise."""
    from dataclasses import replace

    from emotion_core import CORPORA, EmotionCoreError, available_corpora

    if args.corpora:
        unknown = sorted(set(args.corpora) - set(CORPORA))
        if unknown:
            raise EmotionCoreError(f"unknown corpora {unknown}; known: {sorted(CORPORA)}")
        config = replace(config, corpora=tuple(args.corpora))
    missing = sorted(set(config.corpora) - set(available_corpora(args.corpora_dir)))
    if missing:
        raise EmotionCoreError(
            f"corpora not found: {', '.join(missing)} (set --corpora-dir or MOODBOT_CORPORA_DIR)"
        )
    return config


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from emotion_core import SplitConfig, TrainConfig, build_recognizer

    config = with_corpora(TrainConfig(seed=args.seed, split=SplitConfig(seed=args.seed)), args)
    if args.epochs:
        config = replace(config, epochs=args.epochs, baseline_epochs=args.epochs)
    out = build_recognizer(config, args.out, corpora_root=args.corpora_dir, workers=args.workers)
    print(f"model written to {out}; see {out / 'MODEL_CARD.md'}")
    return 0
