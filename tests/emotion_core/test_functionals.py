"""Utterance functionals: one finite vector per clip, named element by element, that tracks pitch
and loudness the way the recogniser relies on."""

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from emotion_core.features import FeatureConfig, mel_power
from emotion_core.functionals import (
    _median,
    _percentiles,
    _run_slopes,
    _slope,
    functional_names,
    network_input_size,
    network_inputs,
    pitch_semitones,
    prosody_columns,
    spectral_statistics,
    utterance_functionals,
    window_statistics,
    with_pitch,
)
from tests.helpers.audio import speechlike

CONFIG = FeatureConfig()


def _named(vector: np.ndarray, config: FeatureConfig = CONFIG) -> dict[str, float]:
    return dict(zip(functional_names(config), vector.tolist(), strict=True))


def test_vector_is_finite_and_named_element_by_element():
    vector = utterance_functionals(speechlike(2.0, 16000, seed=1), CONFIG)
    assert vector.shape == (len(functional_names(CONFIG)),)
    assert np.isfinite(vector).all()
    assert len(set(functional_names(CONFIG))) == vector.size


@pytest.mark.parametrize("f0_hz", [140.0, 220.0])  # and an octave below, inside F0_FLOOR_HZ
def test_pitch_median_is_in_semitones_of_the_voice(f0_hz):
    stats = _named(utterance_functionals(speechlike(2.0, 16000, seed=2, f0_hz=f0_hz), CONFIG))
    low = _named(utterance_functionals(speechlike(2.0, 16000, seed=2, f0_hz=f0_hz / 2), CONFIG))
    assert stats["voiced_fraction"] > 0.3
    # An octave is 12 semitones, whatever the reference pitch the vector is expressed against.
    assert stats["f0_median_st"] - low["f0_median_st"] == pytest.approx(12.0, abs=1.0)


def test_level_moves_band_means_but_not_the_shape_statistics():
    audio = speechlike(2.0, 16000, seed=3)
    loud, quiet = (_named(utterance_functionals(g * audio, CONFIG)) for g in (1.0, 0.1))
    assert loud["mel10_mean"] > quiet["mel10_mean"]
    for name in ("f0_median_st", "cep3_std", "active_fraction"):
        assert loud[name] == pytest.approx(quiet[name], abs=0.05 * max(1.0, abs(loud[name])))


def test_silence_and_very_short_clips_give_a_finite_vector():
    for samples in (np.zeros(16000, np.float32), speechlike(0.05, 16000)):
        assert np.isfinite(utterance_functionals(samples, CONFIG)).all()


def test_network_inputs_drop_band_means_only_when_asked():
    vectors = np.random.default_rng(0).normal(size=(3, len(functional_names(CONFIG))))
    assert network_inputs(vectors, CONFIG, True).shape[-1] == network_input_size(CONFIG, True)
    kept = network_inputs(vectors, CONFIG, False)
    assert kept.shape[-1] == network_input_size(CONFIG, False) == vectors.shape[-1] - CONFIG.n_mels
    np.testing.assert_array_equal(kept, vectors[:, CONFIG.n_mels :])


def test_the_prosody_view_keeps_loudness_pitch_rhythm_and_voice_quality_only():
    names = functional_names(CONFIG)
    vectors = np.random.default_rng(0).normal(size=(3, len(names)))
    for band_means in (True, False):
        kept = network_inputs(vectors, CONFIG, band_means, prosody=True)
        assert kept.shape[-1] == network_input_size(CONFIG, band_means, prosody=True)
    chosen = [names[i] for i in prosody_columns(CONFIG)]
    np.testing.assert_array_equal(kept, vectors[:, prosody_columns(CONFIG)])
    assert not [name for name in chosen if name.startswith(("mel", "cep", "voiced_cep", "unvoiced_cep"))]
    for name in ("loudness_std", "f0_median_st", "f0_jitter_st", "voiced_segments_per_s", "hammarberg_mean"):
        assert name in chosen


VOICING = FeatureConfig(voicing=True)


def _voicing_named(audio: np.ndarray) -> dict[str, float]:
    return _named(utterance_functionals(audio, VOICING), VOICING)


def _tone_bursts(bursts_s: float, gap_s: float, count: int, sample_rate: int = 16000) -> np.ndarray:
    """``count`` harmonic bursts (150 Hz, 20 harmonics at -6 dB/octave) of ``bursts_s`` seconds with
    silences of ``gap_s`` between them: syllables whose timing is known exactly."""
    t = np.arange(int(bursts_s * sample_rate)) / sample_rate
    burst = sum(np.sin(2 * np.pi * 150.0 * k * t) / k for k in range(1, 21)) * np.hanning(t.size) ** 0.25
    gap = np.zeros(int(gap_s * sample_rate))
    parts = [burst if i % 2 == 0 else gap for i in range(2 * count - 1)]
    return (0.3 * np.concatenate(parts) / np.abs(burst).max()).astype(np.float32)


def test_voicing_statistics_extend_the_vector_only_when_asked():
    without = FeatureConfig(voicing=False, modulation=False)
    with_voicing = FeatureConfig(voicing=True, modulation=False)
    plain = utterance_functionals(speechlike(2.0, 16000, seed=4), without)
    extended = utterance_functionals(speechlike(2.0, 16000, seed=4), with_voicing)
    assert len(functional_names(with_voicing)) == len(functional_names(without)) + 31 == extended.size
    np.testing.assert_array_equal(extended[: plain.size], plain)  # appended, the rest unchanged
    assert np.isfinite(extended).all()


def test_voicing_statistics_measure_the_rhythm_of_voiced_segments():
    stats = _voicing_named(_tone_bursts(0.3, 0.2, 4))
    assert stats["voiced_segment_mean_s"] == pytest.approx(0.3, abs=0.06)
    assert stats["unvoiced_segment_mean_s"] == pytest.approx(0.2, abs=0.06)
    assert stats["voiced_segments_per_s"] == pytest.approx(4 / 1.8, rel=0.15)
    assert abs(stats["f0_rise_st_per_s"]) < 0.5 and abs(stats["f0_fall_st_per_s"]) < 0.5  # steady pitch


def test_voicing_statistics_hear_vocal_effort_in_the_voiced_spectrum():
    """A brighter voice (more energy at 1-5 kHz) has a lower alpha ratio and Hammarberg index."""
    audio = _tone_bursts(0.3, 0.2, 4)
    brighter = audio + 2.0 * sosfilt(butter(2, 1000, "highpass", fs=16000, output="sos"), audio)
    dull, bright = (_voicing_named(x.astype(np.float32)) for x in (audio, brighter))
    assert bright["alpha_ratio_mean"] < dull["alpha_ratio_mean"] - 3.0
    assert bright["hammarberg_mean"] < dull["hammarberg_mean"] - 3.0


def test_voiced_run_slopes_are_each_runs_least_squares_slope():
    contour = np.random.default_rng(0).normal(size=3000).cumsum() + 40.0
    runs = [(0, 5), (10, 200), (300, 302), (2500, 2999)]
    expected = [_slope(contour[a:b], 100.0) for a, b in runs]
    np.testing.assert_allclose(_run_slopes(contour, runs, 100.0), expected, rtol=1e-6, atol=1e-6)


MODULATION = FeatureConfig(modulation=True)
PLAIN = FeatureConfig(modulation=False)


@pytest.mark.parametrize(("rate_hz", "band"), [(1.5, "0.5_2"), (3.0, "2_4"), (6.0, "4_8"), (12.0, "8_16")])
def test_modulation_statistics_find_how_fast_loudness_pulses(rate_hz, band):
    t = np.arange(32000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 150 * t) * (1 + 0.9 * np.sin(2 * np.pi * rate_hz * t))).astype(
        np.float32
    )
    stats = _named(utterance_functionals(audio, MODULATION), MODULATION)
    assert stats[f"loudness_mod_{band}hz"] > 0.8
    assert stats["loudness_mod_centroid_hz"] == pytest.approx(rate_hz, rel=0.2)


def test_modulation_statistics_extend_the_vector_only_when_asked_and_survive_short_clips():
    plain = utterance_functionals(speechlike(2.0, 16000, seed=5), PLAIN)
    extended = utterance_functionals(speechlike(2.0, 16000, seed=5), MODULATION)
    assert extended.size == plain.size + 5 == len(functional_names(MODULATION))
    np.testing.assert_array_equal(extended[: plain.size], plain)
    short = utterance_functionals(speechlike(0.2, 16000), MODULATION)
    np.testing.assert_array_equal(short[-5:], 0.0)  # no full cycle of the slowest band: no claim
    assert "loudness_mod_centroid_hz" in [
        functional_names(MODULATION)[i] for i in prosody_columns(MODULATION)
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_percentiles_of_sorted_values_are_numpys_bit_for_bit(dtype):
    """The functionals take percentiles from one sort (numpy's routine is ten times slower on a
    window's frames); a shipped model's features must not move by a single bit for it."""
    rng = np.random.default_rng(0)
    for size in [1, 2, 3, 4, 5, 10, 99, 100, 301, 1000]:
        for _ in range(20):
            values = (rng.normal(size=size) * 20.0 + 40.0).astype(dtype)
            ordered = np.sort(values)
            for percents in ([5, 95], [10, 50, 90], [0, 100]):
                ours, theirs = _percentiles(ordered, percents), np.percentile(values, percents)
                assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
            assert _median(ordered) == np.median(values)


def test_a_long_clips_windows_are_heard_as_their_slices_alone_bit_for_bit():
    """Serving takes a timeline's windows together (one stack of them); each window's statistics
    must be exactly those of its own frames taken alone, silence and digital zeros included."""
    config = FeatureConfig(voicing=True, modulation=True)
    rng = np.random.default_rng(4)
    noise = 0.01 * rng.normal(size=8000).astype(np.float32)
    silence = np.zeros(16000, np.float32)
    samples = np.concatenate([speechlike(4.0, 16000, seed=4), silence, noise, speechlike(5.0, 16000, seed=5)])
    power, semitones = mel_power(samples, config), pitch_semitones(samples, config)
    frames, firsts = 301, [0, 150, 300, 450, 600, 700]
    for first, window in zip(firsts, window_statistics(power, firsts, frames, config), strict=True):
        alone = spectral_statistics(power[first : first + frames], config)
        for name in ("mel", "delta", "ceps", "loudness", "active", "head", "modulation"):
            assert np.array_equal(getattr(window, name), getattr(alone, name)), name
        track = semitones[first : first + frames]
        assert np.array_equal(with_pitch(window, track, config), with_pitch(alone, track, config))
