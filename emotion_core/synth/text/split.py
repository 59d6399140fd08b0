"""Splitting cleaned text into chunks short enough for one Tacotron 2 decoder run.

The decoder stops after ``max_decoder_steps`` frames (1000 frames is 11.6 s at 22050 Hz with hop
256), and attention degrades on long inputs anyway, so long text is cut at sentence ends first, then
at clause punctuation, then between words, into chunks of at most ``max_chars`` characters. ARPAbet
passages in braces are never cut. Every chunk ends in punctuation, because the LJSpeech models
learned to emit their stop token after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_END_RE = re.compile(r"(?<=[,;:])\s+")
_WORD_RE = re.compile(r"\{[^{}]*\}|\S+")
_TERMINAL = ".!?"
_CLAUSAL = ",;:"


@dataclass(frozen=True)
class TextChunk:
    """One piece of cleaned text to synthesise on its own.

    Attributes
    ----------
    text : str
        Cleaned text (lower case, braces around ARPAbet), at most the requested length unless a
        single ARPAbet passage is longer.
    ends_sentence : bool
        Whether the chunk closes a sentence, which earns a longer pause after it than a clause does.
    """

    text: str
    ends_sentence: bool


def _pack(pieces: list[str], max_chars: int) -> list[str]:
    """Greedily join ``pieces`` with spaces into runs of at most ``max_chars`` characters."""
    runs: list[str] = []
    for piece in pieces:
        if runs and len(runs[-1]) + 1 + len(piece) <= max_chars:
            runs[-1] = f"{runs[-1]} {piece}"
        else:
            runs.append(piece)
    return runs


def _split_words(clause: str, max_chars: int) -> list[str]:
    """Cut a clause between words; a word longer than the limit is cut inside (braces never are)."""
    words: list[str] = []
    for word in _WORD_RE.findall(clause):
        if len(word) > max_chars and not word.startswith("{"):
            words.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
        else:
            words.append(word)
    return _pack(words, max_chars)


def _split_sentence(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    for clause in _CLAUSE_END_RE.split(sentence):
        pieces.extend([clause] if len(clause) <= max_chars else _split_words(clause, max_chars))
    return _pack(pieces, max_chars)


def split_into_chunks(text: str, *, max_chars: int) -> list[TextChunk]:
    """Split cleaned ``text`` into chunks of at most ``max_chars`` characters.

    Parameters
    ----------
    text : str
        Output of :func:`emotion_core.synth.text.sequence.normalize_text`.
    max_chars : int
        Longest chunk, in characters; 1 or more. A trailing punctuation mark may add one.

    Returns
    -------
    list of TextChunk
        In reading order; empty when ``text`` is blank.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    chunks: list[TextChunk] = []
    for sentence in _SENTENCE_END_RE.split(text.strip()):
        if not sentence:
            continue
        parts = _split_sentence(sentence, max_chars)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part[-1] not in _TERMINAL + _CLAUSAL:
                part += "." if last else ","
            chunks.append(TextChunk(text=part, ends_sentence=last))
    return chunks
