"""Evaluation on held-out speakers, clean and through Discord's codec, with the seed baseline beside.

Conditions: ``clean`` is the audio as stored in the corpora (already Opus at 32 kbit/s, 16 kHz, see the
corpora README); ``discord-32k`` adds a further Opus encode at 48 kHz and 32 kbit/s, what a Discord voice
message goes through; ``discord-12k`` is the same at 12 kbit/s, a stress test for a bad connection.
Each model scores every clip on its whole length (no windowing, no speech check).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emotion_core.audio import AudioLimits, decode, opus_roundtrip
from emotion_core.corpora import Clip
from emotion_core.recognizer.dataset import Split
from emotion_core.recognizer.infer import EmotionRecognizer
from emotion_core.recognizer.metrics import Metrics, score

log = logging.getLogger(__name__)

#: Condition name -> Opus bit rate (kbit/s) of the extra encode, or None for the audio as stored.
CONDITIONS: dict[str, int | None] = {"clean": None, "discord-32k": 32, "discord-12k": 12}
MODEL_NAME = "moodbot"
BASELINE_NAME = "seed baseline"


@dataclass(frozen=True)
class Evaluation:
    """Metrics per corpus, per condition, per model: ``results[corpus][condition][model]``."""

    labels: tuple[str, ...]
    results: dict[str, dict[str, dict[str, Metrics]]]

    def to_dict(self) -> dict:
        return {
            "labels": list(self.labels),
            "results": {
                corpus: {
                    cond: {model: m.to_dict() for model, m in models.items()}
                    for cond, models in conditions.items()
                }
                for corpus, conditions in self.results.items()
            },
        }


def evaluate(
    models: Mapping[str, EmotionRecognizer],
    clips: Sequence[Clip],
    *,
    conditions: Mapping[str, int | None] = CONDITIONS,
) -> Evaluation:
    """Score every model on every clip in every condition, grouped by corpus.

    All models must share one label order (the canonical one); audio is decoded once per clip.
    """
    first = next(iter(models.values()))
    labels = tuple(label.value for label in first.labels)
    order = {label: i for i, label in enumerate(first.labels)}
    sample_rate = first.sample_rate
    limits = AudioLimits(min_duration_s=0.0, max_duration_s=30.0)
    predictions = {(c, m): [] for c in conditions for m in models}
    for clip in tqdm(clips, desc="evaluate", unit="clip"):
        samples = decode(clip.path, sample_rate=sample_rate, limits=limits).samples
        for condition, bitrate in conditions.items():
            audio = samples if bitrate is None else opus_roundtrip(
                samples, sample_rate, bitrate_kbps=bitrate
            )
            for name, model in models.items():
                predictions[condition, name].append(int(np.argmax(model.predict_proba(audio, sample_rate))))
    truth = np.array([order[clip.label] for clip in clips])
    corpora = list(dict.fromkeys(clip.corpus for clip in clips))
    results: dict[str, dict[str, dict[str, Metrics]]] = {}
    for corpus in corpora:
        rows = np.array([clip.corpus == corpus for clip in clips])
        results[corpus] = {
            condition: {
                name: score(truth[rows], np.array(predictions[condition, name])[rows], labels)
                for name in models
            }
            for condition in conditions
        }
    return Evaluation(labels, results)


def evaluate_split(
    out_dir: Path, clips: Sequence[Clip], split: Split, *, corpora_root: Path | None = None
) -> Evaluation:
    """Evaluate an artifact folder's recogniser and its seed baseline on the split's test speakers."""
    from emotion_core.recognizer.train import BASELINE_DIR

    models = {
        MODEL_NAME: EmotionRecognizer.from_pretrained(out_dir),
        BASELINE_NAME: EmotionRecognizer.from_pretrained(out_dir / BASELINE_DIR),
    }
    return evaluate(models, split.of(clips, "test"))
