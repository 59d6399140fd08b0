"""Numbers in English text spelled out as words, because Tacotron 2 only knows letters and
punctuation.

Each kind of number (currency, percentage, decimal, ordinal, year, plain integer) has its own small
function and its own pattern; :func:`expand_numbers` applies them in an order where the more
specific patterns go first, so that ``$3.50`` is read as money before ``3.50`` could be read as a
decimal. Readings follow what the LJSpeech-trained models heard in training: ``1984`` is "nineteen
eighty-four", ``$3.50`` is "three dollars, fifty cents".
"""

from __future__ import annotations

import re

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
#: Scale words by power of a thousand; numbers beyond the last are read digit by digit.
_SCALES = ("", "thousand", "million", "billion", "trillion")

#: Irregular ordinal endings; every other word takes "th" (with "y" → "ieth").
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}

#: Currency symbol → (singular unit, plural unit, singular subunit, plural subunit).
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
}

_THOUSANDS_COMMA_RE = re.compile(r"(?<=\d),(?=\d{3}\b)")
_CURRENCY_RE = re.compile(r"([$£€])\s?(\d+(?:\.\d+)?)")
_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_DECIMAL_RE = re.compile(r"(\d+)\.(\d+)")
_ORDINAL_RE = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_NEGATIVE_RE = re.compile(r"(?<![\w-])-(?=\d)")
_INTEGER_RE = re.compile(r"\d+")


def _below_thousand(n: int) -> str:
    """Words for 0 < n < 1000, e.g. 342 → "three hundred forty-two"."""
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words.append(f"{_ONES[hundreds]} hundred")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest:
        words.append(_ONES[rest])
    return " ".join(words)


def cardinal(n: int) -> str:
    """Words for a whole number: ``cardinal(1205)`` → "one thousand two hundred five".

    Numbers of a quadrillion or more are read digit by digit, as a person would read a long code.
    """
    if n < 0:
        return "minus " + cardinal(-n)
    if n < 20:
        return _ONES[n]
    if n >= 1000 ** len(_SCALES):
        return " ".join(_ONES[int(digit)] for digit in str(n))
    groups = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            groups.append(_below_thousand(group) + (f" {_SCALES[scale]}" if scale else ""))
        scale += 1
    return " ".join(reversed(groups))


def ordinal(n: int) -> str:
    """Words for an ordinal: ``ordinal(23)`` → "twenty-third", ``ordinal(100)`` → "one
    hundredth"."""
    words = cardinal(n)
    head, sep, last = words.rpartition(" ")
    stem, hyphen, unit = last.rpartition("-")
    if unit in _ORDINAL_WORDS:
        unit = _ORDINAL_WORDS[unit]
    elif unit.endswith("y"):
        unit = unit[:-1] + "ieth"
    else:
        unit += "th"
    return head + sep + stem + hyphen + unit


def year(n: int) -> str:
    """Words for a year as English speakers say it: 1984 → "nineteen eighty-four", 1905 → "nineteen
    oh five", 1900 → "nineteen hundred", 2007 → "two thousand seven"."""
    if not 1000 < n < 3000 or 2000 <= n < 2010:
        return cardinal(n)
    century, rest = divmod(n, 100)
    if rest == 0:
        return f"{cardinal(century)} hundred"
    if rest < 10:
        return f"{cardinal(century)} oh {cardinal(rest)}"
    return f"{cardinal(century)} {cardinal(rest)}"


def decimal(integer_part: str, fraction_part: str) -> str:
    """Words for a decimal given its digit strings: ("3", "14") → "three point one four"."""
    digits = " ".join(_ONES[int(digit)] for digit in fraction_part)
    return f"{cardinal(int(integer_part))} point {digits}"


def money(symbol: str, amount: str) -> str:
    """Words for an amount of money: ("$", "3.50") → "three dollars, fifty cents".

    A fraction with one digit counts tens of the subunit ("$2.5" is two dollars fifty); more than
    two fractional digits are read as a decimal number of units.
    """
    unit, units, subunit, subunits = _CURRENCIES[symbol]
    whole, _, fraction = amount.partition(".")
    if len(fraction) > 2:
        return f"{decimal(whole, fraction)} {units}"
    major = int(whole)
    minor = int(fraction.ljust(2, "0")) if fraction else 0
    parts = []
    if major or not minor:
        parts.append(f"{cardinal(major)} {unit if major == 1 else units}")
    if minor:
        parts.append(f"{cardinal(minor)} {subunit if minor == 1 else subunits}")
    return ", ".join(parts)


def _integer(match: re.Match[str]) -> str:
    digits = match.group(0)
    n = int(digits)
    # A leading zero ("007") is a code, not a quantity; four digits in range are most often a year.
    if len(digits) > 1 and digits.startswith("0"):
        return " ".join(_ONES[int(digit)] for digit in digits)
    return year(n) if 1000 < n < 3000 else cardinal(n)


def remove_thousands_commas(text: str) -> str:
    """Drop grouping commas inside numbers: "1,000,000" → "1000000"."""
    return _THOUSANDS_COMMA_RE.sub("", text)


def expand_currency(text: str) -> str:
    """Spell out amounts written with $, £ or € before the number."""
    return _CURRENCY_RE.sub(lambda m: money(m.group(1), m.group(2)), text)


def expand_percentages(text: str) -> str:
    """Turn "50%" into "50 percent" (the number itself is spelled out later)."""
    return _PERCENT_RE.sub(lambda m: f"{m.group(1)} percent", text)


def expand_decimals(text: str) -> str:
    """Spell out decimal numbers digit by digit after the point."""
    return _DECIMAL_RE.sub(lambda m: decimal(m.group(1), m.group(2)), text)


def expand_ordinals(text: str) -> str:
    """Spell out "1st", "22nd", "103rd", "4th"."""
    return _ORDINAL_RE.sub(lambda m: ordinal(int(m.group(1))), text)


def expand_negatives(text: str) -> str:
    """Read a minus sign directly before a number (and not inside a word such as "COVID-19")."""
    return _NEGATIVE_RE.sub("minus ", text)


def expand_integers(text: str) -> str:
    """Spell out the remaining whole numbers, reading plausible years as years."""
    return _INTEGER_RE.sub(_integer, text)


def expand_numbers(text: str) -> str:
    """Spell out every number in ``text``, most specific patterns first."""
    for step in (
        remove_thousands_commas,
        expand_currency,
        expand_percentages,
        expand_decimals,
        expand_ordinals,
        expand_negatives,
        expand_integers,
    ):
        text = step(text)
    return text
