"""Serving without TensorFlow: the ONNX graph of a trained recogniser answers as its Keras network does,
and the serving path (load, analyse) never imports TensorFlow, Keras or PyTorch."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import numpy as np
import pytest

from emotion_core.errors import ModelError
from emotion_core.features import trim_silence
from emotion_core.functionals import utterance_functionals
from emotion_core.paths import SHIPPED_RECOGNIZER_DIR
from emotion_core.recognizer.config import RecognizerConfig
from emotion_core.recognizer.infer import EmotionRecognizer
from emotion_core.recognizer.onnx_export import ONNX_FILE, TOLERANCE, check_against_keras, export_onnx
from tests.helpers.audio import speechlike


def _same_answers(folder) -> None:
    served = EmotionRecognizer.from_pretrained(folder)
    keras = EmotionRecognizer.from_pretrained(folder, runtime="keras")
    assert (served.runtime, keras.runtime) == ("onnx", "keras")
    for seconds, f0 in ((2.0, 120.0), (3.3, 220.0), (9.0, 180.0)):  # whole clips and timelines
        clip = speechlike(seconds, 16000, seed=int(seconds * 10), f0_hz=f0)
        a, b = served.predict(clip, 16000), keras.predict(clip, 16000)
        assert a.label == b.label and a.verdict == b.verdict and len(a.timeline) == len(b.timeline)
        for emotion, p in a.probabilities.items():
            assert p == pytest.approx(b.probabilities[emotion], abs=1e-4)


def test_the_shipped_model_answers_the_same_on_onnx_runtime_and_keras():
    _same_answers(SHIPPED_RECOGNIZER_DIR)
    shipped = EmotionRecognizer.from_pretrained()
    for companion in (shipped.profiled, shipped.community_net, shipped.prosody_net):
        assert companion is not None and companion.runtime == "onnx"


def test_training_writes_an_onnx_graph_that_matches_keras(trained_functional):
    for sub in ("", "profile", "community", "prosody", "baseline"):
        folder = trained_functional / sub
        assert (folder / ONNX_FILE).is_file(), folder
    _same_answers(trained_functional)


@pytest.mark.parametrize("kind", ["functional", "ensemble", "seed_dense"])
def test_export_of_random_weights_matches_keras_at_every_batch_size(kind, tmp_path):
    from dataclasses import replace

    from emotion_core.recognizer.model import build_model

    config = RecognizerConfig.load(SHIPPED_RECOGNIZER_DIR / ("baseline" if kind == "seed_dense" else ""))
    if kind == "ensemble":
        config = replace(config, architecture=replace(config.architecture, members=3))
    model = build_model(config)
    rng = np.random.default_rng(3)
    weights = []
    for variable in model.weights:
        value = rng.standard_normal(variable.shape).astype(np.float32) * 0.3
        weights.append(np.abs(value) + 0.1 if "variance" in variable.name else value)  # must stay positive
    model.set_weights(weights)
    worst = check_against_keras(model, export_onnx(model, tmp_path / ONNX_FILE))
    assert worst <= TOLERANCE


def test_a_network_onnx_cannot_express_is_refused(tmp_path):
    import keras

    inputs = keras.Input((8, 4))
    model = keras.Model(inputs, keras.layers.Conv1D(3, 3)(inputs))
    with pytest.raises(ModelError, match="serve this model with Keras"):
        export_onnx(model, tmp_path / ONNX_FILE)


def test_a_damaged_onnx_file_is_a_model_error(tmp_path):
    import shutil

    folder = tmp_path / "ser"
    shutil.copytree(SHIPPED_RECOGNIZER_DIR, folder)
    (folder / ONNX_FILE).write_bytes(b"not a graph")
    with pytest.raises(ModelError, match="could not load"):
        EmotionRecognizer.from_pretrained(folder)


def test_serving_imports_no_tensorflow_keras_or_torch():
    code = (
        "import sys, numpy as np;"
        "from emotion_core import EmotionRecognizer;"
        "from emotion_core.audio import encode;"
        "r = EmotionRecognizer.from_pretrained();"
        "x = (np.sin(np.arange(48000 * 3) * 0.05) * 0.3).astype('float32');"
        "r.analyze(encode(x, 48000));"
        "print(sorted(m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_analyze_reuses_the_voice_vector_and_answers_as_predict(tmp_path):
    """``analyze`` computes a clip's functionals once (for the answer and the voice vector) and gives
    exactly what ``predict`` gives for the same samples."""
    import soundfile as sf

    recognizer = EmotionRecognizer.from_pretrained()
    clip = speechlike(3.2, 16000, seed=11, f0_hz=200.0)
    path = tmp_path / "clip.wav"
    sf.write(path, clip, 16000, subtype="FLOAT")
    analyzed, predicted = recognizer.analyze(path), recognizer.predict(clip, 16000)
    assert analyzed.voice is not None and analyzed.label == predicted.label
    for emotion, p in analyzed.probabilities.items():
        assert p == pytest.approx(predicted.probabilities[emotion], abs=1e-6)


def test_a_long_clip_gets_the_same_answer_and_the_voice_vector_training_computes():
    """Serving takes a long clip's window statistics while the pitch tracker runs on another thread,
    and the whole clip's only where the voice vector is kept: the answer is the same either way,
    and the voice vector (what a profile averages) is the clip's functionals exactly as training
    computes them."""
    recognizer = EmotionRecognizer.from_pretrained()
    clip = speechlike(9.0, 16000, seed=3, f0_hz=180.0)
    kept = recognizer._predict(clip, 9.0, 9.0, truncated=False, with_voice=recognizer.keeps_voice)
    plain = recognizer.predict(clip, 16000)
    assert recognizer.keeps_voice and len(kept.timeline) >= 3 and plain.voice is None
    assert kept.probabilities == plain.probabilities and kept.timeline == plain.timeline
    features = recognizer.config.features
    np.testing.assert_array_equal(kept.voice, utterance_functionals(trim_silence(clip, features), features))


def test_a_process_forked_after_recognizing_starts_its_own_pitch_threads():
    """A child forked after the parent recognised (a worker pool, a pre-forking server) inherits the
    pitch tracker's pool without its threads; it must answer, not wait for them forever."""
    recognizer = EmotionRecognizer.from_pretrained()
    clip = speechlike(7.0, 16000, seed=5, f0_hz=150.0)
    expected = recognizer.predict(clip, 16000).label
    context = multiprocessing.get_context("fork")
    answers = context.SimpleQueue()
    child = context.Process(target=lambda: answers.put(recognizer.predict(clip, 16000).label))
    child.start()
    child.join(timeout=60)
    stuck = child.is_alive()
    if stuck:
        child.kill()
    assert not stuck and child.exitcode == 0 and answers.get() == expected
