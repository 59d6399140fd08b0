"""English text front end for Tacotron 2: cleaners, number reading, NVIDIA's symbol set, ARPAbet in
curly braces and splitting long text into decoder-sized chunks.

The usual entry point is :func:`prepare_text`; the pieces are importable from their modules.
"""

from emotion_core.synth.text.frontend import PreparedChunk, TextOptions, prepare_text
from emotion_core.synth.text.sequence import normalize_text, sequence_to_text, text_to_sequence
from emotion_core.synth.text.symbols import N_SYMBOLS, SYMBOLS

__all__ = [
    "N_SYMBOLS",
    "SYMBOLS",
    "PreparedChunk",
    "TextOptions",
    "normalize_text",
    "prepare_text",
    "sequence_to_text",
    "text_to_sequence",
]
