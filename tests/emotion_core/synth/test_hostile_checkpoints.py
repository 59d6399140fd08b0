"""Hostile and broken checkpoints: each is refused with a CheckpointError before any model is built,
the message never advises unsafe loading, and the automatic voice falls back to the offline one."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from emotion_core import hub
from emotion_core.errors import CheckpointError
from emotion_core.synth import checkpoints
from emotion_core.synth.checkpoints import failure_reason, load_tacotron2, load_waveglow, save_checkpoint
from emotion_core.synth.neural import NeuralTTS
from emotion_core.synth.pipeline import Synthesizer
from emotion_core.synth.tacotron2 import TACOTRON2_SIZES, Tacotron2, Tacotron2Config
from emotion_core.synth.vocoders import GriffinLimVocoder, load_waveglow_vocoder
from emotion_core.synth.waveglow import WAVEGLOW_SIZES, WaveGlow, WaveGlowConfig
from tests.helpers.tiny_models import TINY_TACOTRON2, TINY_WAVEGLOW, tiny_tacotron2, tiny_waveglow

UNSAFE_ADVICE = ("weights_only=False", "weights_only` set to `False", "safe_globals")


class _RunsACommand:
    """Pickles as a call to ``os.system``: what a malicious checkpoint would do on load."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def _huge(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A tensor of any claimed shape stored as one value (all strides 0): a few bytes on disk."""
    return torch.empty_strided(shape, (0,) * len(shape), dtype=dtype)


@functools.cache
def _tiny_state(model: str) -> dict[str, torch.Tensor]:
    return (tiny_tacotron2() if model == "tacotron2" else tiny_waveglow()).state_dict()


def _tacotron2_state(**replace: torch.Tensor) -> dict[str, torch.Tensor]:
    return {**_tiny_state("tacotron2"), **replace}


def _waveglow_state(**replace: torch.Tensor) -> dict[str, torch.Tensor]:
    return {**_tiny_state("waveglow"), **replace}


def _waveglow_config(**overrides: Any) -> dict[str, Any]:
    """TINY_WAVEGLOW as NVIDIA's config dict (``WN_config`` nested), with ``overrides`` applied."""
    config = dataclasses.asdict(TINY_WAVEGLOW)
    config.pop("cond_layout")
    config["WN_config"] = {key: config.pop(key) for key in ("n_layers", "n_channels", "kernel_size")}
    for key, value in overrides.items():
        (config["WN_config"] if key in config["WN_config"] else config)[key] = value
    return config


def _saved(content: Callable[[Path], Any]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        torch.save(content(path), path)

    return write


def _raw(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _truncated(path: Path) -> None:
    torch.save({"state_dict": _tacotron2_state()}, path)
    path.write_bytes(path.read_bytes()[:2000])


#: Files that must never load as the model named, with a part of the reason each must give.
HOSTILE_TACOTRON2: dict[str, tuple[Callable[[Path], None], str]] = {
    "zero mel channels": (
        _saved(
            lambda _: {
                "state_dict": _tacotron2_state(
                    **{"postnet.convolutions.0.0.conv.weight": torch.zeros(12, 0, 3)}
                )
            }
        ),
        "n_mel_channels is 0",
    ),
    "2**40 symbols from a few bytes": (
        _saved(lambda _: {"state_dict": _tacotron2_state(**{"embedding.weight": _huge(2**40, 16)})}),
        "the limit is 150,000,000",
    ),
    "fp16 tensor that would expand when cast": (
        _saved(
            lambda _: {
                "state_dict": _tacotron2_state(
                    **{"embedding.weight": _huge(2**16, 2**16, dtype=torch.float16)}
                )
            }
        ),
        "the state dict holds",
    ),
    "2**40 symbols in the config": (
        _saved(lambda _: {"state_dict": _tacotron2_state(), "config": {"n_symbols": 2**40}}),
        "n_symbols is 1,099,511,627,776; allowed: whole numbers from 1 to 2,048",
    ),
    "negative mel channels in the config": (
        _saved(lambda _: {"state_dict": _tacotron2_state(), "config": {"n_mel_channels": -80}}),
        "n_mel_channels is -80",
    ),
    "infinite size in the config": (
        _saved(lambda _: {"state_dict": _tacotron2_state(), "config": {"decoder_rnn_dim": float("inf")}}),
        "decoder_rnn_dim is inf, not a whole number",
    ),
    "even postnet kernel": (
        _saved(lambda _: {"state_dict": _tacotron2_state(), "config": {"postnet_kernel_size": 4}}),
        "postnet_kernel_size is 4; allowed: odd numbers",
    ),
    "embedding and encoder widths differ": (
        _saved(
            lambda _: {
                "state_dict": _tacotron2_state(),
                "config": {"decoder_rnn_dim": 4096, "attention_rnn_dim": 4096, "encoder_embedding_dim": 2048},
            }
        ),
        "symbols_embedding_dim (16) must equal encoder_embedding_dim (2048)",
    ),
    "too many parameters": (
        _saved(
            lambda _: {
                "state_dict": _tacotron2_state(),
                "config": {"decoder_rnn_dim": 4096, "attention_rnn_dim": 4096, "prenet_dim": 2048},
            }
        ),
        "parameters",
    ),
    "mismatched mel channels": (
        _saved(
            lambda _: {
                "state_dict": _tacotron2_state(
                    **{"decoder.linear_projection.linear_layer.weight": torch.zeros(81, 40)}
                )
            }
        ),
        "does not match the model",
    ),
    "tensor without dimensions": (
        _saved(lambda _: {"state_dict": _tacotron2_state(**{"embedding.weight": torch.tensor(1.0)})}),
        "expected 2 dimensions",
    ),
    "NaN weights": (
        _saved(
            lambda _: {
                "state_dict": _tacotron2_state(**{"embedding.weight": torch.full((148, 16), float("nan"))})
            }
        ),
        "NaN or infinite",
    ),
    "missing tensor": (
        _saved(lambda _: {"state_dict": {"embedding.weight": torch.zeros(148, 16)}}),
        "has no entry 'encoder.convolutions.0.0.conv.weight'",
    ),
    "pickle that runs os.system": (
        _saved(lambda path: {"model": _RunsACommand(path.with_suffix(".pwned")), "state_dict": {}}),
        "posix.system",
    ),
    "truncated file": (_truncated, "damaged"),
    "not a zip file": (_raw(b"not a checkpoint at all"), "damaged"),
    "empty file": (_raw(b""), "ends too early"),
}

HOSTILE_WAVEGLOW: dict[str, tuple[Callable[[Path], None], str]] = {
    "odd n_group in the tensors": (
        _saved(lambda _: {"state_dict": _waveglow_state(**{"convinv.0.conv.weight": torch.zeros(7, 7, 1)})}),
        "n_group is 7; allowed: even numbers from 2 to 64",
    ),
    "odd n_group in the config": (
        _saved(lambda _: {"state_dict": _waveglow_state(), "config": _waveglow_config(n_group=7)}),
        "n_group is 7",
    ),
    "zero n_early_every": (
        _saved(lambda _: {"state_dict": _waveglow_state(), "config": _waveglow_config(n_early_every=0)}),
        "n_early_every is 0",
    ),
    "a million flows": (
        _saved(lambda _: {"state_dict": _waveglow_state(), "config": _waveglow_config(n_flows=10**6)}),
        "n_flows is 1,000,000",
    ),
    "2**40 channels": (
        _saved(lambda _: {"state_dict": _waveglow_state(), "config": _waveglow_config(n_channels=2**40)}),
        "n_channels is 1,099,511,627,776",
    ),
    "early outputs use up every channel": (
        _saved(lambda _: {"state_dict": _waveglow_state(), "config": _waveglow_config(n_early_size=8)}),
        "at least 2 must remain",
    ),
    "too many parameters": (
        _saved(
            lambda _: {
                "state_dict": _waveglow_state(),
                "config": _waveglow_config(n_flows=32, n_early_size=0, n_layers=16, n_channels=1024),
            }
        ),
        "the limit is 400,000,000",
    ),
    "too much memory per frame": (
        _saved(
            lambda _: {
                "state_dict": _waveglow_state(),
                "config": _waveglow_config(
                    n_flows=1,
                    n_group=2,
                    n_layers=16,
                    n_channels=1024,
                    upsample_stride=2048,
                    upsample_kernel_size=2048,
                ),
            }
        ),
        "values per mel frame",
    ),
    "too slow per frame": (
        _saved(
            lambda _: {
                "state_dict": _waveglow_state(),
                "config": _waveglow_config(n_flows=20, n_early_size=0, n_group=2, n_layers=8, n_channels=512),
            }
        ),
        "multiply-adds per mel frame",
    ),
    "a huge upsampling layer from a few bytes": (
        _saved(lambda _: {"state_dict": _waveglow_state(**{"upsample.weight": _huge(2**20, 2**20, 1024)})}),
        "the limit is 400,000,000",
    ),
    "mismatched mel channels": (
        _saved(lambda _: {"state_dict": _waveglow_state(), "config": _waveglow_config(n_mel_channels=81)}),
        "does not match the model",
    ),
    "pickle that runs os.system": (
        _saved(lambda path: {"model": _RunsACommand(path.with_suffix(".pwned")), "state_dict": {}}),
        "refusing to load posix.system",
    ),
    "truncated file": (_truncated, "damaged"),
    "not a zip file": (_raw(b"not a checkpoint at all"), "read checkpoint"),
}


HOSTILE = {"tacotron2": HOSTILE_TACOTRON2, "waveglow": HOSTILE_WAVEGLOW}
LOADERS: dict[str, tuple[Callable[[Path], Any], type]] = {
    "tacotron2": (load_tacotron2, Tacotron2),
    "waveglow": (load_waveglow, WaveGlow),
}
#: The vocoder each case's folder is read with: one that needs no file, or the hostile WaveGlow.
VOCODERS: dict[str, Any] = {"tacotron2": "griffinlim", "waveglow": "waveglow"}
#: Every hostile case as (model attacked, case name).
CASES = [(model, case) for model, cases in HOSTILE.items() for case in cases]
CASE_IDS = [f"{model}: {case}" for model, case in CASES]


def _install(models_dir: Path, model: str, write: Callable[[Path], None]) -> Path:
    path = hub.path_of(model, models_dir=models_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path)
    return path


@pytest.fixture(scope="module")
def models_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """A models folder per case, written once for the module: the hostile file where the hub puts the
    model it attacks, beside a sound Tacotron 2 when it attacks WaveGlow."""
    folders = {}
    for index, (model, case) in enumerate(CASES):
        folder = tmp_path_factory.mktemp(f"models{index}")
        _install(folder, model, HOSTILE[model][case][0])
        if model == "waveglow":
            _install(folder, "tacotron2", _saved(lambda _: {"state_dict": _tacotron2_state()}))
        folders[model, case] = folder
    return folders


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every model the loaders build: a hostile file must be refused before that."""
    models: list[str] = []

    def recording(model: type) -> Callable[..., Any]:
        def build(config: Any) -> Any:
            models.append(model.__name__)
            return model(config)

        return build

    monkeypatch.setattr(checkpoints, "Tacotron2", recording(Tacotron2))
    monkeypatch.setattr(checkpoints, "WaveGlow", recording(WaveGlow))
    return models


@pytest.mark.parametrize(("model", "case"), CASES, ids=CASE_IDS)
def test_hostile_checkpoint_is_refused_before_building(
    models_dirs: dict[tuple[str, str], Path], built: list[str], model: str, case: str
) -> None:
    reason = HOSTILE[model][case][1]
    load, model_class = LOADERS[model]
    path = hub.path_of(model, models_dir=models_dirs[model, case])
    with pytest.raises(CheckpointError) as caught:
        load(path)
    message = str(caught.value)
    assert reason in message
    assert not any(advice in message for advice in UNSAFE_ADVICE)
    assert len(message) < 600
    assert not path.with_suffix(".pwned").exists()
    # A mismatch found by the strict load is found after building, from sizes that passed the checks.
    assert built == ([model_class.__name__] if "does not match" in reason else [])


@pytest.mark.parametrize(("model", "case"), CASES, ids=CASE_IDS)
def test_automatic_voice_falls_back_to_the_offline_voice(
    models_dirs: dict[tuple[str, str], Path], caplog: pytest.LogCaptureFixture, model: str, case: str
) -> None:
    with caplog.at_level(logging.INFO, logger="emotion_core.synth.pipeline"):
        synth = Synthesizer.from_pretrained(models_dirs[model, case], vocoder=VOCODERS[model])
    assert "offline voice" in synth.voice_name
    assert "Using the offline voice" in caplog.text


@pytest.mark.parametrize("model", ["tacotron2", "waveglow"])
def test_explicit_neural_voice_does_not_fall_back(
    models_dirs: dict[tuple[str, str], Path], model: str
) -> None:
    folder = models_dirs[model, "pickle that runs os.system"]
    with pytest.raises(CheckpointError, match="posix.system"):
        Synthesizer.from_pretrained(folder, voice="tacotron2", vocoder=VOCODERS[model])


@pytest.mark.filterwarnings("ignore:.*weight_norm.*:FutureWarning")  # the stand-in glow module uses it
def test_pickled_waveglow_with_an_impossible_stride(tmp_path: Path, glow_module) -> None:
    model = glow_module.WaveGlow(80, 4, 8, 2, 2, {"n_layers": 2, "n_channels": 8, "kernel_size": 3})
    model.upsample.stride = (0,)
    torch.save({"model": model}, tmp_path / "waveglow.pt")
    with pytest.raises(
        CheckpointError, match="upsample_stride is 0; allowed: whole numbers from 16 to 2,048"
    ):
        load_waveglow(tmp_path / "waveglow.pt")


def test_torch_advice_to_load_unsafely_is_dropped(tmp_path: Path) -> None:
    torch.save({"payload": _RunsACommand(tmp_path / "pwned")}, tmp_path / "evil.pt")
    with pytest.raises(Exception) as caught:
        torch.load(tmp_path / "evil.pt", weights_only=True)
    assert "weights_only" in str(caught.value)  # what torch says, for the record
    reason = failure_reason(caught.value)
    assert "posix.system" in reason and "weights" not in reason and "trust" not in reason


def test_waveglow_that_fails_on_silence_is_a_checkpoint_error(tmp_path: Path) -> None:
    model = tiny_waveglow()
    # A singular mixing matrix cannot be inverted; synthesis inverts the last flow first.
    model.convinv[-1].conv.weight.data.zero_()
    save_checkpoint(model, tmp_path / "waveglow.pt")
    with pytest.raises(CheckpointError, match="fails on silence"):
        load_waveglow_vocoder(tmp_path / "waveglow.pt")


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (dataclasses.replace(TINY_TACOTRON2, n_mel_channels=40), "takes 80 mel bands, Tacotron 2 makes 40"),
        (dataclasses.replace(TINY_TACOTRON2, n_symbols=100), "100 symbol embeddings"),
        (dataclasses.replace(TINY_TACOTRON2, sampling_rate=16000), "Tacotron 2 at 16000 Hz"),
    ],
)
def test_tacotron2_that_does_not_fit_its_vocoder(
    tmp_path: Path, config: Tacotron2Config, reason: str
) -> None:
    save_checkpoint(Tacotron2(config), tmp_path / "tacotron2.pt")
    with pytest.raises(CheckpointError, match=reason):
        NeuralTTS.from_checkpoints(tmp_path / "tacotron2.pt", vocoder=GriffinLimVocoder())


def test_automatic_voice_falls_back_when_the_models_do_not_fit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tacotron2 = Tacotron2(dataclasses.replace(TINY_TACOTRON2, n_mel_channels=40))
    _install(tmp_path, "tacotron2", lambda path: save_checkpoint(tacotron2, path))
    with caplog.at_level(logging.INFO, logger="emotion_core.synth.pipeline"):
        synth = Synthesizer.from_pretrained(tmp_path, vocoder="griffinlim")
    assert "offline voice" in synth.voice_name
    assert "takes 80 mel bands, Tacotron 2 makes 40" in caplog.text


@pytest.mark.parametrize(
    ("config", "sizes", "variants"),
    [
        (
            TINY_TACOTRON2,
            TACOTRON2_SIZES,
            [{}, {"n_frames_per_step": 3, "n_mel_channels": 7, "postnet_n_convolutions": 1}],
        ),
        (
            TINY_WAVEGLOW,
            WAVEGLOW_SIZES,
            [
                {},
                {
                    "cond_layout": "per_layer",
                    "n_flows": 7,
                    "n_early_every": 3,
                    "n_layers": 3,
                    "kernel_size": 5,
                },
            ],
        ),
    ],
    ids=["tacotron2", "waveglow"],
)
def test_parameter_count_is_exact_and_every_size_is_bounded(
    config: Tacotron2Config | WaveGlowConfig, sizes: dict[str, Any], variants: list[dict[str, Any]]
) -> None:
    model_type = Tacotron2 if isinstance(config, Tacotron2Config) else WaveGlow
    for variant in variants:
        varied = dataclasses.replace(config, **variant)
        model = model_type(varied)  # type: ignore[arg-type]
        assert varied.parameter_count() == sum(value.numel() for value in model.state_dict().values())
    int_fields = {field.name for field in dataclasses.fields(config) if field.type == "int"}
    assert set(sizes) == int_fields


def test_nvidia_published_sizes_are_allowed() -> None:
    assert Tacotron2Config().parameter_count() == 28_200_489
    assert WaveGlowConfig().parameter_count() == 87_731_816
    assert WaveGlowConfig(n_channels=512).parameter_count() == 267_999_848
    assert WaveGlowConfig(n_channels=512).macs_per_frame() == 8_372_831_056
