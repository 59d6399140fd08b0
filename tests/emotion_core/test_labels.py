"""The canonical emotions and the one corpus-label table."""

import pytest

from emotion_core.labels import CORPUS_LABELS, EMOJI, EMOTIONS, Emotion, corpus_emotions, map_label


def test_seven_canonical_emotions_in_model_order():
    assert [e.value for e in EMOTIONS] == [
        "neutral",
        "happy",
        "sad",
        "angry",
        "fearful",
        "disgusted",
        "surprised",
    ]
    assert set(EMOJI) == set(Emotion)
    assert all(e.emoji for e in Emotion)


def test_parse_is_case_insensitive_and_lists_valid_names():
    assert Emotion.parse(" Happy ") is Emotion.HAPPY
    with pytest.raises(ValueError, match="neutral, happy"):
        Emotion.parse("joyful")


@pytest.mark.parametrize(
    ("corpus", "label", "emotion"),
    [
        ("RAVDESS", "02", Emotion.NEUTRAL),  # calm folds into neutral
        ("RAVDESS", "08", Emotion.SURPRISED),
        ("EmoDB", "L", Emotion.NEUTRAL),  # boredom folds into neutral
        ("EmoDB", "W", Emotion.ANGRY),
        ("EmoDB", "E", Emotion.DISGUSTED),
        ("TESS", "ps", Emotion.SURPRISED),  # pleasant surprise is surprise, not happy
        ("SAVEE", "sa", Emotion.SAD),
        ("SAVEE", "su", Emotion.SURPRISED),
        ("CREMA-D", "FEA", Emotion.FEARFUL),
        ("nEMO", "happiness", Emotion.HAPPY),
        ("IndianEmoSpeech", "calm", Emotion.NEUTRAL),  # its low-arousal class, as RAVDESS calm
    ],
)
def test_documented_mapping_choices(corpus, label, emotion):
    assert map_label(corpus, label) is emotion


def test_every_corpus_covers_its_published_labels():
    sizes = {name: len(table) for name, table in CORPUS_LABELS.items()}
    assert sizes == {
        "RAVDESS": 8,
        "CREMA-D": 6,
        "TESS": 7,
        "EmoDB": 7,
        "SAVEE": 7,
        "nEMO": 6,
        "IndianEmoSpeech": 4,
    }
    assert Emotion.DISGUSTED not in CORPUS_LABELS["nEMO"].values()


def test_corpus_emotions_are_the_classes_a_corpus_can_teach():
    assert corpus_emotions("IndianEmoSpeech") == (
        Emotion.NEUTRAL,
        Emotion.HAPPY,
        Emotion.ANGRY,
        Emotion.FEARFUL,
    )
    assert corpus_emotions("RAVDESS") == EMOTIONS
    assert Emotion.DISGUSTED not in corpus_emotions("nEMO")


def test_unknown_label_names_corpus_and_label():
    with pytest.raises(KeyError, match="SAVEE label 'zz'"):
        map_label("SAVEE", "zz")
