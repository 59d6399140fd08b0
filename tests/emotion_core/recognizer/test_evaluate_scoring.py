"""Each corpus is scored on its own classes: a corpus is never marked wrong for a class it lacks."""

import numpy as np
import pytest

from emotion_core.labels import EMOTIONS, Emotion, corpus_emotions
from emotion_core.recognizer.metrics import score_on_own_classes

LABELS = tuple(e.value for e in EMOTIONS)


def test_predictions_are_restricted_to_the_corpus_classes_and_renormalized():
    own = np.array([e in corpus_emotions("IndianEmoSpeech") for e in EMOTIONS])
    probs = np.zeros((2, 7))
    # Mostly "sad", which IndianEmoSpeech has no clips of; among its own classes, happy leads.
    probs[0, EMOTIONS.index(Emotion.SAD)] = 0.6
    probs[0, EMOTIONS.index(Emotion.HAPPY)] = 0.3
    probs[0, EMOTIONS.index(Emotion.NEUTRAL)] = 0.1
    probs[1, EMOTIONS.index(Emotion.ANGRY)] = 1.0
    truth = np.array([EMOTIONS.index(Emotion.HAPPY), EMOTIONS.index(Emotion.NEUTRAL)])
    m = score_on_own_classes(truth, probs, own, LABELS)
    assert m.recall == {"neutral": 0.0, "happy": 1.0}
    assert m.called_angry == pytest.approx(0.5)  # the neutral clip was called angry
    # Clip 0 is 75 % happy once sad is removed, and right: its confidence counts as 0.75.
    assert m.ece == pytest.approx((0.25 + 1.0) / 2)
