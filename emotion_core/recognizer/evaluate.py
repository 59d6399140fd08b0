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

from emotion_core.audio import AudioLimits, decode
from emotion_core.corpora import Clip
from emotion_core.recognizer.augment import opus_roundtrip_many
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
    clean = [
        decode(clip.path, sample_rate=sample_rate, limits=limits).samples
        for clip in tqdm(clips, desc="decode", unit="clip", leave=False)
    ]
    predictions = {}
    for condition, bitrate in conditions.items():
        audio = clean if bitrate is None else _coded(clean, sample_rate, bitrate)
        for name, model in models.items():
            predictions[condition, name] = np.array(
                [
                    int(np.argmax(model.predict_proba(x, sample_rate)))
                    for x in tqdm(audio, desc=f"{name} {condition}", unit="clip", leave=False)
                ]
            )
    truth = np.array([order[clip.label] for clip in clips])
    corpora = list(dict.fromkeys(clip.corpus for clip in clips))
    results: dict[str, dict[str, dict[str, Metrics]]] = {}
    for corpus in corpora:
        rows = np.array([clip.corpus == corpus for clip in clips])
        results[corpus] = {
            condition: {
                name: score(truth[rows], predictions[condition, name][rows], labels) for name in models
            }
            for condition in conditions
        }
    return Evaluation(labels, results)


def _coded(clips: list[np.ndarray], sample_rate: int, bitrate_kbps: int) -> list[np.ndarray]:
    """Every clip through Discord's codec, a few dozen clips per encoder run."""
    out: list[np.ndarray] = []
    for start in range(0, len(clips), 32):
        out += opus_roundtrip_many(clips[start : start + 32], sample_rate, bitrate_kbps=bitrate_kbps)
    return out


def evaluate_split(out_dir: Path, clips: Sequence[Clip], split: Split, *, max_clips: int = 420) -> Evaluation:
    """Evaluate an artifact folder's recogniser and its seed baseline on the split's test speakers.

    At most ``max_clips`` per corpus are scored (see :func:`stratified_sample`).
    """
    from emotion_core.recognizer.train import BASELINE_DIR

    models = {
        MODEL_NAME: EmotionRecognizer.from_pretrained(out_dir),
        BASELINE_NAME: EmotionRecognizer.from_pretrained(out_dir / BASELINE_DIR),
    }
    return evaluate(models, stratified_sample(split.of(clips, "test"), max_clips=max_clips))


def stratified_sample(clips: Sequence[Clip], *, max_clips: int, seed: int = 0) -> list[Clip]:
    """At most ``max_clips`` clips of each corpus, the same share of each label, fixed by ``seed``.

    A TESS test speaker has 1,399 clips and nEMO's two about 1,000; 420 per corpus (60 per class)
    keeps a full evaluation of two models in three conditions within minutes on two cores. The
    sample is fixed by ``seed``, so every model is scored on the same clips.
    """
    rng = np.random.default_rng(seed)
    kept: list[Clip] = []
    for corpus in dict.fromkeys(clip.corpus for clip in clips):
        members = [clip for clip in clips if clip.corpus == corpus]
        if len(members) <= max_clips:
            kept += members
            continue
        labels = sorted({clip.label for clip in members}, key=lambda label: label.value)
        per_label = max_clips // len(labels)
        for label in labels:
            group = [clip for clip in members if clip.label == label]
            rows = rng.permutation(len(group))[:per_label]
            kept += [group[i] for i in sorted(rows)]
    return kept
