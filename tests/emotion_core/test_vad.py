"""Tests of ``emotion_core.vad``: speech is found, and silence, noise, hum and tones are not.

Speech comes from ``conftest.speechlike`` (always) and from the corpora (where present, marked
``corpora``). Noise levels are peak or RMS amplitudes relative to full scale.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import pytest

from emotion_core.audio import decode, opus_roundtrip
from emotion_core.vad import SpeechActivity, detect_speech
from tests.helpers.audio import speechlike

SR = 16000


def _white(duration_s: float, rms: float, *, seed: int = 0, sample_rate: int = SR) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rms * rng.standard_normal(round(duration_s * sample_rate))).astype(np.float32)


def _pink(duration_s: float, rms: float, *, seed: int = 0) -> np.ndarray:
    """Noise with a 1/f power spectrum above 20 Hz."""
    n = round(duration_s * SR)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    noise = np.fft.irfft(spectrum / np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / SR), 20.0)), n)
    return (rms * noise / noise.std()).astype(np.float32)


def _hum(duration_s: float, peak: float, *, mains_hz: float = 50.0) -> np.ndarray:
    """Mains hum: the mains frequency and its first six harmonics, falling as 1/k."""
    t = np.arange(round(duration_s * SR)) / SR
    hum = sum(np.sin(2 * np.pi * mains_hz * k * t) / k for k in range(1, 8))
    return (peak * hum / np.abs(hum).max()).astype(np.float32)


def _tone(duration_s: float, peak: float, *, freq_hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(duration_s * SR)) / SR
    return (peak * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x[np.abs(x) > 0.01 * np.abs(x).max()]))))


# --- speech ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_speechlike_signal_is_speech(seed: int) -> None:
    activity = detect_speech(speechlike(5.0, SR, seed=seed, f0_hz=110 + 40 * seed), SR)
    assert isinstance(activity, SpeechActivity)
    assert activity.has_speech
    assert 0.4 < activity.speech_ratio <= 1.0
    assert activity.speech_duration_s == pytest.approx(activity.speech_ratio * 5.0, rel=0.05)


@pytest.mark.parametrize("sample_rate", [8000, 22050, 48000])
def test_speech_is_found_at_any_sample_rate(sample_rate: int) -> None:
    assert detect_speech(speechlike(3.0, sample_rate), sample_rate).has_speech


@pytest.mark.parametrize("gain", [1e-2, 1e-3])
def test_quiet_speech_is_speech_after_normalization(gain: float) -> None:
    quiet = speechlike(5.0, SR) * gain + _white(5.0, 1e-6)
    assert detect_speech(quiet / np.abs(quiet).max() * 0.9, SR).has_speech
    if gain >= 1e-2:  # about -46 dB re full scale: found even without normalising
        assert detect_speech(quiet, SR).has_speech


@pytest.mark.parametrize("snr_db", [20, 10])
@pytest.mark.parametrize("noise", [_white, _pink])
def test_speech_in_moderate_noise_is_speech(noise, snr_db: float) -> None:
    speech = speechlike(5.0, SR)
    mixed = speech + noise(5.0, _rms(speech) / 10 ** (snr_db / 20), seed=1)
    activity = detect_speech(mixed, SR)
    assert activity.has_speech and activity.speech_ratio > 0.2


def test_speech_survives_discord_opus_at_a_low_bit_rate() -> None:
    assert detect_speech(opus_roundtrip(speechlike(4.0, SR), SR, bitrate_kbps=12), SR).has_speech


def test_speech_surrounded_by_silence_is_speech() -> None:
    clip = np.concatenate([np.zeros(3 * SR), speechlike(1.0, SR), np.zeros(6 * SR)])
    activity = detect_speech(clip.astype(np.float32), SR)
    assert activity.has_speech and activity.speech_ratio < 0.15


# --- not speech --------------------------------------------------------------------------------


def test_digital_silence_is_not_speech() -> None:
    activity = detect_speech(np.zeros(5 * SR, np.float32), SR)
    assert activity == SpeechActivity(speech_ratio=0.0, speech_duration_s=0.0, has_speech=False)


@pytest.mark.parametrize("rms", [1e-5, 1e-4])
def test_very_quiet_noise_is_not_speech(rms: float) -> None:
    assert not detect_speech(_white(5.0, rms), SR).has_speech


@pytest.mark.parametrize("level", [1e-3, 3e-2, 0.3])
@pytest.mark.parametrize(
    "make",
    [_white, _pink, _hum, lambda d, a: _hum(d, a, mains_hz=60.0)],
    ids=["white", "pink", "hum50", "hum60"],
)
def test_stationary_noise_at_any_level_is_not_speech(make, level: float) -> None:
    activity = detect_speech(make(10.0, level), SR)
    assert not activity.has_speech and activity.speech_ratio < 0.02


@pytest.mark.parametrize("freq_hz", [100.0, 440.0, 1000.0, 3000.0])
@pytest.mark.parametrize("peak", [1e-3, 0.5])
def test_steady_tone_is_not_speech(freq_hz: float, peak: float) -> None:
    activity = detect_speech(_tone(5.0, peak, freq_hz=freq_hz), SR)
    assert not activity.has_speech and activity.speech_ratio == 0.0


@pytest.mark.parametrize("make", [_tone, _white], ids=["tone", "white"])
def test_a_steady_sound_that_starts_and_stops_is_not_speech(make) -> None:
    burst = make(10.0, 0.3)
    burst[: 2 * SR] = 0
    burst[8 * SR :] = 0
    assert not detect_speech(burst, SR).has_speech


def test_noise_through_discord_opus_is_not_speech() -> None:
    assert not detect_speech(opus_roundtrip(_white(4.0, 0.05), SR, bitrate_kbps=12), SR).has_speech


def test_shorter_than_a_frame_is_not_speech() -> None:
    assert not detect_speech(speechlike(0.01, SR), SR).has_speech


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError):
        detect_speech(np.zeros((2, SR), np.float32), SR)
    with pytest.raises(ValueError):
        detect_speech(np.zeros(SR, np.float32), 4000)


def test_ten_seconds_take_a_few_milliseconds() -> None:
    clip = speechlike(10.0, SR)
    detect_speech(clip, SR)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        detect_speech(clip, SR)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.05  # about 3 ms unloaded; generous for shared CI machines


# --- real speech -------------------------------------------------------------------------------


def _corpus_sample(corpus_dir: Path, per_corpus: int = 12) -> list[Path]:
    """A fixed sample of files from every corpus present."""
    rng = random.Random(0)
    paths: list[Path] = []
    for pattern in ("RAVDESS/*/*.ogg", "TESS/*/*.ogg", "SAVEE/ALL/*.ogg", "nEMO/samples/*.ogg"):
        found = sorted(corpus_dir.glob(pattern))
        paths += rng.sample(found, min(per_corpus, len(found)))
    if not paths:
        pytest.skip("no corpus files found")
    return paths


@pytest.mark.corpora
def test_corpus_speech_is_speech(corpus_dir: Path) -> None:
    missed = [
        p.name for p in _corpus_sample(corpus_dir) if not detect_speech(decode(p).samples, SR).has_speech
    ]
    assert not missed


@pytest.mark.corpora
def test_corpus_speech_in_noise_is_speech(corpus_dir: Path) -> None:
    paths = _corpus_sample(corpus_dir)
    found = 0
    for seed, path in enumerate(paths):
        speech = decode(path).samples
        noisy = speech + _white(speech.size / SR, _rms(speech) / 10 ** (10 / 20), seed=seed)
        found += detect_speech(noisy, SR).has_speech
    assert found >= 0.95 * len(paths)


@pytest.mark.corpora
def test_corpus_silence_is_not_speech(corpus_dir: Path) -> None:
    """The lead-in before the first word of RAVDESS clips is room silence through Opus."""
    paths = [p for p in _corpus_sample(corpus_dir) if "RAVDESS" in p.parts][:6]
    for path in paths:
        lead_in = decode(path).samples[: SR // 2]
        assert not detect_speech(lead_in, SR).has_speech, path.name
