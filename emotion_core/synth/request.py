"""What a speech request may ask for, stated and checked once: the voices, vocoders and file formats,
the text limit and its cleaning, the intensity range.

Nothing heavy is imported here, so command lines and the bot can offer these choices and refuse a bad
request before any voice loads; :mod:`emotion_core.synth.pipeline` enforces the same checks.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, get_args

from emotion_core.errors import TextError

#: Longest text one ``speak`` call accepts (characters, after whitespace is collapsed); what /speak
#: enforces. About 20 s of speech, and Tacotron 2's attention stays reliable up to about this
#: length.
MAX_TEXT_CHARS = 300

VoiceName = Literal["auto", "tacotron2", "hibari", "espeak"]
VocoderName = Literal["waveglow", "hifigan", "griffinlim"]
#: The values of ``VoiceName`` and ``VocoderName``, for command-line choices and checks.
VOICE_NAMES: tuple[str, ...] = get_args(VoiceName)
VOCODER_NAMES: tuple[str, ...] = get_args(VocoderName)

#: File extensions speech can be saved as, and the format each writes.
SPEECH_FORMATS: dict[str, Literal["ogg", "wav"]] = {".ogg": "ogg", ".opus": "ogg", ".wav": "wav"}


def clean_text(text: str) -> str:
    """Check the text to speak and collapse its whitespace; raise :class:`TextError` when unusable.

    Control and format characters (zero-width spaces, bidi marks) are dropped, whitespace runs
    become one space. Empty text and text over ``MAX_TEXT_CHARS`` are refused with a message for
    people.
    """
    if not isinstance(text, str):
        raise TextError(f"The text to speak must be a string, not {type(text).__name__}.")
    kept = (
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or not unicodedata.category(ch).startswith("C")
    )
    cleaned = re.sub(r" +", " ", "".join(kept)).strip()
    if not cleaned:
        raise TextError("There is no text to speak.")
    if len(cleaned) > MAX_TEXT_CHARS:
        raise TextError(f"The text is {len(cleaned)} characters long; the limit is {MAX_TEXT_CHARS}.")
    if not any(ch.isalnum() for ch in cleaned):
        raise TextError("The text has nothing pronounceable (no letters or digits).")
    return cleaned


def check_intensity(intensity: float) -> float:
    """Return ``intensity`` as a float; ``ValueError`` unless it is a finite number within [0, 1]."""
    try:
        value = float(intensity)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"intensity must be within [0, 1], not {intensity!r}")
    return value
