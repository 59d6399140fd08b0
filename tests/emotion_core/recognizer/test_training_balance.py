"""Training draws balance corpora, speakers and classes, and a corpus teaches only the classes it has."""

from pathlib import Path

import numpy as np
import pytest

from emotion_core.corpora import Clip
from emotion_core.labels import EMOTIONS, Emotion
from emotion_core.recognizer.config import RecognizerConfig
from emotion_core.recognizer.train import label_masks, masked_cross_entropy, sampling_weights


def _clip(corpus: str, speaker: str, label: Emotion, i: int) -> Clip:
    return Clip(Path(f"{corpus}/{speaker}_{label.value}_{i}.wav"), corpus, f"{corpus}:{speaker}", label, "x")


def test_each_speaker_of_a_corpus_gets_the_same_share_whatever_their_clip_count():
    clips = [_clip("nEMO", "big", Emotion.ANGRY, i) for i in range(90)]
    clips += [_clip("nEMO", "big", Emotion.SAD, i) for i in range(10)]
    clips += [_clip("nEMO", "small", Emotion.ANGRY, i) for i in range(5)]
    clips += [_clip("nEMO", "small", Emotion.SAD, i) for i in range(5)]
    w = sampling_weights(clips, power=0.5)
    by = lambda speaker, label: sum(  # noqa: E731
        wi for wi, c in zip(w, clips, strict=True) if c.speaker == f"nEMO:{speaker}" and c.label == label
    )
    for speaker in ("big", "small"):
        for label in (Emotion.ANGRY, Emotion.SAD):
            assert by(speaker, label) == pytest.approx(0.25)


def test_corpus_shares_grow_with_the_square_root_of_their_size():
    clips = [_clip("TESS", "OAF", Emotion.HAPPY, i) for i in range(400)]
    clips += [_clip("SAVEE", "DC", Emotion.HAPPY, i) for i in range(100)]
    w = sampling_weights(clips, power=0.5)
    tess = sum(wi for wi, c in zip(w, clips, strict=True) if c.corpus == "TESS")
    assert tess == pytest.approx(20 / 30)  # sqrt(400) : sqrt(100)


def test_a_corpus_share_factor_multiplies_the_draws_of_that_corpus_only():
    clips = [_clip("TESS", "OAF", Emotion.HAPPY, i) for i in range(400)]
    clips += [_clip("SAVEE", "DC", Emotion.HAPPY, i) for i in range(100)]
    clips += [_clip("SAVEE", "JE", Emotion.SAD, i) for i in range(100)]
    w = sampling_weights(clips, power=0.5, share=(("SAVEE", 2.0),))
    savee = sum(wi for wi, c in zip(w, clips, strict=True) if c.corpus == "SAVEE")
    assert savee == pytest.approx(2 * 200**0.5 / (2 * 200**0.5 + 20))
    je = sum(wi for wi, c in zip(w, clips, strict=True) if c.speaker == "SAVEE:JE")
    assert je == pytest.approx(savee / 2)  # within the corpus its speakers still share equally


def test_masked_loss_ignores_classes_the_corpus_lacks():
    config = RecognizerConfig()
    iesc = _clip("IndianEmoSpeech", "u1", Emotion.ANGRY, 0)
    masks = label_masks([iesc, _clip("RAVDESS", "01", Emotion.ANGRY, 0)], config)
    assert masks[0].tolist() == [1, 1, 0, 1, 1, 0, 0]  # neutral, happy, angry, fearful
    assert masks[1].tolist() == [1] * 7
    angry = EMOTIONS.index(Emotion.ANGRY)
    sad = EMOTIONS.index(Emotion.SAD)
    # The same confident angry answer with more or less of the rest on "sad": for IndianEmoSpeech,
    # which has no sad clips, the loss does not change; for RAVDESS it does.
    a = np.full((1, 7), 0.02, np.float32)
    a[0, angry] = 0.88
    b = a.copy()
    b[0, sad], b[0, angry] = 0.5, 0.4
    y = np.array([angry])
    loss = lambda p, m: float(masked_cross_entropy(p, y, m[None], 0.0))  # noqa: E731
    assert loss(a, masks[0]) < loss(b, masks[0]) < loss(b, masks[1])
    c = a.copy()
    c[0, sad] = 0.3
    c /= c.sum()
    assert loss(c, masks[0]) == pytest.approx(loss(a, masks[0]), abs=1e-5)  # mass on sad is ignored


def test_speaker_shift_moves_a_draw_towards_another_speakers_mean_in_its_own_variant():
    from emotion_core.recognizer.functional_train import SpeakerShift

    clips = [_clip("RAVDESS", s, Emotion.HAPPY, i) for s in ("a", "b") for i in range(3)]
    clips += [_clip("IndianEmoSpeech", f"u{k}", Emotion.HAPPY, 0) for k in range(8)]
    functionals = np.zeros((2, len(clips), 2), np.float32)
    functionals[:, 3:6] = 1.0  # speaker b's voice sits one unit above a's on both features
    functionals[1, :, 1] += 5.0  # the second variant (a codec) colours feature 1 for everyone
    rows, variants = np.zeros(4000, int), np.tile([0, 1], 2000)  # speaker a's first clip
    x = functionals[variants, rows]
    moved = SpeakerShift(functionals, clips, share=1.0)(x, rows, variants, np.random.default_rng(0))
    offset = moved - x
    assert np.allclose(offset[:, 0], offset[:, 1], atol=1e-5)  # codec colouring cancels
    assert 0.0 <= offset.min() and offset.max() <= 1.0  # towards b, never past; IESC's users sit at 0
    # RAVDESS and IndianEmoSpeech are drawn alike, not by their speakers' count (2 against 8):
    # a draw of b (half of RAVDESS's half) moves by a uniform amount, mean 1/2, so 1/8 on average.
    assert offset[:, 0].mean() == pytest.approx(0.125, abs=0.02)
    still = SpeakerShift(functionals, clips, share=0.0)(x, rows, variants, np.random.default_rng(0))
    assert np.array_equal(still, x)
