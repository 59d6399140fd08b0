"""Ablation (issue 8): would a network *trained* on per-corpus standardised functionals hear a new
corpus better than test-time alignment alone (:mod:`emotion_core.community`)? Since 0.6.0 such a
network ships as the community network, all three answers averaged (the protocol measures it inside
the ensemble); this benchmark keeps single networks, so its figures compare with earlier ones.

Leave-one-corpus-out on the protocol's own folds and feature cache, one network each (no ensemble,
weight averaging as shipped), temperature fitted on the validation speakers:

- ``plain``: the speaker-independent network, a first message with no community statistics;
- ``plain + align``: its answers to the clip as it is and aligned on 100 clips of other speakers of
  the left-out corpus, averaged (what 0.5.0 served once the community statistics were ready);
- ``corpus-norm``: a second network trained on functionals standardised per training corpus, tested
  on the left-out corpus standardised on the same 100 clips;
- ``corpus-norm + plain`` and ``corpus-norm + plain + align`` (the rule 0.6.0 serves): the
  probabilities averaged;
- ``plain + align, N % neutral``: what ships, where N % of the community's clips are neutral (the
  acted corpora are balanced over emotions; a server's voice messages may well not be);
- ``plain + align, one other speaker``: what ships, where all the community's clips come from one
  other person (a quiet server with one prolific member).

Prints the mean UAR over RAVDESS, TESS, SAVEE, nEMO and EmoDB per seed, per corpus, the share of
other emotions called angry and the calibrated ECE. About 6 minutes per seed on 2 cores (shared with
another run) once the functionals are cached (``moodbot evaluate --protocol loco`` builds the cache)::

    python -m benchmarks.ablation_corpus_norm --seeds 0 1 2
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from benchmarks.loco_setup import probabilities, single_network_setup
from emotion_core.community import MIN_MESSAGES as COMMUNITY_CLIPS
from emotion_core.community import Reference, align
from emotion_core.labels import corpus_emotions
from emotion_core.recognizer.calibration import Calibration, fit_temperature
from emotion_core.recognizer.config import RecognizerConfig
from emotion_core.recognizer.crossval import community_aligned, corpus_folds
from emotion_core.recognizer.functional_table import FunctionalTable
from emotion_core.recognizer.functional_train import fit_functional
from emotion_core.recognizer.metrics import score_on_own_classes
from emotion_core.recognizer.train import TrainConfig

FIVE = ("RAVDESS", "TESS", "SAVEE", "nEMO", "EmoDB")
CONDITIONS = {"clean": 0, "discord": 1}
NEUTRAL_SHARES = (0.5, 0.8)


def aligned_per_speaker(
    part: FunctionalTable,
    variant: int,
    reference: Reference,
    community_of: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Each speaker's clips aligned on the clips ``community_of(speaker's rows)`` picks (indices into
    ``part``): one corpus, one speaker at a time, as :func:`community_aligned` does with random ones."""
    x = part.functionals[variant]
    aligned = np.empty_like(x)
    speakers = np.array([clip.speaker for clip in part.clips])
    for speaker in np.unique(speakers):
        rows = speakers == speaker
        pick = community_of(rows)
        aligned[rows] = align(x[rows], x[pick].mean(axis=0), x[pick].std(axis=0), reference)
    return aligned


def skewed_aligned(
    part: FunctionalTable, variant: int, reference: Reference, neutral_share: float, rng: np.random.Generator
) -> np.ndarray:
    """Like :func:`community_aligned`, but ``neutral_share`` of each community's clips are neutral
    clips of the other speakers (fewer where the corpus has fewer), the rest other emotions."""
    neutral = np.array([clip.label.value == "neutral" for clip in part.clips])

    def community_of(rows: np.ndarray) -> np.ndarray:
        calm, other = np.flatnonzero(~rows & neutral), np.flatnonzero(~rows & ~neutral)
        n_calm = min(round(neutral_share * COMMUNITY_CLIPS), calm.size)
        return np.concatenate(
            [
                rng.choice(calm, size=n_calm, replace=False),
                rng.choice(other, size=min(COMMUNITY_CLIPS - n_calm, other.size), replace=False),
            ]
        )

    return aligned_per_speaker(part, variant, reference, community_of)


def one_speaker_aligned(
    part: FunctionalTable, variant: int, reference: Reference, rng: np.random.Generator
) -> np.ndarray:
    """Each speaker's clips aligned on up to :data:`COMMUNITY_CLIPS` clips of one other, random
    speaker of the corpus."""
    speakers = np.array([clip.speaker for clip in part.clips])
    names = np.unique(speakers)

    def community_of(rows: np.ndarray) -> np.ndarray:
        other = rng.choice(names[names != speakers[rows][0]])
        theirs = np.flatnonzero(speakers == other)
        return rng.choice(theirs, size=min(COMMUNITY_CLIPS, theirs.size), replace=False)

    return aligned_per_speaker(part, variant, reference, community_of)


def fold_scores(table, fold, config: RecognizerConfig, train_cfg: TrainConfig) -> dict:
    """``{(condition, recipe): Metrics}`` for one left-out corpus."""
    train = table.subset(fold.split.of(table.clips, "train"))
    val = table.subset(fold.split.of(table.clips, "val"))
    test = table.subset(fold.split.of(table.clips, "test"))
    reference = Reference.of(train.functionals[0], [clip.corpus for clip in train.clips])
    unit = Reference(np.zeros_like(reference.mean), np.ones_like(reference.std))
    standardized = table.subset(list(train.clips) + list(val.clips)).corpus_aligned(unit)
    s_train, s_val = standardized.subset(train.clips), standardized.subset(val.clips)
    plain = fit_functional(config, train, val, train_cfg)[0]
    normed = fit_functional(config, s_train, s_val, train_cfg)[0]
    order = {label: i for i, label in enumerate(config.labels)}
    val_y = np.tile([order[clip.label] for clip in val.clips], len(CONDITIONS))

    def calibration(model, part) -> Calibration:
        val_p = np.concatenate([probabilities(model, part.functionals[v]) for v in CONDITIONS.values()])
        return Calibration(fit_temperature(val_p, val_y))

    plain_cal, normed_cal = calibration(plain, val), calibration(normed, s_val)
    corpus = test.clips[0].corpus
    truth = np.array([order[clip.label] for clip in test.clips])
    own = np.array([label in corpus_emotions(corpus) for label in config.labels])
    labels = tuple(label.value for label in config.labels)
    scores = {}
    for condition, v in CONDITIONS.items():
        p = plain_cal.apply(probabilities(plain, test.functionals[v]))
        aligned, _ = community_aligned(
            test, v, reference, COMMUNITY_CLIPS, np.random.default_rng(train_cfg.seed)
        )
        a = plain_cal.apply(probabilities(plain, aligned))
        z, _ = community_aligned(test, v, unit, COMMUNITY_CLIPS, np.random.default_rng(train_cfg.seed))
        n = normed_cal.apply(probabilities(normed, z))
        recipes = {
            "plain": p,
            "plain + align (0.5.0)": (p + a) / 2,
            "corpus-norm": n,
            "corpus-norm + plain": (n + p) / 2,
            "corpus-norm + plain + align (ships)": (n + p + a) / 3,
        }
        for share in NEUTRAL_SHARES:
            rng = np.random.default_rng(train_cfg.seed)
            skewed = plain_cal.apply(probabilities(plain, skewed_aligned(test, v, reference, share, rng)))
            recipes[f"plain + align, {share:.0%} neutral"] = (p + skewed) / 2
        lone = one_speaker_aligned(test, v, reference, np.random.default_rng(train_cfg.seed))
        recipes["plain + align, one other speaker"] = (p + plain_cal.apply(probabilities(plain, lone))) / 2
        for recipe, probs in recipes.items():
            scores[condition, recipe] = score_on_own_classes(truth, probs, own, labels)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    base, clips, table, config = single_network_setup()
    results: dict = {}  # (seed, corpus, condition, recipe) -> Metrics
    for seed in args.seeds:
        for fold in corpus_folds(clips, seed=seed):
            corpus = fold.name.removeprefix("left out: ")
            for key, metrics in fold_scores(table, fold, config, replace(base, seed=seed)).items():
                results[(seed, corpus, *key)] = metrics
    recipes = dict.fromkeys(key[3] for key in results)
    corpora = sorted({key[1] for key in results})
    for condition in CONDITIONS:
        print(f"\n{condition}: UAR (mean over seeds); 'mean of 5' per seed; called angry; calibrated ECE")
        for recipe in recipes:
            per_seed = [np.mean([results[s, c, condition, recipe].uar for c in FIVE]) for s in args.seeds]
            by_corpus = {
                c: np.mean([results[s, c, condition, recipe].uar for s in args.seeds]) for c in corpora
            }
            angry = {
                c: np.mean([results[s, c, condition, recipe].called_angry for s in args.seeds])
                for c in corpora
            }
            ece = {c: np.mean([results[s, c, condition, recipe].ece for s in args.seeds]) for c in corpora}
            print(
                f"  {recipe:28} mean of 5 {np.mean(per_seed):.3f} ("
                + ", ".join(f"{u:.3f}" for u in per_seed)
                + ")"
            )
            print("    UAR    " + "  ".join(f"{c} {u:.3f}" for c, u in by_corpus.items()))
            print("    angry  " + "  ".join(f"{c} {a:.0%}" for c, a in angry.items()))
            print("    ECE    " + "  ".join(f"{c} {e:.3f}" for c, e in ece.items()))


if __name__ == "__main__":
    main()
