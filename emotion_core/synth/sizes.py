"""Plausible ranges for the sizes of a model architecture, checked before anything is built.

A checkpoint's sizes come from the file (tensor shapes, pickled hyperparameters, config dicts), and a
model built from an absurd size fails late and badly: a zero divides, an odd group cannot be halved,
a huge count allocates for minutes and then runs out of memory. So each architecture's config
declares a :class:`SizeRange` per field and checks them, with the parameter count its sizes imply,
in ``__post_init__``: no model can be built from sizes outside them, and the error names the field.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

#: Bytes per value of a model held in float32, the dtype the loaders cast to.
FLOAT32_BYTES = 4


@dataclass(frozen=True)
class SizeRange:
    """Whole numbers from ``low`` to ``high`` inclusive, optionally only the odd or the even ones."""

    low: int
    high: int
    parity: Literal["odd", "even"] | None = None

    def allows(self, value: int) -> bool:
        """Whether ``value`` lies in the range and has the required parity."""
        if not self.low <= value <= self.high:
            return False
        return self.parity is None or (value % 2 == 1) == (self.parity == "odd")

    def __str__(self) -> str:
        numbers = f"{self.parity} numbers" if self.parity else "whole numbers"
        return f"{numbers} from {self.low:,} to {self.high:,}"


def check_sizes(config: object, ranges: Mapping[str, SizeRange]) -> None:
    """Raise ``ValueError`` naming the first field of ``config`` that is not an ``int`` in its range.

    ``bool`` is refused too: ``True`` is an ``int`` to Python but never a size.
    """
    for name, allowed in ranges.items():
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} is {reprlib.repr(value)}, not a whole number")
        if not allowed.allows(value):
            raise ValueError(f"{name} is {value:,}; allowed: {allowed}")


def check_parameter_count(model: str, count: int, limit: int) -> None:
    """Raise ``ValueError`` when sizes that are each plausible together make too large a model."""
    if count > limit:
        raise ValueError(
            f"these sizes make a {model} of {count:,} parameters ({count * FLOAT32_BYTES / 2**30:.1f} GiB "
            f"as float32); the limit is {limit:,}"
        )


def as_size(name: str, value: object) -> int:
    """A size from a config dict as an ``int``: ints and whole finite floats, else ``ValueError``.

    Range checks come later, from the config; this only refuses what is not a number at all (strings,
    lists, ``inf``, ``nan``, ``True``), with the field's name rather than a bare conversion error.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise ValueError(f"{name} is {reprlib.repr(value)}, not a whole number")


def shape_of(state_dict: Mapping[str, Any], key: str, ndim: int) -> tuple[int, ...]:
    """The shape of tensor ``key``, which must have ``ndim`` dimensions (``KeyError`` when it is absent).

    Sizes are read from shapes, so a tensor with too few dimensions must be a clear error, not an
    ``IndexError`` from somewhere inside the inference.
    """
    shape = tuple(state_dict[key].shape)
    if len(shape) != ndim:
        raise ValueError(f"{key} has shape {shape}; expected {ndim} dimensions")
    return shape
