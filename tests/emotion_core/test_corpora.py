"""Corpus loaders: published names parse to the right speaker and label, folders load as clips."""

from pathlib import Path

import pytest

from emotion_core.corpora import (
    CORPORA,
    IESC_UNKNOWN_USER,
    CorpusNameError,
    available_corpora,
    load_corpus,
    parse_cremad,
    parse_emodb,
    parse_iesc,
    parse_nemo,
    parse_ravdess,
    parse_savee,
    parse_tess,
)
from emotion_core.labels import Emotion
from emotion_core.paths import corpora_dir

#: An IndianEmoSpeech user hash as published.
USER = "61da3711fc5f82a04684b7c066241130f6c5b79902cf6f95ec8d2376"


@pytest.mark.parametrize(
    ("parse", "stem", "speaker", "raw"),
    [
        (parse_ravdess, "03-01-02-01-01-02-17", "17", "02"),
        (parse_cremad, "1001_DFA_ANG_XX", "1001", "ANG"),
        (parse_cremad, "1091_TSI_NEU_HI", "1091", "NEU"),
        (parse_tess, "OAF_back_fear", "OAF", "fear"),
        (parse_tess, "YAF_bath_ps", "YAF", "ps"),
        (parse_tess, "OA_bite_neutral", "OAF", "neutral"),  # the one published misnamed file
        (parse_emodb, "03a01Fa", "03", "F"),
        (parse_emodb, "16b10Lb", "16", "L"),
        (parse_savee, "DC_sa01", "DC", "sa"),
        (parse_savee, "KL_a15", "KL", "a"),
        (parse_nemo, "EB0_anger_1", "EB0", "anger"),
        (parse_iesc, "go-safe-angry-20190712133514-" + USER, USER[:12], "angry"),
        (parse_iesc, "yes-safe-happy-1564074432570-" + USER, USER[:12], "happy"),  # ms timestamp
        (parse_iesc, "no-safe-calm-123213-" + IESC_UNKNOWN_USER, "unknown", "calm"),  # the unknown-user pool
    ],
)
def test_published_names_parse(parse, stem, speaker, raw):
    parsed = parse(stem)
    assert (parsed.speaker, parsed.raw_label) == (speaker, raw)


@pytest.mark.parametrize(
    ("parse", "stem"),
    [
        (parse_ravdess, "02-01-01-01-01-01-01-09"),
        (parse_ravdess, "03-02-01-01-01-01-01"),  # song, not speech
        (parse_cremad, "DFA_ANG_XX"),
        (parse_emodb, "03a01F"),
        (parse_savee, "XX_a01"),
        (parse_nemo, "EB0_anger"),
        (parse_tess, "OAF"),
        (parse_iesc, "go-safe-sad-20190712133514-" + USER),  # not one of its four emotions
        (parse_iesc, "go-safe-angry-20190712133514"),
    ],
)
def test_foreign_names_are_rejected(parse, stem):
    with pytest.raises(CorpusNameError):
        parse(stem)


def _touch(root: Path, relative: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_loaders_walk_published_layouts(tmp_path):
    _touch(tmp_path, "CREMA-D/AudioWAV/1001_DFA_ANG_XX.wav")
    _touch(tmp_path, "CREMA-D/AudioWAV/1002_IEO_HAP_HI.wav")
    _touch(tmp_path, "CREMA-D/AudioWAV/readme.txt")
    _touch(tmp_path, "EmoDB/wav/03a01Fa.wav")
    _touch(tmp_path, "EmoDB/wav/03a01La.ogg")
    _touch(tmp_path, "EmoDB/wav/not-a-name.wav")  # skipped with a warning
    _touch(tmp_path, "TESS/YAF_pleasant_surprised/YAF_bath_ps.ogg")
    assert available_corpora(tmp_path) == ["CREMA-D", "TESS", "EmoDB"]
    crema = load_corpus("CREMA-D", tmp_path)
    assert [(c.speaker, c.label) for c in crema] == [
        ("CREMA-D:1001", Emotion.ANGRY),
        ("CREMA-D:1002", Emotion.HAPPY),
    ]
    emodb = load_corpus("EmoDB", tmp_path)
    assert [c.label for c in emodb] == [Emotion.HAPPY, Emotion.NEUTRAL]
    assert load_corpus("TESS", tmp_path)[0].label is Emotion.SURPRISED
    with pytest.raises(FileNotFoundError, match="SAVEE"):
        load_corpus("SAVEE", tmp_path)


def test_every_corpus_states_license_and_citation():
    for spec in CORPORA.values():
        assert spec.license and spec.citation and spec.language


@pytest.mark.corpora
@pytest.mark.parametrize(
    ("name", "clips", "speakers"),
    [
        ("RAVDESS", 1440, 24),
        ("TESS", 2798, 2),
        ("SAVEE", 480, 4),
        ("nEMO", 4481, 9),
        ("EmoDB", 535, 10),
        ("IndianEmoSpeech", 2400, 99),  # 98 identified users and the unknown-user pool
    ],
)
def test_shared_corpora_load_completely(name, clips, speakers):
    if name not in available_corpora():
        pytest.skip(f"{name} is not in {corpora_dir()}")
    loaded = load_corpus(name)
    assert len(loaded) == clips
    assert len({c.speaker for c in loaded}) == speakers
