"""The synthesis pipeline: offline fallback, the Speech result, text checks, loudness, thread
safety."""

from __future__ import annotations

import dataclasses
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emotion_core import hub
from emotion_core.errors import CheckpointError, TextError
from emotion_core.labels import Emotion
from emotion_core.synth import output
from emotion_core.synth.pipeline import Speech, Synthesizer
from emotion_core.synth.prosody import EMOTION_RULES
from emotion_core.synth.request import MAX_TEXT_CHARS, clean_text

CEILING = 10 ** (output.PEAK_CEILING_DBFS / 20)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    """``auto`` with an empty models folder: no Tacotron 2 weights, so the offline (Hibari) voice."""
    return Synthesizer.from_pretrained(tmp_path_factory.mktemp("models"))


def test_falls_back_to_the_offline_voice_and_says_so(synth: Synthesizer) -> None:
    speech = synth.speak("Hello, I am MoodBot.", Emotion.HAPPY, intensity=0.7)
    assert speech.voice == synth.voice_name == "Hibari heart (offline voice, neural)"
    assert speech.emotion is Emotion.HAPPY and speech.intensity == 0.7
    assert speech.text == "Hello, I am MoodBot."
    assert speech.sample_rate == 24000
    assert 0.8 < speech.duration_s < 3.0
    assert speech.samples.dtype == np.float32


def test_explicit_tacotron2_without_weights_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="moodbot models download tacotron2"):
        Synthesizer.from_pretrained(tmp_path, voice="tacotron2")


def test_unloadable_weights_fall_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = hub.path_of("tacotron2", models_dir=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    with caplog.at_level(logging.WARNING, logger="emotion_core.synth.pipeline"):
        synth = Synthesizer.from_pretrained(tmp_path, vocoder="griffinlim")
    assert "offline voice" in synth.voice_name
    assert "Using the offline voice" in caplog.text


def test_neutral_speech_is_loudness_normalized(synth: Synthesizer) -> None:
    speech = synth.speak("The quick brown fox jumps over the lazy dog.")
    loudness = output.integrated_loudness(speech.samples, speech.sample_rate)
    assert loudness == pytest.approx(output.TARGET_LUFS, abs=0.5)
    assert np.max(np.abs(speech.samples)) <= CEILING + 1e-6


def test_emotion_energy_survives_normalization(synth: Synthesizer) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    angry = synth.speak(text, Emotion.ANGRY, intensity=1.0)
    sad = synth.speak(text, Emotion.SAD, intensity=1.0)
    angry_lufs = output.integrated_loudness(angry.samples, angry.sample_rate)
    sad_lufs = output.integrated_loudness(sad.samples, sad.sample_rate)
    assert angry_lufs - sad_lufs > 5.0
    assert np.max(np.abs(angry.samples)) <= CEILING + 1e-6
    assert sad.duration_s > angry.duration_s


def test_speech_is_immutable(synth: Synthesizer) -> None:
    speech = synth.speak("Hi.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        speech.text = "changed"  # type: ignore[misc]
    with pytest.raises(ValueError):
        speech.samples[0] = 1.0


def test_to_ogg_is_opus_48k_mono_that_decodes_back(synth: Synthesizer) -> None:
    speech = synth.speak("Good morning everyone.", Emotion.SURPRISED)
    data = speech.to_ogg()
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("OGG", "OPUS", 48000, 1)
    decoded, _ = sf.read(io.BytesIO(data), dtype="float32")
    assert decoded.size / 48000 == pytest.approx(speech.duration_s, abs=0.03)
    # The file keeps the normalised loudness.
    decoded_lufs = output.integrated_loudness(decoded, 48000)
    assert decoded_lufs == pytest.approx(output.integrated_loudness(speech.samples, 24000), abs=0.5)
    assert np.max(np.abs(decoded)) < 1.0


def test_save_by_extension(synth: Synthesizer, tmp_path: Path) -> None:
    speech = synth.speak("Saving to a file.")
    for name, subtype in [("a.ogg", "OPUS"), ("b.opus", "OPUS"), ("c.WAV", "PCM_16")]:
        path = speech.save(tmp_path / name)
        assert sf.info(path).subtype == subtype
    wav, rate = sf.read(tmp_path / "c.WAV", dtype="float32")
    assert rate == speech.sample_rate and wav.size == speech.samples.size
    with pytest.raises(ValueError, match=".ogg"):
        speech.save(tmp_path / "d.mp3")


def test_waveform_for_discord(synth: Synthesizer) -> None:
    speech = synth.speak("Voice messages show a waveform.")
    assert len(speech.waveform()) <= 256
    assert max(speech.waveform()) == 255
    assert len(speech.waveform(points=64)) == 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no text"),
        ("  \n\t ", "no text"),
        ("x" * (MAX_TEXT_CHARS + 1), f"limit is {MAX_TEXT_CHARS}"),
        ("?!... --", "nothing pronounceable"),
    ],
)
def test_bad_text_is_a_text_error(synth: Synthesizer, text: str, message: str) -> None:
    with pytest.raises(TextError, match=message):
        synth.speak(text)


def test_text_is_cleaned_and_the_limit_counts_cleaned_text() -> None:
    assert clean_text("  Hello\u200b\n\n  world\x07 ") == "Hello world"
    padded = "a" * MAX_TEXT_CHARS + "   \n"
    assert clean_text(padded) == "a" * MAX_TEXT_CHARS


def test_bad_intensity_is_refused(synth: Synthesizer) -> None:
    with pytest.raises(ValueError, match="intensity"):
        synth.speak("Hello.", Emotion.SAD, intensity=1.5)


def test_speak_is_thread_safe(synth: Synthesizer) -> None:
    texts = ["One two three.", "Four five six seven.", "Eight.", "Nine and ten."]
    emotions = [Emotion.HAPPY, Emotion.SAD, Emotion.ANGRY, Emotion.NEUTRAL]
    pairs = list(zip(texts, emotions, strict=True))
    expected = [synth.speak(t, e).duration_s for t, e in pairs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda pair: synth.speak(*pair).duration_s, pairs))
    assert got == pytest.approx(expected, rel=0.02)


class _ToneVoice:
    """A stand-in for a neural voice: a harmonic tone per character, at 24 kHz."""

    name = "Test tone voice"
    sample_rate = 24000

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        t = np.arange(int(0.05 * len(text) * self.sample_rate)) / self.sample_rate
        x = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 15))
        return (0.2 * x).astype(np.float32), self.sample_rate


def test_any_voice_gets_the_same_emotion_rendering() -> None:
    synth = Synthesizer(_ToneVoice())
    neutral = synth.speak("twenty characters!!", Emotion.NEUTRAL)
    sad = synth.speak("twenty characters!!", Emotion.SAD, intensity=1.0)
    assert isinstance(sad, Speech) and sad.voice == "Test tone voice"
    assert sad.sample_rate == 24000
    assert sad.duration_s == pytest.approx(neutral.duration_s / EMOTION_RULES[Emotion.SAD].rate, rel=0.03)
