"""The rank-Gauss input layer (``ArchitectureConfig.input_quantiles``): each functional's training
distribution mapped onto a standard normal, in order, bounded, and the same in the ONNX graph that
serving runs as in Keras."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from emotion_core.paths import SHIPPED_RECOGNIZER_DIR
from emotion_core.recognizer.augment import variant_indices
from emotion_core.recognizer.config import ArchitectureConfig, RecognizerConfig
from emotion_core.recognizer.functional_train import fit_functional, table_inputs
from emotion_core.recognizer.model import GaussianQuantiles, build_model
from emotion_core.recognizer.onnx_export import ONNX_FILE, TOLERANCE, check_against_keras, export_onnx
from emotion_core.recognizer.runtime import OnnxNetwork
from tests.helpers.tiny_training import TINY_FUNCTIONAL

#: ``(rows, 4)``: skewed, heavy-tailed, often exactly zero (as a voicing statistic of unvoiced clips
#: is), and constant.
_RNG = np.random.default_rng(7)
TRAINING = np.stack(
    [
        _RNG.lognormal(0.0, 1.0, 4000),
        _RNG.standard_t(2, 4000) * 30 + 200,
        np.where(_RNG.random(4000) < 0.3, 0.0, _RNG.exponential(2.0, 4000)),
        np.full(4000, 3.5),
    ],
    axis=1,
).astype(np.float32)


def _fitted(knots: int = 100) -> GaussianQuantiles:
    layer = GaussianQuantiles(knots)
    layer.adapt(TRAINING)
    return layer


def test_the_training_inputs_come_out_standard_normal_in_the_same_order():
    out = np.asarray(_fitted()(TRAINING))
    for f in range(3):  # the constant feature has no order to keep
        order = np.argsort(TRAINING[:, f], kind="stable")
        assert np.all(np.diff(out[order, f]) >= 0), f"feature {f} lost its order"
    assert abs(out[:, 0].mean()) < 0.05 and abs(out[:, 0].std() - 1.0) < 0.1
    assert abs(out[:, 1].std() - 1.0) < 0.1  # a heavy tail (t with 2 degrees of freedom) tamed


def test_a_value_many_clips_share_maps_to_one_score_between_its_neighbors():
    out = np.asarray(_fitted()(TRAINING))
    zeros = out[TRAINING[:, 2] == 0.0, 2]
    assert np.ptp(zeros) == 0.0
    positive = out[TRAINING[:, 2] > 0.0, 2]
    assert zeros[0] < positive.min()  # 30 % of the clips: below every larger value, not at the floor
    assert zeros[0] > -5.0


def test_values_past_the_training_range_are_bounded_and_a_constant_feature_is_zero():
    layer = _fitted()
    far = np.array([[-1e6, -1e6, -1e6, -1e6], [1e6, 1e6, 1e6, 1e6], [np.float32(3.5)] * 4], np.float32)
    out = np.asarray(layer(far))
    assert np.isfinite(out).all()
    assert out[0, 0] == out[0, 1] == pytest.approx(-5.199, abs=1e-3)  # the training minimum's score
    np.testing.assert_allclose(out[1, :3], 5.199, atol=1e-3)
    zero = np.asarray(layer(np.zeros((1, 4), np.float32)))[0, 2]
    assert out[0, 2] == zero  # below a floor 30 % of the clips share: that floor's score
    np.testing.assert_allclose(out[:, 3], 0.0, atol=1e-6)


def test_the_onnx_graph_maps_exactly_as_keras(tmp_path):
    import keras

    inputs = keras.Input((TRAINING.shape[1],))
    layer = GaussianQuantiles(50)
    model = keras.Model(inputs, layer(inputs))
    layer.adapt(TRAINING)
    network = OnnxNetwork(export_onnx(model, tmp_path / ONNX_FILE))
    probe = np.concatenate([TRAINING[:200], TRAINING[:50] * 100 - 50, np.zeros((3, 4), np.float32)])
    np.testing.assert_array_equal(network(probe), np.asarray(model(probe)))


@pytest.mark.parametrize("members", [1, 3])
def test_a_network_with_the_layer_exports_to_onnx(members, tmp_path):
    config = RecognizerConfig.load(SHIPPED_RECOGNIZER_DIR)
    arch = replace(config.architecture, members=members, input_quantiles=50)
    model = build_model(replace(config, architecture=arch))
    rng = np.random.default_rng(3)
    width = int(model.inputs[0].shape[-1])
    weights = [rng.standard_normal(v.shape).astype(np.float32) * 0.3 for v in model.weights]
    model.set_weights(
        [np.abs(w) + 0.1 if "variance" in v.name else w for v, w in zip(model.weights, weights, strict=True)]
    )
    norm = model.get_layer("feature_norm")  # what it holds after the layer: scores about N(0, 1)
    norm.set_weights([np.zeros(width, np.float32), np.ones(width, np.float32), np.array(1, "int64")])
    norm.finalize_state()
    model.get_layer("gaussian_quantiles").adapt(
        rng.lognormal(0.0, 1.0, (3000, width)).astype(np.float32) * rng.uniform(0.1, 50.0, width)
    )
    assert check_against_keras(model, export_onnx(model, tmp_path / ONNX_FILE)) <= TOLERANCE


def test_training_fits_the_layer_on_the_training_inputs_and_every_member_shares_it(tiny_corpora, tmp_path):
    from emotion_core.corpora import load_corpora
    from emotion_core.recognizer.functional_table import build_functionals

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOODBOT_CACHE_DIR", str(tmp_path))
        clips = load_corpora(("SAVEE",), tiny_corpora)
        table = build_functionals(clips, TINY_FUNCTIONAL.features, augment=TINY_FUNCTIONAL.augment, workers=1)
    train = table.subset([c for c in clips if not c.speaker.endswith("KL")])
    val = table.subset([c for c in clips if c.speaker.endswith("KL")])
    config = RecognizerConfig(
        features=TINY_FUNCTIONAL.features,
        architecture=ArchitectureConfig(kind="functional", hidden=(16,), members=2, input_quantiles=20),
    )
    cfg = replace(TINY_FUNCTIONAL, average_from_epoch=2)
    model, _ = fit_functional(config, train, val, cfg)
    drawn = np.concatenate([table_inputs(train, config, int(v)) for v in variant_indices(cfg.variants)])
    expected = np.quantile(drawn.astype(np.float64), np.linspace(0, 1, 20), axis=0)
    quantiles = model.get_layer("gaussian_quantiles")
    np.testing.assert_allclose(np.asarray(quantiles.edges), expected, rtol=1e-5, atol=1e-5)
    scored = np.asarray(quantiles(drawn))  # and the standardisation is fitted on what it makes of them
    standardized = np.asarray(model.get_layer("feature_norm").mean).ravel()
    np.testing.assert_allclose(standardized, scored.mean(0), atol=1e-3)
