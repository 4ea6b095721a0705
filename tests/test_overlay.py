"""The overlay helper that case files are written with (tests/overlay.py)."""

import tomllib

import pytest

from overlay import apply_patch, overlay_text, split_key


def test_split_key():
    assert split_key("nodes[1].mac") == ["nodes", 1, "mac"]
    assert split_key("rack.engraving.logo") == ["rack", "engraving", "logo"]
    with pytest.raises(ValueError):
        split_key("nodes[x]")


def test_patch_sets_appends_and_deletes():
    doc = {"a": {"b": 1}, "l": [{"n": 1}]}
    out = apply_patch(doc, {"a.b": 2, "a.c.d": 3, "l[1]": {"n": 2}, "l[0].n": 5}, ["a.b"])
    assert out == {"a": {"c": {"d": 3}}, "l": [{"n": 5}, {"n": 2}]}
    assert doc == {"a": {"b": 1}, "l": [{"n": 1}]}  # the input is untouched


def test_overlay_on_the_default():
    doc = tomllib.loads(overlay_text({"nodes[1].mac": "02:00:00:50:00:zz"}, ["storage.exports"]))
    assert doc["nodes"][1]["mac"] == "02:00:00:50:00:zz" and "exports" not in doc["storage"]
    assert doc["nodes"][0]["mac"] == "02:00:00:50:00:01"
