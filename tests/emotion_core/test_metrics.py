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
