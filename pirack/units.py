"""Lengths with units.

A length in a cluster file or a catalog part is a string with a unit ("28 mm", "1.1 in"). A
bare number, a unit that is not a length, or one a maker would not use for a rack (furlongs,
light years, parsecs) is an error naming the units we take — never silently read as mm. The
number is finite: "1e309 mm" is infinity in floating point, and every later sum would be too.

`Length` is a real type: annotate a field with it (pydantic validates with `parse_length`,
writes it back as its text). Its value in mm is known from the text alone, so `bringup`, which
never needs a length, does not import pint (~0.3 s); `Length.quantity` makes the pint Quantity
on first use. `within(lo, hi, why)` adds a physical range for one key.
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING, Any

from .errors import shown

if TYPE_CHECKING:
    import pint
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidatorFunctionWrapHandler
    from pydantic_core import CoreSchema

# The units a maker writes a rack's lengths in, with their exact factor to mm (the inch is
# 25.4 mm by definition). Anything else is refused, with this list in the message.
UNITS_MM = {
    "mm": 1.0, "millimeter": 1.0, "millimetre": 1.0, "millimeters": 1.0, "millimetres": 1.0,
    "cm": 10.0, "centimeter": 10.0, "centimetre": 10.0, "centimeters": 10.0, "centimetres": 10.0,
    "m": 1000.0, "meter": 1000.0, "metre": 1000.0, "meters": 1000.0, "metres": 1000.0,
    "in": 25.4, "inch": 25.4, "inches": 25.4,
}
UNIT_NAMES = "mm, cm, m or in"
# ASCII digits only: Python's \d and float() also take other scripts' digits ("٥", "５" read as 5),
# which no one means in a cluster file and which print like something else.
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_LENGTH = re.compile(rf" *({_NUMBER}) *([A-Za-zµ]+) *")
_LENGTH_PATTERN = rf"^ *{_NUMBER} *(?:{'|'.join(sorted(UNITS_MM, key=len, reverse=True))}) *$"


@functools.lru_cache(maxsize=1)
def ureg():
    """The one unit registry (created lazily: building it costs ~0.1 s)."""
    import pint

    return pint.UnitRegistry(cache_folder=":auto:")


class Length:
    """A length as written ("28 mm") and its value in millimetres."""

    __slots__ = ("text", "millimetres")

    def __init__(self, text: str, millimetres: float):
        self.text = text
        self.millimetres = millimetres

    @property
    def quantity(self):
        """The pint Quantity (pint is imported on first use)."""
        return ureg().Quantity(self.millimetres, "mm")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Length):
            return self.millimetres == other.millimetres
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.millimetres)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.text}>"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def __get_pydantic_core_schema__(cls, source: object, handler: GetCoreSchemaHandler):
        from pydantic_core import core_schema

        as_text = core_schema.plain_serializer_function_ser_schema(str, return_schema=core_schema.str_schema())
        return core_schema.no_info_plain_validator_function(cls.parse, serialization=as_text)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict:
        return {"type": "string", "pattern": _LENGTH_PATTERN,
                "description": f"A length with its unit ({UNIT_NAMES}), like \"28 mm\" or \"1.1 in\"",
                "examples": ["28 mm", "1.1 in"]}

    @classmethod
    def parse(cls, value: Any) -> "Length":
        return parse_length(value)


class Offset(Length):
    """A position relative to a part's corner: a length that may be negative (a port's keep-out
    overhangs the board edge)."""

    @classmethod
    def parse(cls, value: Any) -> "Offset":
        return parse_offset(value)


def parse_offset(value: Any) -> Offset:
    """Like parse_length, but may be negative."""
    if isinstance(value, str) and value.strip(" ").startswith("-"):
        pos = parse_length(value.strip(" ")[1:])  # the same checks on the magnitude and unit
        return Offset(value.strip(" "), -pos.millimetres)
    pos = parse_length(value)
    return Offset(pos.text, pos.millimetres)


def parse_length(value: Any) -> Length:
    """A Length, or ValueError with a reason a person can act on."""
    if isinstance(value, Length):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a length with its unit, like \"28 mm\"; got {shown(value)}")
    if not isinstance(value, str):
        raise ValueError(f"{shown(value)} has no unit: write it with one, like \"{value} mm\"")
    m = _LENGTH.fullmatch(value)
    if not m and any(ch.isdigit() and not ch.isascii() for ch in value):
        raise ValueError(f"{shown(value)} is not a length: write its number in the digits 0-9, like \"28 mm\"")
    if not m:
        raise ValueError(f"{shown(value)} is not a length: write a number and a unit ({UNIT_NAMES}), "
                         "like \"28 mm\" or \"1.1 in\"")
    number, unit = m.groups()
    if unit not in UNITS_MM:
        raise ValueError(f"{shown(value)} is not a length in a unit we take ('{unit}' is none of {UNIT_NAMES}): "
                         "write it like \"28 mm\" or \"1.1 in\"")
    millimetres = float(number) * UNITS_MM[unit]
    if not math.isfinite(millimetres):
        raise ValueError(f"{shown(value)} is not a finite length: write one like \"28 mm\"")
    if millimetres < 0:
        raise ValueError(f"{shown(value)}: a length cannot be negative")
    return Length(value.strip(" "), millimetres + 0.0)  # + 0.0: "-0 mm" is 0, not -0


def within(lo_mm: float, hi_mm: float, why: str):
    """A pydantic validator for one key's physical range: the length lies in [lo, hi] mm. Every
    refusal says the range (a bad unit too); one outside it also says why the range is what it
    is. Use as Annotated[Length, within(1, 25, "...")]."""
    from pydantic import ValidationError, WrapValidator

    span = f"{lo_mm:g}-{hi_mm:g} mm"

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> Length:
        try:
            q = handler(value)
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise ValueError(f"{msg} (it takes {span})") from None
        if not lo_mm <= q.millimetres <= hi_mm:
            value_mm = "" if q.text == f"{q.millimetres:g} mm" else f" ({q.millimetres:g} mm)"
            raise ValueError(f"{shown(q.text)}{value_mm} is outside {span}: {why}")
        return q

    check.range_mm = (lo_mm, hi_mm)  # readable by the forms that must offer only this range
    return WrapValidator(check)


def mm(q: Length | pint.Quantity) -> float:
    """A length as a float in millimetres (for geometry, which works in mm)."""
    if isinstance(q, Length):
        return q.millimetres
    return float(q.m_as(ureg().mm))  # a pint Quantity made by other code
