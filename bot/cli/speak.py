"""``moodbot speak``: say a sentence with an emotion and write it to an .ogg or .wav file.

Prints which voice spoke (Tacotron 2, the offline Hibari voice or eSpeak NG), the duration and the path.
The text, intensity and output path are checked before any voice loads; the
synthesis modules are imported inside the handler, so ``moodbot --help`` stays instant.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emotion_core import (
    EMOTIONS,
    MAX_TEXT_CHARS,
    SPEECH_FORMATS,
    VOCODER_NAMES,
    VOICE_NAMES,
    check_intensity,
    clean_text,
)


def intensity_arg(value: str) -> float:
    """argparse type: a number within [0, 1] (:func:`emotion_core.check_intensity`)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    try:
        return check_intensity(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value} is outside [0, 1]") from None


def _output_path(value: str) -> Path:
    """argparse type: a path ending in .ogg, .opus or .wav, in a folder that exists.

    Checked here, before the voice is loaded and the speech made, so a mistyped folder costs nothing.
    """
    path = Path(value)
    if path.suffix.lower() not in SPEECH_FORMATS:
        *others, last = SPEECH_FORMATS
        raise argparse.ArgumentTypeError(f"{value!r} must end in {', '.join(others)} or {last}")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {str(folder)!r} does not exist")
    return path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``speak`` to the ``moodbot`` parser."""
    parser = subparsers.add_parser(
        "speak",
        help="say text with an emotion and save it as .ogg (Opus) or .wav",
        description="Say TEXT with an emotion. Uses Tacotron 2 when its weights are present "
        "(moodbot models download), else the offline Hibari voice, else eSpeak NG.",
    )
    parser.add_argument("text", help=f"what to say (at most {MAX_TEXT_CHARS} characters)")
    parser.add_argument(
        "-e",
        "--emotion",
        choices=[e.value for e in EMOTIONS],
        default="neutral",
        help="how to say it (default neutral)",
    )
    parser.add_argument(
        "-i", "--intensity", type=intensity_arg, default=0.5, help="0 (neutral) to 1 (full-blown)"
    )
    parser.add_argument(
        "--voice",
        choices=VOICE_NAMES,
        default="auto",
        help="auto: Tacotron 2 where its weights are present, else the offline Hibari voice, else eSpeak NG",
    )
    parser.add_argument(
        "--vocoder",
        choices=VOCODER_NAMES,
        default="waveglow",
        help="mel-to-waveform stage for Tacotron 2 (default waveglow)",
    )
    parser.add_argument(
        "--models-dir", type=Path, default=None, help="models folder (default $MOODBOT_MODELS_DIR)"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=_output_path,
        default=Path("speech.ogg"),
        help="speech.ogg by default",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from emotion_core import Emotion, Synthesizer

    text = clean_text(args.text)  # before any voice loads; a TextError is one line (bot.cli.main)
    synthesizer = Synthesizer.from_pretrained(args.models_dir, voice=args.voice, vocoder=args.vocoder)
    speech = synthesizer.speak(text, Emotion.parse(args.emotion), intensity=args.intensity)
    path = speech.save(args.output)
    print(f"voice: {speech.voice}")
    print(f"emotion: {speech.emotion.value} at intensity {speech.intensity:g}")
    print(f"duration: {speech.duration_s:.2f} s")
    print(f"wrote: {path}")
    return 0
