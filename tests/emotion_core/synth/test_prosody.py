"""Emotion rendering: the rule table, intensity interpolation, and measured effects on real output.

F0 is measured on the rendered audio with WORLD's DIO + StoneMask (median and the 10th-90th
percentile spread, in semitones); duration from the sample count; level as RMS. WORLD turns a pure
sine into noise, so signals are harmonic: a synthetic glide, or eSpeak NG speech.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from emotion_core.labels import Emotion
from emotion_core.synth.actor_prosody import CARD_PATH, ActorProsody
from emotion_core.synth.espeak import EspeakVoice
from emotion_core.synth.prosody import (
    CONTRAST_QUARTILES,
    EMOTION_RULES,
    MAX_SHIFT_ST,
    NEUTRAL_RULE,
    NORMAL_RULES,
    RANGE_LIMITS,
    RATE_LIMITS,
    ProsodyRenderer,
    ProsodyRule,
    RenderOptions,
)
from emotion_core.synth.prosody_measures import SHAPE_BANDS_HZ

SAMPLE_RATE = 22050
LITERATURE = ("Murray & Arnott 1993", "Scherer 2003", "Banse & Scherer 1996", "Cahn 1990")


def harmonic_glide(duration_s: float = 2.0, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A voiced-like signal: 20 harmonics at -6 dB/octave, F0 gliding 110 -> 150 -> 100 Hz."""
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    f0 = np.interp(t, [0, duration_s / 2, duration_s], [110.0, 150.0, 100.0])
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    x = sum(np.sin(k * phase) / k for k in range(1, 21))
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def measure(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> dict[str, float]:
    """F0 median and 10-90 % range (semitones re 1 Hz), duration (s) and RMS level (dBFS)."""
    import pyworld

    x = samples.astype(np.float64)
    f0, t = pyworld.dio(x, sample_rate, 50.0, 1000.0, 5.0)
    f0 = pyworld.stonemask(x, f0, t, sample_rate)
    st = 12 * np.log2(f0[f0 > 0])
    return {
        "f0_median_st": float(np.median(st)),
        "f0_range_st": float(np.percentile(st, 90) - np.percentile(st, 10)),
        "duration_s": x.size / sample_rate,
        "level_db": float(20 * np.log10(np.sqrt(np.mean(x**2)))),
    }


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    samples, sample_rate = EspeakVoice().synthesize(
        "The quick brown fox jumps over the lazy dog, and runs away."
    )
    assert sample_rate == SAMPLE_RATE
    return samples


@pytest.fixture(scope="module")
def renderer() -> ProsodyRenderer:
    return ProsodyRenderer()


def test_table_covers_every_emotion_with_a_source() -> None:
    assert set(EMOTION_RULES) == set(Emotion)
    assert EMOTION_RULES[Emotion.NEUTRAL] == ProsodyRule()
    for emotion, rule in EMOTION_RULES.items():
        if emotion is not Emotion.NEUTRAL:
            assert rule != ProsodyRule()
            assert any(ref in rule.source for ref in LITERATURE), emotion


@pytest.mark.parametrize("emotion", list(Emotion))
def test_intensity_interpolates_from_neutral(emotion: Emotion) -> None:
    rule = EMOTION_RULES[emotion]
    assert rule.at_intensity(0.0) == ProsodyRule()
    assert rule.at_intensity(1.0) == rule
    half = rule.at_intensity(0.5)
    assert half.f0_shift_st == pytest.approx(rule.f0_shift_st / 2)
    assert half.energy_db == pytest.approx(rule.energy_db / 2)
    assert half.rate == pytest.approx(math.sqrt(rule.rate))  # geometric for factors
    assert half.f0_range_scale == pytest.approx(math.sqrt(rule.f0_range_scale))


@pytest.mark.parametrize("intensity", [-0.1, 1.01, float("nan"), "high"])
def test_intensity_outside_unit_interval_is_refused(intensity: object) -> None:
    with pytest.raises(ValueError, match="intensity"):
        EMOTION_RULES[Emotion.HAPPY].at_intensity(intensity)  # type: ignore[arg-type]


def test_invalid_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        ProsodyRule(rate=0.0)
    with pytest.raises(ValueError):
        ProsodyRule(breathiness=1.5)
    with pytest.raises(ValueError, match="No prosody rule"):
        ProsodyRenderer({Emotion.NEUTRAL: NEUTRAL_RULE})


def test_neutral_takes_the_same_path_and_keeps_the_voice(renderer: ProsodyRenderer) -> None:
    """Neutral is resynthesised by WORLD like every emotion (so no class alone lacks its colouring),
    with pitch, length and level left where the voice put them."""
    x = harmonic_glide()
    before = measure(x)
    for rendered in (
        renderer.render(x, SAMPLE_RATE, Emotion.NEUTRAL),
        renderer.render(x, SAMPLE_RATE, Emotion.ANGRY, intensity=0),
    ):
        assert not np.array_equal(rendered, x)  # resynthesised, not passed through
        after = measure(rendered)
        assert after["f0_median_st"] == pytest.approx(before["f0_median_st"], abs=0.3)
        assert after["duration_s"] == pytest.approx(before["duration_s"], rel=0.02)
        assert after["level_db"] == pytest.approx(before["level_db"], abs=1.0)


def test_each_parameter_does_what_it_says_on_a_harmonic_signal(renderer: ProsodyRenderer) -> None:
    x = harmonic_glide()
    before = measure(x)
    octave_up = measure(renderer.apply(x, SAMPLE_RATE, ProsodyRule(f0_shift_st=12.0)))
    assert octave_up["f0_median_st"] - before["f0_median_st"] == pytest.approx(12.0, abs=0.3)
    flatter = measure(renderer.apply(x, SAMPLE_RATE, ProsodyRule(f0_range_scale=0.5)))
    assert flatter["f0_range_st"] / before["f0_range_st"] == pytest.approx(0.5, abs=0.1)
    faster = measure(renderer.apply(x, SAMPLE_RATE, ProsodyRule(rate=1.25)))
    assert faster["duration_s"] == pytest.approx(before["duration_s"] / 1.25, rel=0.02)
    assert faster["f0_median_st"] == pytest.approx(before["f0_median_st"], abs=0.3)
    louder = measure(renderer.apply(x, SAMPLE_RATE, ProsodyRule(energy_db=6.0)))
    assert louder["level_db"] - before["level_db"] == pytest.approx(6.0, abs=1.0)


def _high_band_share(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE)
    return float(spectrum[freqs > 2000].sum() / spectrum.sum())


def test_voice_quality_moves_high_frequency_energy(renderer: ProsodyRenderer) -> None:
    x = harmonic_glide()
    dull = renderer.apply(x, SAMPLE_RATE, ProsodyRule(tilt_db_per_octave=-6.0))
    bright = renderer.apply(x, SAMPLE_RATE, ProsodyRule(tilt_db_per_octave=6.0))
    breathy = renderer.apply(x, SAMPLE_RATE, ProsodyRule(breathiness=0.8))
    assert _high_band_share(dull) < _high_band_share(x) < _high_band_share(bright)
    assert _high_band_share(breathy) > _high_band_share(x)


def test_a_spectral_change_moves_energy_band_by_band(renderer: ProsodyRenderer) -> None:
    """The actors' anger adds energy at 1-4 kHz relative to the rest: a rule that raises those bands
    by 6 dB brightens the voice, and the band edges are where the rule puts them."""
    x = harmonic_glide()
    effort = ProsodyRule(
        spectrum_db=tuple(np.where((SHAPE_BANDS_HZ >= 1000) & (SHAPE_BANDS_HZ <= 4000), 6.0, 0.0))
    )
    louder_mid = renderer.apply(x, SAMPLE_RATE, effort)
    plain = renderer.apply(x, SAMPLE_RATE, ProsodyRule())
    assert _high_band_share(louder_mid) > 1.5 * _high_band_share(plain)
    with pytest.raises(ValueError, match="bands"):
        ProsodyRule(spectrum_db=(1.0, 2.0))


def test_spectral_change_interpolates_with_intensity() -> None:
    rule = EMOTION_RULES[Emotion.ANGRY]
    assert rule.spectrum_db
    assert rule.at_intensity(0.0).spectrum_db == ()
    half = np.asarray(rule.at_intensity(0.5).spectrum_db)
    np.testing.assert_allclose(half, np.asarray(rule.spectrum_db) / 2, atol=1e-9)


def test_jitter_is_reproducible(renderer: ProsodyRenderer) -> None:
    x = harmonic_glide(1.0)
    rule = ProsodyRule(jitter=0.05)
    np.testing.assert_array_equal(renderer.apply(x, SAMPLE_RATE, rule), renderer.apply(x, SAMPLE_RATE, rule))
    other_seed = ProsodyRenderer(options=RenderOptions(seed=1)).apply(x, SAMPLE_RATE, rule)
    assert not np.array_equal(other_seed, renderer.apply(x, SAMPLE_RATE, rule))


def _direction(value: float, neutral: float) -> int:
    return 0 if value == neutral else (1 if value > neutral else -1)


@pytest.mark.parametrize("emotion", [e for e in Emotion if e is not Emotion.NEUTRAL])
def test_emotion_moves_speech_in_the_documented_direction(
    speech: np.ndarray, renderer: ProsodyRenderer, emotion: Emotion
) -> None:
    """On eSpeak NG speech, each emotion moves F0 median, F0 range, duration and level as its rule
    (and the literature behind it) says, by a clearly measurable amount."""
    rule = EMOTION_RULES[emotion]
    before = measure(speech)
    after = measure(renderer.render(speech, SAMPLE_RATE, emotion, intensity=1.0))

    shift = after["f0_median_st"] - before["f0_median_st"]
    assert shift == pytest.approx(rule.f0_shift_st, abs=0.75)
    assert abs(shift) >= 1.5  # every emotion changes pitch level audibly

    range_ratio = after["f0_range_st"] / before["f0_range_st"]
    if abs(math.log(rule.f0_range_scale)) >= 0.2:  # smaller changes drown in the noise of a shifted voice
        assert _direction(rule.f0_range_scale, 1.0) == _direction(range_ratio, 1.0)

    duration_ratio = after["duration_s"] / before["duration_s"]
    assert duration_ratio == pytest.approx(1 / rule.rate, rel=0.02)

    if rule.energy_db:
        level_change = after["level_db"] - before["level_db"]
        assert _direction(rule.energy_db, 0.0) == _direction(level_change, 0.0)


def test_stronger_intensity_moves_further(speech: np.ndarray, renderer: ProsodyRenderer) -> None:
    """Actors' anger: higher and slower when normal, more so when strong."""
    neutral = measure(speech)
    mild = measure(renderer.render(speech, SAMPLE_RATE, Emotion.ANGRY, intensity=0.3))
    strong = measure(renderer.render(speech, SAMPLE_RATE, Emotion.ANGRY, intensity=1.0))
    assert strong["f0_median_st"] > mild["f0_median_st"] > neutral["f0_median_st"]
    assert strong["duration_s"] > mild["duration_s"] > neutral["duration_s"]


def test_rules_are_the_actors_medians_within_worlds_limits() -> None:
    """Medians, but for the quartiles that keep strong fear apart from strong anger."""
    actors = ActorProsody.load()
    for intensity, table in (("strong", EMOTION_RULES), ("normal", NORMAL_RULES)):
        for emotion in Emotion:
            if emotion is Emotion.NEUTRAL:
                continue
            rule = table[emotion]
            shift = actors.spread(emotion, intensity, "f0_shift_st")
            if abs(shift.median) <= MAX_SHIFT_ST:
                assert rule.f0_shift_st == pytest.approx(shift.median)
            else:  # held at the limit, or at the actors' quartile nearest neutral if that is further
                assert shift.contains(rule.f0_shift_st) or abs(rule.f0_shift_st) == MAX_SHIFT_ST
                assert abs(rule.f0_shift_st) == pytest.approx(max(MAX_SHIFT_ST, shift.q25, -shift.q75))
            contrast = CONTRAST_QUARTILES.get((emotion, intensity), {})
            for quantity, limits in (("rate", RATE_LIMITS), ("f0_range_scale", RANGE_LIMITS)):
                spread = actors.spread(emotion, intensity, quantity)
                target = getattr(spread, contrast.get(quantity, "median"))
                assert getattr(rule, quantity) == pytest.approx(max(limits[0], min(limits[1], target)))
                assert spread.contains(getattr(rule, quantity))
            # the spectral shape carries the actors' tilt, so the tilt rule is off where it is used
            assert rule.spectrum_db == actors.spectrum(emotion, intensity)
            assert rule.tilt_db_per_octave == 0.0
            assert "actors" in rule.source and "RAVDESS" in rule.source


def test_intensity_runs_through_the_actors_normal_to_their_strong(renderer: ProsodyRenderer) -> None:
    for emotion in Emotion:
        assert renderer.rule(emotion, 0.0) == ProsodyRule()
        assert renderer.rule(emotion, 0.5) == NORMAL_RULES[emotion]
        assert renderer.rule(emotion, 1.0) == EMOTION_RULES[emotion]
    normal, strong = NORMAL_RULES[Emotion.ANGRY], EMOTION_RULES[Emotion.ANGRY]
    three_quarters = renderer.rule(Emotion.ANGRY, 0.75)
    assert three_quarters.f0_shift_st == pytest.approx((normal.f0_shift_st + strong.f0_shift_st) / 2)
    assert three_quarters.rate == pytest.approx(math.sqrt(normal.rate * strong.rate))


def test_the_shipped_card_describes_the_shipped_table() -> None:
    """The card is written from the table; a table re-learned without its card would leave it stale."""
    assert CARD_PATH.read_text() == ActorProsody.load().card()


def test_the_actor_table_round_trips(tmp_path) -> None:
    actors = ActorProsody.load()
    actors.save(tmp_path / "table.json")
    assert ActorProsody.load(tmp_path / "table.json") == actors
    spread = actors.spread(Emotion.SAD, "normal", "rate")
    assert spread.q25 <= spread.median <= spread.q75 and spread.speakers >= 20
