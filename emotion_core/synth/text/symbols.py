"""The symbol inventory of NVIDIA's released Tacotron 2 models, in the order their embedding rows
use.

A published checkpoint's embedding table has one row per symbol (148 rows), so the order below is
part of the model: padding, the hyphen, punctuation, ASCII letters, then the 84 ARPAbet phones of
CMUdict, each prefixed with ``@`` so that a phone such as ``@B`` cannot be confused with the letter
``B``.
"""

from __future__ import annotations

PAD = "_"
SPECIAL = "-"
PUNCTUATION = "!'(),.:;? "
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

#: CMUdict's phone set: vowels with and without stress digits 0-2, then consonants, alphabetically.
ARPABET_PHONES: tuple[str, ...] = tuple(
    """
    AA AA0 AA1 AA2 AE AE0 AE1 AE2 AH AH0 AH1 AH2 AO AO0 AO1 AO2 AW AW0 AW1 AW2 AY AY0 AY1 AY2 B CH D
    DH EH EH0 EH1 EH2 ER ER0 ER1 ER2 EY EY0 EY1 EY2 F G HH IH IH0 IH1 IH2 IY IY0 IY1 IY2 JH K L M N
    NG OW OW0 OW1 OW2 OY OY0 OY1 OY2 P R S SH T TH UH UH0 UH1 UH2 UW UW0 UW1 UW2 V W Y Z ZH
    """.split()
)

#: Prefix that marks an ARPAbet phone in the symbol inventory.
ARPABET_PREFIX = "@"

SYMBOLS: tuple[str, ...] = (
    (PAD, SPECIAL)
    + tuple(PUNCTUATION)
    + tuple(LETTERS)
    + tuple(ARPABET_PREFIX + phone for phone in ARPABET_PHONES)
)

#: Embedding row of each symbol.
SYMBOL_TO_ID: dict[str, int] = {symbol: index for index, symbol in enumerate(SYMBOLS)}

N_SYMBOLS = len(SYMBOLS)
