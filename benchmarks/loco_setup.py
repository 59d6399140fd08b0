"""What the leave-one-corpus-out ablations share: the protocol's clips and cached functionals, and
the single network (weight averaging as shipped) they train per fold."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from emotion_core.corpora import Clip, load_corpora
from emotion_core.recognizer.config import RecognizerConfig
from emotion_core.recognizer.dataset import cap_per_speaker
from emotion_core.recognizer.functional_table import FunctionalTable, build_functionals
from emotion_core.recognizer.train import TrainConfig


def single_network_setup() -> tuple[TrainConfig, list[Clip], FunctionalTable, RecognizerConfig]:
    """The default training config, the protocol's clips, their functionals (from the cache that
    ``moodbot evaluate --protocol loco`` builds) and a one-member network config."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    base = TrainConfig()
    clips = cap_per_speaker(load_corpora(base.corpora), base.max_clips_per_speaker)
    table = build_functionals(clips, base.features, augment=base.augment)
    config = RecognizerConfig(features=base.features, architecture=replace(base.architecture, members=1))
    return base, clips, table, config


def probabilities(model, x: np.ndarray) -> np.ndarray:
    """A Keras network's probabilities for a batch of inputs."""
    return np.asarray(model(np.asarray(x, dtype=np.float32), training=False))
