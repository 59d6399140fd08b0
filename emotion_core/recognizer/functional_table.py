"""Utterance functionals of corpus clips in every augmentation variant, cached on disk.

The functional recogniser trains in seconds once these exist, which is what makes leave-one-corpus-out
and speaker-fold cross-validation over several seeds possible on two cores; computing them (decode,
degrade, Opus, pitch) is the slow part, so it is done once per corpus and cached, keyed by
everything that shapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emotion_core.community import Reference, align
from emotion_core.corpora import Clip
from emotion_core.features import FeatureConfig, mfcc_mean
from emotion_core.functionals import utterance_functionals
from emotion_core.recognizer.augment import AUGMENT_VARIANTS, AugmentConfig
from emotion_core.recognizer.dataset import cache_dir, cache_key, featurize_chunks, save_npz, variant_audio


@dataclass
class FunctionalTable:
    """``functionals[v, i]``: clip ``i`` in variant ``AUGMENT_VARIANTS[v]``, shape ``(n_functionals,)``;
    ``mfcc[v, i]`` its MFCC means (the seed baseline's input)."""

    clips: list[Clip]
    functionals: np.ndarray  # (variants, clips, n_functionals) float32
    mfcc: np.ndarray  # (variants, clips, n_mfcc) float32

    def subset(self, clips: Sequence[Clip]) -> FunctionalTable:
        index = {clip.path: i for i, clip in enumerate(self.clips)}
        rows = [index[clip.path] for clip in clips]
        return FunctionalTable(list(clips), self.functionals[:, rows], self.mfcc[:, rows])

    def corpus_aligned(self, reference: Reference) -> FunctionalTable:
        """Every corpus's functionals aligned from that corpus's own mean and spread (per variant) onto
        ``reference``: the corpora as a community network learns them, each as if it were the
        community a deployment hears (:func:`emotion_core.community.align`)."""
        values = self.functionals.copy()
        corpora = np.array([clip.corpus for clip in self.clips])
        for corpus in np.unique(corpora):
            rows = corpora == corpus
            for v, x in enumerate(self.functionals):
                values[v, rows] = align(x[rows], x[rows].mean(axis=0), x[rows].std(axis=0), reference)
        return FunctionalTable(self.clips, values, self.mfcc)

    @classmethod
    def concatenate(cls, tables: Sequence[FunctionalTable]) -> FunctionalTable:
        return cls(
            [clip for table in tables for clip in table.clips],
            np.concatenate([table.functionals for table in tables], axis=1),
            np.concatenate([table.mfcc for table in tables], axis=1),
        )


def _featurize(job: tuple[int, list[str], str, FeatureConfig, AugmentConfig, int]):
    features = job[3]
    audio = variant_audio(*job)
    return (
        np.array([[utterance_functionals(x, features) for x in audio[v]] for v in AUGMENT_VARIANTS]),
        np.array([[mfcc_mean(x, features) for x in audio[v]] for v in AUGMENT_VARIANTS]),
    )


def build_functionals(
    clips: Sequence[Clip],
    features: FeatureConfig,
    *,
    augment: AugmentConfig = AugmentConfig(),
    seed: int = 0,
    workers: int = 2,
    use_cache: bool = True,
) -> FunctionalTable:
    """Functionals and MFCC means of ``clips`` in every variant (computed per corpus, cached)."""
    tables = []
    for corpus in dict.fromkeys(clip.corpus for clip in clips):
        subset = [clip for clip in clips if clip.corpus == corpus]
        key = cache_key(subset, features, augment, seed, "functionals")
        path = cache_dir() / f"{corpus}-functionals-{key}.npz"
        if use_cache and path.exists():
            with np.load(path) as data:
                tables.append(FunctionalTable(subset, data["functionals"], data["mfcc"]))
            continue
        results = featurize_chunks(_featurize, subset, features, augment, seed, workers, "functionals")
        table = FunctionalTable(
            subset,
            np.concatenate([r[0] for r in results], axis=1).astype(np.float32),
            np.concatenate([r[1] for r in results], axis=1).astype(np.float32),
        )
        if use_cache:
            save_npz(path, functionals=table.functionals, mfcc=table.mfcc)
        tables.append(table)
    return FunctionalTable.concatenate(tables)
