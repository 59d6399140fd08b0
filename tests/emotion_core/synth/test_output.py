"""Output stage: BS.1770 loudness, normalisation, the peak limiter, Ogg/Opus and WAV, the
waveform."""

from __future__ import annotations

import numpy as np
import pytest

from emotion_core.synth import output


def sine(freq_hz: float, amplitude: float, sample_rate: int, duration_s: float = 3.0) -> np.ndarray:
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


@pytest.mark.parametrize("sample_rate", [48000, 22050, 16000])
def test_loudness_matches_bs1770_reference(sample_rate: int) -> None:
    # BS.1770: a full-scale 997 Hz sine reads -3.01 LUFS; K-weighting adds ~0 dB at 1 kHz.
    assert output.integrated_loudness(sine(997, 1.0, sample_rate), sample_rate) == pytest.approx(
        -3.01, abs=0.05
    )
    assert output.integrated_loudness(sine(997, 0.1, sample_rate), sample_rate) == pytest.approx(
        -23.01, abs=0.05
    )


def test_k_weighting_coefficients_at_48k_are_the_standards() -> None:
    (b1, a1), (b2, a2) = output._k_weighting(48000)
    np.testing.assert_allclose(b1, [1.53512485958697, -2.69169618940638, 1.19839281085285])
    np.testing.assert_allclose(a1, [1.0, -1.69065929318241, 0.73248077421585])
    np.testing.assert_allclose(a2, [1.0, -1.99004745483398, 0.99007225036621])


def test_silence_has_no_loudness_and_unit_gain() -> None:
    silence = np.zeros(22050, dtype=np.float32)
    assert output.integrated_loudness(silence, 22050) == output.SILENCE_LUFS
    assert output.loudness_gain(silence, 22050) == 1.0
    np.testing.assert_array_equal(output.normalize(silence, 22050), silence)


def test_normalize_reaches_target_and_respects_ceiling() -> None:
    quiet = sine(220, 0.01, 22050) * np.linspace(0.2, 1.0, 3 * 22050, dtype=np.float32)
    normalized = output.normalize(quiet, 22050)
    assert output.integrated_loudness(normalized, 22050) == pytest.approx(output.TARGET_LUFS, abs=0.3)
    assert np.max(np.abs(normalized)) <= 10 ** (output.PEAK_CEILING_DBFS / 20) + 1e-6


def test_limiter_caps_peaks_and_leaves_quiet_audio_alone() -> None:
    rng = np.random.default_rng(0)
    loud = rng.standard_normal(22050).astype(np.float32)
    limited = output.limit_peaks(loud, 22050)
    ceiling = 10 ** (output.PEAK_CEILING_DBFS / 20)
    assert np.max(np.abs(limited)) <= ceiling + 1e-6
    assert np.max(np.abs(limited)) > 0.95 * ceiling  # limits, does not just turn down
    quiet = 0.1 * loud
    np.testing.assert_array_equal(output.limit_peaks(quiet, 22050), quiet)


def test_waveform_is_at_most_256_bytes_scaled_to_the_loudest_span() -> None:
    ramp = np.linspace(0, 1, 22050 * 3)
    points = output.waveform(ramp)
    assert isinstance(points, bytes) and len(points) == 256
    assert points[-1] == 255 and list(points) == sorted(points)
    assert len(output.waveform(ramp, points=32)) == 32
    assert len(output.waveform(np.ones(10))) == 10  # fewer samples than points
    assert output.waveform(np.zeros(1000), points=8) == bytes(8)


@pytest.mark.parametrize("points", [0, 257])
def test_waveform_point_count_is_checked(points: int) -> None:
    with pytest.raises(ValueError, match="points"):
        output.waveform(np.ones(1000), points=points)
