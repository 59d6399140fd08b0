"""A forced-choice listening test of ``/speak``'s emotions: people, not our recogniser, as the judge.

:func:`make_listening_kit` renders every sentence in every emotion into a folder under shuffled, meaningless
names (``clip-07.ogg``), with ``answers.csv`` for the listener to fill in (one emotion per clip) and
``key.json`` holding what each clip was asked to say (do not open it before answering).
:func:`score_listening_kit` reads the answers and gives the confusion matrix and unweighted average recall.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotion_core.errors import EmotionCoreError
from emotion_core.labels import EMOTIONS, Emotion
from emotion_core.synth.pipeline import Synthesizer

LISTENING_ANSWERS_FILE = "answers.csv"
LISTENING_KEY_FILE = "key.json"
SENTENCES = (
    "The meeting starts at nine tomorrow morning.",
    "We have been waiting here for over an hour.",
    "There is someone standing outside the door.",
)


class ListeningKitError(EmotionCoreError):
    """A kit folder or its answers cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class ListeningScore:
    """What the listener heard: ``confusion[asked][heard]`` over :data:`EMOTIONS`."""

    confusion: np.ndarray
    answered: int
    clips: int

    @property
    def recall(self) -> dict[Emotion, float]:
        rows = self.confusion.sum(axis=1)
        return {e: float(self.confusion[i, i] / rows[i]) for i, e in enumerate(EMOTIONS) if rows[i]}

    @property
    def uar(self) -> float:
        return float(np.mean(list(self.recall.values()))) if self.recall else 0.0


def make_listening_kit(
    folder: Path,
    synthesizer: Synthesizer,
    *,
    sentences: Sequence[str] = SENTENCES,
    intensity: float = 0.5,
    seed: int = 0,
) -> int:
    """Render the kit into ``folder`` (created; must be empty); return the number of clips."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise ListeningKitError(f"{folder} is not empty: give a new folder for the kit.")
    asked = [(text, emotion) for text in sentences for emotion in EMOTIONS]
    order = np.random.default_rng(seed).permutation(len(asked))
    key = {}
    for number, index in enumerate(order, start=1):
        text, emotion = asked[index]
        name = f"clip-{number:02d}.ogg"
        synthesizer.speak(text, emotion, intensity=intensity).save(folder / name)
        key[name] = {"emotion": emotion.value, "text": text, "intensity": intensity}
    (folder / LISTENING_KEY_FILE).write_text(
        json.dumps({"voice": synthesizer.voice_name, "clips": key}, indent=1)
    )
    with open(folder / LISTENING_ANSWERS_FILE, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["clip", "heard"])
        writer.writerows([name, ""] for name in sorted(key))
    return len(key)


def score_listening_kit(folder: Path) -> ListeningScore:
    """Score a filled-in ``answers.csv`` against the kit's key; unanswered clips are left out."""
    try:
        key = json.loads((folder / LISTENING_KEY_FILE).read_text())["clips"]
        with open(folder / LISTENING_ANSWERS_FILE, newline="") as file:
            rows = list(csv.DictReader(file))
    except FileNotFoundError as error:
        raise ListeningKitError(
            f"{folder} is not a listening kit ({Path(error.filename).name} is missing)."
        ) from None
    except (json.JSONDecodeError, KeyError, csv.Error, UnicodeDecodeError) as error:
        raise ListeningKitError(f"{folder}: the kit's files are damaged ({error}).") from None
    confusion = np.zeros((len(EMOTIONS), len(EMOTIONS)), dtype=int)
    answered = 0
    for line, row in enumerate(rows, start=2):
        clip, heard = (row.get("clip") or "").strip(), (row.get("heard") or "").strip()
        if not heard:
            continue
        if clip not in key:
            raise ListeningKitError(
                f"{LISTENING_ANSWERS_FILE} line {line}: no clip called {clip!r} in this kit."
            )
        try:
            heard_emotion = Emotion.parse(heard)
        except ValueError:
            names = ", ".join(e.value for e in EMOTIONS)
            raise ListeningKitError(
                f"{LISTENING_ANSWERS_FILE} line {line}: {heard!r} is not one of {names}."
            ) from None
        asked = Emotion(key[clip]["emotion"])
        confusion[EMOTIONS.index(asked), EMOTIONS.index(heard_emotion)] += 1
        answered += 1
    return ListeningScore(confusion, answered, len(key))
