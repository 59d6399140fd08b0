"""Temperature scaling and the "not sure" rule on synthetic, known-answer probabilities."""

import numpy as np
import pytest

from emotion_core.errors import ModelError
from emotion_core.recognizer.calibration import (
    CALIBRATION_FILE,
    Calibration,
    choose_threshold,
    coverage_curve,
    fit_temperature,
)
from emotion_core.recognizer.metrics import expected_calibration_error


def _overconfident(n: int = 4000, seed: int = 0):
    """A 4-class model that is right 50 % of the time but says about 90 %."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    guess = np.where(rng.random(n) < 0.5, y, rng.integers(0, 4, n))
    probs = np.full((n, 4), 0.1 / 3)
    probs[np.arange(n), guess] = 0.9
    return probs, y


def test_temperature_fixes_overconfidence_without_changing_the_answer():
    probs, y = _overconfident()
    temperature = fit_temperature(probs, y)
    assert temperature > 1.5  # softens
    calibrated = Calibration(temperature=temperature).apply(probs)
    assert np.array_equal(calibrated.argmax(axis=1), probs.argmax(axis=1))
    assert np.allclose(calibrated.sum(axis=1), 1.0, atol=1e-5)
    assert expected_calibration_error(y, probs) > 0.25
    assert expected_calibration_error(y, calibrated) < 0.03


def test_not_sure_when_confidence_is_low_or_two_moods_are_close():
    rule = Calibration(min_confidence=0.5, min_margin=0.1)
    assert rule.is_sure(np.array([0.7, 0.2, 0.1]))
    assert not rule.is_sure(np.array([0.45, 0.3, 0.25]))  # low
    assert not rule.is_sure(np.array([0.52, 0.46, 0.02]))  # close
    assert Calibration().is_sure(np.array([0.34, 0.33, 0.33]))  # uncalibrated: never "not sure"


def test_threshold_from_coverage_curve_keeps_the_coverage_asked_for():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 2000)
    confidence = rng.uniform(0.34, 1.0, 2000)
    right = rng.random(2000) < confidence  # confident answers are right more often
    pred = np.where(right, y, (y + 1) % 3)
    probs = np.zeros((2000, 3))
    probs[np.arange(2000), pred] = confidence
    probs[np.arange(2000), (pred + 1) % 3] = 1 - confidence
    curve = coverage_curve(probs, y, np.arange(0.0, 0.96, 0.05))
    assert curve[0].coverage == 1.0
    assert all(
        a.accuracy <= b.accuracy + 0.02 for a, b in zip(curve, curve[1:], strict=False) if b.coverage > 0.05
    )
    threshold = choose_threshold(curve, min_coverage=0.6)
    chosen = next(p for p in curve if p.threshold == threshold)
    assert chosen.coverage >= 0.6 and chosen.accuracy > curve[0].accuracy


def test_save_load_round_trip_and_bad_files(tmp_path):
    assert Calibration.load(tmp_path) == Calibration()  # none saved: identity
    saved = Calibration(temperature=1.7, min_confidence=0.4, min_margin=0.1, fitted_on="test")
    saved.save(tmp_path)
    assert Calibration.load(tmp_path) == saved
    (tmp_path / CALIBRATION_FILE).write_text('{"temperature": 0.0}')
    with pytest.raises(ModelError, match="temperature"):
        Calibration.load(tmp_path)
    (tmp_path / CALIBRATION_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="not a valid calibration"):
        Calibration.load(tmp_path)
