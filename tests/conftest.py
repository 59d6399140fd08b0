"""Fixtures shared by the core and bot tests (plain helpers live in ``tests/helpers``)."""

from pathlib import Path

import pytest
import soundfile as sf

from emotion_core.recognizer.build import build_recognizer
from emotion_core.recognizer.train import TrainConfig
from tests.helpers.audio import speechlike
from tests.helpers.tiny_training import TINY_FUNCTIONAL, TINY_TRAINING

PITCH_HZ = {"n": 100.0, "a": 260.0}


@pytest.fixture(scope="session")
def tiny_corpora(tmp_path_factory) -> Path:
    """A SAVEE-named corpus of speech-like clips: low-pitched "neutral", high-pitched "angry"."""
    root = tmp_path_factory.mktemp("corpora")
    folder = root / "SAVEE" / "ALL"
    folder.mkdir(parents=True)
    for s, speaker in enumerate(("DC", "JE", "JK", "KL")):
        for code, f0 in PITCH_HZ.items():
            for i in range(1, 5):
                audio = speechlike(1.2, 16000, seed=100 * s + i, f0_hz=f0 * (1 + 0.05 * s))
                sf.write(folder / f"{speaker}_{code}{i:02d}.wav", audio, 16000)
    return root


@pytest.fixture(scope="session")
def tiny_training() -> TrainConfig:
    """The config :func:`trained` was made with."""
    return TINY_TRAINING


@pytest.fixture(scope="session")
def trained(tiny_corpora, tmp_path_factory) -> Path:
    """A recogniser trained by the real pipeline on :func:`tiny_corpora` in well under a minute:
    decoding, Opus augmentation, features, both networks, evaluation on a held-out speaker, card."""
    config = TINY_TRAINING
    out = tmp_path_factory.mktemp("model") / "ser"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOODBOT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        build_recognizer(config, out, corpora_root=tiny_corpora, workers=1)
    return out


@pytest.fixture(scope="session")
def trained_functional(tiny_corpora, tmp_path_factory) -> Path:
    """The functional recogniser trained by the real pipeline on :func:`tiny_corpora`."""
    out = tmp_path_factory.mktemp("model") / "ser-functional"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOODBOT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        build_recognizer(TINY_FUNCTIONAL, out, corpora_root=tiny_corpora, workers=1)
    return out
