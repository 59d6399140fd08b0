"""Speaker-independent splits and a feature cache for training and evaluation.

Speakers are the unit of splitting: no speaker's voice is in two splits, so every reported figure is
about voices the model never heard. Decoding, augmenting and featurising ~9,000 clips takes minutes on
two cores, so features are cached on disk, keyed by everything that shapes them.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emotion_core.audio import AudioLimits, decode
from emotion_core.corpora import Clip, is_pooled_speaker
from emotion_core.features import FeatureConfig, log_mel, mfcc_mean, trim_silence
from emotion_core.paths import PROJECT_ROOT
from emotion_core.recognizer.augment import (
    AUGMENT_VARIANTS,
    AugmentConfig,
    degrade,
    opus_roundtrip_many,
)
from emotion_core.recognizer.config import MODULATION_BEFORE_0_15

#: Corpus clips are a few seconds; this only guards against a damaged file.
_CORPUS_LIMITS = AudioLimits(min_duration_s=0.0, max_duration_s=30.0)


@dataclass(frozen=True)
class SplitConfig:
    """Fractions of each corpus's speakers held out, drawn with a fixed seed.

    A corpus with two speakers (TESS) gives one to training and one to test; with three or more,
    at least one speaker goes to each of validation and test.
    """

    test_fraction: float = 0.25
    val_fraction: float = 0.15
    seed: int = 0


@dataclass(frozen=True)
class Split:
    """Speaker ids (``corpus:id``) of each split."""

    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]

    def corpora(self, part: str) -> set[str]:
        """Names of the corpora with speakers in ``part`` (``"train"``, ``"val"`` or ``"test"``)."""
        return {speaker.split(":", 1)[0] for speaker in getattr(self, part)}

    def of(self, clips: Sequence[Clip], part: str) -> list[Clip]:
        speakers = set(getattr(self, part))
        return [clip for clip in clips if clip.speaker in speakers]


def split_speakers(clips: Sequence[Clip], config: SplitConfig = SplitConfig()) -> Split:
    """Assign every speaker of every corpus to exactly one of train, val and test.

    A pool of unidentified voices (IndianEmoSpeech's unknown user) always goes to training: it may
    hold several people, so it cannot be held out cleanly.
    """
    parts: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for corpus in sorted({clip.corpus for clip in clips}):
        speakers = sorted({clip.speaker for clip in clips if clip.corpus == corpus})
        parts["train"] += [s for s in speakers if is_pooled_speaker(s)]
        speakers = [s for s in speakers if not is_pooled_speaker(s)]
        rng = np.random.default_rng([config.seed, zlib.crc32(corpus.encode())])
        speakers = [speakers[i] for i in rng.permutation(len(speakers))]
        if len(speakers) < 2:
            parts["train"] += speakers
            continue
        if len(speakers) == 2:
            parts["test"].append(speakers[0])
            parts["train"].append(speakers[1])
            continue
        n_test = max(1, round(config.test_fraction * len(speakers)))
        n_val = max(1, round(config.val_fraction * len(speakers)))
        parts["test"] += speakers[:n_test]
        parts["val"] += speakers[n_test : n_test + n_val]
        parts["train"] += speakers[n_test + n_val :]
    return Split(**{name: tuple(sorted(ids)) for name, ids in parts.items()})


def cap_per_speaker(clips: Sequence[Clip], max_clips: int | None, *, seed: int = 0) -> list[Clip]:
    """At most ``max_clips`` clips of each speaker, the same share of each of their classes.

    TESS has 1,400 clips per speaker and nEMO about 500, IndianEmoSpeech about 24: draws are
    balanced by speaker anyway, so past a few hundred a speaker's extra clips add little but
    featurising time. The order of ``clips`` is kept; ``None`` keeps everything.
    """
    if max_clips is None:
        return list(clips)
    keep: set[Path] = set()
    for speaker in sorted({clip.speaker for clip in clips}):
        members = [clip for clip in clips if clip.speaker == speaker]
        if len(members) <= max_clips:
            keep.update(clip.path for clip in members)
            continue
        rng = np.random.default_rng([seed, zlib.crc32(speaker.encode())])
        labels = sorted({clip.label for clip in members}, key=lambda label: label.value)
        per_label = max_clips // len(labels)
        for label in labels:
            group = [clip for clip in members if clip.label == label]
            keep.update(group[i].path for i in rng.permutation(len(group))[:per_label])
    return [clip for clip in clips if clip.path in keep]


@dataclass
class FeatureTable:
    """Cached features of some clips in every augmentation variant.

    ``log_mel[v][i]`` is clip ``i`` in variant ``AUGMENT_VARIANTS[v]``, shape ``(frames, n_mels)`` float16;
    ``mfcc[v, i]`` its MFCC means, shape ``(n_mfcc,)``.
    """

    clips: list[Clip]
    log_mel: list[list[np.ndarray]]
    mfcc: np.ndarray

    def subset(self, clips: Sequence[Clip]) -> FeatureTable:
        index = {clip.path: i for i, clip in enumerate(self.clips)}
        rows = [index[clip.path] for clip in clips]
        return FeatureTable(
            list(clips),
            [[variant[i] for i in rows] for variant in self.log_mel],
            self.mfcc[:, rows],
        )


def variant_audio(
    chunk: int, paths: Sequence[str], corpus: str, features: FeatureConfig, augment: AugmentConfig, seed: int
) -> dict[str, list[np.ndarray]]:
    """A chunk of corpus clips decoded, in every variant of :data:`AUGMENT_VARIANTS`, silence trimmed.

    The random draws depend only on the seed, the corpus and the chunk number, so a cached table
    can be rebuilt exactly. One Opus encoder run per variant and chunk.
    """
    rng = np.random.default_rng([seed, zlib.crc32(corpus.encode()), chunk])
    rate = features.sample_rate
    clean = [decode(p, sample_rate=rate, limits=_CORPUS_LIMITS).samples for p in paths]
    audio = {"clean": clean}
    for variant in AUGMENT_VARIANTS[1:]:
        degraded = [degrade(x, rate, variant, rng=rng, config=augment) for x in clean]
        bitrate = int(rng.choice(augment.opus_bitrates_kbps))
        audio[variant] = opus_roundtrip_many(degraded, rate, bitrate_kbps=bitrate)
    return {v: [trim_silence(x, features) for x in audio[v]] for v in AUGMENT_VARIANTS}


def _featurize(job: tuple[int, list[str], str, FeatureConfig, AugmentConfig, int]):
    """Log-mel and MFCC means of a chunk of clips in every variant."""
    _, paths, _, features, _, _ = job
    audio = variant_audio(*job)
    results = []
    for i in range(len(paths)):
        trimmed = [audio[v][i] for v in AUGMENT_VARIANTS]
        results.append(
            (
                [log_mel(x, features).astype(np.float16) for x in trimmed],
                [mfcc_mean(x, features) for x in trimmed],
            )
        )
    return results


#: Clips per worker job, and so per Opus encoder run.
CHUNK = 24


def cache_dir() -> Path:
    """``$MOODBOT_CACHE_DIR`` or the project's ``.cache/``."""
    return Path(os.environ.get("MOODBOT_CACHE_DIR") or PROJECT_ROOT / ".cache").expanduser()


#: :class:`FeatureConfig` fields added after cached tables existed, each with the value that gives the
#: features from before it (the value an older model's config is read with). At that value a field
#: stays out of the cache key, so adding an option keeps every table cached without it (a new field
#: used to change every key: a 20-minute recompute).
FEATURES_ADDED_LATER = {**MODULATION_BEFORE_0_15}


def cache_key(clips: Sequence[Clip], features: FeatureConfig, augment: AugmentConfig, seed: int, kind: str):
    """A short hash of everything that shapes a cached table of ``kind`` features."""
    description = {
        "kind": kind,
        "features": {
            name: value
            for name, value in asdict(features).items()
            if name not in FEATURES_ADDED_LATER or value != FEATURES_ADDED_LATER[name]
        },
        "augment": asdict(augment),
        "variants": AUGMENT_VARIANTS,
        "seed": seed,
        "files": [str(clip.path) for clip in clips],
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:16]


def featurize_chunks(
    worker: Callable,
    clips: Sequence[Clip],
    features: FeatureConfig,
    augment: AugmentConfig,
    seed: int,
    workers: int,
    desc: str,
) -> list:
    """``worker`` on chunks of :data:`CHUNK` clips of one corpus in ``workers`` processes, in order;
    each job is ``(chunk number, paths, corpus, features, augment, seed)``, as :func:`variant_audio`
    takes it."""
    corpus = clips[0].corpus
    jobs = [
        (k, [str(c.path) for c in clips[start : start + CHUNK]], corpus, features, augment, seed)
        for k, start in enumerate(range(0, len(clips), CHUNK))
    ]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(tqdm(pool.map(worker, jobs), total=len(jobs), desc=f"{desc} {corpus}", unit="chunk"))


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write a cache file whole or not at all (a killed run leaves no half-written table)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub takes **kwds for allow_pickle
    tmp.replace(path)


def build_features(
    clips: Sequence[Clip],
    features: FeatureConfig,
    *,
    augment: AugmentConfig = AugmentConfig(),
    seed: int = 0,
    workers: int = 2,
    use_cache: bool = True,
) -> FeatureTable:
    """Decode, augment and featurise ``clips`` (one corpus at a time, cached per corpus)."""
    tables = []
    for corpus in dict.fromkeys(clip.corpus for clip in clips):
        subset = [clip for clip in clips if clip.corpus == corpus]
        path = cache_dir() / f"{corpus}-{cache_key(subset, features, augment, seed, 'log_mel')}.npz"
        if use_cache and path.exists():
            with np.load(path) as data:
                lengths, flat, mfcc = data["lengths"], data["log_mel"], data["mfcc"]
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            mels = [
                [flat[offsets[k] : offsets[k + 1]] for k in range(v, len(lengths), len(AUGMENT_VARIANTS))]
                for v in range(len(AUGMENT_VARIANTS))
            ]
            tables.append(FeatureTable(subset, mels, mfcc))
            continue
        chunks = featurize_chunks(_featurize, subset, features, augment, seed, workers, "features")
        results = [result for chunk in chunks for result in chunk]
        mels = [[result[0][v] for result in results] for v in range(len(AUGMENT_VARIANTS))]
        mfcc = np.array([[result[1][v] for result in results] for v in range(len(AUGMENT_VARIANTS))])
        if use_cache:
            ordered = [m for result in results for m in result[0]]  # clip-major, variant-minor
            save_npz(
                path,
                lengths=np.array([m.shape[0] for m in ordered]),
                log_mel=np.concatenate(ordered),
                mfcc=mfcc,
            )
        tables.append(FeatureTable(subset, mels, mfcc))
    return FeatureTable(
        [clip for table in tables for clip in table.clips],
        [[m for table in tables for m in table.log_mel[v]] for v in range(len(AUGMENT_VARIANTS))],
        np.concatenate([table.mfcc for table in tables], axis=1),
    )
