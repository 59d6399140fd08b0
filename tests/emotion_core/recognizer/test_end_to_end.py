"""A tiny but complete run: corpus folder -> train -> save -> load -> predict, and the model card.

The ``trained`` fixture (tests/conftest.py) runs the real pipeline on a corpus it makes itself.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from emotion_core.errors import ModelError
from emotion_core.labels import Emotion
from emotion_core.recognizer.artifact import load_split
from emotion_core.recognizer.config import RecognizerConfig
from emotion_core.recognizer.infer import EmotionRecognizer
from tests.helpers.audio import speechlike


def test_artifact_folder_holds_model_baseline_and_card(trained):
    for name in (
        "config.json",
        "model.weights.h5",
        "training.json",
        "model_card.json",
        "MODEL_CARD.md",
        "confusion.png",
        "baseline/config.json",
        "baseline/model.weights.h5",
    ):
        assert (trained / name).is_file(), name
    card = json.loads((trained / "model_card.json").read_text())
    results = card["evaluation"]["results"]["SAVEE"]
    assert set(results) == {"clean", "discord-32k", "discord-12k"}
    assert set(results["clean"]) == {"moodbot", "seed baseline"}
    split = load_split(trained)
    assert len(split.test) == 1 and not set(split.test) & set(split.train)


def test_loaded_model_predicts_typed_results(trained):
    recognizer = EmotionRecognizer.from_pretrained(trained)
    assert recognizer.config == RecognizerConfig.load(trained)
    result = recognizer.predict(speechlike(2.0, 16000, seed=7, f0_hz=260.0), 16000)
    assert not result.no_speech
    assert result.label in Emotion
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert result.ranked()[0] == (result.label, result.confidence)
    assert result.timeline == ()  # short clip: no timeline


def test_same_audio_at_another_rate_gives_nearly_the_same_answer(trained):
    recognizer = EmotionRecognizer.from_pretrained(trained)
    audio = speechlike(2.0, 16000, seed=3)
    audio_48k = speechlike(2.0, 48000, seed=3)
    p16 = recognizer.predict_proba(audio, 16000)
    p48 = recognizer.predict_proba(audio_48k, 48000)
    assert np.abs(p16 - p48).max() < 0.1


def test_long_clip_gets_a_timeline_over_its_speech(trained):
    recognizer = EmotionRecognizer.from_pretrained(trained)
    silence = np.zeros(3 * 16000, np.float32)
    audio = np.concatenate([silence, speechlike(8.0, 16000, seed=1), silence, silence])
    result = recognizer.predict(audio, 16000)
    assert len(result.timeline) >= 3
    assert all(p.end_s - p.start_s == pytest.approx(3.0) for p in result.timeline)
    # The windows cover the speech, in the untrimmed clip's time: none lies in the silence around it.
    assert result.timeline[0].start_s >= 2.9 and result.timeline[-1].end_s <= 11.1
    assert result.duration_s == pytest.approx(17.0)


def test_short_speech_in_a_long_silence_is_one_answer_like_the_speech_alone(trained):
    """The trimming rule is the same either side of ``timeline.min_clip_s``: padding a short clip
    with silence until it is long changes nothing."""
    recognizer = EmotionRecognizer.from_pretrained(trained)
    speech = speechlike(3.0, 16000, seed=2)
    padded = np.concatenate([np.zeros(4 * 16000, np.float32), speech, np.zeros(4 * 16000, np.float32)])
    alone, long = recognizer.predict(speech, 16000), recognizer.predict(padded, 16000)
    assert long.timeline == ()
    assert long.label == alone.label
    assert long.confidence == pytest.approx(alone.confidence, abs=0.02)


def test_silence_is_reported_as_no_speech(trained):
    result = EmotionRecognizer.from_pretrained(trained).predict(np.zeros(32000, np.float32), 16000)
    assert result.no_speech and result.label is None and result.probabilities == {}


def test_missing_or_broken_model_folder_is_a_model_error(tmp_path, trained):
    with pytest.raises(ModelError, match="config.json is missing"):
        EmotionRecognizer.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text((trained / "config.json").read_text())
    with pytest.raises(ModelError, match="could not load weights"):
        EmotionRecognizer.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        EmotionRecognizer.from_pretrained(tmp_path)


def test_predict_is_safe_from_worker_threads(trained):
    recognizer = EmotionRecognizer.from_pretrained(trained)
    clips = [speechlike(1.0 + 0.5 * i, 16000, seed=i) for i in range(8)]
    expected = [recognizer.predict(clip, 16000).probabilities for clip in clips]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda clip: recognizer.predict(clip, 16000), clips * 3))
    for i, result in enumerate(results):
        for label, p in expected[i % len(clips)].items():
            assert result.probabilities[label] == pytest.approx(p, abs=1e-5)


def test_same_seed_trains_the_same_model(trained, tiny_training, tiny_corpora, tmp_path, monkeypatch):
    """Retraining with the fixture's config and seed (features rebuilt, no cache) gives identical
    learning curves and outputs."""
    import json

    from emotion_core.recognizer.build import build_recognizer

    monkeypatch.setenv("MOODBOT_CACHE_DIR", str(tmp_path / "cache"))
    again = build_recognizer(tiny_training, tmp_path / "again", corpora_root=tiny_corpora, workers=1)
    first = json.loads((trained / "training.json").read_text())["history"]
    second = json.loads((again / "training.json").read_text())["history"]
    assert [h["loss"] for h in first] == [h["loss"] for h in second]
    clip = speechlike(2.0, 16000, seed=3)
    a = EmotionRecognizer.from_pretrained(trained).predict(clip, 16000).probabilities
    b = EmotionRecognizer.from_pretrained(again).predict(clip, 16000).probabilities
    assert a == b
