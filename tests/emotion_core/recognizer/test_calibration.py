"""Temperature scaling and the "not sure" rule on synthetic, known-answer probabilities."""

import numpy as np
import pytest

from emotion_core.errors import ModelError
from emotion_core.recognizer.calibration import (
    ANGRY_OFFSET_GRID,
    ANGRY_SHARE_TARGET,
    CALIBRATION_FILE,
    Calibration,
    choose_angry_offset,
    choose_threshold,
    coverage_curve,
    fit_calibration,
    fit_temperature,
)
from emotion_core.recognizer.metrics import expected_calibration_error, score_on_own_classes

#: The 4-class label set of the angry-offset tests: angry is class 1.
FOUR = ("neutral", "angry", "sad", "happy")


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


def _calibrated_view(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A calibrated 4-class answer: 60 % on its guess, which is right 60 % of the time."""
    guess = np.where(rng.random(y.size) < 0.6, y, (y + rng.integers(1, 4, y.size)) % 4)
    probs = np.full((y.size, 4), 0.4 / 3)
    probs[np.arange(y.size), guess] = 0.6
    return probs


def test_the_mean_of_two_views_gets_a_fused_temperature_that_makes_it_honest():
    """Two calibrated networks that err apart: where they agree they are right far more often than
    the 60 % their mean says, so the mean is under-confident and its fused temperature sharpens."""
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 6000)
    first, second = _calibrated_view(y, rng), _calibrated_view(y, rng)
    alone, _ = fit_calibration(first, y, "test")
    assert alone.fused_temperature == 1.0  # one network: nothing is fused
    calibration, curve = fit_calibration(first, y, "test", other_views=[second])
    assert calibration.fused_temperature < 0.8
    mean = (calibration.apply(first) + second) / 2
    served = calibration.sharpen(mean)
    assert np.array_equal(served.argmax(axis=1), mean.argmax(axis=1))
    assert expected_calibration_error(y, served) < expected_calibration_error(y, mean) - 0.05
    # The "not sure" threshold is chosen on the answer as served.
    assert curve[0].accuracy == pytest.approx(float((served.argmax(axis=1) == y).mean()))


def test_the_not_sure_curve_is_drawn_on_the_answer_with_the_angry_offset():
    """Serving divides p(angry) before it judges "not sure", so the curve the threshold is chosen
    from must see the same answers: clips answered angry lose confidence, the others do not."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 4000)
    probs = _calibrated_view(y, rng)
    angry = FOUR.index("angry")
    plain, plain_curve = fit_calibration(probs, y, "test")
    offset, curve = fit_calibration(probs, y, "test", angry_offset=0.7, angry=angry)
    assert offset.angry_offset == 0.7 and plain.temperature == pytest.approx(offset.temperature)
    served = offset.discount_angry(offset.apply(probs), angry)
    at = [p.threshold for p in curve].index(0.5)
    assert curve[at].coverage == pytest.approx(float((served.max(axis=1) >= 0.5).mean()))
    assert curve[at].coverage < plain_curve[at].coverage


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
    (tmp_path / CALIBRATION_FILE).write_text('{"temperature": 1.2, "fused_temperature": 0.0}')
    with pytest.raises(ModelError, match="fused temperature"):
        Calibration.load(tmp_path)
    (tmp_path / CALIBRATION_FILE).write_text('{"temperature": 1.2, "angry_offset": -0.5}')
    with pytest.raises(ModelError, match="angry offset"):
        Calibration.load(tmp_path)
    (tmp_path / CALIBRATION_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="not a valid calibration"):
        Calibration.load(tmp_path)


def test_a_calibration_saved_before_the_angry_offset_loads_without_one(tmp_path):
    (tmp_path / CALIBRATION_FILE).write_text('{"temperature": 1.4, "min_confidence": 0.35}')
    assert Calibration.load(tmp_path).angry_offset == 0.0
    Calibration(temperature=1.4, angry_offset=0.5).save(tmp_path)
    assert Calibration.load(tmp_path).angry_offset == 0.5


def test_angry_offset_divides_angry_and_keeps_the_ratios_of_the_rest():
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], dtype=np.float32)
    out = Calibration(angry_offset=0.5).discount_angry(probs, 1)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-6)
    odds = (out[:, 1] / out[:, 0]) / (probs[:, 1] / probs[:, 0])
    assert np.allclose(odds, np.exp(-0.5), atol=1e-5)  # angry against each other class: / e^0.5
    assert np.allclose(out[:, 2] / out[:, 0], probs[:, 2] / probs[:, 0], atol=1e-5)
    assert out[0].argmax() == 1 and Calibration(angry_offset=0.6).discount_angry(probs, 1)[0].argmax() == 2
    assert Calibration().discount_angry(probs, 1) is probs  # no offset: the answer as it is
    assert Calibration(angry_offset=0.5).discount_angry(probs, None) is probs  # a model without angry


def _over_called(share: float, n: int = 200, seed: int = 0):
    """4-class answers (angry is class 1) for clips none of which is angry; ``share`` of them answer
    angry by 0.25 in log terms over the runner-up, the rest answer class 0."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=int)
    probs = np.full((n, 4), 0.1)
    angry = rng.random(n) < share
    probs[angry, 1], probs[angry, 0] = 0.6 * np.exp(0.25) / (1 + np.exp(0.25)), 0.6 / (1 + np.exp(0.25))
    probs[~angry, 0], probs[~angry, 1] = 0.5, 0.2
    return probs / probs.sum(axis=1, keepdims=True), y, np.ones(4, dtype=bool)


def test_angry_offset_is_the_smallest_that_keeps_every_corpus_within_the_target():
    probs, y, own = _over_called(0.4)
    assert score_on_own_classes(y, probs, own, FOUR).called_angry == pytest.approx(0.4, abs=0.08)
    fine = _over_called(0.05, seed=1)
    assert choose_angry_offset([fine], FOUR) == 0.0  # nothing to correct
    # 40 % called angry, each by 0.25 in log-odds: any offset above 0.25 fixes it, 0.3 is the first
    assert choose_angry_offset([fine, _over_called(0.4, seed=2)], FOUR) == 0.3
    assert ANGRY_SHARE_TARGET == 0.15 and max(ANGRY_OFFSET_GRID) == 1.0


def test_angry_offset_that_cannot_reach_the_target_is_the_one_closest_to_it():
    probs, y, own = _over_called(1.0)
    probs[:, 1] = 0.97  # angry wins by far more than the largest offset removes
    probs /= probs.sum(axis=1, keepdims=True)
    assert choose_angry_offset([(probs, y, own)], FOUR) == 0.0  # every offset is as bad: the first
