"""``moodbot listening-test make DIR`` / ``score DIR``: judge ``/speak``'s emotions by ear.

``make`` renders every test sentence in every emotion with the chosen voice under shuffled names and
writes ``answers.csv``; a listener plays each clip and writes the emotion they hear; ``score`` prints
the confusion matrix (rows: asked, columns: heard) and the unweighted average recall.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.speak import intensity_arg
from emotion_core import VOICE_NAMES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``listening-test`` to the ``moodbot`` parser."""
    parser = subparsers.add_parser(
        "listening-test",
        help="a forced-choice listening test of /speak's emotions (make a kit, score the answers)",
        description="Judge the synthetic emotions by ear: make a kit of shuffled clips, fill in "
        "answers.csv while listening, then score it.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="make|score")
    make = actions.add_parser("make", help="render a kit into a new, empty folder")
    make.add_argument("folder", type=Path, help="where to write the clips, answers.csv and key.json")
    make.add_argument(
        "--voice",
        choices=VOICE_NAMES,
        default="auto",
        help="which voice speaks (default auto, as /speak)",
    )
    make.add_argument(
        "-i", "--intensity", type=intensity_arg, default=0.5, help="0 (neutral) to 1 (full-blown)"
    )
    make.add_argument("--seed", type=int, default=0, help="shuffles the clip order (default 0)")
    make.set_defaults(func=_make)
    score = actions.add_parser("score", help="score a kit's filled-in answers.csv")
    score.add_argument("folder", type=Path, help="the kit folder")
    score.set_defaults(func=_score)


def _make(args: argparse.Namespace) -> int:
    from emotion_core import LISTENING_ANSWERS_FILE, LISTENING_KEY_FILE, Synthesizer, make_listening_kit

    synthesizer = Synthesizer.from_pretrained(voice=args.voice)
    count = make_listening_kit(args.folder, synthesizer, intensity=args.intensity, seed=args.seed)
    print(f"{count} clips by {synthesizer.voice_name} in {args.folder}")
    print(f"Play each clip and write the emotion you hear in {args.folder / LISTENING_ANSWERS_FILE}")
    print(f"(do not open {LISTENING_KEY_FILE} first); then: moodbot listening-test score {args.folder}")
    return 0


def _score(args: argparse.Namespace) -> int:
    from emotion_core import EMOTIONS, score_listening_kit

    score = score_listening_kit(args.folder)
    print(f"{score.answered} of {score.clips} clips answered; rows: asked, columns: heard")
    print(" " * 10 + "".join(f"{e.value[:5]:>7}" for e in EMOTIONS) + "  recall")
    for i, emotion in enumerate(EMOTIONS):
        row = score.confusion[i]
        recall = score.recall.get(emotion)
        shown = f"{recall:8.2f}" if recall is not None else "       –"
        print(f"{emotion.value:<10}" + "".join(f"{n:>7}" for n in row) + shown)
    print(f"UAR {score.uar:.3f} (chance {1 / len(EMOTIONS):.3f})")
    return 0
