"""Does each synthetic emotion change prosody the way actors do? Judged against the actors, not by our
own recogniser.

For every emotion at intensity 0.5 (the actors' normal portrayals) and 1.0 (RAVDESS's strong ones),
the offline voice says the same sentences neutrally and in that emotion; the change in F0 level,
F0 range, speaking rate, spectral tilt and the F0 contour's slope (measured exactly as on the actors,
:mod:`emotion_core.synth.prosody_measures`) is placed among the actors' own changes from their neutral
(:mod:`emotion_core.synth.actor_prosody`): inside their interquartile range, or below / above it.

Target (issue 12): every emotion inside the actors' IQR for F0 level, speaking rate and spectral tilt,
at both intensities.

    python -m benchmarks.bench_prosody_actors [--voice hibari|espeak] [--world]
"""

from __future__ import annotations

import argparse

import numpy as np

from emotion_core.labels import Emotion
from emotion_core.synth.actor_prosody import HEADINGS, QUANTITIES, ActorProsody
from emotion_core.synth.pipeline import Synthesizer
from emotion_core.synth.prosody_measures import ProsodyMeasures, change, measure

SENTENCES = (
    "Kids are talking by the door.",
    "Dogs are sitting by the door.",
    "I told you this would happen again.",
    "We will be there in about ten minutes.",
    "Nobody has opened that box since last summer.",
    "Where did you put the keys to the car?",
    "I heard a noise coming from the basement.",
    "Nobody told me the road was closed.",
    "The lights went out an hour ago.",
    "He said he would be back before dark.",
    "Something is moving behind the curtain.",
    "I think we took the wrong turn somewhere.",
    "The phone has been ringing all night.",
)
INTENSITIES = {"normal": 0.5, "strong": 1.0}
JUDGED = ("f0_shift_st", "rate", "tilt_db_per_octave")


def synthetic_changes(
    synthesizer: Synthesizer, neutral: dict[str, ProsodyMeasures], emotion: Emotion, intensity: float
) -> dict[str, float]:
    """Median over the sentences of the change from the same voice's neutral reading."""
    changes: dict[str, list[float]] = {}
    for text, a in neutral.items():
        emotional = synthesizer.speak(text, emotion, intensity=intensity)
        b = measure(emotional.samples, emotional.sample_rate)
        if b is None:
            continue
        for quantity, value in change(a, b).items():
            changes.setdefault(quantity, []).append(value)
    return {k: float(np.median(v)) for k, v in changes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", choices=("hibari", "espeak"), default="hibari")
    parser.add_argument(
        "--world", action="store_true", help="render with WORLD even where the voice renders emotion itself"
    )
    args = parser.parse_args()
    synthesizer = Synthesizer.from_pretrained(voice=args.voice, native_prosody=not args.world)
    actors = ActorProsody.load()
    neutral = {}
    for text in SENTENCES:
        speech = synthesizer.speak(text, Emotion.NEUTRAL)
        if (measured := measure(speech.samples, speech.sample_rate)) is not None:
            neutral[text] = measured
    renderer = "the voice" if synthesizer.native_prosody else "WORLD"
    actors_used = ", ".join(actors.corpora)
    print(f"voice: {synthesizer.voice_name}; emotion rendered by {renderer}; actors: {actors_used}")
    print(f"{'emotion':<10} {'intensity':<9} " + " ".join(f"{HEADINGS[q]:>34}" for q in QUANTITIES))
    inside = total = 0
    for emotion in Emotion:
        if emotion is Emotion.NEUTRAL:
            continue
        for name, intensity in INTENSITIES.items():
            synthetic = synthetic_changes(synthesizer, neutral, emotion, intensity)
            cells = []
            for quantity in QUANTITIES:
                spread = actors.spread(emotion, name, quantity)
                value = synthetic.get(quantity, float("nan"))
                if spread is None:
                    cells.append(f"{value:7.2f} (no actors)".rjust(34))
                    continue
                verdict = "in" if spread.contains(value) else ("below" if value < spread.q25 else "above")
                if quantity in JUDGED:
                    total += 1
                    inside += verdict == "in"
                iqr = f"[{spread.q25:5.2f}, {spread.q75:5.2f}] n={spread.speakers:<3}"
                cells.append(f"{value:6.2f} {verdict:>5} {iqr}".rjust(34))
            print(f"{emotion.value:<10} {name:<9} " + " ".join(cells))
    print(f"\ninside the actors' IQR (F0 level, rate, tilt): {inside} of {total}")


if __name__ == "__main__":
    main()
