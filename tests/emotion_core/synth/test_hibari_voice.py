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


def test_hibari_speaks_neutral_24_khz_audio_the_same_every_time() -> None:
    voice = HibariVoice()
    samples, rate = voice.synthesize("The meeting starts at nine tomorrow morning.")
    assert rate == 24000 and samples.dtype == np.float32 and 1.0 < samples.size / rate < 6.0
    assert np.abs(samples).max() <= 1.0 and np.sqrt(np.mean(samples**2)) > 0.01
    again, _ = voice.synthesize("The meeting starts at nine tomorrow morning.")
    np.testing.assert_array_equal(samples, again)  # seeded: the same text sounds the same


def test_without_tacotron2_the_automatic_voice_is_hibari_with_every_emotion(tmp_path: Path) -> None:
    synth = Synthesizer.from_pretrained(tmp_path)  # no checkpoints here
    assert synth.voice_name.startswith("Hibari")
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
