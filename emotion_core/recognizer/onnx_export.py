"""The serving graph: a trained Dense recogniser (``functional`` or ``seed_dense``) as an ONNX model.

Serving should not need TensorFlow: it costs about 600 MB of memory and seconds of import for a network
of three matrix products. Training stays on Keras; after it, this module writes the same network as ONNX
(built with the ``onnx`` package's helpers, from the Keras layers' own weights) and
:mod:`emotion_core.recognizer.runtime` runs it with ONNX Runtime. Layers map one to one: ``Normalization``
becomes a subtraction and a multiplication, ``Dense`` a ``MatMul`` (plus ``Add`` for a bias),
``BatchNormalization`` its inference form (a multiplication and an addition, from the moving statistics),
``relu`` and ``softmax`` themselves, ``GaussianQuantiles`` a lookup of each value's segment and a
line through it; ``GaussianNoise`` and ``Dropout`` are the identity at inference and
are left out. The export is checked against Keras on every model folder it writes (see
:func:`check_against_keras`), so a layer that maps wrongly cannot ship.

Needs the ``train`` extra (TensorFlow/Keras and ``onnx``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.errors import ModelError

ONNX_FILE = "model.onnx"
OPSET = 17
IR_VERSION = 8  # the ONNX file format opset 17 needs; newer onnx packages write newer ones that older
#                 ONNX Runtime releases refuse, so it is pinned
#: Largest difference from Keras allowed in any probability (float32 arithmetic in another order).
TOLERANCE = 1e-5
CHECK_BATCHES = (1, 2, 7, 64)  # odd and even sizes: an export that goes wrong on either is caught
KERAS_EPSILON = 1e-7  # keras.config.epsilon(): the floor of Normalization's standard deviation
#: Layers of one ensemble member are named ``m<k>_...`` (see ``model.build_functional``).
_MEMBER = re.compile(r"m\d+_")


def export_onnx(model, path: Path) -> Path:
    """Write ``model`` (a Keras Dense recogniser) to ``path`` as ONNX; returns ``path``.

    Raises
    ------
    ModelError
        The model has a layer with no mapping here (a ``tdnn`` network, say).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[onnx.NodeProto] = []
    weights: list[onnx.TensorProto] = []
    current = "input"

    def add(op: str, *inputs: np.ndarray | str, **attributes: Any) -> None:
        nonlocal current
        names = [current]
        for value in inputs:
            if isinstance(value, str):
                names.append(value)
                continue
            name = f"w{len(weights)}"
            weights.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
            names.append(name)
        output = f"t{len(nodes)}"
        nodes.append(helper.make_node(op, names, [output], **attributes))
        current = output

    def constant(value: np.ndarray) -> str:
        name = f"w{len(weights)}"
        weights.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, *inputs: str, **attributes: Any) -> str:
        output = f"t{len(nodes)}"
        nodes.append(helper.make_node(op, list(inputs), [output], **attributes))
        return output

    def quantile_nodes(layer) -> None:
        """:meth:`GaussianQuantiles.call` node for node: only the layer's two weights are stored, and
        the segments' starts, widths and slopes are derived from them in the graph (ONNX Runtime folds
        them once, when the session opens), so the file carries two tables per network, not four."""
        nonlocal current
        edges, scores = (np.asarray(weight, np.float32) for weight in (layer.edges, layer.scores))
        x, knots = current, len(edges)
        axis = constant(np.array([1], np.int64))
        zero_axis = constant(np.array([0], np.int64))

        def rows(table: str, begin: int, end: int) -> str:
            bounds = (constant(np.array([i], np.int64)) for i in (begin, end))
            return node("Slice", table, *bounds, zero_axis)

        edge_table, score_table = constant(edges), constant(scores)
        start = rows(edge_table, 0, knots - 1)
        width = node("Sub", rows(edge_table, 1, knots), start)
        score = rows(score_table, 0, knots - 1)
        rise = node("Sub", rows(score_table, 1, knots), score)
        zero, one = (constant(np.array(v, np.float32)) for v in (0.0, 1.0))
        spread = node("Greater", width, zero)
        slope = node("Where", spread, node("Div", rise, node("Where", spread, width, one)), zero)
        below = node("GreaterOrEqual", node("Unsqueeze", x, axis), start)  # (batch, segments, n)
        passed = node("ReduceSum", node("Cast", below, to=TensorProto.INT64), axis, keepdims=0)
        first, last = (constant(np.array(i, np.int64)) for i in (0, knots - 2))
        segment = node("Clip", node("Sub", passed, constant(np.array(1, np.int64))), first, last)

        def pick(table: str) -> str:
            return node("GatherElements", table, segment, axis=0)

        offset = node("Max", node("Sub", x, pick(start)), zero)
        lift = node("Mul", node("Min", offset, pick(width)), pick(slope))
        current = node("Add", pick(score), lift)

    def layer_nodes(layer) -> None:
        kind = type(layer).__name__
        if kind in ("InputLayer", "GaussianNoise", "Dropout"):
            return
        if kind == "GaussianQuantiles":
            quantile_nodes(layer)
            return
        if kind == "Normalization":
            mean = np.asarray(layer.mean, np.float64).reshape(-1)
            std = np.maximum(np.sqrt(np.asarray(layer.variance, np.float64).reshape(-1)), KERAS_EPSILON)
            add("Sub", mean)
            add("Mul", 1.0 / std)
        elif kind == "Dense":
            add("MatMul", layer.kernel.numpy())
            if layer.use_bias:
                add("Add", layer.bias.numpy())
            _activation(add, layer.activation.__name__, layer.name)
        elif kind == "BatchNormalization":
            gamma = layer.gamma.numpy() if layer.scale else 1.0
            beta = layer.beta.numpy() if layer.center else 0.0
            scale = gamma / np.sqrt(layer.moving_variance.numpy() + layer.epsilon)
            add("Mul", scale)
            add("Add", beta - layer.moving_mean.numpy() * scale)
        elif kind == "Activation":
            _activation(add, layer.activation.__name__, layer.name)
        else:
            raise ModelError(
                f"cannot export layer {layer.name!r} ({kind}) to ONNX; serve this model with Keras"
            )

    members = sorted({layer.name.split("_")[0] for layer in model.layers if _MEMBER.match(layer.name)})
    if not members:
        for layer in model.layers:
            layer_nodes(layer)
    else:  # an ensemble: a shared front, one chain per member, their logits averaged, then softmax
        for layer in model.layers:
            if not _MEMBER.match(layer.name) and type(layer).__name__ not in ("Average", "Activation"):
                layer_nodes(layer)
        front, logits = current, []
        for member in members:
            current = front
            for layer in model.layers:
                if layer.name.startswith(f"{member}_"):
                    layer_nodes(layer)
            logits.append(current)
        output = f"t{len(nodes)}"
        nodes.append(helper.make_node("Sum", logits, [output]))
        current = output
        add("Mul", np.array(1.0 / len(members), np.float32))
        add("Softmax", axis=-1)
    width = int(model.inputs[0].shape[-1])
    outputs = int(model.outputs[0].shape[-1])
    graph = helper.make_graph(
        nodes,
        "moodbot_recognizer",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", width])],
        [helper.make_tensor_value_info(current, TensorProto.FLOAT, ["batch", outputs])],
        initializer=weights,
    )
    exported = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="moodbot", ir_version=IR_VERSION
    )
    onnx.checker.check_model(exported)
    onnx.save(exported, path)
    return path


def _activation(add, name: str, layer: str) -> None:
    """The ONNX node for a Keras activation by name."""
    if name == "relu":
        add("Relu")
    elif name == "softmax":
        add("Softmax", axis=-1)
    elif name != "linear":
        raise ModelError(f"cannot export activation {name!r} of layer {layer!r} to ONNX")


def check_against_keras(model, path: Path, *, seed: int = 0) -> float:
    """Largest difference between Keras and the exported graph over batches of :data:`CHECK_BATCHES`.

    Inputs are drawn around the model's own normalisation statistics, so every unit is exercised.

    Raises
    ------
    ModelError
        The difference is over :data:`TOLERANCE`.
    """
    from emotion_core.recognizer.runtime import OnnxNetwork

    network = OnnxNetwork(path)
    width = int(model.inputs[0].shape[-1])
    norm = next((layer for layer in model.layers if type(layer).__name__ == "Normalization"), None)
    center, spread = np.zeros(width), np.ones(width)
    quantiles = next((layer for layer in model.layers if type(layer).__name__ == "GaussianQuantiles"), None)
    if quantiles is not None:  # the raw inputs it maps: their training range, and past both ends
        edges = np.asarray(quantiles.edges)
        center, spread = edges[len(edges) // 2], np.maximum(edges[-1] - edges[0], 1e-3) / 2
    elif norm is not None:
        center = np.asarray(norm.mean).reshape(-1)
        spread = np.sqrt(np.asarray(norm.variance).reshape(-1))
    rng = np.random.default_rng(seed)
    worst = 0.0
    for batch in CHECK_BATCHES:
        x = (rng.standard_normal((batch, width)) * 3 * spread + center).astype(np.float32)
        expected = model(x, training=False).numpy()
        worst = max(worst, float(np.abs(network(x) - expected).max()))
    if worst > TOLERANCE:
        raise ModelError(f"the ONNX export of {path.parent} differs from Keras by {worst:.2g}")
    return worst
