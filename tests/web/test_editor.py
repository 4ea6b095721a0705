"""The settings editor writes cluster.toml with tomlkit: only the values asked for change."""

from __future__ import annotations

import difflib
import ipaddress
import tomllib

import pytest

pytest.importorskip("tomlkit")

from pirack.errors import InputError  # noqa: E402
from pirack.init_template import init_text  # noqa: E402
from pirack.load import load_text  # noqa: E402
from pirack.paths import default_text  # noqa: E402
from rackdesign.web import editor  # noqa: E402


def comments(text: str) -> list[str]:
    return [line[line.index("#"):] for line in text.splitlines() if "#" in line]


def test_grow_and_shrink_round_trip_byte_for_byte():
    text = default_text()
    grown = editor.apply(text, {"nodes": 5})
    assert len(tomllib.loads(grown)["nodes"]) == 5
    assert editor.apply(grown, {"nodes": 2}) == text


def test_new_nodes_are_valid_unique_and_outside_the_dhcp_range():
    text = init_text(2)
    grown = editor.apply(text, {"nodes": 6})
    lc = load_text(grown, "grown.toml")  # the whole validation, catalog included
    nodes = lc.spec.nodes
    assert len(nodes) == 6 and [n.role for n in nodes].count("master") == 1
    for attr in ("name", "mac", "address"):
        values = [str(getattr(n, attr)) for n in nodes]
        assert len(set(values)) == len(values), attr
    lo, hi = (ipaddress.ip_address(str(a)) for a in lc.spec.network.dhcp_range)
    assert not any(lo <= ipaddress.ip_address(str(n.address)) <= hi for n in nodes)


def test_values_change_and_every_comment_stays():
    text = default_text()
    new = editor.apply(text, {"margin_mm": 6.5, "switch_orientation": "flat", "labels": False,
                              "sheet": "acrylic-cast-5mm", "node_parts": [{"board": "rpi4b-8gb", "hat": ""}]})
    data = tomllib.loads(new)
    assert data["rack"]["margin"] == "6.5 mm"
    assert data["rack"]["switch_orientation"] == "flat"
    assert data["rack"]["engraving"]["labels"] is False
    assert data["rack"]["sheet"] == "acrylic-cast-5mm"
    assert "hat" not in data["nodes"][0] and data["nodes"][1]["hat"] == "rpi-poe-plus-hat"
    assert comments(new) == comments(text)
    removed = [ln for ln in difflib.ndiff(text.splitlines(), new.splitlines()) if ln.startswith("- ")]
    assert len(removed) == 5, removed  # the four values and the HAT line: nothing else moved


def test_current_reads_what_apply_writes():
    new = editor.apply(default_text(), {"nodes": 3, "margin_mm": 7, "drive_placement": "none"})
    cur = editor.current(new)
    assert (cur["nodes"], cur["margin_mm"], cur["drive_placement"]) == (3, 7.0, "none")
    assert [n["name"] for n in cur["node_parts"]] == ["master", "slave1", "slave2"]


@pytest.mark.parametrize("changes, key", [
    ({"nodes": 0}, "nodes"),
    ({"nodes": "many"}, "nodes"),
    ({"nodes": 200}, "nodes"),
    ({"nodes": 65}, "nodes"),  # the schema's MAX_NODES is 64
    ({"margin_mm": -1}, "rack.margin"),
    ({"margin_mm": 0}, "rack.margin"),  # the schema's margin is 1-25 mm
    ({"margin_mm": 30}, "rack.margin"),
    ({"margin_mm": "wide"}, "rack.margin"),
    ({"switch_orientation": "upside-down"}, "rack.switch_orientation"),
    ({"drive_placement": 3}, "rack.drive_placement"),
])
def test_bad_values_name_their_key(changes, key):
    with pytest.raises(InputError) as exc:
        editor.apply(default_text(), changes)
    assert exc.value.key == key


def test_the_master_is_never_removed():
    two = init_text(2)
    assert len(tomllib.loads(editor.apply(two, {"nodes": 1}))["nodes"]) == 1
    # a file whose last node is the master: removing a node would remove it
    swapped = two.replace('role = "master"', 'role = "tmp"').replace('role = "slave"', 'role = "master"') \
                 .replace('role = "tmp"', 'role = "slave"')
    with pytest.raises(InputError) as exc:
        editor.apply(swapped, {"nodes": 1})
    assert "master" in exc.value.message


def test_the_limits_are_the_schemas():
    """The editor's limits are read from pirack.spec, not copied: probe the schema itself."""
    from pydantic import TypeAdapter, ValidationError

    from pirack import spec

    margin = TypeAdapter(spec.Margin)

    def takes(mm: float) -> bool:
        try:
            margin.validate_python(f"{mm:g} mm")
            return True
        except ValidationError:
            return False

    lo, hi = editor.limits()["margin_mm"]
    assert takes(lo) and takes(hi) and not takes(lo - 0.1) and not takes(hi + 0.1)
    assert editor.limits()["nodes"] == [1, spec.MAX_NODES]
