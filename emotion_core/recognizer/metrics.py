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
    ece: float | None = None  # expected calibration error; None when no probabilities were given
    called_angry: float | None = None  # share of clips of other emotions predicted "angry"

    def to_dict(self) -> dict:
        return {
            "n_clips": self.n_clips,
            "accuracy": self.accuracy,
            "uar": self.uar,
            "macro_f1": self.macro_f1,
            "recall": self.recall,
            "confusion": self.confusion,
            "ece": self.ece,
            "called_angry": self.called_angry,
        }


#: Confidence bins for the expected calibration error (Guo et al., 2017, use 15).
ECE_BINS = 15


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, *, bins: int = ECE_BINS) -> float:
    """Mean gap between confidence and accuracy, weighted by how many clips fall in each bin.

    A model that says 80 % should be right 80 % of the time; ECE 0.37 means its stated confidence
    is off by 37 points on average. ``probs`` has shape (n, classes), rows summing to 1.
    """
    if len(y_true) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        rows = which == b
        if rows.any():
            gap += rows.mean() * abs(correct[rows].mean() - confidence[rows].mean())
    return float(gap)


def score(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    labels: tuple[str, ...],
    *,
    probs: np.ndarray | None = None,
) -> Metrics:
    """Metrics for integer class indices ``y_true`` and ``y_pred`` (shape (n,)) over ``labels``.

    With ``probs`` (shape (n, classes)) the expected calibration error is included. Where
    ``labels`` has "angry", ``called_angry`` is the share of clips of every other emotion that
    were predicted angry: the mistake that hurts most in a mood bot.
    """
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
    called_angry = None
    if "angry" in labels:
        angry = labels.index("angry")
        others = y_true != angry
        called_angry = float(np.mean(y_pred[others] == angry)) if others.any() else 0.0
    return Metrics(
        n_clips=int(len(y_true)),
        accuracy=float(np.mean(y_true == y_pred)) if len(y_true) else 0.0,
        uar=float(recall[present].mean()) if present.any() else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        recall={labels[i]: float(recall[i]) for i in range(n) if present[i]},
        confusion=confusion.tolist(),
        ece=None if probs is None else expected_calibration_error(y_true, probs),
        called_angry=called_angry,
    )


def score_on_own_classes(
    truth: np.ndarray, probs: np.ndarray, own: np.ndarray, labels: tuple[str, ...]
) -> Metrics:
    """Score with probabilities restricted to the classes ``own`` marks, renormalised: how a corpus is
    judged on its own label set, whatever the network could answer."""
    restricted = np.where(own, probs, 0.0)
    restricted /= np.maximum(restricted.sum(axis=1, keepdims=True), 1e-12)
    return score(truth, restricted.argmax(axis=1), labels, probs=restricted)
