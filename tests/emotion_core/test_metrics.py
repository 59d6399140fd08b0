"""UAR, macro-F1 and the confusion matrix on hand-checked cases."""

import numpy as np
import pytest

from emotion_core.recognizer.metrics import score

LABELS = ("a", "b", "c")


def test_perfect_and_always_one_class():
    y = np.array([0, 0, 0, 0, 1, 2])
    perfect = score(y, y, LABELS)
    assert perfect.accuracy == perfect.uar == perfect.macro_f1 == 1.0
    lazy = score(y, np.zeros_like(y), LABELS)
    assert lazy.accuracy == pytest.approx(4 / 6)
    assert lazy.uar == pytest.approx(1 / 3)  # UAR exposes the majority-class guess


def test_confusion_rows_are_truth_and_absent_classes_are_left_out():
    y_true = np.array([0, 0, 1, 1])
    y_pred = np.array([0, 1, 1, 2])
    m = score(y_true, y_pred, LABELS)
    assert m.confusion == [[1, 1, 0], [0, 1, 1], [0, 0, 0]]
    assert m.recall == {"a": 0.5, "b": 0.5}  # "c" never occurs, so it has no recall
    assert m.uar == pytest.approx(0.5)
    # F1: a = 2*(1*.5)/(1.5) = 2/3, b = 2*(.5*.5)/1 = .5
    assert m.macro_f1 == pytest.approx((2 / 3 + 0.5) / 2)


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident():
    # Four clips said with 75 % confidence, three of them right: perfectly calibrated.
    probs = np.array([[0.75, 0.25, 0.0]] * 4)
    m = score(np.array([0, 0, 0, 1]), probs.argmax(axis=1), LABELS, probs=probs)
    assert m.ece == pytest.approx(0.0)
    # 90 % confident and right half of the time: 40 points off.
    probs = np.array([[0.9, 0.1, 0.0]] * 4)
    m = score(np.array([0, 0, 1, 1]), probs.argmax(axis=1), LABELS, probs=probs)
    assert m.ece == pytest.approx(0.4)
    assert score(np.array([0]), np.array([0]), LABELS).ece is None


def test_called_angry_counts_only_clips_of_other_emotions():
    labels = ("neutral", "angry", "sad")
    y_true = np.array([0, 0, 2, 2, 1, 1])
    y_pred = np.array([1, 0, 1, 2, 1, 1])  # one neutral and one sad called angry; angry clips ignored
    assert score(y_true, y_pred, labels).called_angry == pytest.approx(2 / 4)
    assert score(y_true, y_pred, LABELS).called_angry is None
