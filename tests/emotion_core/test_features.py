"""Features: shapes, gain independence, silence trimming, and one config for both feature kinds."""

from dataclasses import replace

import numpy as np
import pytest

from emotion_core.features import FeatureConfig, log_mel, mfcc_mean, trim_silence
from tests.helpers.audio import speechlike

CONFIG = FeatureConfig()


def test_log_mel_shape_is_frames_by_mels():
    samples = speechlike(2.0, CONFIG.sample_rate)
    feats = log_mel(samples, CONFIG)
    assert feats.dtype == np.float32
    assert feats.shape == (2 * int(CONFIG.frame_rate) + 1, CONFIG.n_mels)
    assert np.isfinite(feats).all()


def test_log_mel_ignores_recording_gain():
    samples = speechlike(1.5, CONFIG.sample_rate)
    assert np.allclose(log_mel(samples, CONFIG), log_mel(0.05 * samples, CONFIG), atol=1e-3)


def test_mfcc_mean_is_one_vector_per_clip():
    assert mfcc_mean(speechlike(1.0), CONFIG).shape == (CONFIG.n_mfcc,)


def test_silence_is_finite():
    assert np.isfinite(log_mel(np.zeros(8000, np.float32), CONFIG)).all()


def test_trim_cuts_leading_and_trailing_silence():
    speech = speechlike(1.0, CONFIG.sample_rate)
    padded = np.concatenate([np.zeros(16000, np.float32), speech, np.zeros(16000, np.float32)])
    trimmed = trim_silence(padded, CONFIG)
    assert trimmed.size < speech.size + 0.1 * CONFIG.sample_rate
    assert trim_silence(np.zeros(16000, np.float32), CONFIG).size == 16000  # nothing to keep


@pytest.mark.parametrize("field", ["n_mels", "hop_length"])
def test_config_changes_features(field):
    changed = replace(CONFIG, **{field: getattr(CONFIG, field) * 2})
    assert log_mel(speechlike(1.0), changed).shape != log_mel(speechlike(1.0), CONFIG).shape
