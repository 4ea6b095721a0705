"""Lengths: the fast path for common units must agree with pint, and bad lengths are refused."""

import subprocess
import sys

import pytest

from pirack.units import mm, parse_length, parse_offset, ureg


@pytest.mark.parametrize("text", ["28 mm", "1.1 in", "2.5cm", "0.1 m", "3 inch", "12 millimetre", "7 centimeter", "1e1 mm"])
def test_fast_path_agrees_with_pint(text):
    assert mm(parse_length(text)) == pytest.approx(ureg().Quantity(text).m_as("mm"), abs=1e-12)


def test_other_units_go_through_pint():
    assert mm(parse_length("2 ft")) == pytest.approx(609.6)


@pytest.mark.parametrize("bad", ["28", 28, 2.5, "28 kg", '1.5"', "", "mm", "-3 mm", "3 s", True])
def test_bad_lengths(bad):
    with pytest.raises(ValueError):
        parse_length(bad)


def test_offsets_may_be_negative():
    assert mm(parse_offset("-3.5 mm")) == -3.5
    assert mm(parse_offset("-1 in")) == pytest.approx(-25.4)
    with pytest.raises(ValueError):
        parse_offset("-3 kg")


def test_common_lengths_never_import_pint():
    code = "import sys; from pirack.units import parse_length, mm; mm(parse_length('28 mm')); print('pint' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr
