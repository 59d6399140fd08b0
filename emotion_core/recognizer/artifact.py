"""The model folder: what a trained recogniser is saved as, and how its parts are found again.

A folder holds the recogniser (``config.json``, its weights and, for the Dense kinds, the ONNX serving
graph), the seed baseline trained beside it in ``baseline/``, the network for people with a voice
profile in ``profile/`` (``config.PROFILE_DIR``, which serving reads), the network for clips heard against
community statistics in ``community/`` (``config.COMMUNITY_DIR``), the speaker-independent network's
prosodic view in ``prosody/`` (``config.PROSODY_DIR``), ``training.json`` (the training
config, the speaker split, the learning curves) and, once evaluated, the model card. Kept apart from
training so that evaluation, calibration and the card read a folder without importing the trainer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emotion_core.errors import ModelError
from emotion_core.recognizer.config import WEIGHTS_FILE, RecognizerConfig
from emotion_core.recognizer.dataset import Split
from emotion_core.recognizer.onnx_export import ONNX_FILE, check_against_keras, export_onnx

#: Sub-folder of the seed tutorial's network, trained on the same speakers.
BASELINE_DIR = "baseline"
#: The training record: config, split, learning curves.
TRAINING_FILE = "training.json"


def save_network(model: Any, config: RecognizerConfig, folder: Path) -> None:
    """The config, the Keras weights and, for the Dense kinds, the ONNX serving graph checked against
    Keras (see :mod:`emotion_core.recognizer.onnx_export`)."""
    folder.mkdir(parents=True, exist_ok=True)
    config.save(folder)
    model.save_weights(folder / WEIGHTS_FILE)
    if config.architecture.kind in ("functional", "seed_dense"):
        check_against_keras(model, export_onnx(model, folder / ONNX_FILE))


def save_training(out_dir: Path, record: dict[str, Any]) -> None:
    """Write the training record (``record["split"]`` is what :func:`load_split` reads back)."""
    (out_dir / TRAINING_FILE).write_text(json.dumps(record, indent=2) + "\n")


def load_split(out_dir: Path) -> Split:
    """The speaker split a trained model folder was made with.

    Raises :class:`ModelError` when the folder has no ``training.json`` (a model from elsewhere):
    without it nobody can tell which speakers the model has heard.
    """
    path = out_dir / TRAINING_FILE
    if not path.exists():
        raise ModelError(f"{out_dir} has no {TRAINING_FILE}: its speaker split is unknown")
    record = json.loads(path.read_text())
    return Split(**{k: tuple(v) for k, v in record["split"].items()})


def load_clip_cap(out_dir: Path) -> int | None:
    """The most clips per speaker a model folder's training read (``training.json``), so that
    evaluating it later scores the clips its model card scored; ``None`` where training kept them all.
    """
    config = json.loads((out_dir / TRAINING_FILE).read_text()).get("config", {})
    return config.get("max_clips_per_speaker")
