"""An ensemble is its members, trained apart, with their logits averaged: member 0 is the single network
of the same seed, and the joined model answers as the members' normalised geometric mean."""

from dataclasses import replace

import numpy as np
import pytest

from emotion_core.corpora import load_corpora
from emotion_core.recognizer.config import ArchitectureConfig, RecognizerConfig
from emotion_core.recognizer.functional_table import build_functionals
from emotion_core.recognizer.functional_train import MEMBER_SEED_STEP, fit_functional, table_inputs
from tests.helpers.tiny_training import TINY_FUNCTIONAL


@pytest.fixture(scope="module")
def tables(tiny_corpora, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOODBOT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        clips = load_corpora(("SAVEE",), tiny_corpora)
        table = build_functionals(clips, TINY_FUNCTIONAL.features, augment=TINY_FUNCTIONAL.augment, workers=1)
    train = table.subset([c for c in clips if not c.speaker.endswith("KL")])
    val = table.subset([c for c in clips if c.speaker.endswith("KL")])
    return train, val


def test_the_ensemble_averages_its_members_logits(tables):
    train, val = tables
    cfg = replace(TINY_FUNCTIONAL, average_from_epoch=2)
    single = RecognizerConfig(
        features=cfg.features, architecture=ArchitectureConfig(kind="functional", hidden=(16,))
    )
    joined = replace(single, architecture=replace(single.architecture, members=2))
    ensemble, history = fit_functional(joined, train, val, cfg)
    members = [
        fit_functional(single, train, val, replace(cfg, seed=cfg.seed + MEMBER_SEED_STEP * k))[0]
        for k in range(2)
    ]
    assert {point["member"] for point in history} == {0, 1}
    x = table_inputs(val, single, 0).astype(np.float32)
    log_p = np.mean([np.log(np.asarray(m(x, training=False))) for m in members], axis=0)
    expected = np.exp(log_p) / np.exp(log_p).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(ensemble(x, training=False)), expected, atol=1e-5)


def test_a_profile_network_is_never_an_ensemble(tables):
    train, val = tables
    config = RecognizerConfig(
        architecture=ArchitectureConfig(kind="functional", hidden=(16,), members=2, speaker_norm=True)
    )
    with pytest.raises(ValueError, match="single network"):
        fit_functional(config, train, val, TINY_FUNCTIONAL)
