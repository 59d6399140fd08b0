"""``moodbot evaluate``: score a recogniser and the seed baseline on held-out speakers."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a model against the seed baseline",
        description=(
            "Accuracy, UAR, macro-F1, per-class recall and confusion matrices on the test speakers "
            "of the model's own split, clean and through Discord's Opus codec."
        ),
    )
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument("--corpora-dir", type=Path, default=None)
    parser.add_argument(
        "--corpora", nargs="+", default=None, metavar="NAME", help="restrict to these corpora"
    )
    parser.add_argument(
        "--unseen",
        nargs="+",
        default=None,
        metavar="NAME",
        help="cross-corpus: score all speakers of these corpora, which the model was not trained on",
    )
    parser.add_argument(
        "--conditions",
        nargs="+",
        default=None,
        metavar="NAME",
        help="audio conditions to score: clean, discord-32k, discord-12k (default: all three)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the full report here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emotion_core.corpora import available_corpora, load_corpora
    from emotion_core.errors import EmotionCoreError
    from emotion_core.paths import SHIPPED_RECOGNIZER_DIR
    from emotion_core.recognizer.evaluate import (
        BASELINE_NAME,
        CONDITIONS,
        MODEL_NAME,
        evaluate_split,
        evaluate_unseen,
    )
    from emotion_core.recognizer.train import load_split

    folder = args.model or SHIPPED_RECOGNIZER_DIR
    split = load_split(folder)
    seen = split.corpora("train") | split.corpora("val") | split.corpora("test")
    if args.unseen:
        trained_on = sorted(seen & set(args.unseen))
        if trained_on:
            raise EmotionCoreError(
                f"the model was trained on {', '.join(trained_on)}: that is not a cross-corpus test"
            )
        wanted = set(args.unseen)
    else:
        wanted = split.corpora("test")
    if args.corpora:
        wanted &= set(args.corpora)
    present = [name for name in sorted(wanted) if name in available_corpora(args.corpora_dir)]
    if not present:
        raise EmotionCoreError("none of the corpora to evaluate were found (see --corpora-dir)")
    unknown = sorted(set(args.conditions or ()) - set(CONDITIONS))
    if unknown:
        raise EmotionCoreError(f"unknown conditions {unknown}; known: {list(CONDITIONS)}")
    conditions = {name: CONDITIONS[name] for name in args.conditions or CONDITIONS}
    clips = load_corpora(present, args.corpora_dir)
    if args.unseen:
        report = evaluate_unseen(folder, clips, conditions=conditions)
    else:
        report = evaluate_split(folder, clips, split, conditions=conditions)
    print(
        f"{'corpus':16} {'condition':12} {'model':14} {'acc':>6} {'UAR':>6} {'F1':>6} "
        f"{'ECE':>6} {'angry':>6} {'clips':>6}"
    )
    for corpus, conditions in report.results.items():
        for condition, models in conditions.items():
            for name in (MODEL_NAME, BASELINE_NAME):
                m = models[name]
                print(
                    f"{corpus:16} {condition:12} {name:14} {m.accuracy:6.3f} {m.uar:6.3f} "
                    f"{m.macro_f1:6.3f} {m.ece:6.3f} {m.called_angry:6.3f} {m.n_clips:6d}"
                )
    print("angry: share of clips of other emotions that were called angry; ECE: calibration error")
    first = next(iter(conditions))
    for corpus, scored in report.results.items():
        recall = scored[first][MODEL_NAME].recall
        print(f"{corpus} recall ({first}): " + ", ".join(f"{k} {v:.2f}" for k, v in recall.items()))
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0
