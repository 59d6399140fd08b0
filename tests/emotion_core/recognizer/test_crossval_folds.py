"""Cross-validation folds never share a speaker between training and test, test every speaker once,
and voice profiles never contain the clip they describe."""

from pathlib import Path

import numpy as np

from emotion_core.corpora import Clip
from emotion_core.labels import EMOTIONS, Emotion
from emotion_core.recognizer.crossval import COMMUNITY_NAME, _angry_offsets, corpus_folds, speaker_folds
from emotion_core.recognizer.dataset import cap_per_speaker
from emotion_core.recognizer.evaluate import MODEL_NAME
from emotion_core.recognizer.functional_train import profile_means

SIZES = {"RAVDESS": 8, "SAVEE": 4, "TESS": 2, "IndianEmoSpeech": 6}


def _corpora() -> list[Clip]:
    clips = []
    for corpus, n_speakers in SIZES.items():
        for s in range(n_speakers):
            for i in range(14):
                speaker = f"{corpus}:{s}"
                clips.append(Clip(Path(f"{corpus}/{s}_{i}.wav"), corpus, speaker, EMOTIONS[i % 7], "x"))
    clips += [
        Clip(Path(f"IESC/pool_{i}.wav"), "IndianEmoSpeech", "IndianEmoSpeech:unknown", EMOTIONS[i % 4], "x")
        for i in range(8)
    ]
    return clips


def _disjoint(split) -> bool:
    return not (
        set(split.train) & set(split.val)
        or set(split.train) & set(split.test)
        or set(split.val) & set(split.test)
    )


def test_leave_one_corpus_out_tests_every_speaker_of_the_corpus_and_trains_on_none():
    clips = _corpora()
    folds = corpus_folds(clips, seed=0)
    assert len(folds) == len(SIZES)
    for fold in folds:
        held_out = fold.name.removeprefix("left out: ")
        assert _disjoint(fold.split)
        assert {c.speaker for c in clips if c.corpus == held_out} == set(fold.split.test)
        assert all(not s.startswith(f"{held_out}:") for s in fold.split.train + fold.split.val)
        assert fold.split.val  # model choice and temperature come from other corpora's speakers


def test_speaker_folds_test_each_identified_speaker_exactly_once():
    clips = _corpora()
    folds = speaker_folds(clips, k=3, seed=1)
    tested = [s for fold in folds for s in fold.split.test]
    identified = {c.speaker for c in clips if not c.speaker.endswith(":unknown")}
    assert sorted(tested) == sorted(identified)
    for fold in folds:
        assert _disjoint(fold.split)
        assert "IndianEmoSpeech:unknown" in fold.split.train  # the unidentified pool only trains


def test_folds_are_seeded():
    clips = _corpora()
    assert speaker_folds(clips, k=3, seed=0) == speaker_folds(clips, k=3, seed=0)
    assert speaker_folds(clips, k=3, seed=0) != speaker_folds(clips, k=3, seed=5)


def test_cap_keeps_each_speakers_classes_balanced_and_the_order():
    clips = _corpora()
    capped = cap_per_speaker(clips, 7, seed=0)
    per_speaker = {}
    for clip in capped:
        per_speaker.setdefault(clip.speaker, []).append(clip.label)
    assert all(len(labels) <= 8 for labels in per_speaker.values())
    assert all(
        len(set(labels)) == len(labels) for s, labels in per_speaker.items() if not s.endswith("unknown")
    )
    positions = [clips.index(c) for c in capped]
    assert positions == sorted(positions)
    assert cap_per_speaker(clips, 7, seed=0) == capped
    assert cap_per_speaker(clips, None) == clips


def test_a_profile_is_the_mean_of_other_clips_of_the_same_speaker():
    speakers = ["a"] * 5 + ["b"] * 2 + ["c"]
    n = len(speakers)
    # Clip i's vector is i in variant 0 and 100 + i in variant 1: a profile's mean shows who is in it.
    functionals = np.stack([np.arange(n), 100 + np.arange(n)]).astype(np.float32)[..., None]
    rows = np.tile(np.arange(n), 50)
    variants = np.repeat([0, 1], rows.size // 2)
    means = profile_means(functionals, speakers, rows, variants, 3, np.random.default_rng(0))[:, 0]
    for row, variant, mean in zip(rows, variants, means, strict=True):
        own = [i for i, s in enumerate(speakers) if s == speakers[row]]
        others = [i + 100 * variant for i in own if i != row] or [row + 100 * variant]
        assert min(others) <= mean <= max(others)
        if len(own) == 2:
            assert mean == others[0]
    # Speaker "a"'s profiles vary: they are drawn afresh for every example.
    assert len(set(means[rows < 5].round(3))) > 3


def test_a_speaker_alone_in_a_corpus_has_no_community_and_others_are_aligned_on_other_voices():
    from emotion_core.community import Reference
    from emotion_core.recognizer.crossval import community_aligned
    from emotion_core.recognizer.functional_table import FunctionalTable

    clips = [c for c in _corpora() if c.speaker in ("TESS:0", "SAVEE:0", "SAVEE:1")]
    rng = np.random.default_rng(0)
    values = rng.normal(size=(1, len(clips), 3)).astype(np.float32)
    values[0, [c.speaker == "SAVEE:1" for c in clips]] += 10.0  # a voice far from SAVEE:0's
    part = FunctionalTable(clips, values, np.zeros((1, len(clips), 2), np.float32))
    unit = Reference(np.zeros(3, np.float32), np.ones(3, np.float32))
    aligned, has_community = community_aligned(part, 0, unit, 100, rng)
    alone = ~has_community
    assert alone.tolist() == [c.corpus == "TESS" for c in clips]
    assert np.array_equal(aligned[alone], values[0, alone])  # left as it is
    first = np.array([c.speaker == "SAVEE:0" for c in clips])
    assert aligned[first].mean() < -3  # aligned on SAVEE:1's statistics, never on its own


def _neutral_answers(over_called: dict[str, float]) -> tuple[list[Clip], np.ndarray]:
    """60 neutral clips of each of RAVDESS, SAVEE and TESS; in each corpus of ``over_called`` a third
    of the answers call them angry by that log-margin, the others answer neutral."""
    angry, neutral = EMOTIONS.index(Emotion.ANGRY), EMOTIONS.index(Emotion.NEUTRAL)
    clips, rows = [], []
    for corpus in ("RAVDESS", "SAVEE", "TESS"):
        for i in range(60):
            clips.append(Clip(Path(f"{corpus}/{i}.wav"), corpus, f"{corpus}:0", Emotion.NEUTRAL, "x"))
            p = np.full(len(EMOTIONS), 0.02)
            if corpus in over_called and i % 3 == 0:
                p[angry], p[neutral] = 0.5 * np.exp(over_called[corpus]), 0.5
            else:
                p[neutral], p[angry] = 0.5, 0.2
            rows.append(p / p.sum())
    return clips, np.array(rows)


def test_each_left_out_corpus_gets_an_angry_offset_chosen_on_the_other_corpora_only():
    """RAVDESS's answers call a third of its calm clips angry (by a log-margin of 0.25); SAVEE's and
    TESS's call none. RAVDESS must not choose its own offset: it gets the one the others need (none),
    while the others, whose choice sees RAVDESS, get the one that brings it under 15 %."""
    clips, answers = _neutral_answers({"RAVDESS": 0.25})
    truth = np.full(len(clips), EMOTIONS.index(Emotion.NEUTRAL))
    stacked = {(path, "clean", "calibrated"): answers for path in (MODEL_NAME, COMMUNITY_NAME)}
    chosen, on_all = _angry_offsets(stacked, truth, clips, EMOTIONS, None)
    assert chosen == {"RAVDESS": 0.0, "SAVEE": 0.3, "TESS": 0.3} and on_all == 0.3
    fixed, _ = _angry_offsets(stacked, truth, clips, EMOTIONS, 0.5)
    assert set(fixed.values()) == {0.5}


def test_the_angry_offset_keeps_a_new_bots_answers_under_the_target_too():
    """Serving applies one offset to a new bot's answers and to the community rule's: a corpus whose
    community answers are fine but whose new-bot answers call angry too often (SAVEE) must pull the
    offset up for the corpora it is chosen for, and the larger need of either path wins."""
    clips, community = _neutral_answers({"RAVDESS": 0.25})
    _, new_bot = _neutral_answers({"RAVDESS": 0.25, "SAVEE": 0.55})
    truth = np.full(len(clips), EMOTIONS.index(Emotion.NEUTRAL))
    stacked = {
        (MODEL_NAME, "clean", "calibrated"): new_bot,
        (COMMUNITY_NAME, "clean", "calibrated"): community,
    }
    chosen, on_all = _angry_offsets(stacked, truth, clips, EMOTIONS, None)
    assert chosen == {"RAVDESS": 0.6, "SAVEE": 0.3, "TESS": 0.6} and on_all == 0.6
