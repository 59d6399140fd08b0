"""Training the functional recogniser on a :class:`FunctionalTable`, with or without voice profiles.

A training run takes seconds on two cores, so the protocols in :mod:`emotion_core.recognizer.crossval`
can train dozens of models (every left-out corpus, every speaker fold, several seeds). The loss, the
corpus/speaker/class-balanced draws and the seeding are the same as the log-mel network's
(:mod:`emotion_core.recognizer.train`).

A network with ``speaker_norm`` learns from functionals centred on a *profile*: the mean of
``profile_clips`` other clips of the same speaker, drawn afresh for every example, unlabelled (their
emotions are whatever that speaker happened to record). That is exactly what a voice profile holds
at serving time, so the network never sees a statistic it will not have.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from emotion_core.community import Reference
from emotion_core.functionals import network_inputs
from emotion_core.recognizer.augment import AUGMENT_VARIANTS, variant_indices
from emotion_core.recognizer.config import RecognizerConfig
from emotion_core.recognizer.functional_table import FunctionalTable
from emotion_core.recognizer.metrics import score
from emotion_core.recognizer.train import (
    TrainConfig,
    fit_norm,
    label_indices,
    label_masks,
    sampling_weights,
    seed_everything,
    soft_masked_cross_entropy,
)


def profile_means(
    functionals: np.ndarray,
    speakers: list[str],
    rows: np.ndarray,
    variants: np.ndarray,
    clips_per_profile: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """For each drawn ``(variant, row)``, the mean functionals of ``clips_per_profile`` *other* clips
    of the same speaker in the same variant (drawn with replacement; fewer others, all of them).

    ``functionals`` is ``(variants, clips, n)``; returns ``(len(rows), n)``.
    """
    rows_of: dict[str, list[int]] = {}
    for i, speaker in enumerate(speakers):
        rows_of.setdefault(speaker, []).append(i)
    by_speaker = {s: np.array(r) for s, r in rows_of.items()}
    position = {}
    for members in by_speaker.values():
        for k, row in enumerate(members):
            position[int(row)] = k
    out = np.empty((len(rows), functionals.shape[-1]), dtype=np.float32)
    for members in by_speaker.values():
        drawn = np.flatnonzero(np.isin(rows, members))
        if drawn.size == 0:
            continue
        if members.size == 1:
            out[drawn] = functionals[variants[drawn], rows[drawn]]
            continue
        own = np.array([position[int(r)] for r in rows[drawn]])
        picks = rng.integers(0, members.size - 1, size=(drawn.size, clips_per_profile))
        picks += picks >= own[:, None]  # skip the clip itself
        history = functionals[variants[drawn][:, None], members[picks]]  # (drawn, k, n)
        out[drawn] = history.mean(axis=1)
    return out


class SpeakerShift:
    """Moves a training draw from its speaker's mean functionals towards another training speaker's:
    ``x + u * (mean[other] - mean[own])``, ``u`` uniform in [0, 1].

    The idea: show the network the same emotional deviation in voices between the training speakers
    (a few dozen actors carry most corpora). Functionals are mostly logarithmic (dB, semitones), so a
    speaker's and a microphone's colouring add to them. The other speaker is drawn with every corpus
    equally likely, so IndianEmoSpeech's hundred speakers do not set the directions. Means are per
    variant: a shift never mixes codecs. An ablation (``--speaker-shift``), not the recipe: it lowered
    leave-one-corpus-out UAR by about 3 points (README, "What was tried").
    """

    def __init__(self, functionals: np.ndarray, clips, share: float) -> None:
        speakers, self._speaker = np.unique([clip.speaker for clip in clips], return_inverse=True)
        self._means = np.stack(
            [
                np.stack([f[self._speaker == k].mean(axis=0) for k in range(speakers.size)])
                for f in functionals
            ]
        )  # (variants, speakers, n)
        corpus_of = {clip.speaker: clip.corpus for clip in clips}
        corpora = [corpus_of[name] for name in speakers]
        per_corpus = {c: corpora.count(c) for c in set(corpora)}
        draw = np.array([1.0 / per_corpus[c] for c in corpora])
        self._draw = draw / draw.sum()
        self._share = share

    def __call__(self, x: np.ndarray, rows: np.ndarray, variants: np.ndarray, rng: np.random.Generator):
        moved = rng.random(rows.size) < self._share
        own = self._speaker[rows[moved]]
        other = rng.choice(self._draw.size, size=own.size, p=self._draw)
        amount = rng.random((own.size, 1)).astype(np.float32)
        v = variants[moved]
        x = x.copy()
        x[moved] += amount * (self._means[v, other] - self._means[v, own])
        return x


def config_inputs(x: np.ndarray, config: RecognizerConfig) -> np.ndarray:
    """Full functional vectors ``x`` as ``config``'s network hears them (its band means and view:
    :func:`~emotion_core.functionals.network_inputs`)."""
    arch = config.architecture
    return network_inputs(x, config.features, arch.band_means, arch.prosody)


def table_inputs(
    table: FunctionalTable,
    config: RecognizerConfig,
    variant: int,
    *,
    profile_clips: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Network inputs for every clip of ``table`` in one variant; centred on a profile of
    ``profile_clips`` other clips of the same speaker (same variant) when given."""
    x = table.functionals[variant]
    if profile_clips:
        rows = np.arange(len(table.clips))
        variants = np.full(rows.size, variant)
        rng = np.random.default_rng(seed)
        speakers = [clip.speaker for clip in table.clips]
        x = x - profile_means(table.functionals, speakers, rows, variants, profile_clips, rng)
    return config_inputs(x, config)


def _mix_within_corpus(
    x: np.ndarray, targets: np.ndarray, corpus_ids: np.ndarray, alpha: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Mixup (Zhang et al., 2018) of each example with a random partner from the same corpus.

    Partners share a corpus so that they share a label set (the masked loss stays well defined);
    the weight of the example itself is at least one half, so its own label leads.
    """
    partner = np.arange(len(x))
    for corpus in np.unique(corpus_ids):
        where = np.flatnonzero(corpus_ids == corpus)
        partner[where] = rng.permutation(where)
    weight = rng.beta(alpha, alpha, size=(len(x), 1)).astype(np.float32)
    weight = np.maximum(weight, 1.0 - weight)
    return weight * x + (1 - weight) * x[partner], weight * targets + (1 - weight) * targets[partner]


def _recalibrate_batch_norm(model, inputs, n, variants, weights, batch, rng, batches: int = 50) -> None:
    """Averaged weights need batch-norm statistics of their own (Izmailov et al., 2018): reset the
    moving statistics and run training draws forward with a momentum that makes them a plain mean."""
    import keras

    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, np.float32))
        layer.moving_variance.assign(np.ones(layer.moving_variance.shape, np.float32))
    for k in range(1, batches + 1):
        for layer in norms:
            layer.momentum = 1.0 - 1.0 / k
        rows = rng.choice(n, size=batch, p=weights)
        x = inputs(rows, rng.choice(variants, size=batch))
        for layer in model.layers[1:]:  # after the input layer; only batch norm in training mode
            x = layer(x, training=isinstance(layer, keras.layers.BatchNormalization))
    for layer in norms:
        layer.momentum = 0.99


def fit_functional(
    config: RecognizerConfig,
    train: FunctionalTable,
    val: FunctionalTable,
    train_cfg: TrainConfig,
    *,
    verbose: bool = False,
):
    """Train a functional network; return it at its best validation UAR, and the learning curve.

    Each epoch draws as many examples as there are training clips, balanced by corpus, speaker and
    class, each in a random variant among ``train_cfg.variants``. Validation UAR is the mean over
    the clean and Discord-coded variants of the validation speakers.
    """
    import keras
    import tensorflow as tf

    from emotion_core.recognizer.model import build_model

    if config.architecture.members > 1:
        return _fit_ensemble(config, train, val, train_cfg, verbose=verbose)
    speaker_norm = config.architecture.speaker_norm
    rng = np.random.default_rng(train_cfg.seed)
    seed_everything(train_cfg.seed)
    model = build_model(config)
    variants = variant_indices(train_cfg.variants)
    speakers = [clip.speaker for clip in train.clips]
    n = len(train.clips)

    shift = (
        SpeakerShift(train.functionals, train.clips, train_cfg.speaker_shift)
        if train_cfg.speaker_shift > 0 and not speaker_norm
        else None
    )

    def inputs(rows: np.ndarray, vs: np.ndarray, *, draw: bool = False) -> np.ndarray:
        x = train.functionals[vs, rows]
        if draw and shift is not None:
            x = shift(x, rows, vs, rng)
        if speaker_norm:
            x = x - profile_means(train.functionals, speakers, rows, vs, train_cfg.profile_clips, rng)
        return config_inputs(x, config).astype(np.float32)

    sample_rows = np.tile(np.arange(n), len(variants))
    fit_norm(model, inputs(sample_rows, np.repeat(variants, n)))
    labels = label_indices(train.clips, config)
    masks = label_masks(train.clips, config)
    weights = sampling_weights(train.clips, train_cfg.corpus_weight_power, train_cfg.corpus_share)
    batch = min(train_cfg.batch_size, n)  # a tiny corpus still gets one step per epoch
    steps = train_cfg.epochs * (n // batch)
    schedule = keras.optimizers.schedules.CosineDecay(train_cfg.learning_rate, decay_steps=steps)
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=1e-4)

    smoothing = train_cfg.label_smoothing
    targets = np.eye(len(config.labels), dtype=np.float32)[labels] * (1.0 - smoothing)
    targets += smoothing * masks / masks.sum(axis=1, keepdims=True)
    corpus_ids = np.unique([clip.corpus for clip in train.clips], return_inverse=True)[1]

    hidden = keras.Model(model.inputs, model.get_layer("emotion").input)
    emotion = model.get_layer("emotion")
    weights_trained = list(model.trainable_variables)
    if train_cfg.corpus_adversary > 0:
        adversary = keras.layers.Dense(int(corpus_ids.max()) + 1, name="corpus_adversary")
        adversary.build((None, emotion.input.shape[-1]))
        weights_trained += adversary.trainable_variables

    @tf.custom_gradient
    def reverse(h):
        return tf.identity(h), lambda dy: -dy

    @tf.function(reduce_retracing=True)
    def step(x, t, m, c):
        with tf.GradientTape() as tape:
            h = hidden(x, training=True)
            loss = soft_masked_cross_entropy(emotion(h), t, m)
            if train_cfg.corpus_adversary > 0:
                corpus_loss = keras.losses.sparse_categorical_crossentropy(
                    c, adversary(reverse(h)), from_logits=True
                )
                loss += train_cfg.corpus_adversary * tf.reduce_mean(corpus_loss)
        grads = tape.gradient(loss, weights_trained)
        optimizer.apply_gradients(zip(grads, weights_trained, strict=True))
        return loss

    forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    val_y = label_indices(val.clips, config)
    profile = train_cfg.profile_clips if speaker_norm else None
    val_x = [
        table_inputs(val, config, AUGMENT_VARIANTS.index(v), profile_clips=profile, seed=train_cfg.seed)
        for v in ("clean", "discord")
    ]
    names = tuple(label.value for label in config.labels)
    best_uar, best_weights, history, waited = -1.0, None, [], 0
    running, averaged = None, 0
    for epoch in range(1, train_cfg.epochs + 1):
        started = time.perf_counter()
        rows = rng.choice(n, size=n, p=weights)
        vs = rng.choice(variants, size=n)
        x_all = inputs(rows, vs, draw=True)
        t_all = targets[rows]
        if train_cfg.mixup > 0:
            x_all, t_all = _mix_within_corpus(x_all, t_all, corpus_ids[rows], train_cfg.mixup, rng)
        losses = [
            float(
                step(
                    x_all[s : s + batch],
                    t_all[s : s + batch],
                    masks[rows[s : s + batch]],
                    corpus_ids[rows[s : s + batch]],
                )
            )
            for s in range(0, n - batch + 1, batch)
        ]
        uar = float(np.mean([score(val_y, forward(x).numpy().argmax(axis=1), names).uar for x in val_x]))
        history.append(
            {
                "epoch": epoch,
                "loss": float(np.mean(losses)),
                "val_uar": uar,
                "seconds": time.perf_counter() - started,
            }
        )
        if verbose:
            print(f"epoch {epoch:3d}  loss {np.mean(losses):.3f}  val UAR {uar:.3f}")
        if train_cfg.average_from_epoch:
            if epoch >= min(train_cfg.average_from_epoch, train_cfg.epochs):
                averaged += 1
                current = model.get_weights()
                running = (
                    current
                    if running is None
                    else [r + (c - r) / averaged for r, c in zip(running, current, strict=True)]
                )
            continue
        if uar > best_uar:
            best_uar, best_weights, waited = uar, model.get_weights(), 0
        else:
            waited += 1
            if waited >= train_cfg.patience:
                break
    if train_cfg.average_from_epoch:
        model.set_weights(running)
        _recalibrate_batch_norm(model, inputs, n, variants, weights, batch, rng)
    else:
        model.set_weights(best_weights)
    return model, history


def community_config(config: RecognizerConfig) -> RecognizerConfig:
    """The community network's config: a single network of ``config``'s shape on aligned corpora."""
    return replace(config, architecture=replace(config.architecture, corpus_aligned=True, members=1))


def fit_community_network(
    config: RecognizerConfig,
    train: FunctionalTable,
    val: FunctionalTable,
    train_cfg: TrainConfig,
    reference: Reference,
):
    """Train the community network: one network on the training corpora each aligned onto
    ``reference`` from its own statistics (train and validation speakers of a corpus together, as a
    community holds everybody). Returns the network, the aligned validation table and the learning
    curve.

    It never learns what sets one corpus apart from another, which the speaker-independent network
    does and then hears in a new corpus as emotion; in leave-one-corpus-out its answer on clips aligned
    on community statistics, averaged with that network's two answers, beat the two alone
    (README, "The community").
    """
    known = FunctionalTable.concatenate([train, val]).corpus_aligned(reference)
    aligned_val = known.subset(val.clips)
    network, history = fit_functional(
        community_config(config), known.subset(train.clips), aligned_val, train_cfg
    )
    return network, aligned_val, history


#: The prosody network trains with seed ``seed + PROSODY_SEED_STEP``: its own draws, apart from the
#: ensemble members'.
PROSODY_SEED_STEP = 100


def prosody_config(config: RecognizerConfig) -> RecognizerConfig:
    """The prosody network's config: a single network of ``config``'s shape on the prosodic view."""
    return replace(config, architecture=replace(config.architecture, prosody=True, members=1))


def fit_prosody_network(
    config: RecognizerConfig, train: FunctionalTable, val: FunctionalTable, train_cfg: TrainConfig
):
    """Train the prosody network (:attr:`~emotion_core.recognizer.config.ArchitectureConfig.prosody`)
    on the same corpora, sampling and variants as the speaker-independent network; return it and its
    learning curve. Leave-one-corpus-out measured one such network beside the others (README, "What
    was tried"), so it is one, not an ensemble."""
    seeded = replace(train_cfg, seed=train_cfg.seed + PROSODY_SEED_STEP)
    return fit_functional(prosody_config(config), train, val, seeded)


#: Member ``k`` of an ensemble trains with seed ``seed + MEMBER_SEED_STEP * k`` (member 0 is the single
#: network of the same seed).
MEMBER_SEED_STEP = 1000


def _fit_ensemble(
    config: RecognizerConfig,
    train: FunctionalTable,
    val: FunctionalTable,
    train_cfg: TrainConfig,
    *,
    verbose: bool,
):
    """Train ``config.architecture.members`` single networks apart, with different seeds, and join them
    into one model that averages their logits; the learning curves carry each member's number."""
    from emotion_core.recognizer.model import build_model

    arch = config.architecture
    if arch.speaker_norm:
        raise ValueError("a profile network is a single network: its input centring differs between members")
    single = replace(config, architecture=replace(arch, members=1))
    ensemble = build_model(config)
    history = []
    for k in range(arch.members):
        member_cfg = replace(train_cfg, seed=train_cfg.seed + MEMBER_SEED_STEP * k)
        member, curve = fit_functional(single, train, val, member_cfg, verbose=verbose)
        history += [{**point, "member": k} for point in curve]
        dense = [layer for layer in member.layers if type(layer).__name__ == "Dense"]
        norms = [layer for layer in member.layers if type(layer).__name__ == "BatchNormalization"]
        for depth, (d, n) in enumerate(zip(dense[:-1], norms, strict=True)):
            ensemble.get_layer(f"m{k}_dense{depth}").set_weights(d.get_weights())
            ensemble.get_layer(f"m{k}_norm{depth}").set_weights(n.get_weights())
        ensemble.get_layer(f"m{k}_logits").set_weights(dense[-1].get_weights())
        if k == 0:  # every member standardises with the same statistics: those of the same draws
            norm = ensemble.get_layer("feature_norm")
            norm.set_weights(member.get_layer("feature_norm").get_weights())
            norm.finalize_state()  # Keras derives the mean and variance it applies from these weights
            if arch.input_quantiles:
                quantiles = member.get_layer("gaussian_quantiles").get_weights()
                ensemble.get_layer("gaussian_quantiles").set_weights(quantiles)
    return ensemble, history
