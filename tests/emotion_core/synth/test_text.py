"""The English front end: numbers, currency, ordinals, abbreviations, Unicode, ARPAbet and
splitting."""

from __future__ import annotations

import pytest

from emotion_core.errors import TextError
from emotion_core.synth.text import (
    N_SYMBOLS,
    SYMBOLS,
    TextOptions,
    normalize_text,
    prepare_text,
    sequence_to_text,
    text_to_sequence,
)
from emotion_core.synth.text.numbers import cardinal, ordinal, year
from emotion_core.synth.text.split import split_into_chunks


def test_symbol_set_matches_nvidia_layout() -> None:
    assert N_SYMBOLS == 148
    assert SYMBOLS[:12] == ("_", "-", "!", "'", "(", ")", ",", ".", ":", ";", "?", " ")
    assert SYMBOLS[12] == "A" and SYMBOLS[38] == "a"
    assert SYMBOLS[64] == "@AA" and SYMBOLS[-1] == "@ZH"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I have 3 cats.", "i have three cats."),
        ("1,234,567", "one million two hundred thirty-four thousand five hundred sixty-seven"),
        ("pi is 3.14", "pi is three point one four"),
        ("It costs $3.50.", "it costs three dollars, fifty cents."),
        ("£1 or €2.05", "one pound or two euros, five cents"),
        ("$0.01", "one cent"),
        (
            "the 1st, 22nd, 103rd and 11th",
            "the first, twenty-second, one hundred third and eleventh",
        ),
        (
            "In 1984, 1905, 1900 and 2007.",
            "in nineteen eighty-four, nineteen oh five, nineteen hundred and two thousand seven.",
        ),
        ("50% of -5", "fifty percent of minus five"),
        (
            "Mr. and Mrs. Smith met Dr. Who on St. James St.",
            "mister and misess smith met doctor who on saint james saint",
        ),
        ("Café naïve façade — Œuvre", "cafe naive facade, oeuvre"),
        ("“Quotes” and ‘apostrophes’", "\"quotes\" and 'apostrophes'"),
        ("Tom &   Jerry\n\tgo", "tom and jerry go"),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_number_words() -> None:
    assert cardinal(0) == "zero"
    assert cardinal(1_000_001) == "one million one"
    assert ordinal(12) == "twelfth" and ordinal(40) == "fortieth" and ordinal(101) == "one hundred first"
    assert year(2024) == "twenty twenty-four" and year(2000) == "two thousand"


def test_arpabet_passages_become_phone_symbols() -> None:
    ids = text_to_sequence("Say {hh ah0 l ow1}, World!")
    assert sequence_to_text(ids) == "say {HH AH0 L OW1}, world!"
    assert SYMBOLS[ids[4]] == "@HH"


def test_unknown_arpabet_phone_is_reported() -> None:
    with pytest.raises(TextError, match="AHX"):
        text_to_sequence("{HH AHX}")


def test_long_text_is_split_into_bounded_chunks() -> None:
    sentence = "This sentence, which is long, keeps going and going without any end in sight at all"
    text = " ".join([sentence + "."] * 11)
    chunks = prepare_text(text, TextOptions(max_chunk_chars=50))
    assert len(chunks) > 11
    assert all(len(chunk.text) <= 51 for chunk in chunks)
    assert all(chunk.text[-1] in ".,;:!?" for chunk in chunks)
    rejoined = " ".join(chunk.text for chunk in chunks)
    assert rejoined.count("keeps going") == 11


def test_split_keeps_arpabet_whole_and_sentences_apart() -> None:
    chunks = split_into_chunks("hello there. {HH AH0 L OW1 W ER1 L D} again and again", max_chars=12)
    assert chunks[0].text == "hello there." and chunks[0].ends_sentence
    assert "{HH AH0 L OW1 W ER1 L D}," in [chunk.text for chunk in chunks]
    assert chunks[-1].text.endswith(".") and chunks[-1].ends_sentence


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "...", "#*/"])
def test_nothing_pronounceable_is_refused(text: str) -> None:
    with pytest.raises(TextError, match="nothing pronounceable"):
        prepare_text(text)
