"""The NumPy spectrum that serving uses gives librosa's values (librosa is the reference; serving does
not import it)."""

import librosa
import numpy as np
import pytest

from emotion_core import spectrum
from emotion_core.features import FeatureConfig, mel_power, mfcc_mean, trim_silence

CONFIG = FeatureConfig()


def _speechlike(n: int, seed: int = 0) -> np.ndarray:
    """Noise bursts between stretches of near-silence: something for trim to find."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n).astype(np.float32) * 1e-4
    if n > 4000:
        x[n // 4 : 3 * n // 4] += rng.standard_normal(3 * n // 4 - n // 4).astype(np.float32) * 0.3
    return x


@pytest.mark.parametrize("n", [400, 401, 1599, 16000, 48123])
def test_mel_power_matches_librosa(n):
    x = _speechlike(n)
    ours = mel_power(x, CONFIG)
    theirs = librosa.feature.melspectrogram(
        y=x,
        sr=16000,
        n_fft=400,
        hop_length=160,
        win_length=400,
        n_mels=64,
        fmin=50.0,
        fmax=8000.0,
        pad_mode="constant",
    ).T
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=1e-9)


@pytest.mark.parametrize(
    "n_fft,n_mels,fmin,fmax,sr", [(400, 64, 50.0, 8000.0, 16000), (1024, 80, 0.0, 8000.0, 22050)]
)
def test_mel_filterbank_matches_librosa(n_fft, n_mels, fmin, fmax, sr):
    ours = spectrum.mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("n", [400, 5000, 16000, 40000])
def test_trim_matches_librosa(n):
    x = _speechlike(n, seed=n)
    _, (start, end) = librosa.effects.trim(x, top_db=35.0, frame_length=400, hop_length=160)
    assert spectrum.trim_bounds(x, 35.0, 400, 160) == (start, end)
    assert np.array_equal(trim_silence(x, CONFIG), x[start:end] if end - start >= 400 else x)


def test_digital_silence_is_kept_whole_as_librosa_keeps_it():
    x = np.zeros(16000, np.float32)
    _, (start, end) = librosa.effects.trim(x, top_db=35.0, frame_length=400, hop_length=160)
    assert spectrum.trim_bounds(x, 35.0, 400, 160) == (start, end) == (0, 16000)
    assert trim_silence(x, CONFIG).size == x.size


@pytest.mark.parametrize("n", [400, 16000, 37000])
def test_mfcc_mean_matches_librosa(n):
    x = _speechlike(n, seed=1)
    theirs = librosa.feature.mfcc(
        y=x, sr=16000, n_mfcc=40, n_fft=400, win_length=400, hop_length=160, n_mels=64, fmin=50.0, fmax=8000.0
    ).mean(axis=1)
    np.testing.assert_allclose(mfcc_mean(x, CONFIG), theirs, rtol=1e-4, atol=1e-3)
