"""Ablation (issue 8): is moving each functional's mean and spread (what ships) the best way to hear a
new corpus against the training corpora, and does re-weighting answers by the community's average
answer help?

The community statistics stretch a corpus of few, similar voices (SAVEE's four men: most functionals'
spread ×1.37 towards the training corpora's) and leave features' correlations alone, so five other rules
are set beside the shipped one. Each rule moves the training corpora from their own statistics to
train its community network, and the left-out corpus from 100 clips of other speakers at test time:

- ``diag`` (ships): each functional's mean and standard deviation moved onto the reference's;
- ``shift``: the mean only;
- ``sqrt``: the mean, and the spread half-way (the square root of the ratio);
- ``cap``: the mean, and the spread by a ratio clipped to 0.8–1.25;
- ``coral``: CORAL (Sun et al., 2016) on standardised functionals: the community's correlation matrix
  whitened and the reference's (each corpus's, averaged) put in, both shrunk 60 % towards the identity
  (100 clips cannot estimate a 256 × 256 matrix);
- ``quantile``: each functional through the community's empirical distribution and the reference's
  quantile function (the mean over corpora of their quantiles: the one-dimensional Wasserstein
  barycentre), linear beyond the community's range.

For ``diag`` it also scores **prior debiasing**: each answer divided by the community's mean answer to
a power (0.5, 1), which equalises how often each mood is called on the assumption that a community
speaks every mood equally often; tried with a balanced community and with one whose clips are 80 %
neutral.

Single networks (weight averaging as shipped), temperatures fitted on the validation speakers,
leave-one-corpus-out on the protocol's folds and feature cache, clean clips. Prints the mean UAR over
RAVDESS, TESS, SAVEE, nEMO and EmoDB per seed, per corpus, and the share of other emotions called
angry. About 20 minutes per seed on 2 cores once the functionals are cached::

    python -m benchmarks.ablation_alignment_rules --seeds 0
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from benchmarks.loco_setup import probabilities, single_network_setup
from emotion_core.community import MIN_MESSAGES as COMMUNITY_CLIPS
from emotion_core.community import Reference, align
from emotion_core.labels import corpus_emotions
from emotion_core.recognizer.calibration import Calibration, fit_temperature
from emotion_core.recognizer.config import RecognizerConfig
from emotion_core.recognizer.crossval import corpus_folds
from emotion_core.recognizer.functional_table import FunctionalTable
from emotion_core.recognizer.functional_train import community_config, fit_functional
from emotion_core.recognizer.metrics import score_on_own_classes
from emotion_core.recognizer.train import TrainConfig

FIVE = ("RAVDESS", "TESS", "SAVEE", "nEMO", "EmoDB")
RULES = ("diag", "shift", "sqrt", "cap", "coral", "quantile")
CORAL_SHRINK = 0.6
QUANTILES = np.linspace(0.0, 1.0, 101)
DEBIAS_POWERS = (0.5, 1.0)
_FLOOR = 1e-6


class RuleReference:
    """What the rules need of the training corpora: per-functional mean and spread (the shipped
    :class:`Reference`), the averaged quantile functions, and the averaged correlation's square root."""

    def __init__(self, functionals: np.ndarray, corpora: list[str]) -> None:
        self.moments = Reference.of(functionals, corpora)
        names = np.asarray(corpora)
        groups = [functionals[names == corpus] for corpus in sorted(set(corpora))]
        self.quantiles = np.mean([np.quantile(g, QUANTILES, axis=0) for g in groups], axis=0)
        correlation = np.mean([_correlation(g) for g in groups], axis=0)
        self.correlation_root = _matrix_power(_shrunk(correlation), 0.5)


def _correlation(x: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.corrcoef(x, rowvar=False))  # a constant functional correlates with nothing


def _shrunk(correlation: np.ndarray) -> np.ndarray:
    return (1.0 - CORAL_SHRINK) * correlation + CORAL_SHRINK * np.eye(len(correlation))


def _matrix_power(symmetric: np.ndarray, power: float) -> np.ndarray:
    values, vectors = np.linalg.eigh(symmetric)
    return (vectors * np.maximum(values, 1e-3) ** power) @ vectors.T


def move(rule: str, x: np.ndarray, community: np.ndarray, ref: RuleReference) -> np.ndarray:
    """``x`` moved by ``rule`` from the statistics of the ``community`` clips onto ``ref``."""
    mean, std = community.mean(axis=0), np.maximum(community.std(axis=0), _FLOOR)
    target_mean, target_std = ref.moments.mean, ref.moments.std
    if rule == "diag":
        moved = align(x, mean, std, ref.moments)  # the shipped rule itself
    elif rule == "shift":
        moved = x - mean + target_mean
    elif rule == "sqrt":
        moved = (x - mean) * np.sqrt(target_std / std) + target_mean
    elif rule == "cap":
        moved = (x - mean) * np.clip(target_std / std, 0.8, 1.25) + target_mean
    elif rule == "coral":
        whiten = _matrix_power(_shrunk(_correlation(community)), -0.5)
        moved = ((x - mean) / std) @ whiten @ ref.correlation_root * target_std + target_mean
    elif rule == "quantile":
        moved = _quantile_moved(x, community, std, ref)
    else:
        raise ValueError(f"unknown rule {rule!r}")
    return moved.astype(np.float32)


def _quantile_moved(x: np.ndarray, community: np.ndarray, std: np.ndarray, ref: RuleReference) -> np.ndarray:
    ranked = np.sort(community, axis=0)
    levels = (np.arange(len(community)) + 0.5) / len(community)
    moved = np.empty_like(x)
    for f in range(x.shape[1]):
        ends = np.interp(levels[[0, -1]], QUANTILES, ref.quantiles[:, f])
        column = np.interp(np.interp(x[:, f], ranked[:, f], levels), QUANTILES, ref.quantiles[:, f])
        scale = ref.moments.std[f] / std[f]
        below, above = x[:, f] < ranked[0, f], x[:, f] > ranked[-1, f]
        column[below] = ends[0] + (x[below, f] - ranked[0, f]) * scale
        column[above] = ends[1] + (x[above, f] - ranked[-1, f]) * scale
        moved[:, f] = column
    return moved


def corpora_moved(part: FunctionalTable, rule: str, ref: RuleReference) -> FunctionalTable:
    """Every corpus of ``part`` moved by ``rule`` from its own statistics, per variant."""
    values = part.functionals.copy()
    corpora = np.array([clip.corpus for clip in part.clips])
    for corpus in np.unique(corpora):
        rows = corpora == corpus
        for v, x in enumerate(part.functionals):
            values[v, rows] = move(rule, x[rows], x[rows], ref)
    return FunctionalTable(part.clips, values, part.mfcc)


def communities(part: FunctionalTable, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per speaker of the (one-corpus) ``part``, its community's rows: 100 random clips of other speakers."""
    speakers = np.array([clip.speaker for clip in part.clips])
    return {
        speaker: rng.choice(
            others := np.flatnonzero(speakers != speaker),
            size=min(COMMUNITY_CLIPS, others.size),
            replace=False,
        )
        for speaker in np.unique(speakers)
    }


def debiased(answers: np.ndarray, community_mean: np.ndarray, power: float, own: np.ndarray) -> np.ndarray:
    p = np.where(own, answers / np.maximum(community_mean, _FLOOR) ** power, 0.0)
    return p / p.sum(axis=1, keepdims=True)


def fold_scores(table: FunctionalTable, fold, config: RecognizerConfig, train_cfg: TrainConfig) -> dict:
    """``{recipe: Metrics}`` for one left-out corpus, clean clips."""
    train = table.subset(fold.split.of(table.clips, "train"))
    val = table.subset(fold.split.of(table.clips, "val"))
    test = table.subset(fold.split.of(table.clips, "test"))
    known = FunctionalTable.concatenate([train, val])
    ref = RuleReference(train.functionals[0], [clip.corpus for clip in train.clips])
    order = {label: i for i, label in enumerate(config.labels)}
    val_y = np.tile([order[clip.label] for clip in val.clips], 2)

    def calibration(model, part: FunctionalTable) -> Calibration:
        val_p = np.concatenate([probabilities(model, part.functionals[v]) for v in (0, 1)])
        return Calibration(fit_temperature(val_p, val_y))

    plain = fit_functional(config, train, val, train_cfg)[0]
    plain_cal = calibration(plain, val)
    corpus = test.clips[0].corpus
    truth = np.array([order[clip.label] for clip in test.clips])
    own = np.array([label in corpus_emotions(corpus) for label in config.labels])
    x = test.functionals[0]
    p = plain_cal.apply(probabilities(plain, x))
    speakers = np.array([clip.speaker for clip in test.clips])
    picks = communities(test, np.random.default_rng(train_cfg.seed))
    recipes = {"plain": p}
    for rule in RULES:
        moved = corpora_moved(known, rule, ref)
        network = fit_functional(
            community_config(config), moved.subset(train.clips), moved.subset(val.clips), train_cfg
        )[0]
        network_cal = calibration(network, moved.subset(val.clips))
        aligned = np.empty_like(x)
        for speaker, pick in picks.items():
            rows = speakers == speaker
            aligned[rows] = move(rule, x[rows], x[pick], ref)
        a = plain_cal.apply(probabilities(plain, aligned))
        c = network_cal.apply(probabilities(network, aligned))
        recipes[f"{rule}: plain + align"] = (p + a) / 2
        recipes[f"{rule}: plain + align + network"] = (p + a + c) / 3
    fused = recipes["diag: plain + align + network"]
    neutral = truth == order[config.labels[0]]
    for mix in ("balanced", "80 % neutral"):
        mean_answer = np.empty_like(fused)
        rng = np.random.default_rng(train_cfg.seed)
        for speaker, pick in picks.items():
            rows = speakers == speaker
            if mix != "balanced" and own[0]:
                calm, other = np.flatnonzero(~rows & neutral), np.flatnonzero(~rows & ~neutral)
                pick = np.concatenate(
                    [
                        rng.choice(calm, min(80, calm.size), replace=False),
                        rng.choice(other, 20, replace=False),
                    ]
                )
            mean_answer[rows] = fused[pick].mean(axis=0)
        for power in DEBIAS_POWERS:
            recipes[f"diag, debiased ^{power} ({mix})"] = debiased(fused, mean_answer, power, own)
    labels = tuple(label.value for label in config.labels)
    return {recipe: score_on_own_classes(truth, probs, own, labels) for recipe, probs in recipes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    base, clips, table, config = single_network_setup()
    results: dict = {}  # (seed, corpus, recipe) -> Metrics
    for seed in args.seeds:
        for fold in corpus_folds(clips, seed=seed):
            corpus = fold.name.removeprefix("left out: ")
            for recipe, metrics in fold_scores(table, fold, config, replace(base, seed=seed)).items():
                results[seed, corpus, recipe] = metrics
    corpora = sorted({key[1] for key in results})
    print("clean clips: mean of 5 (per seed) | UAR per corpus | called angry per corpus")
    for recipe in dict.fromkeys(key[2] for key in results):
        per_seed = [np.mean([results[s, c, recipe].uar for c in FIVE]) for s in args.seeds]
        uar = "  ".join(
            f"{c} {np.mean([results[s, c, recipe].uar for s in args.seeds]):.3f}" for c in corpora
        )
        angry = "  ".join(
            f"{c} {np.mean([results[s, c, recipe].called_angry for s in args.seeds]):.0%}" for c in corpora
        )
        print(
            f"  {recipe:44} mean of 5 {np.mean(per_seed):.3f} ("
            + ", ".join(f"{u:.3f}" for u in per_seed)
            + ")"
        )
        print(f"    UAR    {uar}\n    angry  {angry}")


if __name__ == "__main__":
    main()
