"""Voice profiles: a running mean that follows a voice, stored as bytes, and refused when foreign."""

import numpy as np
import pytest

from emotion_core.profile import MEMORY, MIN_MESSAGES, VoiceProfile


def test_the_mean_is_exact_until_the_memory_then_follows_the_voice():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(MEMORY, 6)).astype(np.float32)
    profile = VoiceProfile.first(vectors[0])
    for v in vectors[1:]:
        profile = profile.updated(v)
    np.testing.assert_allclose(profile.mean, vectors.mean(axis=0), atol=1e-5)
    for _ in range(5 * MEMORY):  # a new microphone: the profile moves to it
        profile = profile.updated(np.full(6, 3.0, np.float32))
    np.testing.assert_allclose(profile.mean, 3.0, atol=0.05)  # (1 - 1/MEMORY) ** 250 of the old mean left
    assert profile.count == 6 * MEMORY


def test_ready_after_enough_messages():
    profile = VoiceProfile.first(np.zeros(3, np.float32))
    for _ in range(MIN_MESSAGES - 2):
        profile = profile.updated(np.zeros(3, np.float32))
    assert not profile.ready
    assert profile.updated(np.zeros(3, np.float32)).ready


def test_bytes_round_trip_and_foreign_profiles_are_refused():
    profile = VoiceProfile(12, np.arange(5, dtype=np.float32))
    again = VoiceProfile.from_bytes(12, profile.to_bytes(), 5)
    assert again.count == 12
    np.testing.assert_array_equal(again.mean, profile.mean)
    for count, data, n in (
        (12, profile.to_bytes(), 6),
        (0, profile.to_bytes(), 5),
        (3, b"\x00\x00\xc0\x7f", 1),
    ):
        with pytest.raises(ValueError):
            VoiceProfile.from_bytes(count, data, n)
    with pytest.raises(ValueError):
        profile.updated(np.zeros(4, np.float32))
