"""The offline voice: eSpeak NG through ctypes speaks, and threads do not mix their audio."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from emotion_core.errors import SynthesisError, TextError
from emotion_core.synth.espeak import EspeakVoice

SENTENCE = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def voice() -> EspeakVoice:
    return EspeakVoice()


def test_says_a_sentence(voice: EspeakVoice) -> None:
    samples, sample_rate = voice.synthesize(SENTENCE)
    assert sample_rate == voice.sample_rate == 22050
    assert samples.dtype == np.float32 and samples.ndim == 1
    duration_s = samples.size / sample_rate
    assert 1.5 < duration_s < 5.0  # nine words at 165 words a minute is about 3 s
    assert np.max(np.abs(samples)) <= 1.0
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert rms_dbfs > -40.0  # clearly not silence


def test_name_says_offline_voice(voice: EspeakVoice) -> None:
    assert "eSpeak NG" in voice.name and "offline" in voice.name


def test_longer_text_gives_longer_speech(voice: EspeakVoice) -> None:
    short, _ = voice.synthesize("Hello.")
    long, _ = voice.synthesize("Hello. " + SENTENCE + " " + SENTENCE)
    assert long.size > 3 * short.size


def test_threads_do_not_mix_their_audio(voice: EspeakVoice) -> None:
    # eSpeak NG is not bit-exact from call to call (lengths vary by a few samples), so compare
    # lengths: audio collected by the wrong caller would be missing or doubled.
    texts = [SENTENCE, "Hello there.", "How are you today?", "I am fine, thank you."] * 2
    expected = [voice.synthesize(t)[0] for t in texts]
    other = EspeakVoice("en", rate_wpm=200)  # different settings must not leak between threads
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: voice.synthesize(t)[0], texts))
        list(pool.map(lambda t: other.synthesize(t), texts))
    for got, want in zip(results, expected, strict=True):
        assert got.size == pytest.approx(want.size, rel=0.01)


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_is_a_text_error(voice: EspeakVoice, text: str) -> None:
    with pytest.raises(TextError):
        voice.synthesize(text)


def test_unknown_voice_is_a_synthesis_error() -> None:
    with pytest.raises(SynthesisError, match="no voice"):
        EspeakVoice("xx-not-a-voice")


@pytest.mark.parametrize("kwargs", [{"rate_wpm": 10}, {"pitch": 101}])
def test_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        EspeakVoice(**kwargs)
