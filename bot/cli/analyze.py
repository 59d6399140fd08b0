"""``moodbot analyze FILE...``: the mood of each audio file, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="recognise the mood of audio files",
        description="Print each file's mood, confidence and runner-ups.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="audio files (any format)")
    parser.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument("--top", type=int, default=3, help="how many moods to list (default: 3)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emotion_core import AudioError, EmotionRecognizer

    recognizer = EmotionRecognizer.from_pretrained(args.model)
    failures = 0
    for path in args.files:
        try:
            result = recognizer.analyze(path)
        except AudioError as error:
            failures += 1
            if args.json:
                print(json.dumps({"file": str(path), "error": str(error)}))
            else:
                print(f"{path}: {error}", file=sys.stderr)
            continue
        print(json.dumps(_as_json(path, result)) if args.json else _as_text(path, result, args.top))
    return 1 if failures else 0


def _as_text(path: Path, result, top: int) -> str:
    if result.no_speech:
        return f"{path}: no speech found ({result.duration_s:.1f} s)"
    ranked = result.ranked()
    head = f"{path}: {result.label.emoji} {result.label.value} {result.confidence:.0%}"
    if result.verdict != "clear":
        head += f" ({result.verdict})"
    rest = ", ".join(f"{label.value} {p:.0%}" for label, p in ranked[1:top])
    lines = [f"{head}  (then {rest})  [{result.duration_s:.1f} s]"]
    if result.truncated:
        whole = (
            "a longer clip" if result.original_duration_s is None else f"{result.original_duration_s:.0f} s"
        )
        lines.append(f"  analysed the first {result.duration_s:.0f} s of {whole}")
    for point in result.timeline:
        lines.append(
            f"  {point.start_s:5.1f}-{point.end_s:5.1f} s  {point.label.value} {point.confidence:.0%}"
        )
    return "\n".join(lines)


def _as_json(path: Path, result) -> dict:
    return {
        "file": str(path),
        "no_speech": result.no_speech,
        "label": result.label.value if result.label else None,
        "confidence": result.confidence,
        "verdict": result.verdict,
        "probabilities": {label.value: p for label, p in result.ranked()},
        "duration_s": result.duration_s,
        "original_duration_s": result.original_duration_s,
        "truncated": result.truncated,
        "timeline": [
            {"start_s": p.start_s, "end_s": p.end_s, "label": p.label.value, "confidence": p.confidence}
            for p in result.timeline
        ],
    }
