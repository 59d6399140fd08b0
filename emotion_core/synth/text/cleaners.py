"""Text cleaners: small named steps that turn written English into what Tacotron 2 was trained to
read.

The LJSpeech models were trained on lower-case ASCII with numbers and common abbreviations written
out, so :func:`english_cleaners` composes the steps below in that spirit. Each step is a plain ``str
→ str`` function that can be tested and reused on its own. ARPAbet passages in curly braces are not
cleaned here: :mod:`emotion_core.synth.text.sequence` keeps them apart before calling the cleaners.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from emotion_core.synth.text.numbers import expand_numbers

#: Characters that Unicode decomposition does not reduce to ASCII, with the spelling to use instead.
_TRANSLITERATIONS = {
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "Th",
    "ı": "i",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "´": "'",
    "`": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": ", ",
    "―": ", ",
    "…": "...",
    "¿": "",
    "¡": "",
}

#: Non-ASCII characters that must survive transliteration because a later step reads them.
_KEEP = frozenset("£€")

#: Symbols spoken as words when they are left over after the numbers were expanded.
_SYMBOL_WORDS = {
    "&": " and ",
    "%": " percent ",
    "$": " dollars ",
    "£": " pounds ",
    "€": " euros ",
    "@": " at ",
    "+": " plus ",
    "=": " equals ",
}

_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b{abbreviation}\.", re.IGNORECASE), expansion)
    for abbreviation, expansion in (
        ("mrs", "misess"),
        ("mr", "mister"),
        ("ms", "miss"),
        ("drs", "doctors"),
        ("dr", "doctor"),
        ("st", "saint"),
        ("co", "company"),
        ("jr", "junior"),
        ("sr", "senior"),
        ("maj", "major"),
        ("gen", "general"),
        ("rev", "reverend"),
        ("lt", "lieutenant"),
        ("hon", "honorable"),
        ("sgt", "sergeant"),
        ("capt", "captain"),
        ("esq", "esquire"),
        ("ltd", "limited"),
        ("col", "colonel"),
        ("ft", "fort"),
        ("vs", "versus"),
        ("etc", "et cetera"),
        ("e\\.g", "for example"),
        ("i\\.e", "that is"),
    )
)

_WHITESPACE_RE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCTUATION_RE = re.compile(r"\s+(?=[,.;:!?])")


def transliterate_to_ascii(text: str) -> str:
    """Reduce Unicode to ASCII: accents dropped ("café" → "cafe"), typographic quotes and dashes
    straightened, ligatures and full-width forms decomposed; anything else unspeakable is removed.

    £ and € are kept for :func:`expand_numbers` and :func:`expand_symbols`.
    """
    text = "".join(_TRANSLITERATIONS.get(char, char) for char in text)
    text = unicodedata.normalize("NFKD", text)
    return "".join(
        char
        for char in text
        if char.isascii() or char in _KEEP or (char.isspace() and not unicodedata.combining(char))
    )


def expand_symbols(text: str) -> str:
    """Speak the symbols that carry meaning ("&" → "and") once numbers have claimed theirs."""
    return "".join(_SYMBOL_WORDS.get(char, char) for char in text)


def expand_abbreviations(text: str) -> str:
    """Write out titles and common abbreviations: "Dr." → "doctor", "St." → "saint"."""
    for pattern, expansion in _ABBREVIATIONS:
        text = pattern.sub(expansion, text)
    return text


def lowercase(text: str) -> str:
    """Lower-case, as the training transcripts were."""
    return text.lower()


def collapse_whitespace(text: str) -> str:
    """Turn every run of whitespace (tabs, newlines) into one space, drop spaces before punctuation
    (left by replaced dashes) and trim both ends."""
    text = _SPACE_BEFORE_PUNCTUATION_RE.sub("", text)
    return _WHITESPACE_RE.sub(" ", text).strip()


Cleaner = Callable[[str], str]

#: The English pipeline, in order: transliteration first so later patterns see ASCII digits and
#: letters, numbers before abbreviations so "St. 3rd" is not split up wrongly, case and space last.
ENGLISH_CLEANERS: tuple[Cleaner, ...] = (
    transliterate_to_ascii,
    expand_numbers,
    expand_symbols,
    expand_abbreviations,
    lowercase,
    collapse_whitespace,
)


def clean(text: str, cleaners: Sequence[Cleaner]) -> str:
    """Run ``text`` through ``cleaners`` in order."""
    for cleaner in cleaners:
        text = cleaner(text)
    return text


def english_cleaners(text: str) -> str:
    """Clean English text for an LJSpeech-trained Tacotron 2 (see :data:`ENGLISH_CLEANERS`)."""
    return clean(text, ENGLISH_CLEANERS)
