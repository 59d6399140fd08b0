"""Loading Tacotron 2 and WaveGlow checkpoints in NVIDIA's published formats, without running their
code.

Formats understood:

* NVIDIA/tacotron2 ``tacotron2_statedict.pt``: ``{'state_dict': ..., 'optimizer': ..., ...}``;
* NVIDIA/waveglow ``waveglow_256channels_universal_v5.pt``: ``{'model': <pickled glow.WaveGlow>}``,
  with the fused ``cond_layer`` or the older per-layer ``cond_layers``, weight-normalised or not;
* DeepLearningExamples (torch hub): ``{'state_dict': {'module.<name>': ...}, 'config': {...}}``;
* this project's own files (:func:`save_checkpoint`): ``{'state_dict': ..., 'config': {...}}``.

Plain state dicts are read with ``torch.load(weights_only=True)``. A pickled WaveGlow module would
normally need NVIDIA's ``glow`` module importable and would run whatever the pickle names; instead
:func:`read_pickled_module` unpickles it with an allow-list: tensors, ordered dicts and inert
stand-ins for the ``glow.*`` and ``torch.nn.*`` classes, which only record their ``__dict__``. Any
other global (``os.system``, ``builtins.eval``, ...) is refused with
:class:`~emotion_core.errors.CheckpointError`. The state dict is then rebuilt from the modules'
``_parameters``, ``_buffers`` and ``_modules``.

All floating tensors are cast to float32 (fp16 checkpoints are common; CPU inference wants fp32),
and every load is strict: a missing or unexpected key is an error, never silently ignored.

A checkpoint is untrusted input, so nothing is built from it unchecked: the file's size is capped
before it is read, its values are counted (a tensor's strides can repeat one stored value into any
shape) before any is cast, and the sizes read from its shapes or config must pass the ranges and
limits of the model's config (:data:`~emotion_core.synth.tacotron2.TACOTRON2_SIZES`,
:data:`~emotion_core.synth.waveglow.WAVEGLOW_SIZES`) before a module is allocated. Whatever goes
wrong while reading or building becomes a :class:`~emotion_core.errors.CheckpointError` with a short
reason; torch's advice on loading a refused file anyway is never passed on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import pickle
import re
import reprlib
import textwrap
import types
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from emotion_core.errors import CheckpointError
from emotion_core.synth.sizes import as_size
from emotion_core.synth.tacotron2 import TACOTRON2_MAX_PARAMETERS, Tacotron2, Tacotron2Config
from emotion_core.synth.waveglow import WAVEGLOW_MAX_PARAMETERS, WaveGlow, WaveGlowConfig

log = logging.getLogger(__name__)

#: Largest checkpoint file read, checked before ``torch.load`` reads it into memory: room for the
#: largest model the configs allow with optimizer state besides, and no less than the hub lets a
#: download be (its WaveGlow cap is also 4 GiB); NVIDIA's published files are 0.1 to about 1 GB.
MAX_CHECKPOINT_BYTES = 4 * 2**30

#: Longest reason quoted from an underlying error (a strict load can list hundreds of keys).
_MAX_REASON_CHARS = 300

#: Sentences of torch's errors that explain how to load a refused file anyway (``weights_only`` set
#: to False, or allow-listing the global it names): for an untrusted file that advice is wrong.
_UNSAFE_ADVICE = re.compile(r"weights[_ ]only|safe_globals|trust", re.IGNORECASE)

#: Globals a pickled WaveGlow legitimately needs, and nothing else.
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    # Protocol-2 pickles (torch.save's default) spell builtins the Python 2 way.
    ("__builtin__", "set"): set,
    ("__builtin__", "frozenset"): frozenset,
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch", "Size"): torch.Size,
    # Modules pickled by torch < 1.2 (NVIDIA's 2018-19 WaveGlows) hold a `_backend` object that
    # unpickles through this no-op, which torch keeps for exactly that purpose.
    ("torch.nn.backends.thnn", "_get_thnn_function_backend"): lambda: None,
}

#: Modules whose classes are replaced by inert stand-ins: NVIDIA's model code and torch's layers.
_STAND_IN_MODULES = ("glow", "glow_old", "torch.nn.modules.", "torch.nn.utils.weight_norm")


class PickledObject:
    """Inert stand-in for a pickled class instance: it records the pickled state and does nothing.

    ``pickled_class`` names the class it replaces (e.g. ``"glow.WaveGlow"``); ``state`` is what the
    pickle would have set as the instance ``__dict__``.
    """

    pickled_class: ClassVar[str] = ""
    state: Any

    def __new__(cls, *args: object, **kwargs: object) -> PickledObject:
        # Real modules are rebuilt with no constructor arguments; anything else is not a module
        # pickle.
        if args or kwargs:
            raise pickle.UnpicklingError(f"{cls.pickled_class} called with arguments")
        return super().__new__(cls)

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allow-listed globals and stands in for module classes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stand_ins: dict[str, type[PickledObject]] = {}

    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED_GLOBALS.get((module, name))
        if allowed is not None:
            return allowed
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if any(module == prefix or module.startswith(prefix) for prefix in _STAND_IN_MODULES):
            qualified = f"{module}.{name}"
            if qualified not in self._stand_ins:
                self._stand_ins[qualified] = type(
                    name, (PickledObject,), {"pickled_class": qualified, "__module__": __name__}
                )
            return self._stand_ins[qualified]
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a checkpoint")


def _restricted_load(file: Any, **kwargs: Any) -> Any:
    return _RestrictedUnpickler(file, **kwargs).load()


#: Passed to ``torch.load`` as ``pickle_module`` so its storage handling wraps our unpickler.
_RESTRICTED_PICKLE = types.ModuleType("emotion_core_restricted_pickle")
_RESTRICTED_PICKLE.Unpickler = _RestrictedUnpickler  # type: ignore[attr-defined]
_RESTRICTED_PICKLE.load = _restricted_load  # type: ignore[attr-defined]


def failure_reason(error: BaseException) -> str:
    """A short, one-line, person-readable reason for ``error`` (no final full stop), without torch's
    unsafe advice.

    torch's refusal of a pickle explains how to load it anyway; only the refusal itself is kept
    (e.g. "Unsupported global: GLOBAL posix.system was not an allowed global by default.").
    """
    text = str(error)
    _, marker, refusal = text.partition("WeightsUnpickler error:")
    sentences = re.split(r"(?<=[.!?])\s+|\n+", (refusal if marker else text).strip())
    reason = " ".join(sentence for sentence in sentences if not _UNSAFE_ADVICE.search(sentence))
    reason = " ".join(reason.split()).rstrip(".")
    if not reason:
        reason = "the file ends too early" if isinstance(error, EOFError) else type(error).__name__
    return textwrap.shorten(reason, _MAX_REASON_CHARS, placeholder=" ...")


@contextlib.contextmanager
def _checkpoint_errors(path: Path, model: str) -> Iterator[None]:
    """Turn any failure while reading or building ``model`` from ``path`` into a
    :class:`CheckpointError`: a hostile file can make any step fail in its own way."""
    try:
        yield
    except CheckpointError:
        raise
    except KeyError as e:
        raise CheckpointError(
            f"Checkpoint {path} is not a {model}: it has no entry {failure_reason(e)}."
        ) from e
    except Exception as e:
        raise CheckpointError(f"Checkpoint {path} is not a usable {model}: {failure_reason(e)}.") from e


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} does not exist.")
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"Checkpoint {path} is {size:,} bytes; the limit is {MAX_CHECKPOINT_BYTES:,}.")


def _mappable(path: Path) -> bool:
    """Whether ``torch.load`` can memory-map the file: the zip format of torch >= 1.6 can, so its
    tensors are paged in from disk as they are used instead of copied into memory at once (the
    legacy format of NVIDIA's 2019 checkpoints cannot, and is read whole)."""
    return zipfile.is_zipfile(path)


def read_checkpoint(path: str | Path) -> Any:
    """``torch.load`` with ``weights_only=True`` onto the CPU, errors as
    :class:`CheckpointError`."""
    path = Path(path)
    _check_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=_mappable(path))
    except Exception as e:
        raise CheckpointError(
            f"Could not read checkpoint {path}: it is damaged, not a PyTorch file, or holds more than "
            f"weights ({failure_reason(e)})."
        ) from e


def read_pickled_module(path: str | Path) -> Any:
    """Unpickle a checkpoint that contains pickled modules, with :class:`PickledObject` stand-ins.

    Raises
    ------
    CheckpointError
        If the file is unreadable or names any global outside the allow-list.
    """
    path = Path(path)
    _check_file(path)
    try:
        with warnings.catch_warnings():
            # Legacy-format files carry class source to compare with; stand-ins have none, by
            # design.
            warnings.filterwarnings("ignore", message="Couldn't retrieve source code")
            return torch.load(
                path,
                map_location="cpu",
                pickle_module=_RESTRICTED_PICKLE,
                weights_only=False,
                mmap=_mappable(path),
            )
    except Exception as e:
        raise CheckpointError(f"Refused or could not read checkpoint {path}: {failure_reason(e)}.") from e


def module_tree(root: PickledObject) -> tuple[dict[str, Tensor], dict[str, dict[str, Any]]]:
    """The state dict and the plain attributes of a pickled module tree.

    Returns
    -------
    state_dict : dict
        ``"WN.0.start.weight_g" → tensor`` for every parameter and persistent buffer, as
        ``nn.Module.state_dict`` would name them.
    attributes : dict
        Module path (``""`` for the root) → its int/float/str/bool/tuple attributes, e.g. ``{"":
        {"n_flows": 12, ...}, "upsample": {"stride": (256,), ...}}``.

    Raises ``ValueError`` when a node of the tree is not a pickled module.
    """
    state_dict: dict[str, Tensor] = {}
    attributes: dict[str, dict[str, Any]] = {}

    def visit(node: Any, path: str) -> None:
        if not isinstance(node, PickledObject) or not isinstance(node.state, dict):
            raise ValueError(f"module {path or 'root'} has an unexpected layout")
        state = node.state
        prefix = f"{path}." if path else ""
        skipped = state.get("_non_persistent_buffers_set") or set()
        for group in ("_parameters", "_buffers"):
            for name, tensor in (state.get(group) or {}).items():
                if tensor is not None and name not in skipped:
                    state_dict[prefix + name] = tensor
        attributes[path] = {
            key: value
            for key, value in state.items()
            if not key.startswith("_") and isinstance(value, (int, float, str, bool, tuple))
        }
        for name, child in (state.get("_modules") or {}).items():
            if child is not None:
                visit(child, prefix + name)

    visit(root, "")
    return state_dict, attributes


def unwrap_state_dict(state_dict: Mapping[str, Any], *, max_values: int) -> dict[str, Tensor]:
    """Drop DistributedDataParallel's ``module.`` prefix and cast floating tensors to float32.

    Raises ``ValueError`` for an entry that is not a tensor and, before anything is cast, for more
    than ``max_values`` values in all (the model's own limit: a file can claim any shape for a
    tensor whose strides repeat one stored value, and casting it would allocate every one); after
    the cast, for NaN or infinite values, which would only ever speak noise.
    """
    values = 0
    for key, value in state_dict.items():
        if not isinstance(value, Tensor):
            raise ValueError(f"state dict entry {key!r} is not a tensor")
        values += value.numel()
    if values > max_values:
        raise ValueError(f"the state dict holds {values:,} values; the limit is {max_values:,}")
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        name = key[len("module.") :] if key.startswith("module.") else key
        if value.is_floating_point():
            value = value.float()
            if not _all_finite(value):
                raise ValueError(f"state dict entry {key!r} holds NaN or infinite values")
        out[name] = value
    return out


def _all_finite(tensor: Tensor) -> bool:
    # NaN and infinities show in the extremes (min and max propagate NaN): one pass and no mask the
    # size of the tensor, several times faster than isfinite().all() on a large model.
    if tensor.numel() == 0:
        return True
    low, high = torch.aminmax(tensor)
    return bool(torch.isfinite(low)) and bool(torch.isfinite(high))


def fold_weight_norm(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Replace each weight-normalised pair ``<p>.weight_g``/``<p>.weight_v`` by ``<p>.weight``.

    ``weight = g · v / ‖v‖`` with the norm over all dimensions but the first (``dim=0``, the only
    setting NVIDIA used), exactly what ``torch.nn.utils.remove_weight_norm`` computes. Raises
    ``ValueError`` for a ``weight_g`` without its ``weight_v``.
    """
    out = {key: value for key, value in state_dict.items() if not key.endswith(("weight_g", "weight_v"))}
    for key in state_dict:
        if key.endswith(".weight_g"):
            prefix = key[: -len("weight_g")]
            g, v = state_dict[key], state_dict.get(prefix + "weight_v")
            if v is None:
                raise ValueError(f"the state dict has {key} but no {prefix}weight_v")
            out[prefix + "weight"] = torch._weight_norm(v, g, 0)
    return out


def _load_strict(model: nn.Module, state_dict: Mapping[str, Tensor], path: Path) -> None:
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"Checkpoint {path} does not match the model: {failure_reason(e)}.") from e


def _state_and_config(checkpoint: Any, path: Path) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("state_dict"), Mapping):
        config = checkpoint.get("config")
        return checkpoint["state_dict"], config if isinstance(config, Mapping) else None
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("model"), Mapping):
        return checkpoint["model"], None
    if (
        isinstance(checkpoint, Mapping)
        and checkpoint
        and all(isinstance(v, Tensor) for v in checkpoint.values())
    ):
        return checkpoint, None
    raise CheckpointError(f"Checkpoint {path} holds no state dict.")


def load_tacotron2(path: str | Path) -> Tacotron2:
    """Load a Tacotron 2 checkpoint (NVIDIA, DeepLearningExamples or ours) into an eval-mode CPU
    model.

    Sizes come from the checkpoint's ``config`` when it has one, otherwise from its tensor shapes,
    and must pass :class:`Tacotron2Config`'s checks before the model is built.

    Raises
    ------
    CheckpointError
        If the file is missing, too large, unreadable, its sizes are out of range, or its tensors do
        not fit a Tacotron 2 exactly.
    """
    path = Path(path)
    with _checkpoint_errors(path, "Tacotron 2"):
        raw_state, raw_config = _state_and_config(read_checkpoint(path), path)
        state_dict = unwrap_state_dict(raw_state, max_values=TACOTRON2_MAX_PARAMETERS)
        config = Tacotron2Config.from_state_dict(state_dict)
        if raw_config is not None:
            config = Tacotron2Config.from_mapping(raw_config, base=config)
        model = Tacotron2(config)
        _load_strict(model, state_dict, path)
    log.info("Loaded Tacotron 2 from %s: %s", path, config)
    return model.eval()


def load_waveglow(path: str | Path) -> WaveGlow:
    """Load a WaveGlow checkpoint (a pickled ``glow.WaveGlow``, DeepLearningExamples or ours) into
    an eval-mode CPU model, folding weight normalisation.

    Sizes come from the tensor shapes (and the pickled upsampling stride, or the checkpoint's
    ``config``) and must pass :class:`WaveGlowConfig`'s checks before the model is built.

    Raises
    ------
    CheckpointError
        If the file is missing, too large, unreadable, names a global outside the allow-list, its
        sizes are out of range, or its tensors do not fit a WaveGlow exactly.
    """
    path = Path(path)
    with _checkpoint_errors(path, "WaveGlow"):
        raw_state, config_values, stride = _waveglow_state(path)
        state_dict = fold_weight_norm(unwrap_state_dict(raw_state, max_values=WAVEGLOW_MAX_PARAMETERS))
        config = WaveGlowConfig.from_state_dict(state_dict, upsample_stride=stride)
        if config_values is not None:
            config = WaveGlowConfig.from_mapping(config_values, base=config)
        model = WaveGlow(config)
        _load_strict(model, state_dict, path)
    log.info("Loaded WaveGlow from %s: %s", path, config)
    return model.eval()


def _waveglow_state(path: Path) -> tuple[Mapping[str, Any], Mapping[str, Any] | None, int]:
    """The raw state dict, config dict (if any) and upsampling stride of a WaveGlow checkpoint in
    any supported format."""
    try:
        raw_state, config_values = _state_and_config(read_checkpoint(path), path)
        return raw_state, config_values, WaveGlowConfig.upsample_stride
    except CheckpointError as e:
        if not isinstance(e.__cause__, pickle.UnpicklingError):
            raise
    # weights_only refuses pickled modules; read them again with the stand-in unpickler.
    checkpoint = read_pickled_module(path)
    pickled = checkpoint.get("model") if isinstance(checkpoint, Mapping) else None
    if not isinstance(pickled, PickledObject):
        raise CheckpointError(f"Checkpoint {path} holds no pickled WaveGlow under 'model'.")
    raw_state, attributes = module_tree(pickled)
    # nn.ConvTranspose1d keeps its stride as a 1-tuple; absent, it is NVIDIA's hop.
    stride = attributes.get("upsample", {}).get("stride", (WaveGlowConfig.upsample_stride,))
    if not isinstance(stride, tuple) or len(stride) != 1:
        raise CheckpointError(f"Checkpoint {path} has an upsampling stride of {reprlib.repr(stride)}.")
    return raw_state, None, as_size("upsample_stride", stride[0])


def save_checkpoint(model: Tacotron2 | WaveGlow, path: str | Path) -> None:
    """Save ``{'state_dict', 'config'}`` (DeepLearningExamples' layout, no ``module.`` prefix):
    readable with ``weights_only=True`` and carrying its own sizes, e.g. to convert a pickled
    WaveGlow once."""
    config = dataclasses.asdict(model.config)
    if isinstance(model, WaveGlow):
        config["WN_config"] = {key: config.pop(key) for key in ("n_layers", "n_channels", "kernel_size")}
        config.pop("cond_layout")
    torch.save({"state_dict": model.state_dict(), "config": config}, Path(path))
