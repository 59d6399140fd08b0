"""Learning the actors' prosody: changes from each speaker's own neutral, rate from the same sentence,
calm and boredom never taken for neutral."""

from pathlib import Path

import numpy as np
import pytest

from emotion_core.corpora import Clip
from emotion_core.labels import Emotion
from emotion_core.synth import learn_prosody
from emotion_core.synth.prosody_measures import SHAPE_BANDS_HZ, ProsodyMeasures, measure


def _ravdess(actor: str, emotion: str, label: Emotion, intensity: str, statement: str) -> Clip:
    stem = f"03-01-{emotion}-{intensity}-{statement}-01-{actor}"
    return Clip(Path(f"Actor_{actor}/{stem}.ogg"), "RAVDESS", f"RAVDESS:{actor}", label, emotion)


def test_changes_are_relative_to_each_speakers_neutral_and_rate_to_the_same_sentence() -> None:
    measured = []
    for actor, base_st in (("01", 0.0), ("02", 12.0)):  # a low and a high voice
        for statement, seconds in (("01", 2.0), ("02", 3.0)):  # a short and a long sentence
            measured.append(
                (
                    _ravdess(actor, "01", Emotion.NEUTRAL, "01", statement),
                    ProsodyMeasures(base_st, 4.0, seconds, -10, -2.0, 0.05),
                )
            )
            # calm: much lower, would wreck the baseline if taken for neutral
            measured.append(
                (
                    _ravdess(actor, "02", Emotion.NEUTRAL, "01", statement),
                    ProsodyMeasures(base_st - 9, 1, seconds, 0),
                )
            )
            angry = ProsodyMeasures(base_st + 3.0, 6.0, seconds / 1.25, -8.0, 1.0, 0.15)
            measured.append((_ravdess(actor, "05", Emotion.ANGRY, "02", statement), angry))
    table = learn_prosody.learn(measured, ("RAVDESS",))
    spread = table.spread(Emotion.ANGRY, "strong", "f0_shift_st")
    assert spread.median == pytest.approx(3.0) and spread.speakers == 2
    assert table.spread(Emotion.ANGRY, "strong", "f0_range_scale").median == pytest.approx(1.5)
    assert table.spread(Emotion.ANGRY, "strong", "rate").median == pytest.approx(1.25)
    assert table.spread(Emotion.ANGRY, "strong", "tilt_db_per_octave").median == pytest.approx(2.0)
    assert table.spread(Emotion.ANGRY, "strong", "f0_slope_st_per_s").median == pytest.approx(3.0)
    assert table.spread(Emotion.ANGRY, "strong", "pause_share").median == pytest.approx(0.10)
    assert table.spread(Emotion.ANGRY, "normal", "f0_shift_st") is None  # no normal portrayals given


def test_spectral_shape_changes_are_relative_to_each_speakers_neutral() -> None:
    """Two actors with differently coloured voices (or microphones) both add 4 dB in the upper half
    of the bands when angry: the learned change is 4 dB there and 0 below, whatever their colouring;
    calm (a different shape) is never the baseline."""
    bands = len(SHAPE_BANDS_HZ)
    effort = np.where(np.arange(bands) >= bands // 2, 4.0, 0.0)
    shapes = []
    for actor, color in (("01", np.linspace(0, -30, bands)), ("02", np.linspace(-5, -10, bands))):
        for statement in ("01", "02"):
            shapes.append((_ravdess(actor, "01", Emotion.NEUTRAL, "01", statement), color))
            shapes.append((_ravdess(actor, "02", Emotion.NEUTRAL, "01", statement), color - 20))
            shapes.append((_ravdess(actor, "05", Emotion.ANGRY, "02", statement), color + effort))
    table = learn_prosody.learn([], ("RAVDESS",), shapes)
    np.testing.assert_allclose(table.spectrum(Emotion.ANGRY, "strong"), effort, atol=0.01)
    assert table.spectrum(Emotion.ANGRY, "normal") is None
    assert table.spectrum(Emotion.SAD, "strong") is None


def test_sentence_and_intensity_come_from_the_file_names() -> None:
    clip = _ravdess("07", "05", Emotion.ANGRY, "02", "01")
    assert learn_prosody.sentence_of(clip) == "01" and learn_prosody.intensity_of(clip) == "strong"
    emodb = Clip(Path("wav/03a01Fa.ogg"), "EmoDB", "EmoDB:03", Emotion.HAPPY, "F")
    assert learn_prosody.sentence_of(emodb) == "a01" and learn_prosody.intensity_of(emodb) == "normal"
    savee = Clip(Path("ALL/DC_a01.ogg"), "SAVEE", "SAVEE:DC", Emotion.ANGRY, "a")
    assert learn_prosody.sentence_of(savee) is None  # SAVEE's sentences differ between emotions


@pytest.mark.corpora
def test_two_ravdess_actors_speak_anger_higher(corpus_dir: Path, monkeypatch) -> None:
    monkeypatch.setattr(learn_prosody, "CORPORA", ("RAVDESS",))
    monkeypatch.setattr(learn_prosody, "MAX_CLIPS_PER_SPEAKER", 60)
    real_load = learn_prosody.load_corpora

    def two_actors(names, root):
        return [c for c in real_load(names, root) if c.speaker in ("RAVDESS:01", "RAVDESS:02")]

    monkeypatch.setattr(learn_prosody, "load_corpora", two_actors)
    table = learn_prosody.learn_from_corpora(corpus_dir, workers=1)
    assert table.spread(Emotion.ANGRY, "strong", "f0_shift_st").median > 1.0
    assert table.spread(Emotion.ANGRY, "strong", "rate").speakers == 2


def test_pauses_are_the_share_of_the_utterance_in_long_quiet_runs() -> None:
    rate = 16000
    t = np.arange(rate) / rate  # one second of a steady vowel: 150 Hz and 20 harmonics
    phrase = (0.3 * sum(np.sin(2 * np.pi * 150.0 * k * t) / k for k in range(1, 21)) / 2.0).astype(np.float32)
    pause, catch = np.zeros(int(0.5 * rate), np.float32), np.zeros(int(0.05 * rate), np.float32)
    paused = measure(np.concatenate([phrase, pause, phrase]), rate)
    caught = measure(np.concatenate([phrase, catch, phrase]), rate)  # a stop's closure, not a pause
    assert paused is not None and caught is not None
    assert paused.pause_share == pytest.approx(0.5 / 2.5, abs=0.04)
    assert caught.pause_share == 0.0
