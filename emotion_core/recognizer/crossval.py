"""Protocols that measure generalisation: leave-one-corpus-out and speaker-fold cross-validation.

A single split's figures move by several points from one seed to the next, more than most design
choices, so every figure here is a mean over seeds (± their standard deviation), and every clip of
every corpus is scored exactly once per seed:

- ``loco`` (leave one corpus out): for each corpus, train on all the others and test on all of its
  clips, on its own classes. This is the headline: a new corpus means new people, microphones, rooms,
  languages and sentences, which is what a Discord server is.
- ``speaker-folds``: the speakers of every corpus are dealt into ``k`` folds; each fold is tested by
  a model trained on the other folds of *all* corpora (one further fold is its validation set).

Each fold trains four networks (and, below, a fifth) on the same draws: the speaker-independent
functional network and its prosody network (``moodbot``, the mean of their answers: what a person's
first message gets; each is also scored alone), the seed tutorial's network (``seed baseline``) and
the profile network (``moodbot + profile``, its input centred on the mean of ``profile_clips`` other,
unlabelled clips of the same speaker). The first two are also scored as a deployment with community
statistics hears a newcomer: each test clip aligned on 30, 100 or 300 clips of *other* speakers of
its corpus (:mod:`emotion_core.community`), heard by both and by a fifth network, the community
network, trained on the fold's corpora each aligned the same way; alone and with a profile.
Temperature is fitted on each fold's validation speakers, so the calibrated ECE is measured on
speakers it was not fitted on.
Models are chosen by validation UAR only; test speakers never decide anything.
"""

from __future__ import annotations

import itertools
import json
import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from emotion_core.community import MIN_MESSAGES as COMMUNITY_CLIPS
from emotion_core.community import Reference, align, fuse_answers
from emotion_core.corpora import Clip, is_pooled_speaker, load_corpora
from emotion_core.labels import Emotion, corpus_emotions
from emotion_core.recognizer.augment import AUGMENT_VARIANTS
from emotion_core.recognizer.calibration import (
    ANGRY_OFFSET,
    Calibration,
    choose_angry_offset,
    discount_class,
    fit_fused_temperature,
    fit_temperature,
)
from emotion_core.recognizer.config import ArchitectureConfig, RecognizerConfig
from emotion_core.recognizer.dataset import Split, cap_per_speaker
from emotion_core.recognizer.evaluate import BASELINE_NAME, MODEL_NAME
from emotion_core.recognizer.functional_table import FunctionalTable, build_functionals
from emotion_core.recognizer.functional_train import (
    community_config,
    config_inputs,
    fit_community_network,
    fit_functional,
    fit_prosody_network,
    prosody_config,
    table_inputs,
)
from emotion_core.recognizer.infer import fuse_with_profile
from emotion_core.recognizer.metrics import Metrics, score_on_own_classes
from emotion_core.recognizer.train import TrainConfig, in_slices, train_seed_baseline

log = logging.getLogger(__name__)

PROFILE_NAME = "moodbot + profile"
#: Voice-profile sizes tested: how many earlier, unlabelled messages of the person it averages.
PROFILE_MESSAGES = (2, 3, 5, 10, 20)


def profile_name(messages: int) -> str:
    """The name a profile network's scores carry when its profile holds ``messages`` clips."""
    return f"{PROFILE_NAME} ({messages})"


def fused_name(messages: int) -> str:
    """The name the shipped pair's scores carry (:func:`~emotion_core.recognizer.infer.fuse_with_profile`)
    when the profile holds ``messages`` clips."""
    return f"moodbot & profile ({messages})"


#: Community sizes tested: how many clips of *other* people of the clip's corpus the community
#: statistics hold. Serving uses them from :data:`COMMUNITY_CLIPS` on; the others show what fewer and
#: more are worth.
COMMUNITY_SIZES = (30, COMMUNITY_CLIPS, 300)


def community_name(clips: int) -> str:
    """The speaker-independent network once the community statistics are ready: the mean of its
    answers to the clip as it is and aligned on ``clips`` clips of other people of the same corpus,
    and of the community network's to the aligned clip (:mod:`emotion_core.community`)."""
    return f"moodbot, community ({clips})"


#: What a newcomer's first message gets in serving once the community statistics are ready.
COMMUNITY_NAME = community_name(COMMUNITY_CLIPS)


def community_fused_name(messages: int) -> str:
    """The pair's scores where the community statistics are ready too (what serving does then)."""
    return f"pair, community ({messages})"


#: The speaker-independent network alone, without its prosody network (what MoodBot 0.11 answered);
#: and the prosody network alone. Both are parts of ``moodbot``'s answer, scored beside it.
ONE_VIEW_NAME = "moodbot, full view only"
PROSODY_VIEW_NAME = "moodbot, prosody view only"
#: The community rule without the prosody network's two answers (what MoodBot 0.11 answered).
ONE_VIEW_COMMUNITY_NAME = f"{COMMUNITY_NAME}, full view only"

#: Every model a protocol scores, in the order reports show them.
SCORED_MODELS = (
    MODEL_NAME,
    ONE_VIEW_NAME,
    PROSODY_VIEW_NAME,
    ONE_VIEW_COMMUNITY_NAME,
    *(profile_name(k) for k in PROFILE_MESSAGES),
    *(fused_name(k) for k in PROFILE_MESSAGES),
    *(community_name(n) for n in COMMUNITY_SIZES),
    *(community_fused_name(k) for k in PROFILE_MESSAGES),
    BASELINE_NAME,
)
#: The models whose answer is the mean of several networks' and gets the fused temperature, as
#: serving gives it (the full view alone and 0.11's community rule are scored as 0.11 answered).
SHARPENED_MODELS = (
    MODEL_NAME,
    *(fused_name(k) for k in PROFILE_MESSAGES),
    *(community_name(n) for n in COMMUNITY_SIZES),
    *(community_fused_name(k) for k in PROFILE_MESSAGES),
)
#: The answers a newcomer's first message gets, which the angry offset is chosen on (:func:`_angry_offsets`):
#: a new bot's and, once the community statistics are ready, the community rule's.
OFFSET_PATHS = (MODEL_NAME, COMMUNITY_NAME)
#: Test conditions: the clips as stored, and their ``discord`` variant (random gain, Opus 12–32 kbit/s).
FOLD_CONDITIONS = ("clean", "discord")


@dataclass(frozen=True)
class Fold:
    """One train/validation/test division of the speakers."""

    name: str
    split: Split


def _shuffled_speakers(clips: Sequence[Clip], corpus: str, seed: int) -> list[str]:
    speakers = sorted({c.speaker for c in clips if c.corpus == corpus and not is_pooled_speaker(c.speaker)})
    rng = np.random.default_rng([seed, zlib.crc32(corpus.encode())])
    return [speakers[i] for i in rng.permutation(len(speakers))]


def _pooled(clips: Sequence[Clip], corpus: str) -> list[str]:
    return sorted({c.speaker for c in clips if c.corpus == corpus and is_pooled_speaker(c.speaker)})


def corpus_folds(clips: Sequence[Clip], *, val_fraction: float = 0.15, seed: int = 0) -> list[Fold]:
    """One fold per corpus: all its speakers are tested (an unidentified pool too: they are all
    unseen people); of the other corpora, ``val_fraction`` of the speakers validate, the rest train."""
    corpora = sorted({clip.corpus for clip in clips})
    folds = []
    for held_out in corpora:
        train, val = [], []
        for corpus in corpora:
            if corpus == held_out:
                continue
            speakers = _shuffled_speakers(clips, corpus, seed)
            n_val = max(1, round(val_fraction * len(speakers))) if len(speakers) > 2 else 0
            val += speakers[:n_val]
            train += speakers[n_val:] + _pooled(clips, corpus)
        test = _shuffled_speakers(clips, held_out, seed) + _pooled(clips, held_out)
        folds.append(
            Fold(
                f"left out: {held_out}", Split(tuple(sorted(train)), tuple(sorted(val)), tuple(sorted(test)))
            )
        )
    return folds


def speaker_folds(clips: Sequence[Clip], *, k: int = 5, seed: int = 0) -> list[Fold]:
    """``k`` folds: every corpus's speakers dealt round the folds in a seeded order; fold ``f`` is
    tested, fold ``f + 1`` validates, the rest (and any unidentified pool) train."""
    corpora = sorted({clip.corpus for clip in clips})
    assignment: dict[str, int] = {}
    pooled: list[str] = []
    for corpus in corpora:
        for position, speaker in enumerate(_shuffled_speakers(clips, corpus, seed)):
            assignment[speaker] = position % k
        pooled += _pooled(clips, corpus)
    folds = []
    for f in range(k):
        test = sorted(s for s, g in assignment.items() if g == f)
        val = sorted(s for s, g in assignment.items() if g == (f + 1) % k)
        train = sorted([s for s, g in assignment.items() if g not in (f, (f + 1) % k)] + pooled)
        folds.append(Fold(f"fold {f + 1} of {k}", Split(tuple(train), tuple(val), tuple(test))))
    return folds


@dataclass(frozen=True)
class Summary:
    """One model in one condition on one corpus, over seeds: means, spreads and each seed's metrics."""

    uar_mean: float
    uar_std: float
    called_angry_mean: float
    ece_mean: float
    ece_calibrated_mean: float
    recall_mean: dict[str, float]
    angry_share_mean: dict[str, float]  # per true class (neutral, sad, ...): share called angry
    n_clips: int
    per_seed: tuple[Metrics, ...]

    def to_dict(self) -> dict:
        return {
            "uar_mean": self.uar_mean,
            "uar_std": self.uar_std,
            "called_angry_mean": self.called_angry_mean,
            "ece_mean": self.ece_mean,
            "ece_calibrated_mean": self.ece_calibrated_mean,
            "recall_mean": self.recall_mean,
            "angry_share_mean": self.angry_share_mean,
            "n_clips": self.n_clips,
            "per_seed": [m.to_dict() for m in self.per_seed],
        }


@dataclass(frozen=True)
class ProtocolReport:
    """``results[corpus][condition][model]`` over ``seeds`` for one protocol."""

    protocol: str
    seeds: tuple[int, ...]
    architecture: dict
    results: dict[str, dict[str, dict[str, Summary]]]
    #: Per corpus, the angry offset its answers were scored with, for each seed.
    angry_offsets: dict[str, tuple[float, ...]] = field(default_factory=dict)
    #: For each seed, the offset chosen on every corpus at once (what a shipped model takes).
    angry_offset_on_all: tuple[float, ...] = ()

    def mean_uar(self, model: str, condition: str, corpora: Sequence[str]) -> float:
        return float(np.mean([self.results[c][condition][model].uar_mean for c in corpora]))

    def to_dict(self) -> dict:
        return {
            "protocol": self.protocol,
            "seeds": list(self.seeds),
            "architecture": self.architecture,
            "angry_offsets": {corpus: list(values) for corpus, values in self.angry_offsets.items()},
            "angry_offset_on_all": list(self.angry_offset_on_all),
            "results": {
                corpus: {cond: {m: s.to_dict() for m, s in models.items()} for cond, models in conds.items()}
                for corpus, conds in self.results.items()
            },
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")


def _predict(model, x: np.ndarray) -> np.ndarray:
    return in_slices(model, x)


def community_aligned(
    part: FunctionalTable, variant: int, reference: Reference, clips: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Every clip's functionals aligned on the statistics of ``clips`` random clips of *other*
    speakers of its corpus (the same variant): what a deployment's community statistics hold when a
    newcomer's first message arrives; and per clip whether it had such a community. Where the part
    holds no other speaker of the corpus (a speaker fold of TESS or SAVEE) there is none: the clips
    stay as they are and serving would hear them as a new bot does."""
    x = part.functionals[variant]
    aligned = np.empty_like(x)
    has_community = np.ones(len(x), dtype=bool)
    corpora = np.array([c.corpus for c in part.clips])
    speakers = np.array([c.speaker for c in part.clips])
    for corpus in np.unique(corpora):
        in_corpus = corpora == corpus
        for speaker in np.unique(speakers[in_corpus]):
            rows = in_corpus & (speakers == speaker)
            others = np.flatnonzero(in_corpus & ~rows)
            if others.size == 0:
                aligned[rows], has_community[rows] = x[rows], False
                continue
            pick = rng.choice(others, size=min(clips, others.size), replace=False)
            aligned[rows] = align(x[rows], x[pick].mean(axis=0), x[pick].std(axis=0), reference)
    return aligned, has_community


def _fold_probabilities(table: FunctionalTable, fold: Fold, train_cfg: TrainConfig, config: RecognizerConfig):
    """Calibrated test probabilities of each network in each condition for one fold.

    Returns ``{(model, condition, "raw" or "calibrated"): (test clips, n_labels)}`` and the test clips.
    """
    train = table.subset(fold.split.of(table.clips, "train"))
    val = table.subset(fold.split.of(table.clips, "val"))
    test = table.subset(fold.split.of(table.clips, "test"))
    profile_config = replace(config, architecture=replace(config.architecture, speaker_norm=True, members=1))
    baseline_config = replace(config, architecture=ArchitectureConfig(kind="seed_dense"))
    networks = {
        ONE_VIEW_NAME: (fit_functional(config, train, val, train_cfg)[0], config),
        PROSODY_VIEW_NAME: (fit_prosody_network(config, train, val, train_cfg)[0], prosody_config(config)),
        PROFILE_NAME: (fit_functional(profile_config, train, val, train_cfg)[0], profile_config),
        BASELINE_NAME: (train_seed_baseline(baseline_config, train, val, train_cfg)[0], baseline_config),
    }

    def inputs(name: str, part: FunctionalTable, condition: str, clips: int | None = None) -> np.ndarray:
        variant = AUGMENT_VARIANTS.index(condition)
        if name == BASELINE_NAME:
            return part.mfcc[variant]
        return table_inputs(part, networks[name][1], variant, profile_clips=clips, seed=train_cfg.seed)

    order = {label: i for i, label in enumerate(config.labels)}
    val_y = np.array([order[c.label] for c in val.clips])
    probabilities = {}
    views, view_answers = [], []
    for name, (model, network_config) in networks.items():
        fit_clips = train_cfg.profile_clips if name == PROFILE_NAME else None
        val_p = np.concatenate([_predict(model, inputs(name, val, c, fit_clips)) for c in FOLD_CONDITIONS])
        calibration = Calibration(temperature=fit_temperature(val_p, np.tile(val_y, len(FOLD_CONDITIONS))))
        tested = [(profile_name(k), k) for k in PROFILE_MESSAGES] if name == PROFILE_NAME else [(name, None)]
        for shown, clips in tested:
            for condition in FOLD_CONDITIONS:
                raw = _predict(model, inputs(name, test, condition, clips))
                probabilities[shown, condition, "raw"] = raw
                probabilities[shown, condition, "calibrated"] = calibration.apply(raw)
        if name in (ONE_VIEW_NAME, PROSODY_VIEW_NAME):
            views.append((model, network_config, calibration))
            view_answers.append(calibration.apply(val_p))
    for condition, kind in itertools.product(FOLD_CONDITIONS, ("raw", "calibrated")):
        probabilities[MODEL_NAME, condition, kind] = fuse_answers(
            [probabilities[name, condition, kind] for name in (ONE_VIEW_NAME, PROSODY_VIEW_NAME)]
        )
    _community_probabilities(probabilities, views, train, val, test, train_cfg, config)
    for k in PROFILE_MESSAGES:
        for condition in FOLD_CONDITIONS:
            for kind in ("raw", "calibrated"):
                probabilities[fused_name(k), condition, kind] = fuse_with_profile(
                    probabilities[MODEL_NAME, condition, kind],
                    probabilities[profile_name(k), condition, kind],
                )
                probabilities[community_fused_name(k), condition, kind] = fuse_with_profile(
                    probabilities[COMMUNITY_NAME, condition, kind],
                    probabilities[profile_name(k), condition, kind],
                )
    # Serving gives every fused answer the fused temperature, fitted on the validation speakers'
    # fused answers (:func:`~emotion_core.recognizer.calibration.fit_calibration`).
    fused = Calibration(
        fused_temperature=fit_fused_temperature(view_answers, np.tile(val_y, len(FOLD_CONDITIONS)))
    )
    for name, condition in itertools.product(SHARPENED_MODELS, FOLD_CONDITIONS):
        probabilities[name, condition, "calibrated"] = fused.sharpen(
            probabilities[name, condition, "calibrated"]
        )
    return probabilities, test.clips


def _community_probabilities(
    probabilities: dict, views: list, train, val, test, train_cfg: TrainConfig, config
) -> None:
    """Add each community size's answers to ``probabilities``: each speaker-independent view
    (``views``: network, config and calibration; the full view first) on every test clip as it is and
    aligned on that many clips of other speakers of its corpus, and the community network (trained
    here, on the fold's aligned corpora) on the aligned clip, fused as serving fuses them; and, for
    :data:`COMMUNITY_CLIPS`, the same rule without the prosody view."""
    reference = Reference.of(train.functionals[0], [c.corpus for c in train.clips])
    network, aligned_val, _ = fit_community_network(config, train, val, train_cfg, reference)
    heard_config = community_config(config)
    order = {label: i for i, label in enumerate(config.labels)}
    val_y = np.tile([order[c.label] for c in val.clips], len(FOLD_CONDITIONS))
    val_p = np.concatenate(
        [
            _predict(network, table_inputs(aligned_val, heard_config, AUGMENT_VARIANTS.index(c)))
            for c in FOLD_CONDITIONS
        ]
    )
    heard_calibration = Calibration(temperature=fit_temperature(val_p, val_y))
    plain_names = (ONE_VIEW_NAME, PROSODY_VIEW_NAME)

    for size, condition in itertools.product(COMMUNITY_SIZES, FOLD_CONDITIONS):
        rng = np.random.default_rng([train_cfg.seed, size])
        aligned, has_community = community_aligned(
            test, AUGMENT_VARIANTS.index(condition), reference, size, rng
        )
        raw = [_predict(model, config_inputs(aligned, c)) for model, c, _ in views]
        heard = _predict(network, config_inputs(aligned, config))
        for kind, answers, q in (
            ("raw", raw, heard),
            (
                "calibrated",
                [calibration.apply(p) for p, (_, _, calibration) in zip(raw, views, strict=True)],
                heard_calibration.apply(heard),
            ),
        ):
            plain = [probabilities[name, condition, kind] for name in plain_names]
            rules = [(community_name(size), plain, answers, MODEL_NAME)]
            if size == COMMUNITY_CLIPS:
                rules.append((ONE_VIEW_COMMUNITY_NAME, plain[:1], answers[:1], ONE_VIEW_NAME))
            for shown, ps, aligned_answers, alone in rules:
                # Without a community serving hears the clip as a new bot does: so must the protocol.
                probabilities[shown, condition, kind] = np.where(
                    has_community[:, None],
                    fuse_answers(ps, aligned_answers, q),
                    probabilities[alone, condition, kind],
                )


def _angry_share(metrics: Metrics, labels: tuple[str, ...], label: str) -> float:
    """Share of the clips of true class ``label`` that were called angry."""
    row = metrics.confusion[labels.index(label)]
    return row[labels.index("angry")] / max(1, sum(row))


def _served(name: str, probs: np.ndarray, offset: float, angry: int) -> np.ndarray:
    """What serving answers from a model's calibrated probabilities: MoodBot's answers with the angry
    offset (:meth:`~emotion_core.recognizer.calibration.Calibration.discount_angry`), the seed
    baseline's as they are."""
    return probs if name == BASELINE_NAME else discount_class(probs, angry, offset)


def _angry_offsets(
    stacked: dict, truth: np.ndarray, clips: list[Clip], labels: tuple[Emotion, ...], fixed: float | None
) -> tuple[dict[str, float], float]:
    """The angry offset each corpus is scored with, and the one chosen on every corpus at once.

    With ``fixed`` every corpus gets that offset. Otherwise each corpus gets the offset that
    :func:`~emotion_core.recognizer.calibration.choose_angry_offset` chooses on the *other* corpora's
    answers, so the rule is never chosen on the corpus it is tested on; the offset chosen on all of
    them is what a shipped model would take. The answers are those of every path serving answers a
    newcomer's first message with (:data:`OFFSET_PATHS`, clean): serving applies one offset to all of
    them, so it must keep each under the target. Chosen on the community's answers alone (0.12.0),
    a corpus whose clips only a new bot's answers call angry too often pulled no offset up, and the
    corpus left out got what the others' community answers needed (README, "Confidence").
    """
    corpora = sorted({c.corpus for c in clips})
    if fixed is not None:
        return dict.fromkeys(corpora, fixed), fixed
    names = tuple(label.value for label in labels)
    corpus_of = np.array([c.corpus for c in clips])
    groups = [
        (
            corpus,
            (
                stacked[path, "clean", "calibrated"][corpus_of == corpus],
                truth[corpus_of == corpus],
                np.array([label in corpus_emotions(corpus) for label in labels]),
            ),
        )
        for path in OFFSET_PATHS
        for corpus in corpora
    ]
    chosen = {
        corpus: choose_angry_offset([g for other, g in groups if other != corpus], names)
        for corpus in corpora
    }
    return chosen, choose_angry_offset([g for _, g in groups], names)


def run_protocol(
    table: FunctionalTable,
    folds_for_seed: Callable[[int], list[Fold]],
    train_cfg: TrainConfig,
    config: RecognizerConfig,
    *,
    protocol: str,
    seeds: Sequence[int] = (0, 1, 2),
    angry_offset: float | None = None,
) -> ProtocolReport:
    """Train and score every fold for every seed; ``folds_for_seed(seed)`` gives that seed's folds.

    Every clip that any fold tests is scored once per seed; per corpus, figures are computed on all
    of them together and then averaged over seeds. Each model is scored on what serving answers: its
    calibrated (and, for the rules that fuse answers, fused) probabilities, with an angry offset that
    is ``angry_offset`` or, where that is ``None``, chosen on the other corpora (:func:`_angry_offsets`).
    ``ece_mean`` is the networks' confidence before calibration, for comparison.
    """
    labels = tuple(label.value for label in config.labels)
    order = {label: i for i, label in enumerate(config.labels)}
    angry = config.labels.index(Emotion.ANGRY)
    per_seed: dict[tuple[str, str, str], list[Metrics]] = {}
    uncalibrated_ece: dict[tuple[str, str, str], list[float]] = {}
    offsets: dict[str, list[float]] = {}
    chosen_on_all: list[float] = []
    for seed in seeds:
        cfg = replace(train_cfg, seed=seed)
        collected: dict[tuple, list[np.ndarray]] = {}
        clips: list[Clip] = []
        for fold in folds_for_seed(seed):
            log.info("seed %d, %s", seed, fold.name)
            probabilities, test_clips = _fold_probabilities(table, fold, cfg, config)
            clips += test_clips
            for key, p in probabilities.items():
                collected.setdefault(key, []).append(p)
        truth = np.array([order[c.label] for c in clips])
        stacked = {key: np.concatenate(parts) for key, parts in collected.items()}
        per_corpus, on_all = _angry_offsets(stacked, truth, clips, config.labels, angry_offset)
        chosen_on_all.append(on_all)
        for corpus in sorted({c.corpus for c in clips}):
            offsets.setdefault(corpus, []).append(per_corpus[corpus])
            rows = np.array([c.corpus == corpus for c in clips])
            own = np.array([label in corpus_emotions(corpus) for label in config.labels])
            for name in SCORED_MODELS:
                for condition in FOLD_CONDITIONS:
                    raw = score_on_own_classes(
                        truth[rows], stacked[name, condition, "raw"][rows], own, labels
                    )
                    served = _served(
                        name, stacked[name, condition, "calibrated"][rows], per_corpus[corpus], angry
                    )
                    per_seed.setdefault((corpus, condition, name), []).append(
                        score_on_own_classes(truth[rows], served, own, labels)
                    )
                    uncalibrated_ece.setdefault((corpus, condition, name), []).append(
                        float("nan") if raw.ece is None else raw.ece
                    )
    results: dict[str, dict[str, dict[str, Summary]]] = {}
    for (corpus, condition, name), metrics in per_seed.items():
        uars = [m.uar for m in metrics]
        results.setdefault(corpus, {}).setdefault(condition, {})[name] = Summary(
            uar_mean=float(np.mean(uars)),
            uar_std=float(np.std(uars)),
            called_angry_mean=float(np.mean([m.called_angry for m in metrics])),
            ece_mean=float(np.mean(uncalibrated_ece[corpus, condition, name])),
            ece_calibrated_mean=float(np.mean([m.ece for m in metrics])),
            recall_mean={k: float(np.mean([m.recall[k] for m in metrics])) for k in metrics[0].recall},
            angry_share_mean={
                k: float(np.mean([_angry_share(m, labels, k) for m in metrics]))
                for k in metrics[0].recall
                if k != "angry"
            },
            n_clips=metrics[0].n_clips,
            per_seed=tuple(metrics),
        )
    return ProtocolReport(
        protocol,
        tuple(seeds),
        asdict(config.architecture),
        results,
        angry_offsets={corpus: tuple(values) for corpus, values in offsets.items()},
        angry_offset_on_all=tuple(chosen_on_all),
    )


PROTOCOLS = ("loco", "speaker-folds")


def cross_validate(
    protocol: str,
    train_cfg: TrainConfig,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    k: int = 5,
    corpora_root: Path | None = None,
    workers: int = 2,
    angry_offset: float | None = None,
) -> ProtocolReport:
    """Run ``protocol`` (``"loco"`` or ``"speaker-folds"``) on ``train_cfg.corpora`` with the
    functional recogniser that ``train_cfg.architecture`` describes, its profile variant and the
    seed baseline; the functionals are computed once (cached) and shared by every fold and seed.

    Answers are scored with ``angry_offset``; by default, in leave-one-corpus-out, with the offset
    chosen on the other left-out corpora, and in speaker folds (new people of known corpora) with
    the shipped :data:`~emotion_core.recognizer.calibration.ANGRY_OFFSET`, as serving answers them.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; known: {PROTOCOLS}")
    if train_cfg.architecture.kind != "functional":
        raise ValueError("cross-validation trains the functional recogniser (architecture kind 'functional')")
    clips = cap_per_speaker(load_corpora(train_cfg.corpora, corpora_root), train_cfg.max_clips_per_speaker)
    table = build_functionals(clips, train_cfg.features, augment=train_cfg.augment, workers=workers)
    config = RecognizerConfig(features=train_cfg.features, architecture=train_cfg.architecture)

    def folds(seed: int) -> list[Fold]:
        if protocol == "loco":
            return corpus_folds(clips, seed=seed)
        return speaker_folds(clips, k=k, seed=seed)

    if angry_offset is None and protocol == "speaker-folds":
        angry_offset = ANGRY_OFFSET
    return run_protocol(
        table, folds, train_cfg, config, protocol=protocol, seeds=seeds, angry_offset=angry_offset
    )
