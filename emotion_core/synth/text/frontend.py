"""Tacotron 2's text front end in one call: text → normalized, chunked symbol-id sequences.

What a person typed is checked once, at the synthesiser's boundary
(:func:`emotion_core.synth.request.clean_text`: length, control characters, nothing to say); this
module only refuses text from which none of Tacotron 2's symbols remain, with a
:class:`~emotion_core.errors.TextError` whose message can be shown as is.
"""

from __future__ import annotations

from dataclasses import dataclass

from emotion_core.errors import TextError
from emotion_core.synth.text.sequence import cleaned_text_to_sequence, normalize_text
from emotion_core.synth.text.split import split_into_chunks


@dataclass(frozen=True)
class TextOptions:
    """Limits and pauses for turning text into speech.

    Attributes
    ----------
    max_chunk_chars : int
        Longest chunk of cleaned text given to the decoder at once. LJSpeech is read at about 15
        characters per second, so 140 characters is about 9 s, inside the default 1000-frame (11.6
        s) decoder limit.
    sentence_pause_s, clause_pause_s : float
        Silence inserted after a chunk that ends a sentence, or a clause, in seconds.
    """

    max_chunk_chars: int = 140
    sentence_pause_s: float = 0.25
    clause_pause_s: float = 0.1

    def __post_init__(self) -> None:
        if self.max_chunk_chars < 1:
            raise ValueError("max_chunk_chars must be at least 1")
        if self.sentence_pause_s < 0 or self.clause_pause_s < 0:
            raise ValueError("pauses must not be negative")


@dataclass(frozen=True)
class PreparedChunk:
    """A chunk ready for Tacotron 2.

    Attributes
    ----------
    text : str
        The cleaned text of the chunk, for logs and debugging.
    symbol_ids : tuple of int
        Embedding rows, shape ``(n_symbols_in_chunk,)``; never empty.
    pause_after_s : float
        Silence to put after this chunk's audio, in seconds.
    """

    text: str
    symbol_ids: tuple[int, ...]
    pause_after_s: float


def prepare_text(text: str, options: TextOptions = TextOptions()) -> list[PreparedChunk]:
    """Normalize and split ``text`` (already checked by the pipeline) into chunks of symbol ids.

    Raises
    ------
    TextError
        If ``text`` contains an unknown ARPAbet phone or nothing Tacotron 2 can say (empty, only
        emoji, symbols or letters outside its symbol set).
    """
    prepared = []
    for chunk in split_into_chunks(normalize_text(text), max_chars=options.max_chunk_chars):
        ids = cleaned_text_to_sequence(chunk.text)
        # A chunk of bare punctuation (e.g. "...") gives the decoder nothing to say.
        if not any(char.isalpha() for char in chunk.text) or not ids:
            continue
        pause = options.sentence_pause_s if chunk.ends_sentence else options.clause_pause_s
        prepared.append(PreparedChunk(text=chunk.text, symbol_ids=tuple(ids), pause_after_s=pause))
    if not prepared:
        raise TextError("There is nothing pronounceable in that text.")
    return prepared
