"""Evaluation on held-out speakers, clean and through Discord's codec, with the seed baseline beside.

Conditions: ``clean`` is the audio as stored in the corpora (already Opus at 32 kbit/s, 16 kHz, see the
corpora README); ``discord-32k`` adds a further Opus encode at 48 kHz and 32 kbit/s, what a Discord voice
message goes through; ``discord-12k`` is the same at 12 kbit/s, a stress test for a bad connection.
Each model scores every clip on its whole length (no windowing, no speech check), and each corpus is
scored on its own classes: probabilities are restricted to the emotions the corpus has and renormalised
(IndianEmoSpeech has four, nEMO six), so a corpus is never marked wrong for a class it cannot contain.
Every clip goes through the codec on its own, so its score never depends on its neighbours.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emotion_core.audio import AudioLimits, decode, opus_roundtrip
from emotion_core.community import fuse_answers
from emotion_core.corpora import Clip
from emotion_core.labels import corpus_emotions
from emotion_core.recognizer.artifact import BASELINE_DIR, load_clip_cap
from emotion_core.recognizer.calibration import (
    ANGRY_OFFSET,
    CURVE_FILE,
    Calibration,
    CoveragePoint,
    fit_calibration,
)
from emotion_core.recognizer.dataset import Split, cap_per_speaker
from emotion_core.recognizer.infer import EmotionRecognizer
from emotion_core.recognizer.metrics import Metrics, expected_calibration_error, score_on_own_classes

#: Condition name -> Opus bit rate (kbit/s) of the extra encode, or None for the audio as stored.
EVAL_CONDITIONS: dict[str, int | None] = {"clean": None, "discord-32k": 32, "discord-12k": 12}
MODEL_NAME = "moodbot"
#: The prosody network, scored on its own where calibration needs its answers apart.
PROSODY_NAME = "moodbot prosody network"
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
    conditions: Mapping[str, int | None] = EVAL_CONDITIONS,
) -> Evaluation:
    """Score every model on every clip in every condition, grouped by corpus.

    All models must share one label order (the canonical one); audio is decoded once per clip.
    """
    first = next(iter(models.values()))
    labels = tuple(label.value for label in first.labels)
    probabilities, truth = _probabilities(models, clips, conditions)
    corpora = list(dict.fromkeys(clip.corpus for clip in clips))
    results: dict[str, dict[str, dict[str, Metrics]]] = {}
    for corpus in corpora:
        rows = np.array([clip.corpus == corpus for clip in clips])
        own = np.array([label in corpus_emotions(corpus) for label in first.labels])
        results[corpus] = {
            condition: {
                name: score_on_own_classes(truth[rows], probabilities[condition, name][rows], own, labels)
                for name in models
            }
            for condition in conditions
        }
    return Evaluation(labels, results)


def _probabilities(
    models: Mapping[str, EmotionRecognizer],
    clips: Sequence[Clip],
    conditions: Mapping[str, int | None],
) -> tuple[dict[tuple[str, str], np.ndarray], np.ndarray]:
    """Every model's probabilities for every clip in every condition, and the true label indices.

    Returns ``{(condition, model name): (clips, n_labels)}`` and ``truth`` of shape ``(clips,)``.
    Audio is decoded once per clip and goes through the codec on its own.
    """
    first = next(iter(models.values()))
    order = {label: i for i, label in enumerate(first.labels)}
    sample_rate = first.sample_rate
    limits = AudioLimits(min_duration_s=0.0, max_duration_s=30.0)
    clean = [
        decode(clip.path, sample_rate=sample_rate, limits=limits).samples
        for clip in tqdm(clips, desc="decode", unit="clip", leave=False)
    ]
    probabilities = {}
    for condition, bitrate in conditions.items():
        audio = (
            clean
            if bitrate is None
            else [
                opus_roundtrip(x, sample_rate, bitrate_kbps=bitrate)
                for x in tqdm(clean, desc=f"codec {condition}", unit="clip", leave=False)
            ]
        )
        for name, model in models.items():
            probabilities[condition, name] = np.stack(
                [
                    model.predict_proba(x, sample_rate)
                    for x in tqdm(audio, desc=f"{name} {condition}", unit="clip", leave=False)
                ]
            )
    return probabilities, np.array([order[clip.label] for clip in clips])


def _model_and_baseline(out_dir: Path) -> dict[str, EmotionRecognizer]:
    """An artifact folder's recogniser and the seed baseline trained beside it."""
    return {
        MODEL_NAME: EmotionRecognizer.from_pretrained(out_dir),
        BASELINE_NAME: EmotionRecognizer.from_pretrained(out_dir / BASELINE_DIR),
    }


#: Clips scored per corpus of a split's test speakers (a fixed stratified sample where there are more;
#: see :func:`stratified_sample`) and per unseen corpus.
TEST_SAMPLE_CLIPS = 420
UNSEEN_SAMPLE_CLIPS = 600


def evaluate_split(
    out_dir: Path,
    clips: Sequence[Clip],
    split: Split,
    *,
    max_clips: int = TEST_SAMPLE_CLIPS,
    conditions: Mapping[str, int | None] = EVAL_CONDITIONS,
) -> Evaluation:
    """Evaluate an artifact folder's recogniser and its seed baseline on the split's test speakers.

    Each speaker's clips are first capped as training capped them (:func:`load_clip_cap`), so a model
    is scored on the clips its card was, whether or not ``clips`` were capped already; then at most
    ``max_clips`` per corpus are scored (see :func:`stratified_sample`).
    """
    models = _model_and_baseline(out_dir)
    capped = cap_per_speaker(split.of(clips, "test"), load_clip_cap(out_dir))
    test = stratified_sample(capped, max_clips=max_clips)
    return evaluate(models, test, conditions=conditions)


def evaluate_unseen(
    out_dir: Path,
    clips: Sequence[Clip],
    *,
    max_clips: int = UNSEEN_SAMPLE_CLIPS,
    conditions: Mapping[str, int | None] = EVAL_CONDITIONS,
) -> Evaluation:
    """Cross-corpus evaluation: score a model and its baseline on corpora neither was trained on.

    Every speaker of such a corpus is unseen, so (a stratified sample of) all its clips are scored:
    this is how the recogniser does on people, microphones and languages it never heard.
    """
    models = _model_and_baseline(out_dir)
    return evaluate(models, stratified_sample(clips, max_clips=max_clips), conditions=conditions)


def stratified_sample(clips: Sequence[Clip], *, max_clips: int, seed: int = 0) -> list[Clip]:
    """At most ``max_clips`` clips of each corpus, the same share of each label, fixed by ``seed``.

    A TESS test speaker has 1,399 clips and nEMO's two about 1,000; 420 per corpus (60 per class,
    :data:`TEST_SAMPLE_CLIPS`)
    keeps a full evaluation of two models in three conditions within minutes on two cores. The
    sample is fixed by ``seed`` and the corpus's name alone, so every model is scored on the same
    clips whichever other corpora are evaluated beside it.
    """
    kept: list[Clip] = []
    for corpus in dict.fromkeys(clip.corpus for clip in clips):
        rng = np.random.default_rng([seed, zlib.crc32(corpus.encode())])
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


@dataclass(frozen=True)
class CalibrationReport:
    """What :func:`calibrate_recognizer` fitted and how confidence behaved before and after."""

    calibration: Calibration
    n_clips: int
    ece_before: float
    ece_after: float
    curve: tuple[CoveragePoint, ...]

    def save(self, folder: Path) -> None:
        """Write the calibration (read back by the loader) and its coverage curve (for the card)."""
        self.calibration.save(folder)
        (folder / CURVE_FILE).write_text(json.dumps([asdict(p) for p in self.curve], indent=2) + "\n")


def calibrate_recognizer(
    out_dir: Path, clips: Sequence[Clip], *, bitrate_kbps: int = 32
) -> CalibrationReport:
    """Fit temperature and the "not sure" threshold on ``clips`` (a model's validation speakers).

    Each speaker's clips are first capped as training capped them (:func:`load_clip_cap`), so one
    speaker with many clips (nEMO's have about 500) weighs in the fit as in training's validation.
    Each clip is scored as stored and through Discord's codec, so the fit covers both. Uncalibrated
    probabilities are used whatever the folder already holds; the caller saves the result. Each
    network's temperature is fitted on its own answers (the prosody network's was, by training);
    where a prosody network answers beside this one, the fused temperature is fitted on the mean of
    the two calibrated answers, and the threshold chosen on the answer as served.
    """
    clips = cap_per_speaker(clips, load_clip_cap(out_dir))
    recognizer = EmotionRecognizer.from_pretrained(out_dir)
    recognizer.calibration = Calibration()
    models = {MODEL_NAME: recognizer}
    if recognizer.prosody_net is not None:
        models[PROSODY_NAME] = recognizer.prosody_net
        recognizer.prosody_net = None
    conditions = {"clean": None, f"discord-{bitrate_kbps}k": bitrate_kbps}
    probabilities, truth = _probabilities(models, clips, conditions)
    p = np.concatenate([probabilities[condition, MODEL_NAME] for condition in conditions])
    others = [
        np.concatenate([probabilities[condition, name] for condition in conditions])
        for name in models
        if name != MODEL_NAME
    ]
    y = np.tile(truth, len(conditions))
    angry = recognizer.config.angry_index
    calibration, curve = fit_calibration(
        p,
        y,
        f"{len(clips)} clips of the validation speakers, as stored and Discord-coded",
        angry_offset=ANGRY_OFFSET,
        angry=angry,
        other_views=others,
    )
    served = calibration.serve(fuse_answers([calibration.apply(p), *others]), angry)
    return CalibrationReport(
        calibration,
        len(y),
        expected_calibration_error(y, p),
        expected_calibration_error(y, served),
        tuple(curve),
    )
