"""Speaker-independent splits: no voice in two splits, reproducible, every corpus represented."""

from pathlib import Path

from emotion_core.corpora import Clip
from emotion_core.labels import Emotion
from emotion_core.recognizer.dataset import SplitConfig, split_speakers
from emotion_core.recognizer.evaluate import stratified_sample


def _clips(corpus: str, speakers: int, per_speaker: int = 4) -> list[Clip]:
    labels = list(Emotion)
    return [
        Clip(Path(f"{corpus}/{s}_{i}.wav"), corpus, f"{corpus}:{s}", labels[i % 7], "x")
        for s in range(speakers)
        for i in range(per_speaker)
    ]


CLIPS = _clips("RAVDESS", 24) + _clips("TESS", 2) + _clips("SAVEE", 4)


def test_no_speaker_in_two_splits_and_none_lost():
    split = split_speakers(CLIPS)
    train, val, test = set(split.train), set(split.val), set(split.test)
    assert not (train & val or train & test or val & test)
    assert train | val | test == {clip.speaker for clip in CLIPS}


def test_each_corpus_has_test_speakers_and_two_speaker_corpora_split_one_one():
    split = split_speakers(CLIPS)
    assert sum(s.startswith("RAVDESS:") for s in split.test) == 6  # a quarter of 24
    assert sum(s.startswith("RAVDESS:") for s in split.val) == 4
    assert sum(s.startswith("TESS:") for s in split.test) == 1
    assert sum(s.startswith("TESS:") for s in split.train) == 1
    assert sum(s.startswith("SAVEE:") for s in split.test) == 1


def test_same_seed_same_split_other_seed_other_split():
    assert split_speakers(CLIPS) == split_speakers(CLIPS, SplitConfig(seed=0))
    assert split_speakers(CLIPS).test != split_speakers(CLIPS, SplitConfig(seed=1)).test


def test_split_of_selects_clips_of_its_speakers():
    split = split_speakers(CLIPS)
    assert {c.speaker for c in split.of(CLIPS, "test")} == set(split.test)


def test_stratified_sample_caps_each_corpus_and_keeps_labels_balanced():
    clips = _clips("TESS", 1, per_speaker=700)
    kept = stratified_sample(clips, max_clips=70)
    assert len(kept) == 70
    assert {sum(c.label is e for c in kept) for e in Emotion} == {10}
    assert stratified_sample(CLIPS, max_clips=1000) == list(CLIPS)


def test_unknown_user_pool_is_only_ever_trained_on():
    pool = [
        Clip(Path(f"IESC/pool_{i}.wav"), "IndianEmoSpeech", "IndianEmoSpeech:unknown", Emotion.ANGRY, "angry")
        for i in range(4)
    ]
    clips = CLIPS + _clips("IndianEmoSpeech", 8) + pool
    for seed in range(5):
        split = split_speakers(clips, SplitConfig(seed=seed))
        assert "IndianEmoSpeech:unknown" in split.train
        assert sum(s.startswith("IndianEmoSpeech:") for s in split.test) == 2


def test_stratified_sample_of_a_corpus_does_not_depend_on_the_others():
    emodb = _clips("EmoDB", 4, per_speaker=40)
    alone = stratified_sample(emodb, max_clips=70)
    beside = stratified_sample(_clips("RAVDESS", 24, per_speaker=20) + emodb, max_clips=70)
    assert len(alone) == 70
    assert [c for c in beside if c.corpus == "EmoDB"] == alone


def test_a_feature_option_added_later_keeps_every_cached_table_until_it_is_set():
    """The key of the features before MoodBot 0.15 is the one 0.13.0 wrote its cache under: adding an
    option (at the value that gives the old features) must not throw away 20 minutes of cached
    functionals."""
    from dataclasses import replace

    from emotion_core.features import FeatureConfig
    from emotion_core.recognizer.augment import AugmentConfig
    from emotion_core.recognizer.dataset import FEATURES_ADDED_LATER, cache_key

    clips = [Clip(Path("TESS/a.wav"), "TESS", "TESS:a", Emotion.ANGRY, "angry")]
    before = replace(FeatureConfig(), **FEATURES_ADDED_LATER)  # the features before MoodBot 0.15
    key = cache_key(clips, before, AugmentConfig(), 0, "functionals")
    assert key == "8446a5a5cbd29bbd"
    for name, value in FEATURES_ADDED_LATER.items():
        changed = replace(before, **{name: not value})
        assert cache_key(clips, changed, AugmentConfig(), 0, "functionals") != key
