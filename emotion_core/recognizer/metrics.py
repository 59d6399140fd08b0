"""Classification metrics used in speech emotion recognition, as pure numpy functions.

UAR (unweighted average recall, the mean of per-class recalls) is the field's headline figure because
corpora are unbalanced: a model that always says "neutral" gets high accuracy but a UAR of 1/classes.
Classes absent from the reference labels are left out of UAR and macro-F1 (nEMO has no disgust).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Metrics:
    """Scores of one model on one set of clips. ``confusion[i, j]``: true class i predicted as j."""

    n_clips: int
    accuracy: float
    uar: float
    macro_f1: float
    recall: dict[str, float]
    confusion: list[list[int]]

    def to_dict(self) -> dict:
        return {
            "n_clips": self.n_clips,
            "accuracy": self.accuracy,
            "uar": self.uar,
            "macro_f1": self.macro_f1,
            "recall": self.recall,
            "confusion": self.confusion,
        }


def score(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...]) -> Metrics:
    """Metrics for integer class indices ``y_true`` and ``y_pred`` (shape (n,)) over ``labels``."""
    n = len(labels)
    confusion = np.zeros((n, n), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    support = confusion.sum(axis=1)
    present = support > 0
    recall = np.divide(np.diag(confusion), support, out=np.zeros(n), where=present)
    predicted = confusion.sum(axis=0)
    precision = np.divide(np.diag(confusion), predicted, out=np.zeros(n), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(n), where=denom > 0)
    return Metrics(
        n_clips=int(len(y_true)),
        accuracy=float(np.mean(y_true == y_pred)) if len(y_true) else 0.0,
        uar=float(recall[present].mean()) if present.any() else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        recall={labels[i]: float(recall[i]) for i in range(n) if present[i]},
        confusion=confusion.tolist(),
    )
