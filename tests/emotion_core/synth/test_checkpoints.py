"""Strict loading of every published checkpoint layout, fp16 included, and refusal of hostile
pickles."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest
import torch

from emotion_core.errors import CheckpointError
from emotion_core.synth.checkpoints import load_tacotron2, load_waveglow, save_checkpoint
from emotion_core.synth.tacotron2 import Tacotron2Options
from tests.helpers.tiny_models import (
    TINY_TACOTRON2,
    TINY_WAVEGLOW,
    tiny_tacotron2,
    tiny_waveglow,
)

# The stand-in glow module builds NVIDIA's layout with torch's old, now deprecated, weight norm.
pytestmark = pytest.mark.filterwarnings("ignore:.*weight_norm.*:FutureWarning")

IDS = torch.tensor([[40, 41, 11, 50, 64, 90, 7]])
FIXED_STEPS = Tacotron2Options(max_decoder_steps=12, gate_threshold=1.0)


def _decode(model, seed: int = 1):
    torch.manual_seed(seed)  # prenet dropout stays on at inference
    return model.infer(IDS, FIXED_STEPS)


def test_nvidia_tacotron2_state_dict(tmp_path: Path) -> None:
    model = tiny_tacotron2()
    path = tmp_path / "tacotron2_statedict.pt"
    torch.save(
        {"state_dict": model.state_dict(), "optimizer": {}, "learning_rate": 1e-3, "iteration": 7},
        path,
    )
    loaded = load_tacotron2(path)
    assert loaded.config == TINY_TACOTRON2
    expected, actual = _decode(model), _decode(loaded)
    assert torch.equal(expected.mel_postnet, actual.mel_postnet)
    assert actual.mel_postnet.shape == (1, 80, 12) and actual.alignments.shape == (1, 12, 7)
    assert actual.reached_max_decoder_steps


def test_deep_learning_examples_tacotron2_fp16(tmp_path: Path) -> None:
    model = tiny_tacotron2()
    state = {
        f"module.{key}": value.half() if value.is_floating_point() else value
        for key, value in model.state_dict().items()
    }
    config = {
        **dataclasses.asdict(TINY_TACOTRON2),
        "mask_padding": False,
        "max_decoder_steps": 1000,
        "gate_threshold": 0.5,
        "decoder_no_early_stopping": False,
    }
    path = tmp_path / "nvidia_tacotron2pyt_fp16.pt"
    torch.save({"state_dict": state, "config": config, "epoch": 3}, path)
    loaded = load_tacotron2(path)
    assert loaded.embedding.weight.dtype == torch.float32
    mel = _decode(loaded).mel_postnet
    assert torch.allclose(mel, _decode(model).mel_postnet, atol=0.05)


def test_tacotron2_with_missing_or_extra_keys_is_refused(tmp_path: Path) -> None:
    state = tiny_tacotron2().state_dict()
    state["decoder.extra.weight"] = torch.zeros(1)
    torch.save({"state_dict": state}, tmp_path / "extra.pt")
    with pytest.raises(CheckpointError, match="does not match"):
        load_tacotron2(tmp_path / "extra.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_tacotron2(tmp_path / "absent.pt")


def _folded_reference(glow_model) -> dict[str, torch.Tensor]:
    """What the pickled model computes as its weights: torch's own weight-norm removal."""
    for module in glow_model.modules():
        if hasattr(module, "weight_g"):
            torch.nn.utils.remove_weight_norm(module)
    return glow_model.state_dict()


@pytest.mark.parametrize(
    ("fused", "zipfile", "half"),
    [(True, True, False), (True, False, True), (False, False, False), (False, True, True)],
    ids=["fused-zip-fp32", "fused-legacy-fp16", "per_layer-legacy-fp32", "per_layer-zip-fp16"],
)
def test_pickled_glow_waveglow(tmp_path: Path, glow_module, fused: bool, zipfile: bool, half: bool) -> None:
    torch.manual_seed(0)
    wn_config = {"n_layers": 2, "n_channels": 8, "kernel_size": 3}
    model = glow_module.WaveGlow(80, 4, 8, 2, 2, wn_config, fused=fused)
    if half:
        model = model.half()
    path = tmp_path / "waveglow_256channels_universal_v5.pt"
    torch.save({"model": model}, path, _use_new_zipfile_serialization=zipfile)
    sys.modules.pop("glow")  # loading must not need NVIDIA's module

    loaded = load_waveglow(path)

    assert "glow" not in sys.modules
    assert loaded.config == dataclasses.replace(TINY_WAVEGLOW, cond_layout="fused" if fused else "per_layer")
    reference = {key: value.float() for key, value in _folded_reference(model).items()}
    actual = loaded.state_dict()
    assert actual.keys() == reference.keys()
    for key, value in reference.items():
        torch.testing.assert_close(actual[key], value, rtol=0, atol=1e-7 if not half else 1e-3)


def test_pickled_glow_without_weight_norm(tmp_path: Path, glow_module) -> None:
    model = glow_module.WaveGlow(80, 4, 8, 2, 2, {"n_layers": 2, "n_channels": 8, "kernel_size": 3})
    reference = _folded_reference(model)  # NVIDIA's inference.py saves models in this state too
    torch.save({"model": model}, tmp_path / "removed.pt")
    sys.modules.pop("glow")
    actual = load_waveglow(tmp_path / "removed.pt").state_dict()
    assert all(torch.equal(actual[key], value) for key, value in reference.items())


def test_deep_learning_examples_waveglow(tmp_path: Path) -> None:
    source = tiny_waveglow(cond_layout="per_layer")
    state = {}
    for key, value in source.state_dict().items():
        # DeepLearningExamples keeps weight norm on every WN convolution except "end".
        if key.startswith("WN.") and key.endswith(".weight") and ".end." not in key:
            norm = value.norm(dim=(1, 2), keepdim=True)
            state[f"module.{key[: -len('weight')]}weight_g"] = norm.half()
            state[f"module.{key[: -len('weight')]}weight_v"] = value.half()
        else:
            state[f"module.{key}"] = value.half()
    config = {
        "n_mel_channels": 80,
        "n_flows": 4,
        "n_group": 8,
        "n_early_every": 2,
        "n_early_size": 2,
        "WN_config": {"n_layers": 2, "kernel_size": 3, "n_channels": 8},
    }
    torch.save({"state_dict": state, "config": config}, tmp_path / "nvidia_waveglowpyt_fp16.pt")
    loaded = load_waveglow(tmp_path / "nvidia_waveglowpyt_fp16.pt")
    assert loaded.config.cond_layout == "per_layer"
    mel = torch.randn(1, 80, 6)
    expected = source.infer(mel, 0.5, torch.Generator().manual_seed(3))
    actual = loaded.infer(mel, 0.5, torch.Generator().manual_seed(3))
    assert torch.allclose(actual, expected, atol=0.05)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    waveglow, tacotron2 = tiny_waveglow(), tiny_tacotron2()
    save_checkpoint(waveglow, tmp_path / "waveglow.pt")
    save_checkpoint(tacotron2, tmp_path / "tacotron2.pt")
    mel = torch.randn(1, 80, 5)
    loaded = load_waveglow(tmp_path / "waveglow.pt")
    assert loaded.config == waveglow.config
    assert torch.equal(
        loaded.infer(mel, 0.6, torch.Generator().manual_seed(0)),
        waveglow.infer(mel, 0.6, torch.Generator().manual_seed(0)),
    )
    assert load_tacotron2(tmp_path / "tacotron2.pt").config == tacotron2.config


class _Hostile:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("loader", [load_waveglow, load_tacotron2])
def test_malicious_pickle_is_refused(tmp_path: Path, loader) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": _Hostile(marker), "state_dict": {}}, path)
    with pytest.raises(CheckpointError):
        loader(path)
    assert not marker.exists()


def test_pickled_module_may_not_smuggle_globals(tmp_path: Path, glow_module) -> None:
    model = glow_module.WaveGlow(80, 4, 8, 2, 2, {"n_layers": 2, "n_channels": 8, "kernel_size": 3})
    model.payload = _Hostile(tmp_path / "pwned")
    torch.save({"model": model}, tmp_path / "evil_glow.pt")
    sys.modules.pop("glow")
    with pytest.raises(CheckpointError, match="refusing to load posix.system"):
        load_waveglow(tmp_path / "evil_glow.pt")
    assert not (tmp_path / "pwned").exists()
