"""Community statistics: exact running mean and variance that then follow a changing community, stored
as bytes and refused when foreign; the training corpora's reference, saved with a model."""

import numpy as np
import pytest

from emotion_core.community import (
    MEMORY,
    MIN_MESSAGES,
    REFERENCE_FILE,
    CommunityVoice,
    Reference,
    align,
)


def test_mean_and_variance_are_exact_until_the_memory_then_follow_the_community():
    rng = np.random.default_rng(0)
    vectors = rng.normal(2.0, 3.0, size=(500, 4)).astype(np.float32)
    stats = CommunityVoice.first(vectors[0])
    for v in vectors[1:]:
        stats = stats.updated(v)
    np.testing.assert_allclose(stats.mean, vectors.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(stats.var, vectors.var(axis=0), rtol=1e-3)
    for _ in range(5 * MEMORY):  # everybody moves to one new, steady voice
        stats = stats.updated(np.full(4, -1.0, np.float32))
    np.testing.assert_allclose(stats.mean, -1.0, atol=0.05)
    assert (stats.var < 0.1).all()
    assert stats.count == 500 + 5 * MEMORY


def test_ready_after_enough_clips_and_bytes_round_trip():
    stats = CommunityVoice.first(np.zeros(3, np.float32))
    for _ in range(MIN_MESSAGES - 2):
        stats = stats.updated(np.ones(3, np.float32))
    assert not stats.ready and stats.updated(np.zeros(3, np.float32)).ready
    again = CommunityVoice.from_bytes(stats.count, stats.to_bytes(), 3)
    np.testing.assert_array_equal(again.mean, stats.mean)
    np.testing.assert_array_equal(again.var, stats.var)
    negative_variance = np.array([0.0, -1.0], "<f4").tobytes()
    for count, data, n in ((5, stats.to_bytes(), 4), (0, stats.to_bytes(), 3), (5, negative_variance, 1)):
        with pytest.raises(ValueError):
            CommunityVoice.from_bytes(count, data, n)
    with pytest.raises(ValueError):
        stats.updated(np.zeros(5, np.float32))


def test_reference_weighs_every_corpus_once_and_alignment_maps_a_community_onto_it(tmp_path):
    rng = np.random.default_rng(1)
    big = rng.normal(0.0, 1.0, size=(900, 2))
    small = rng.normal(10.0, 3.0, size=(100, 2))
    reference = Reference.of(np.concatenate([big, small]), ["A"] * 900 + ["B"] * 100)
    np.testing.assert_allclose(reference.mean, 5.0, atol=0.3)  # not 1.0, as pooling the clips would give
    np.testing.assert_allclose(reference.std, 2.0, atol=0.2)

    community = rng.normal(-4.0, 0.5, size=(1000, 2)).astype(np.float32)
    moved = align(community, community.mean(axis=0), community.std(axis=0), reference)
    np.testing.assert_allclose(moved.mean(axis=0), reference.mean, atol=1e-3)
    np.testing.assert_allclose(moved.std(axis=0), reference.std, atol=1e-3)

    reference.save(tmp_path)
    loaded = Reference.load(tmp_path, 2)
    assert loaded is not None
    np.testing.assert_allclose(loaded.mean, reference.mean)
    assert Reference.load(tmp_path / "elsewhere", 2) is None
    with pytest.raises(ValueError, match="does not fit"):
        Reference.load(tmp_path, 3)
    (tmp_path / REFERENCE_FILE).write_text('{"mean": [1, NaN], "std": [1, 1]}')
    with pytest.raises(ValueError):
        Reference.load(tmp_path, 2)
