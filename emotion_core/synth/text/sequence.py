"""Cleaned text ↔ symbol ids, with ARPAbet passages in curly braces passed straight to the model.

``"Say {HH AH0 L OW1} now"`` becomes the ids of ``say `` (letters), then the phones ``@HH @AH0 @L
@OW1``, then `` now``. A passage in braces is validated against CMUdict's phone set, so a typo is
reported instead of being silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from emotion_core.errors import TextError
from emotion_core.synth.text.cleaners import english_cleaners
from emotion_core.synth.text.symbols import (
    ARPABET_PHONES,
    ARPABET_PREFIX,
    PAD,
    SYMBOL_TO_ID,
    SYMBOLS,
)

#: An ARPAbet passage: braces around anything but braces.
ARPABET_RE = re.compile(r"\{([^{}]*)\}")

_PHONES = frozenset(ARPABET_PHONES)


def normalize_arpabet(passage: str) -> str:
    """Upper-case and space-separate the phones of one passage (without braces), checking each.

    Raises
    ------
    TextError
        If a phone is not in CMUdict's set (e.g. a missing stress digit is fine, "AHX" is not).
    """
    phones = passage.upper().split()
    unknown = [phone for phone in phones if phone not in _PHONES]
    if unknown:
        raise TextError(
            f"Unknown ARPAbet phone(s) {', '.join(unknown)} in {{{passage}}}; use CMUdict phones "
            "such as {HH AH0 L OW1}."
        )
    return " ".join(phones)


def normalize_text(text: str) -> str:
    """Clean the parts of ``text`` outside curly braces with :func:`english_cleaners` and normalise
    the ARPAbet passages inside them, keeping the braces. Stray unmatched braces are dropped."""
    pieces = ARPABET_RE.split(text)
    cleaned = []
    for index, piece in enumerate(pieces):
        if index % 2:
            phones = normalize_arpabet(piece)
            if phones:
                cleaned.append(f"{{{phones}}}")
        else:
            # Cleaning trims, so put back the spaces that separated this piece from a passage.
            lead = " " if piece[:1].isspace() else ""
            trail = " " if piece[-1:].isspace() else ""
            cleaned.append(lead + english_cleaners(piece.replace("{", " ").replace("}", " ")) + trail)
    return " ".join("".join(cleaned).split())


def cleaned_text_to_sequence(text: str) -> list[int]:
    """Symbol ids for already-cleaned text; characters outside the symbol set are skipped."""
    ids: list[int] = []
    for index, piece in enumerate(ARPABET_RE.split(text)):
        if index % 2:
            ids.extend(SYMBOL_TO_ID[ARPABET_PREFIX + phone] for phone in normalize_arpabet(piece).split())
        else:
            ids.extend(SYMBOL_TO_ID[char] for char in piece if char in SYMBOL_TO_ID and char != PAD)
    return ids


def text_to_sequence(text: str) -> list[int]:
    """Symbol ids for raw text: :func:`normalize_text` then :func:`cleaned_text_to_sequence`."""
    return cleaned_text_to_sequence(normalize_text(text))


def sequence_to_text(ids: Sequence[int]) -> str:
    """The text a sequence of ids spells, with consecutive phones gathered back into braces."""
    out: list[str] = []
    phones: list[str] = []
    for symbol_id in ids:
        symbol = SYMBOLS[symbol_id]
        if len(symbol) > 1 and symbol.startswith(ARPABET_PREFIX):
            phones.append(symbol[1:])
            continue
        if phones:
            out.append("{" + " ".join(phones) + "}")
            phones = []
        out.append(symbol)
    if phones:
        out.append("{" + " ".join(phones) + "}")
    return "".join(out)
