"""Lengths with units, parsed by pint.

A length in a cluster file or a catalog part is a string with a unit ("28 mm", "1.1 in").
A bare number, or a unit that is not a length, is an error — never silently read as mm.
pint reads `1.5"` as a plain 1.5 (the quote is not a unit), so dimensionless results are
rejected too.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_LENGTH_PATTERN = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*[A-Za-zµ]+\s*$"


@functools.lru_cache(maxsize=1)
def ureg():
    """The one unit registry (created lazily: building it costs ~0.1 s)."""
    import pint

    return pint.UnitRegistry(cache_folder=":auto:")


# Units known to be lengths without asking pint. Importing pint costs ~0.3 s, which `bringup`
# (which never needs a length) should not pay on every run: these values become pint
# quantities on first use instead.
# Exact factors to mm (the inch is 25.4 mm by definition): the same as pint's, without pint.
_FAST_UNITS = {
    "mm": 1.0, "millimeter": 1.0, "millimetre": 1.0, "cm": 10.0, "centimeter": 10.0,
    "m": 1000.0, "meter": 1000.0, "in": 25.4, "inch": 25.4,
}
_FAST = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*$")


class LazyLength:
    """A length checked by pattern; the pint Quantity is made when first used."""

    __slots__ = ("text", "_q", "_mm")

    def __init__(self, text: str):
        self.text = text
        self._q = None
        self._mm = None

    @property
    def quantity(self):
        if self._q is None:
            self._q = ureg().Quantity(self.text)
        return self._q

    def __getattr__(self, name):
        return getattr(self.quantity, name)

    def __eq__(self, other):
        return self.quantity == (other.quantity if isinstance(other, LazyLength) else other)

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return f"<Length {self.text}>"

    def __str__(self):
        return self.text


def parse_offset(value: Any):
    """Like parse_length, but may be negative: a position relative to a part's corner
    (a port keep-out overhangs the board edge)."""
    if isinstance(value, str) and value.strip().startswith("-"):
        pos = parse_length(value.strip()[1:])  # the same checks on the magnitude and unit
        neg = LazyLength(value.strip())
        if isinstance(pos, LazyLength) and pos._mm is not None:
            neg._mm = -pos._mm
        return neg
    return parse_length(value)


def parse_length(value: Any):
    """Return a length (a pint Quantity, or a LazyLength that becomes one), or raise ValueError
    with a reason a person can act on."""
    if isinstance(value, LazyLength):
        return value
    if isinstance(value, str):
        m = _FAST.match(value)
        if m and m.group(2) in _FAST_UNITS:
            if float(m.group(1)) < 0:
                raise ValueError(f"{value!r}: a length cannot be negative")
            ll = LazyLength(value.strip())
            ll._mm = float(m.group(1)) * _FAST_UNITS[m.group(2)]
            return ll
    reg = ureg()
    if isinstance(value, reg.Quantity):
        q = value
    elif isinstance(value, bool) or isinstance(value, (int, float)):
        raise ValueError(f"{value!r} has no unit: write it with one, like \"{value} mm\"")
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty length: write it with a unit, like \"28 mm\"")
        if not re.match(_LENGTH_PATTERN, text):
            raise ValueError(f"{value!r} is not a length: write a number and a unit, like \"28 mm\" or \"1.1 in\"")
        try:
            q = reg.Quantity(text)
        except Exception as exc:  # pint raises several types for unknown units
            raise ValueError(f"{value!r} is not a length: {exc}") from None
    else:
        raise ValueError(f"{value!r} is not a length: write a string like \"28 mm\"")
    if q.dimensionless or not q.check("[length]"):
        raise ValueError(f"{value!r} is not a length (its unit is {q.units:~P} or none)")
    if q.magnitude < 0:
        raise ValueError(f"{value!r}: a length cannot be negative")
    return q


@functools.lru_cache(maxsize=1)
def _mm_unit():
    return ureg().mm


def mm(q) -> float:
    """A length as a float in millimetres (for geometry, which works in mm).

    Converting with a unit object instead of the string "mm" avoids pint parsing the unit on
    every call (~0.4 ms each); a LazyLength remembers its value."""
    if isinstance(q, LazyLength):
        if q._mm is None:
            q._mm = float(q.quantity.m_as(_mm_unit()))
        return q._mm
    return float(q.m_as(_mm_unit()))


def _serialize(q) -> str:
    if isinstance(q, LazyLength):
        return q.text
    return f"{q.magnitude:g} {q.units:~}"


_SCHEMA = {
    "type": "string",
    "pattern": _LENGTH_PATTERN,
    "description": "A length with its unit, like \"28 mm\" or \"1.1 in\"",
    "examples": ["28 mm", "1.1 in"],
}

Offset = Annotated[Any, BeforeValidator(parse_offset), PlainSerializer(_serialize, return_type=str), WithJsonSchema(_SCHEMA)]

Length = Annotated[
    Any,
    BeforeValidator(parse_length),
    PlainSerializer(_serialize, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _LENGTH_PATTERN,
            "description": "A length with its unit, like \"28 mm\" or \"1.1 in\"",
            "examples": ["28 mm", "1.1 in"],
        }
    ),
]
