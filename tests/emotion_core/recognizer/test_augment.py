"""Augmentation variants: each is what its name says (a codec, a room, another microphone), drawn
from a seed so a cached table can be rebuilt exactly."""

import numpy as np
import pytest
import scipy.signal

from emotion_core.recognizer.augment import AUGMENT_VARIANTS, AugmentConfig, degrade
from tests.helpers.audio import speechlike

SR = 16000


def _band_energy(samples: np.ndarray, low: float, high: float) -> float:
    freqs, power = scipy.signal.welch(samples, fs=SR, nperseg=1024)
    return float(power[(freqs >= low) & (freqs < high)].sum())


def test_telephone_band_removes_the_low_end_and_the_top():
    audio = speechlike(2.0, SR, seed=4) + 0.01 * np.random.default_rng(0).normal(size=2 * SR).astype(
        np.float32
    )
    config = AugmentConfig(telephone_probability=1.0, clip_probability=0.0, eq_gain_db=(0.0, 0.0))
    phone = degrade(audio, SR, "phone", rng=np.random.default_rng(1), config=config)
    mid = _band_energy(phone, 500, 3000) / _band_energy(audio, 500, 3000)
    assert _band_energy(phone, 4500, 8000) / _band_energy(audio, 4500, 8000) < 0.05 * mid
    assert _band_energy(phone, 0, 150) / _band_energy(audio, 0, 150) < 0.1 * mid


def test_clipping_flattens_peaks_and_stays_in_range():
    audio = speechlike(1.0, SR, seed=5)
    config = AugmentConfig(clip_probability=1.0, clip_drive_db=(12.0, 12.0))
    out = degrade(audio, SR, "phone", rng=np.random.default_rng(2), config=config)
    assert np.abs(out).max() <= 1.0
    peak = np.abs(out).max()
    assert np.mean(np.abs(out) > 0.98 * peak) > 0.01  # many samples sit at the ceiling


@pytest.mark.parametrize("variant", AUGMENT_VARIANTS)
def test_every_variant_is_seeded_finite_and_keeps_roughly_the_duration(variant):
    audio = speechlike(1.5, SR, seed=6)
    a = degrade(audio, SR, variant, rng=np.random.default_rng(3))
    b = degrade(audio, SR, variant, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(a).all() and np.abs(a).max() <= 1.0
    assert 0.85 * audio.size <= a.size <= 1.15 * audio.size  # "room" changes speed by a few per cent


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown variant"):
        degrade(speechlike(0.5, SR), SR, "underwater", rng=np.random.default_rng(0))


def test_speed_perturbation_moves_pitch_and_tempo_by_a_tenth():
    t = np.arange(SR) / SR
    tone = (0.3 * np.sin(2 * np.pi * 200.0 * t)).astype(np.float32)
    for seed in range(4):
        out = degrade(tone, SR, "speed", rng=np.random.default_rng(seed))
        factor = tone.size / out.size  # played this much faster
        assert factor == pytest.approx(0.9, abs=0.01) or factor == pytest.approx(1.1, abs=0.01)
        spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
        peak_hz = np.argmax(spectrum) * SR / out.size
        assert peak_hz == pytest.approx(200.0 * factor, rel=0.01)
