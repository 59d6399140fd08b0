"""Training: the settings of a run (:class:`TrainConfig`), the losses and sampling, and the fitting of
the frame (TDNN) network and the seed tutorial's network.

Each fit picks its best epoch by validation UAR (validation loss on unseen speakers rises early, UAR
is steadier). Reading corpora, saving, evaluating and the model card are the build step's
(:mod:`emotion_core.recognizer.build`); the functional networks are fitted in
:mod:`emotion_core.recognizer.functional_train`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm import tqdm

from emotion_core.corpora import Clip
from emotion_core.features import FeatureConfig
from emotion_core.labels import corpus_emotions
from emotion_core.recognizer.augment import (
    AUGMENT_VARIANTS,
    TRAINING_VARIANTS,
    AugmentConfig,
    variant_indices,
)
from emotion_core.recognizer.config import (
    ArchitectureConfig,
    RecognizerConfig,
)
from emotion_core.recognizer.dataset import (
    FeatureTable,
    SplitConfig,
)
from emotion_core.recognizer.functional_table import FunctionalTable
from emotion_core.recognizer.metrics import score


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run besides the data; saved as ``training.json``."""

    corpora: tuple[str, ...] = ("RAVDESS", "TESS", "SAVEE", "nEMO", "EmoDB", "IndianEmoSpeech")
    seed: int = 0
    epochs: int = 60
    patience: int = 15
    batch_size: int = 64
    crop_frames: int = 250  # 2.5 s training crops; shorter clips are wrapped round
    learning_rate: float = 2e-3
    label_smoothing: float = 0.1
    corpus_weight_power: float = 0.5  # a corpus's share of batches grows as n_clips ** power
    # Corpora whose share of batches is multiplied, as (corpus, factor) pairs; the rest keep theirs.
    corpus_share: tuple[tuple[str, float], ...] = ()
    spec_augment: bool = True
    variants: tuple[str, ...] = TRAINING_VARIANTS  # the variants every network trains on
    mixup: float = 0.0  # functional network: Beta(mixup, mixup) mixing within a corpus; 0 is off
    corpus_adversary: float = 0.0  # functional network: weight of a gradient-reversed corpus classifier
    # Functional network: share of training draws moved from their speaker's mean functionals towards
    # another training speaker's (see functional_train.speaker_shifts); 0 is off.
    speaker_shift: float = 0.0
    # Functional network: average the weights of every epoch from this one on (or of the last, in a
    # shorter run; Izmailov et al. 2018); 0 keeps the epoch with the best validation UAR instead.
    average_from_epoch: int = 30
    profile_clips: int = 10  # clips in a voice profile, for a network with ``speaker_norm``
    max_clips_per_speaker: int | None = 300  # see dataset.cap_per_speaker
    baseline_epochs: int = 60
    baseline_batch_size: int = 256
    features: FeatureConfig = field(default_factory=FeatureConfig)
    # Rank-Gauss inputs since v12 (0.17.0): they gained in both protocols (README, "What was tried").
    architecture: ArchitectureConfig = field(
        default_factory=lambda: ArchitectureConfig(kind="functional", members=3, input_quantiles=100)
    )
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    split: SplitConfig = field(default_factory=SplitConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def sampling_weights(
    clips: list[Clip], power: float, share: tuple[tuple[str, float], ...] = ()
) -> np.ndarray:
    """Per-clip probabilities so that no corpus, speaker or class dominates by clip count.

    A corpus's share of draws grows as ``n_clips ** power`` (0.5 damps big corpora), times its factor
    in ``share`` where it has one; within a corpus every speaker gets the same share, and within a
    speaker every class the same share. Without this a model learns TESS (two speakers, nearly
    separable, a third of the clips) and, within a corpus, the speakers who recorded most.
    """
    corpora = sorted({clip.corpus for clip in clips})
    sizes = {c: sum(clip.corpus == c for clip in clips) for c in corpora}
    factors = dict(share)
    shares = {c: sizes[c] ** power * factors.get(c, 1.0) for c in corpora}
    speakers: dict[str, set[str]] = {c: set() for c in corpora}
    labels: dict[str, set] = {}
    counts: dict[tuple[str, object], int] = {}
    for clip in clips:
        speakers[clip.corpus].add(clip.speaker)
        labels.setdefault(clip.speaker, set()).add(clip.label)
        counts[clip.speaker, clip.label] = counts.get((clip.speaker, clip.label), 0) + 1
    weights = np.array(
        [
            shares[c.corpus] / len(speakers[c.corpus]) / len(labels[c.speaker]) / counts[c.speaker, c.label]
            for c in clips
        ]
    )
    return weights / weights.sum()


def label_masks(clips: list[Clip], config: RecognizerConfig) -> np.ndarray:
    """``(clips, n_labels)`` 0/1: the classes each clip's corpus has, for the masked loss.

    A corpus teaches only the classes it has: IndianEmoSpeech's angry clip says nothing about
    whether it is sad, because that corpus has no sad clips, so sad is left out of its softmax.
    """
    rows = {
        corpus: [label in corpus_emotions(corpus) for label in config.labels]
        for corpus in {clip.corpus for clip in clips}
    }
    return np.array([rows[clip.corpus] for clip in clips], dtype=np.float32)


def masked_cross_entropy(probs, labels, masks, label_smoothing: float):
    """Cross-entropy over each example's own classes: probabilities renormalised over ``masks``,
    label smoothing spread over those classes only. Shapes ``(batch, n)``, ``(batch,)``, ``(batch, n)``."""
    import tensorflow as tf

    one_hot = tf.one_hot(labels, tf.shape(probs)[1])
    n_own = tf.reduce_sum(masks, axis=1, keepdims=True)
    target = one_hot * (1.0 - label_smoothing) + label_smoothing * masks / n_own
    return soft_masked_cross_entropy(probs, target, masks)


def soft_masked_cross_entropy(probs, target, masks):
    """Cross-entropy against soft ``target`` distributions, probabilities renormalised over ``masks``."""
    import tensorflow as tf

    masked = probs * masks
    masked = masked / tf.maximum(tf.reduce_sum(masked, axis=1, keepdims=True), 1e-12)
    return -tf.reduce_mean(tf.reduce_sum(target * tf.math.log(tf.maximum(masked, 1e-7)), axis=1))


def _crop(mel: np.ndarray, frames: int, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """``frames`` frames of ``mel``: a random stretch with ``rng``, else the centre.

    A clip shorter than ``frames`` is wrapped round first, so every crop is full length.
    """
    if mel.shape[0] < frames:
        mel = np.tile(mel, (int(np.ceil(frames / max(mel.shape[0], 1))), 1))
    spare = mel.shape[0] - frames
    start = rng.integers(0, spare + 1) if rng is not None else spare // 2
    return mel[start : start + frames]


def _spec_augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two frequency masks (<= 8 bands) and two time masks (<= 20 frames) per example."""
    n, frames, bands = batch.shape
    for i in range(n):
        for _ in range(2):
            width = rng.integers(0, 9)
            start = rng.integers(0, bands - width + 1)
            batch[i, :, start : start + width] = 0.0
            width = rng.integers(0, 21)
            start = rng.integers(0, frames - width + 1)
            batch[i, start : start + width, :] = 0.0
    return batch


class _Batches:
    """Random weighted batches of crops from every variant of the training clips."""

    def __init__(
        self, table: FeatureTable, labels: np.ndarray, masks: np.ndarray, config: TrainConfig
    ) -> None:
        self.table, self.labels, self.masks, self.config = table, labels, masks, config
        self.weights = sampling_weights(table.clips, config.corpus_weight_power, config.corpus_share)

    def epoch(self, rng: np.random.Generator):
        n = len(self.table.clips)
        rows = rng.choice(n, size=n, p=self.weights)
        variants = rng.choice(variant_indices(self.config.variants), size=n)
        for start in range(0, n - self.config.batch_size + 1, self.config.batch_size):
            idx = slice(start, start + self.config.batch_size)
            batch = np.stack(
                [
                    _crop(self.table.log_mel[v][r], self.config.crop_frames, rng=rng)
                    for r, v in zip(rows[idx], variants[idx], strict=True)
                ]
            ).astype(np.float32)
            if self.config.spec_augment:
                batch = _spec_augment(batch, rng)
            yield batch, self.labels[rows[idx]], self.masks[rows[idx]]


def label_indices(clips: list[Clip], config: RecognizerConfig) -> np.ndarray:
    order = {label: i for i, label in enumerate(config.labels)}
    return np.array([order[clip.label] for clip in clips])


def _predict_mels(forward, mels: list[np.ndarray], frames: int) -> np.ndarray:
    """Batched predictions on each clip's centre ``frames`` (wrapped round if shorter).

    Validation runs every epoch, so it batches fixed-length views instead of whole clips; the
    final evaluation scores whole clips.
    """
    batch = np.stack([_crop(mel, frames) for mel in mels]).astype(np.float32)
    return np.concatenate([forward(batch[i : i + 256]).numpy() for i in range(0, len(batch), 256)])


#: Rows per call of :func:`in_slices`.
SLICE_ROWS = 1024


def in_slices(forward, x: np.ndarray) -> np.ndarray:
    """``forward`` (a network or a layer, at inference) over ``x`` :data:`SLICE_ROWS` rows at a time:
    a rank-Gauss input layer holds a (rows, knots, inputs) comparison while it runs. An empty ``x``
    still answers with its shape."""
    x = np.asarray(x, dtype=np.float32)
    starts = range(0, max(len(x), 1), SLICE_ROWS)
    return np.concatenate([np.asarray(forward(x[i : i + SLICE_ROWS], training=False)) for i in starts])


def fit_norm(model, frames: np.ndarray) -> None:
    """Set the model's input Normalization layer to the training features' mean and variance.

    ``frames`` are the network's input as it reaches that layer (band-normalised where it is). A
    :class:`~emotion_core.recognizer.model.GaussianQuantiles` layer before it is set from them first,
    and the standardisation from what it makes of them.
    """
    if any(layer.name == "gaussian_quantiles" for layer in model.layers):
        quantiles = model.get_layer("gaussian_quantiles")
        quantiles.adapt(frames)
        frames = in_slices(quantiles, frames)
    norm = model.get_layer("feature_norm")
    norm.adapt(frames.reshape((1,) * (len(norm.input.shape) - frames.ndim) + frames.shape))


def seed_everything(seed: int) -> None:
    """Same seed, same model: seed Python, numpy and TensorFlow, and make TensorFlow's kernels
    deterministic (its CPU reductions otherwise sum in a varying order, and runs drift apart)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def train_tdnn(config: RecognizerConfig, train: FeatureTable, val: FeatureTable, train_cfg: TrainConfig):
    """Train the recogniser; return the model at its best validation UAR and the history."""
    import keras
    import tensorflow as tf

    from emotion_core.recognizer.model import build_model

    rng = np.random.default_rng(train_cfg.seed)
    seed_everything(train_cfg.seed)
    model = build_model(config)
    clips = train.log_mel[0][::4]
    if config.architecture.band_norm:
        clips = [m - m.mean(axis=0, keepdims=True) for m in clips]
    sample = np.concatenate(clips).astype(np.float32)
    fit_norm(model, sample)
    labels = label_indices(train.clips, config)
    batches = _Batches(train, labels, label_masks(train.clips, config), train_cfg)
    steps = train_cfg.epochs * (len(train.clips) // train_cfg.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        train_cfg.learning_rate, decay_steps=steps, warmup_target=None
    )
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=1e-4)

    @tf.function(reduce_retracing=True)
    def step(x, y, m):
        with tf.GradientTape() as tape:
            probs = model(x, training=True)
            loss = masked_cross_entropy(probs, y, m, train_cfg.label_smoothing)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    forward = tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec([None, None, config.features.n_mels], tf.float32)],
    )
    val_labels = label_indices(val.clips, config)
    val_sets = [val.log_mel[AUGMENT_VARIANTS.index(v)] for v in ("clean", "discord")]
    label_names = tuple(label.value for label in config.labels)
    best_uar, best_weights, history, waited = -1.0, None, [], 0
    for epoch in range(1, train_cfg.epochs + 1):
        started = time.perf_counter()
        losses = []
        total = len(train.clips) // train_cfg.batch_size
        for x, y, m in tqdm(batches.epoch(rng), total=total, desc=f"epoch {epoch}", leave=False):
            losses.append(float(step(tf.constant(x), tf.constant(y), tf.constant(m))))
        uars = [
            score(
                val_labels,
                _predict_mels(forward, mels, 2 * train_cfg.crop_frames).argmax(axis=1),
                label_names,
            ).uar
            for mels in val_sets
        ]
        uar = float(np.mean(uars))
        history.append(
            {
                "epoch": epoch,
                "loss": float(np.mean(losses)),
                "val_uar": uar,
                "seconds": time.perf_counter() - started,
            }
        )
        tqdm.write(
            f"epoch {epoch:3d}  loss {np.mean(losses):.3f}  val UAR clean {uars[0]:.3f} "
            f"discord {uars[1]:.3f}  ({history[-1]['seconds']:.0f} s)"
        )
        if uar > best_uar:
            best_uar, best_weights, waited = uar, model.get_weights(), 0
        else:
            waited += 1
            if waited >= train_cfg.patience:
                tqdm.write(f"early stop: no better validation UAR for {waited} epochs")
                break
    model.set_weights(best_weights)
    return model, history


def train_seed_baseline(
    config: RecognizerConfig,
    train: FeatureTable | FunctionalTable,
    val: FeatureTable | FunctionalTable,
    train_cfg: TrainConfig,
):
    """Train the seed tutorial's Dense net on MFCC means of the same clips and variants
    (``train_cfg.variants``)."""
    import keras

    from emotion_core.recognizer.model import build_model

    seed_everything(train_cfg.seed)
    model = build_model(config)
    mfcc = train.mfcc[variant_indices(train_cfg.variants)]
    n_variants = mfcc.shape[0]
    x = mfcc.reshape(-1, mfcc.shape[-1])
    y = np.tile(label_indices(train.clips, config), n_variants)
    weights = np.tile(
        sampling_weights(train.clips, train_cfg.corpus_weight_power, train_cfg.corpus_share), n_variants
    )
    fit_norm(model, x)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    val_x, val_y = val.mfcc[0], label_indices(val.clips, config)
    label_names = tuple(label.value for label in config.labels)
    best_uar, best_weights, history, waited = -1.0, None, [], 0
    for epoch in tqdm(range(1, train_cfg.baseline_epochs + 1), desc="seed baseline", disable=None):
        fit = model.fit(
            x,
            y,
            sample_weight=weights * len(weights),
            batch_size=train_cfg.baseline_batch_size,
            epochs=1,
            verbose=0,
            shuffle=True,
        )
        uar = score(val_y, model.predict(val_x, verbose=0).argmax(axis=1), label_names).uar
        history.append({"epoch": epoch, "loss": fit.history["loss"][0], "val_uar": uar})
        if uar > best_uar:
            best_uar, best_weights, waited = uar, model.get_weights(), 0
        else:
            waited += 1
            if waited >= train_cfg.patience * 2:
                break
    model.set_weights(best_weights)
    return model, history
