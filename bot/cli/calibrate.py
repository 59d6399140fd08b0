"""``moodbot calibrate``: fit honest confidence and the "not sure" rule on a model's validation speakers."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calibrate",
        help="calibrate a model's confidence on its validation speakers",
        description=(
            "Temperature scaling and the 'not sure' threshold, fitted on the validation speakers of "
            "the model's own split (never its test speakers), and the angry offset that "
            "leave-one-corpus-out chose; writes calibration.json into the model."
        ),
    )
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument(
        "--corpora-dir", type=Path, default=None, help="corpora folder (default $MOODBOT_CORPORA_DIR)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emotion_core import (
        SHIPPED_RECOGNIZER_DIR,
        EmotionCoreError,
        available_corpora,
        calibrate_recognizer,
        load_corpora,
        load_split,
    )

    folder = args.model or SHIPPED_RECOGNIZER_DIR
    split = load_split(folder)
    present = [name for name in sorted(split.corpora("val")) if name in available_corpora(args.corpora_dir)]
    if not present:
        raise EmotionCoreError("none of the model's validation corpora were found (see --corpora-dir)")
    report = calibrate_recognizer(folder, split.of(load_corpora(present, args.corpora_dir), "val"))
    report.save(folder)
    c = report.calibration
    print(
        f"temperature {c.temperature:.3f}; not sure below {c.min_confidence:.0%} "
        f"or a margin under {c.min_margin:.0%}; angry offset {c.angry_offset:.1f} "
        "(chosen by leave-one-corpus-out, not on these speakers)"
    )
    print(f"ECE on {report.n_clips} validation scores: {report.ece_before:.3f} -> {report.ece_after:.3f}")
    print("threshold coverage accuracy")
    for point in report.curve:
        print(f"{point.threshold:9.2f} {point.coverage:8.1%} {point.accuracy:8.1%}")
    return 0
