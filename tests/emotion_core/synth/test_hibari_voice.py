"""The default offline voice: Hibari's bundled neural voice, with eSpeak NG as the fallback."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from emotion_core.errors import SynthesisError
from emotion_core.labels import Emotion
from emotion_core.synth.hibari_voice import HibariVoice
from emotion_core.synth.pipeline import Synthesizer
from emotion_core.synth.prosody import EMOTION_RULES, ProsodyRule
from emotion_core.synth.prosody_measures import SHAPE_BANDS_HZ, measure


def test_hibari_speaks_neutral_24_khz_audio_the_same_every_time() -> None:
    voice = HibariVoice()
    samples, rate = voice.synthesize("The meeting starts at nine tomorrow morning.")
    assert rate == 24000 and samples.dtype == np.float32 and 1.0 < samples.size / rate < 6.0
    assert np.abs(samples).max() <= 1.0 and np.sqrt(np.mean(samples**2)) > 0.01
    again, _ = voice.synthesize("The meeting starts at nine tomorrow morning.")
    np.testing.assert_array_equal(samples, again)  # seeded: the same text sounds the same


def test_without_tacotron2_the_automatic_voice_is_hibari_with_every_emotion(tmp_path: Path) -> None:
    synth = Synthesizer.from_pretrained(tmp_path)  # no checkpoints here
    assert synth.voice_name.startswith("Hibari") and synth.native_prosody
    assert not Synthesizer.from_pretrained(tmp_path, native_prosody=False).native_prosody  # --world
    for emotion in (Emotion.NEUTRAL, Emotion.ANGRY, Emotion.SAD):
        speech = synth.speak("We have been waiting here for over an hour.", emotion, intensity=0.8)
        assert speech.voice.startswith("Hibari") and speech.duration_s > 1.0


def test_where_hibari_cannot_run_the_automatic_voice_is_espeak(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "hibari", None)  # as if the package were not installed
    synth = Synthesizer.from_pretrained(tmp_path)
    assert synth.voice_name.startswith("eSpeak NG")
    assert "the Hibari voice cannot run here" in caplog.text
    with pytest.raises(SynthesisError, match="Hibari voice cannot run here"):
        Synthesizer.from_pretrained(tmp_path, voice="hibari")


TEXT = "We have been waiting here for over an hour."


@pytest.fixture(scope="module")
def voice() -> HibariVoice:
    return HibariVoice()


def _rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64))))


def _cepstral_peak_prominence(x: np.ndarray, rate: int) -> float:
    """Mean CPP (dB) of the louder 40 % of 40 ms frames: how far the pitch peak of the cepstrum
    stands above its trend, the usual clinical measure of breathiness (lower is breathier)."""
    frame, hop = int(0.04 * rate), int(0.01 * rate)
    frames = np.lib.stride_tricks.sliding_window_view(x, frame)[::hop] * np.hanning(frame)
    energy = np.sum(frames**2, axis=1)
    spectra = 20 * np.log10(np.abs(np.fft.rfft(frames[energy > np.percentile(energy, 60)], 2 * frame)) + 1e-9)
    cepstra = np.abs(np.fft.irfft(spectra))[:, :frame]
    quefrency = np.arange(frame) / rate
    pitch = (quefrency > 1 / 400) & (quefrency < 1 / 70)
    prominence = []
    for c in cepstra[:, pitch]:
        trend = np.polyval(np.polyfit(quefrency[pitch], c, 1), quefrency[pitch])
        peak = int(np.argmax(c))
        prominence.append(c[peak] - trend[peak])
    return float(np.mean(prominence))


def test_hibari_renders_a_rule_inside_the_voice(voice: HibariVoice) -> None:
    neutral, rate = voice.synthesize(TEXT)
    same, _ = voice.synthesize_with(TEXT, None)
    np.testing.assert_array_equal(neutral, same)  # no rule: exactly the voice's own reading
    base = measure(neutral, rate)
    higher = measure(voice.synthesize_with(TEXT, ProsodyRule(f0_shift_st=5.0))[0], rate)
    assert higher.f0_median_st - base.f0_median_st == pytest.approx(5.0, abs=1.0)
    flatter = measure(voice.synthesize_with(TEXT, ProsodyRule(f0_range_scale=0.5))[0], rate)
    assert flatter.f0_range_st / base.f0_range_st == pytest.approx(0.5, abs=0.15)
    louder, _ = voice.synthesize_with(TEXT, ProsodyRule(energy_db=6.0))
    unchanged, _ = voice.synthesize_with(TEXT, ProsodyRule())
    assert _rms_db(louder) - _rms_db(unchanged) == pytest.approx(6.0, abs=0.01)


@pytest.mark.parametrize("wanted", [0.8, 1.1])
def test_hibari_speaking_rate_comes_from_its_duration_model_at_a_calibrated_speed(
    voice: HibariVoice, wanted: float
) -> None:
    """Durations are whole frames and the model's speed moves them in steps, so one sentence lands
    within about 10 % of the rate and the median over sentences within about 5 %."""
    texts = (TEXT, "Please put the books back on the shelf.", "I will call you when I get home.")
    ratios = [
        voice.synthesize(text)[0].size / voice.synthesize_with(text, ProsodyRule(rate=wanted))[0].size
        for text in texts
    ]
    assert all(ratio == pytest.approx(wanted, rel=0.1) for ratio in ratios)
    assert np.median(ratios) == pytest.approx(wanted, rel=0.06)


def test_hibari_applies_spectral_change_and_breathiness_to_its_envelopes(voice: HibariVoice) -> None:
    neutral, rate = voice.synthesize(TEXT)
    bright = ProsodyRule(spectrum_db=tuple(6.0 if f >= 2000 else 0.0 for f in SHAPE_BANDS_HZ))
    brighter, _ = voice.synthesize_with(TEXT, bright)
    high_share = [
        _rms_db(x - np.convolve(x, np.ones(8) / 8, "same")) - _rms_db(x) for x in (neutral, brighter)
    ]
    assert high_share[1] - high_share[0] > 2.0  # more of the power above ~2 kHz
    breathy, _ = voice.synthesize_with(TEXT, ProsodyRule(breathiness=0.8))
    assert _cepstral_peak_prominence(breathy, rate) < 0.8 * _cepstral_peak_prominence(neutral, rate)
    assert _rms_db(breathy) == pytest.approx(_rms_db(neutral), abs=1.5)  # power moved, not added


def test_synthesizer_lets_hibari_render_and_can_send_it_through_world(voice: HibariVoice) -> None:
    native, world = Synthesizer(voice), Synthesizer(voice, native_prosody=False)
    assert native.native_prosody and not world.native_prosody
    neutral = native.speak(TEXT)
    np.testing.assert_array_equal(neutral.samples, native.speak(TEXT).samples)
    for synth in (native, world):
        sad = synth.speak(TEXT, Emotion.SAD, intensity=1.0)
        ratio = neutral.duration_s / sad.duration_s
        assert ratio == pytest.approx(EMOTION_RULES[Emotion.SAD].rate, rel=0.1)
    assert not np.array_equal(
        native.speak(TEXT, Emotion.SAD, intensity=1.0).samples[:1000],
        world.speak(TEXT, Emotion.SAD, intensity=1.0).samples[:1000],
    )
