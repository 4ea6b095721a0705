"""Lengths: our unit table must agree with pint, bad lengths are refused with a reason, and a
length is a real type pydantic validates and writes back."""

import subprocess
import sys
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from pirack.units import UNITS_MM, Length, Offset, mm, parse_length, parse_offset, ureg, within


@pytest.mark.parametrize("text", ["28 mm", "1.1 in", "2.5cm", "0.1 m", "3 inch", "12 millimetre", "7 centimeter",
                                  "1e1 mm", "2 inches", "3 metres"])
def test_units_agree_with_pint(text):
    assert mm(parse_length(text)) == pytest.approx(ureg().Quantity(text).m_as("mm"), abs=1e-12)


def test_every_unit_we_take_agrees_with_pint():
    for unit, factor in UNITS_MM.items():
        assert ureg().Quantity(1, unit).m_as("mm") == pytest.approx(factor, rel=1e-12), unit


@pytest.mark.parametrize("bad", ["28", 28, 2.5, "28 kg", '1.5"', "", "mm", "-3 mm", "3 s", True, None, ["5 mm"],
                                 {"mm": 5}, "2 ft", "28 furlong", "1 ly", "5 MM", "5 mm\n", "5\tmm", "1e309 mm",
                                 "1e308 m", "nan mm", "inf mm", "5 mm mm", "5 µm"])
def test_bad_lengths(bad):
    with pytest.raises(ValueError):
        parse_length(bad)


def test_a_bad_unit_names_the_units_we_take():
    with pytest.raises(ValueError) as err:
        parse_length("28 furlong")
    assert "furlong" in str(err.value) and "mm, cm, m or in" in str(err.value)


def test_infinity_is_not_a_length():
    with pytest.raises(ValueError, match="finite"):
        parse_length("1e309 mm")


def test_a_value_in_a_message_is_escaped():
    with pytest.raises(ValueError) as err:
        parse_length("5 mm\nerror: injected")
    assert "\n" not in str(err.value) and "\\n" in str(err.value)


def test_offsets_may_be_negative():
    assert mm(parse_offset("-3.5 mm")) == -3.5
    assert mm(parse_offset("-1 in")) == pytest.approx(-25.4)
    assert isinstance(parse_offset("2 mm"), Offset)
    with pytest.raises(ValueError):
        parse_offset("-3 kg")


class _Plate(BaseModel):
    margin: Annotated[Length, within(1, 25, "why it is so")] = "5 mm"
    offset: Offset = "-2 mm"


def test_length_is_a_type_pydantic_validates_and_writes_back():
    p = _Plate(margin="0.5 in")
    assert isinstance(p.margin, Length) and mm(p.margin) == pytest.approx(12.7)
    assert p.model_dump() == {"margin": "0.5 in", "offset": "-2 mm"}
    assert _Plate.model_json_schema()["properties"]["margin"]["type"] == "string"


@pytest.mark.parametrize("text, ok", [("1 mm", True), ("25 mm", True), ("2.5 cm", True), ("0.99 mm", False),
                                      ("25.01 mm", False), ("0 mm", False), ("5 km", False)])
def test_ranges_are_inclusive_and_say_the_range(text, ok):
    if ok:
        _Plate(margin=text)
        return
    with pytest.raises(ValidationError) as err:
        _Plate(margin=text)
    assert "1-25 mm" in str(err.value)  # a bad unit ("5 km") too
    assert ("why it is so" in str(err.value)) == text.endswith(" mm")  # outside the range: why it is so


def test_lengths_compare_by_value():
    assert parse_length("2.54 cm") == parse_length("1 in")
    assert parse_length("28 mm") != parse_length("28 cm")
    assert len({parse_length("10 mm"), parse_length("1 cm")}) == 1


def test_common_lengths_never_import_pint():
    code = "import sys; from pirack.units import parse_length, mm; mm(parse_length('28 mm')); print('pint' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr
