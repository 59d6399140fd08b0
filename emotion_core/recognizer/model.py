"""Keras 3 networks built from an :class:`ArchitectureConfig`; no training code lives here.

Shapes: the ``tdnn`` network takes log-mel frames ``(batch, frames, n_mels)`` of any length; the
``functional`` network takes utterance functionals ``(batch, n_inputs)`` (see
:func:`~emotion_core.functionals.network_input_size`); the ``seed_dense`` baseline takes MFCC means
``(batch, n_mfcc)``. All end in a softmax over the labels.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops
from scipy.special import ndtri

from emotion_core.functionals import network_input_size
from emotion_core.recognizer.config import RecognizerConfig


@keras.saving.register_keras_serializable(package="moodbot")
class AttentiveStatsPooling(layers.Layer):
    """Attention-weighted mean and standard deviation over time (Okabe et al., 2018).

    Emotion shows in some syllables more than others; learned frame weights let those dominate
    the clip summary, and the statistics make the output independent of the clip's length.
    Input ``(batch, frames, channels)``, output ``(batch, 2 * channels)``.
    """

    def __init__(self, attention_units: int = 64, **kwargs) -> None:
        super().__init__(**kwargs)
        self.attention_units = attention_units
        self.hidden = layers.Dense(attention_units, activation="tanh")
        self.score = layers.Dense(1)

    def call(self, x):
        weights = ops.softmax(self.score(self.hidden(x)), axis=1)  # (batch, frames, 1)
        mean = ops.sum(weights * x, axis=1)
        var = ops.sum(weights * ops.square(x), axis=1) - ops.square(mean)
        std = ops.sqrt(ops.maximum(var, 1e-6))
        return ops.concatenate([mean, std], axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "attention_units": self.attention_units}


@keras.saving.register_keras_serializable(package="moodbot")
class BandMeanNormalization(layers.Layer):
    """Subtract each band's mean over time: ``(batch, frames, bands)`` in and out."""

    def call(self, x):
        return x - ops.mean(x, axis=1, keepdims=True)


#: The normal scores of the outermost knots: the quantiles 1e-7 and 1 - 1e-7 (about -5.2 and +5.2)
#: stand for the training minimum and maximum, as scikit-learn's ``QuantileTransformer`` does.
_TAIL = 1e-7


@keras.saving.register_keras_serializable(package="moodbot")
class GaussianQuantiles(layers.Layer):
    """Each input feature mapped through its training distribution onto a standard normal (rank-Gauss).

    ``knots`` quantiles per feature, set by :meth:`adapt` from the training inputs, join the
    feature's values to the normal scores of their probabilities by straight lines; values outside
    the training range take the outermost scores. Functionals are skewed and heavy-tailed (ratios,
    slopes, jitter) in ways that differ between microphones and languages; standardisation keeps a
    corpus's outliers far out, where the network extrapolates, while ranks keep only the order the
    training corpora put them in. ``(batch, features)`` in and out.
    """

    def __init__(self, knots: int = 100, **kwargs) -> None:
        super().__init__(**kwargs)
        self.knots = knots

    def build(self, input_shape) -> None:
        shape = (self.knots, int(input_shape[-1]))
        self.edges = self.add_weight(shape=shape, initializer="zeros", trainable=False, name="edges")
        self.scores = self.add_weight(shape=shape, initializer="zeros", trainable=False, name="scores")

    def adapt(self, x: np.ndarray) -> None:
        """Set the knots from training inputs ``(rows, features)``. A value that fills several
        quantiles (a statistic that is often exactly 0) maps half-way between the first and the last
        of their scores, as scikit-learn's ``QuantileTransformer`` maps it."""
        if not self.built:
            self.build(x.shape)
        levels = np.linspace(0.0, 1.0, self.knots)
        edges = np.quantile(np.asarray(x, np.float64), levels, axis=0)
        normal = ndtri(np.clip(levels, _TAIL, 1.0 - _TAIL))
        scores = np.empty_like(edges)
        for f in range(edges.shape[1]):
            _, first, counts = np.unique(edges[:, f], return_index=True, return_counts=True)
            scores[:, f] = np.repeat((normal[first] + normal[first + counts - 1]) / 2, counts)
        self.edges.assign(edges.astype(np.float32))
        self.scores.assign(scores.astype(np.float32))

    def call(self, x):
        """A value in segment ``i`` (the number of knots at or below it, less one) maps to
        ``score[i] + slope[i] * min(x - edge[i], width[i])``, floored at ``score[0]``: one segment per
        value, which the ONNX export computes node for node, so the two agree to the last bit."""
        start = self.edges[:-1]
        width = self.edges[1:] - start
        rise = self.scores[1:] - self.scores[:-1]
        slope = ops.where(width > 0, rise / ops.where(width > 0, width, 1.0), 0.0)
        passed = ops.sum(ops.cast(ops.expand_dims(x, 1) >= start, "int32"), axis=1)  # (batch, features)
        segment = ops.clip(passed - 1, 0, self.knots - 2)

        def pick(table):
            return ops.take_along_axis(table, segment, axis=0)

        offset = ops.maximum(x - pick(start), 0.0)
        return pick(self.scores[:-1]) + pick(slope) * ops.minimum(offset, pick(width))

    def get_config(self) -> dict:
        return {**super().get_config(), "knots": self.knots}


def _conv_block(x, channels: int, kernel: int, dilation: int, strides: int = 1):
    x = layers.Conv1D(
        channels, kernel, strides=strides, dilation_rate=dilation, padding="same", use_bias=False
    )(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_tdnn(config: RecognizerConfig) -> keras.Model:
    """The recogniser: ``(batch, frames, n_mels)`` log-mel -> ``(batch, n_labels)`` probabilities.

    The first convolution has stride 2 (20 ms frames), which halves the cost of every later layer
    with no loss in accuracy for cues that last tens of milliseconds or more.
    """
    arch = config.architecture
    inputs = keras.Input((None, config.features.n_mels), name="log_mel")
    x = inputs
    if arch.band_norm:
        x = BandMeanNormalization(name="band_norm")(x)
    x = layers.Normalization(axis=-1, name="feature_norm")(x)
    x = _conv_block(x, arch.channels, kernel=5, dilation=1, strides=2)
    for dilation in arch.dilations:
        x = layers.Add()([x, _conv_block(x, arch.channels, kernel=3, dilation=dilation)])
    x = _conv_block(x, 2 * arch.channels, kernel=1, dilation=1)
    x = AttentiveStatsPooling(name="pooling")(x)
    x = layers.Dropout(arch.dropout)(x)
    x = layers.Dense(arch.embedding, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(arch.dropout)(x)
    outputs = layers.Dense(len(config.labels), activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="moodbot_tdnn")


def build_seed_dense(config: RecognizerConfig) -> keras.Model:
    """The seed tutorial's network: MFCC means -> Dense 256 -> Dense 128 -> softmax, with dropout.

    The only addition is input standardisation (a ``Normalization`` layer fitted on the training
    set), without which the raw MFCC scale makes it train erratically; it is part of the baseline.
    """
    arch = config.architecture
    inputs = keras.Input((config.features.n_mfcc,), name="mfcc_mean")
    x = layers.Normalization(axis=-1, name="feature_norm")(inputs)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(arch.dropout)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(arch.dropout)(x)
    outputs = layers.Dense(len(config.labels), activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="seed_dense")


def build_functional(config: RecognizerConfig) -> keras.Model:
    """Utterance functionals -> standardisation -> Dense layers with batch norm and dropout -> softmax.

    Gaussian input noise (0.1 standard deviations after standardisation) keeps the network from
    leaning on any one statistic, which is what differs most between corpora. With ``members`` > 1
    it is an ensemble: that many such networks, trained apart (:func:`~emotion_core.recognizer.
    functional_train.fit_functional`), whose logits are averaged before the softmax.
    """
    arch = config.architecture
    inputs = keras.Input(
        (network_input_size(config.features, arch.band_means, arch.prosody),), name="functionals"
    )
    x = inputs
    if arch.input_quantiles:
        x = GaussianQuantiles(arch.input_quantiles, name="gaussian_quantiles")(x)
    x = layers.Normalization(axis=-1, name="feature_norm")(x)
    x = layers.GaussianNoise(0.1)(x)
    if arch.members == 1:
        for width in arch.hidden:
            x = layers.Dense(width, use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
            x = layers.Dropout(arch.dropout)(x)
        outputs = layers.Dense(len(config.labels), activation="softmax", name="emotion")(x)
        return keras.Model(inputs, outputs, name="moodbot_functional")
    logits = []
    for member in range(arch.members):
        h = x
        for depth, width in enumerate(arch.hidden):
            h = layers.Dense(width, use_bias=False, name=f"m{member}_dense{depth}")(h)
            h = layers.BatchNormalization(name=f"m{member}_norm{depth}")(h)
            h = layers.Activation("relu", name=f"m{member}_relu{depth}")(h)
            h = layers.Dropout(arch.dropout, name=f"m{member}_dropout{depth}")(h)
        logits.append(layers.Dense(len(config.labels), name=f"m{member}_logits")(h))
    outputs = layers.Activation("softmax", name="emotion")(layers.Average(name="mean_logits")(logits))
    return keras.Model(inputs, outputs, name="moodbot_functional_ensemble")


def build_model(config: RecognizerConfig) -> keras.Model:
    """The network that ``config.architecture.kind`` names."""
    builders = {"tdnn": build_tdnn, "seed_dense": build_seed_dense, "functional": build_functional}
    return builders[config.architecture.kind](config)
