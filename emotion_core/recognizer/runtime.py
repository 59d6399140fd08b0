"""Running a recogniser's network: ONNX Runtime where the model folder has ``model.onnx``, else Keras.

The shipped recogniser is served by ONNX Runtime (no TensorFlow in the process: see the README for the
measurements that chose it); a model folder without an ONNX graph (a ``tdnn`` network, or one trained
before the export existed) runs on Keras, which needs the ``train`` extra. Both are a callable from a
float32 batch ``(n, inputs...)`` to probabilities ``(n, labels)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from emotion_core.errors import ModelError

#: Threads ONNX Runtime may use for one call; the network is three small matrix products, and the bot
#: runs several calls at once on its worker threads.
INTRA_OP_THREADS = 1

Network = Callable[[np.ndarray], np.ndarray]


class OnnxNetwork:
    """An exported recogniser network in an ONNX Runtime session (CPU)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = INTRA_OP_THREADS
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings are not the user's business
        options.enable_cpu_mem_arena = False  # the network is tiny: an arena would only hold memory
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types for a bad file
            raise ModelError(f"could not load {path}: {error}") from error
        self._input = self._session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        (probabilities,) = self._session.run(None, {self._input: np.asarray(batch, dtype=np.float32)})
        return probabilities


def keras_network(model, shape: list[int | None]) -> Network:
    """A Keras model as a compiled function (the fast way to call it; ``model.predict`` is 10x slower)."""
    import tensorflow as tf

    forward = tf.function(
        lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, *shape], tf.float32)]
    )
    return lambda batch: forward(np.asarray(batch, dtype=np.float32)).numpy()
