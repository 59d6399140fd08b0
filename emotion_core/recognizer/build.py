"""The one build step behind ``moodbot train``: fit, save, evaluate, write the card.

It reads the corpora, splits them by speaker, fits MoodBot's network (with its prosody and community
networks), the seed tutorial's network and the profile network on the same training speakers
(:mod:`~emotion_core.recognizer.train`, :mod:`~emotion_core.recognizer.functional_train`), saves them
as a model folder (:mod:`~emotion_core.recognizer.artifact`), evaluates both recognisers on the
held-out test speakers (:mod:`~emotion_core.recognizer.evaluate`) and writes the model card
(:mod:`~emotion_core.recognizer.card`). Each of those modules does its one job; only this one knows
the order.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from emotion_core.community import Reference
from emotion_core.corpora import load_corpora
from emotion_core.recognizer.artifact import BASELINE_DIR, save_network, save_training
from emotion_core.recognizer.augment import AUGMENT_VARIANTS
from emotion_core.recognizer.calibration import fit_calibration
from emotion_core.recognizer.card import write_model_card
from emotion_core.recognizer.config import (
    COMMUNITY_DIR,
    PROFILE_DIR,
    PROSODY_DIR,
    ArchitectureConfig,
    RecognizerConfig,
)
from emotion_core.recognizer.dataset import FeatureTable, build_features, cap_per_speaker, split_speakers
from emotion_core.recognizer.evaluate import evaluate_split
from emotion_core.recognizer.functional_table import FunctionalTable, build_functionals
from emotion_core.recognizer.functional_train import (
    community_config,
    fit_community_network,
    fit_functional,
    fit_prosody_network,
    prosody_config,
    table_inputs,
)
from emotion_core.recognizer.train import TrainConfig, label_indices, train_seed_baseline, train_tdnn

log = logging.getLogger(__name__)


def build_recognizer(
    train_cfg: TrainConfig, out_dir: Path, *, corpora_root: Path | None = None, workers: int = 2
) -> Path:
    """Run a whole training and write the model folder ``out_dir``; return its path.

    The folder holds the recogniser (``config.json``, weights), the seed baseline in ``baseline/``,
    ``training.json`` (this config, the split and the learning curves) and, after evaluation on the
    held-out speakers, the model card (``model_card.json``, ``MODEL_CARD.md``, ``confusion.png``).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    clips = cap_per_speaker(load_corpora(train_cfg.corpora, corpora_root), train_cfg.max_clips_per_speaker)
    split = split_speakers(clips, train_cfg.split)
    train_clips, val_clips = split.of(clips, "train"), split.of(clips, "val")
    log.info("%d clips: %d train, %d val", len(clips), len(train_clips), len(val_clips))
    config = RecognizerConfig(features=train_cfg.features, architecture=train_cfg.architecture)
    tables: tuple[FeatureTable | FunctionalTable, FeatureTable | FunctionalTable]
    if config.architecture.kind == "functional":
        # Every clip is featurised (test speakers too, unused here) so that the cache is the one
        # the cross-validation protocols read; the augmented variants are drawn once, with seed 0.
        table = build_functionals(clips, train_cfg.features, augment=train_cfg.augment, workers=workers)
        functionals = table.subset(train_clips), table.subset(val_clips)
        model, history = fit_functional(config, *functionals, train_cfg)
        tables = functionals
    else:
        features = build_features(
            train_clips + val_clips,
            train_cfg.features,
            augment=train_cfg.augment,
            seed=train_cfg.seed,
            workers=workers,
        )
        frames = features.subset(train_clips), features.subset(val_clips)
        model, history = train_tdnn(config, *frames, train_cfg)
        tables = frames
    baseline_config = RecognizerConfig(
        features=train_cfg.features, architecture=ArchitectureConfig(kind="seed_dense")
    )
    train_table, val_table = tables
    baseline, baseline_history = train_seed_baseline(baseline_config, train_table, val_table, train_cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_network(model, config, out_dir)
    save_network(baseline, baseline_config, out_dir / BASELINE_DIR)
    record = {
        "config": train_cfg.to_dict(),
        "split": asdict(split),
        "history": history,
        "baseline_history": baseline_history,
        "parameters": int(model.count_params()),
        "baseline_parameters": int(baseline.count_params()),
    }
    if isinstance(train_table, FunctionalTable):
        record["prosody_history"] = _train_prosody_network(config, train_table, val_table, train_cfg, out_dir)
        record["profile_history"] = _train_profile_network(config, train_table, val_table, train_cfg, out_dir)
        reference = write_reference(train_table, out_dir)
        record["community_history"] = _train_community_network(
            config, train_table, val_table, train_cfg, reference, out_dir
        )
    save_training(out_dir, record)
    report = evaluate_split(out_dir, clips, split)
    write_model_card(out_dir, report, record)
    return out_dir


def write_reference(train_table: FunctionalTable, out_dir: Path) -> Reference:
    """Save and return the training clips' :class:`~emotion_core.community.Reference` (clips as
    stored), onto which a deployment's community statistics are aligned; cross-validation measures
    the same rule."""
    reference = Reference.of(train_table.functionals[0], [clip.corpus for clip in train_table.clips])
    reference.save(out_dir)
    return reference


def _train_community_network(
    config, train_table, val_table, train_cfg: TrainConfig, reference: Reference, out_dir: Path
) -> list:
    """Train the network for clips heard against community statistics into ``out_dir/community``,
    calibrated on the validation speakers with their corpus aligned as a community would be."""
    network, aligned_val, history = fit_community_network(
        config, train_table, val_table, train_cfg, reference
    )
    _save_calibrated(
        network,
        community_config(config),
        aligned_val,
        out_dir / COMMUNITY_DIR,
        "corpus aligned on its own statistics",
    )
    return history


def _train_prosody_network(config, train_table, val_table, train_cfg: TrainConfig, out_dir: Path) -> list:
    """Train the speaker-independent network's second view, on the prosodic functionals only, into
    ``out_dir/prosody``, calibrated on the validation speakers' clips as stored."""
    network, history = fit_prosody_network(config, train_table, val_table, train_cfg)
    _save_calibrated(
        network,
        prosody_config(config),
        val_table,
        out_dir / PROSODY_DIR,
        "heard on its prosodic functionals only",
    )
    return history


def _train_profile_network(config, train_table, val_table, train_cfg: TrainConfig, out_dir: Path) -> list:
    """Train the network for people with a voice profile into ``out_dir/profile``, calibrated on the
    validation speakers with profiles of ``train_cfg.profile_clips`` of their other clips."""
    profile_config = replace(config, architecture=replace(config.architecture, speaker_norm=True, members=1))
    network, history = fit_functional(profile_config, train_table, val_table, train_cfg)
    _save_calibrated(
        network,
        profile_config,
        val_table,
        out_dir / PROFILE_DIR,
        f"against a profile of {train_cfg.profile_clips} of the speaker's other clips",
        profile_clips=train_cfg.profile_clips,
        seed=train_cfg.seed,
    )
    return history


def _save_calibrated(
    network, network_config: RecognizerConfig, val_table: FunctionalTable, folder: Path, each: str, **inputs
) -> None:
    """Save a companion network into ``folder`` with its own temperature and "not sure" threshold,
    fitted on ``val_table``'s clips as stored and Discord-coded, each ``each`` (``inputs`` go to
    :func:`table_inputs`: how that network's input is made)."""
    save_network(network, network_config, folder)
    conditions = ("clean", "discord")
    probs = np.concatenate(
        [
            network.predict(
                table_inputs(val_table, network_config, AUGMENT_VARIANTS.index(c), **inputs), verbose=0
            )
            for c in conditions
        ]
    )
    truth = np.tile(label_indices(val_table.clips, network_config), len(conditions))
    fitted_on = (
        f"{len(val_table.clips)} clips of the validation speakers, as stored and Discord-coded, each {each}"
    )
    fit_calibration(probs, truth, fitted_on)[0].save(folder)
