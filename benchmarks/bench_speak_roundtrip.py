"""Round trip: does the shipped recogniser hear the emotion that ``/speak`` was asked to put in?

Every emotion is spoken for a set of sentences with the offline voice (or Tacotron 2 where its weights
are present), passed through Discord's codec (Ogg/Opus 48 kHz, 32 kbit/s, as posted), and recognised.
The confusion matrix is a figure to improve, not a pass mark: the recogniser was trained on acted human
speech, and the synthesised emotion is prosody rendered on a synthetic voice.

It is scored twice: as anybody's first message, and relative to the voice's own neutral, the way a
person with a voice profile is heard: a profile built from the voice's neutral renditions of
:data:`HISTORY`'s other sentences (never the sentences scored), heard as such a person is (the
speaker-independent and profile networks together). The second
asks whether the emotion is heard as a *change* from the voice, which is what a synthetic voice that
sounds tense or bright before any emotion is applied needs.

    python -m benchmarks.bench_speak_roundtrip [--intensity 1.0] [--voice auto] [--world]
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
    "The bus was late again this morning.",
    "She bought a new coat for the winter.",
    "They moved the meeting to the afternoon.",
    "I found a letter under the door.",
    "The garden needs water after this heat.",
    "We painted the kitchen last weekend.",
    "His car is parked across the street.",
    "The children are playing in the yard.",
    "You forgot to close the window upstairs.",
    "The dinner will be ready in an hour.",
    "I saw your sister at the station.",
    "The printer on the second floor is broken.",
)

#: Other sentences, spoken neutrally, that make the voice's profile (10, the profile size the
#: protocol's headline figures use; a profile is used from ``MIN_MESSAGES`` on).
HISTORY = (
    "The train leaves from the second platform.",
    "I will call you when I get home.",
    "There are three apples on the table.",
    "She opened the window to let some air in.",
    "The shop closes at six on weekdays.",
    "He left his umbrella in the car.",
    "We need to buy milk and bread.",
    "The report is due at the end of the month.",
    "My brother lives in a small town by the sea.",
    "Turn left at the next corner.",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intensity", type=float, default=1.0)
    parser.add_argument("--voice", default="auto", choices=["auto", "tacotron2", "hibari", "espeak"])
    parser.add_argument(
        "--world", action="store_true", help="render with WORLD even where the voice renders emotion itself"
    )
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from emotion_core.labels import EMOTIONS
    from emotion_core.profile import VoiceProfile
    from emotion_core.recognizer.infer import EmotionRecognizer
    from emotion_core.synth.pipeline import Synthesizer

    synthesizer = Synthesizer.from_pretrained(voice=args.voice, native_prosody=not args.world)
    recognizer = EmotionRecognizer.from_pretrained()
    profile = None
    for sentence in HISTORY:
        voice = recognizer.analyze(synthesizer.speak(sentence, "neutral").to_ogg()).voice
        profile = VoiceProfile.first(voice) if profile is None else profile.updated(voice)
    conditions = {"first message": None, "relative to the voice's neutral": profile}
    if recognizer.profiled is None:
        del conditions["relative to the voice's neutral"]  # a model without a profile network
    confusions = {name: np.zeros((len(EMOTIONS), len(EMOTIONS)), dtype=int) for name in conditions}
    for i, emotion in enumerate(EMOTIONS):
        for sentence in SENTENCES:
            speech = synthesizer.speak(sentence, emotion, intensity=args.intensity).to_ogg()
            for name, condition in conditions.items():
                heard = recognizer.analyze(speech, profile=condition)
                if heard.label is not None:
                    confusions[name][i, EMOTIONS.index(heard.label)] += 1
    print(
        f"voice: {synthesizer.voice_name}; emotion rendered by "
        f"{'the voice' if synthesizer.native_prosody else 'WORLD'}; intensity {args.intensity}; "
        f"{len(SENTENCES)} sentences per emotion"
    )
    for name, confusion in confusions.items():
        _report(name, confusion, [e.value[:5] for e in EMOTIONS])


def _report(name: str, confusion: np.ndarray, short: list[str]) -> None:
    print(f"\n{name}; rows: asked, columns: heard")
    print("          " + " ".join(f"{s:>6}" for s in short) + "  recall")
    for i, label in enumerate(short):
        recall = confusion[i, i] / max(confusion[i].sum(), 1)
        print(f"{label:>9} " + " ".join(f"{n:6d}" for n in confusion[i]) + f"  {recall:6.2f}")
    recalls = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
    chance = 1 / len(short)
    angry = short.index("angry")
    others = np.delete(confusion[:, angry], angry).sum() / max(np.delete(confusion, angry, axis=0).sum(), 1)
    print(
        f"UAR {recalls.mean():.3f} (chance {chance:.3f}); above chance: {int((recalls > chance).sum())} "
        f"of {len(short)}; other emotions heard as angry: {others:.0%}"
    )


if __name__ == "__main__":
    main()
