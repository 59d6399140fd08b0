"""Round trip: does the shipped recogniser hear the emotion that ``/speak`` was asked to put in?

Every emotion is spoken for a set of sentences with the offline voice (or Tacotron 2 where its weights
are present), passed through Discord's codec (Ogg/Opus 48 kHz, 32 kbit/s, as posted), and recognised.
The confusion matrix is a figure to improve, not a pass mark: the recogniser was trained on acted human
speech, and the synthesised emotion is rule-based prosody on a synthetic voice.

    python -m benchmarks.bench_speak_roundtrip [--intensity 1.0] [--voice auto]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

SENTENCES = (
    "I can't believe you did that.",
    "The meeting starts at nine tomorrow morning.",
    "We have been waiting here for over an hour.",
    "Did you see what happened in the kitchen?",
    "This is the last time I am going to ask.",
    "Our team won the game last night.",
    "There is someone standing outside the door.",
    "Please put the books back on the shelf.",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intensity", type=float, default=1.0)
    parser.add_argument("--voice", default="auto", choices=["auto", "tacotron2", "hibari", "espeak"])
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from emotion_core.labels import EMOTIONS
    from emotion_core.recognizer.infer import EmotionRecognizer
    from emotion_core.synth.pipeline import Synthesizer

    synthesizer = Synthesizer.from_pretrained(voice=args.voice)
    recognizer = EmotionRecognizer.from_pretrained()
    confusion = np.zeros((len(EMOTIONS), len(EMOTIONS)), dtype=int)
    for i, emotion in enumerate(EMOTIONS):
        for sentence in SENTENCES:
            speech = synthesizer.speak(sentence, emotion, intensity=args.intensity)
            heard = recognizer.analyze(speech.to_ogg())
            if heard.label is not None:
                confusion[i, EMOTIONS.index(heard.label)] += 1
    short = [e.value[:5] for e in EMOTIONS]
    print(
        f"voice: {synthesizer.voice_name}; intensity {args.intensity}; "
        f"{len(SENTENCES)} sentences per emotion; rows: asked, columns: heard"
    )
    print("          " + " ".join(f"{s:>6}" for s in short) + "  recall")
    for i, name in enumerate(short):
        recall = confusion[i, i] / max(confusion[i].sum(), 1)
        print(f"{name:>9} " + " ".join(f"{n:6d}" for n in confusion[i]) + f"  {recall:6.2f}")
    recalls = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
    print(f"UAR {recalls.mean():.3f} (chance {1 / len(EMOTIONS):.3f})")


if __name__ == "__main__":
    main()
