"""The geometry checks' cache (rackdesign/checks/geometry_cache.py): the same solids are measured
once, a moved solid or a changed catalog part is measured again, and whatever else is in the
cache folder (a broken or crafted entry, a link) is a miss, never an error or a finding.

Each test has its own cache folder (XDG_CACHE_HOME), so no other test's measurement answers."""

from __future__ import annotations

import dataclasses
import json
import os
import sys

import pytest
from helpers import moved_part, sh, spacer_into_drive
from overlay import overlay_text

from pirack.catalog import Catalog, load_catalog
from pirack.load import default_text, load_cluster, load_text
from pirack.units import parse_length
from rackdesign.checks import geometry_cache, run_checks
from rackdesign.checks.design import Design
from rackdesign.layout import build_layout
from rackdesign.plates import flat_parts


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "pirack" / "checks"


@pytest.fixture(scope="module")
def default():
    lc = load_cluster(None)
    return lc, build_layout(lc)


def _key(lc, lay):
    return geometry_cache.key(Design(lc, lay, flat_parts(lay)))


def _geometry(report):
    return [f.to_dict() for f in report.findings if f.code in geometry_cache.CODES]


# -- the key: what moves a solid changes it, nothing else does ---------------------------------------

def test_key_follows_the_solids_not_the_words(default):
    lc, lay = default
    k = _key(lc, lay)
    assert k == _key(lc, build_layout(lc))  # the same cluster, built again
    # comments and the engraving's words move no solid
    text = default_text().replace('[cluster]', '# a comment\n[cluster]', 1)
    assert text != default_text()
    lc2 = load_text(text, "t.toml")
    assert _key(lc2, build_layout(lc2)) == k
    for patch in ({"rack.engraving.labels": False}, {"purchases.acrylic_quote": 8000}):
        lc3 = load_text(overlay_text(patch), "t.toml")
        assert lc3.text != lc.text and _key(lc3, build_layout(lc3)) == k, patch
    # a solid 0.01 mm to the side, a renamed part, a thicker plate: each its own key
    sp = next(p for p in lay.parts if p.role == "column")
    assert _key(lc, dataclasses.replace(lay, parts=[moved_part(p, 0.01) if p is sp else p for p in lay.parts])) != k
    renamed = dataclasses.replace(sp, name="other#9")
    assert _key(lc, dataclasses.replace(lay, parts=[renamed if p is sp else p for p in lay.parts])) != k
    plate = lay.plates[0]
    thick = dataclasses.replace(lay, plates=[dataclasses.replace(plate, thickness=plate.thickness + 1)] + lay.plates[1:])
    assert _key(lc, thick) != k


def test_key_follows_the_catalog_entries_of_the_parts_placed(default):
    lc, lay = default
    cat = load_catalog()
    drive = lay.parts_of("drive")[0].part_id
    parts = dict(cat.parts)
    parts[drive] = parts[drive].model_copy(update={"height": parse_length("7.5 mm")})
    changed = dataclasses.replace(lc, catalog=Catalog(parts, cat.root))
    assert _key(changed, lay) != _key(lc, lay)


# -- hits and misses ------------------------------------------------------------------------------

@pytest.mark.cad
def test_a_collision_measured_once_is_served_the_same(default, cache):
    pytest.importorskip("cadquery")
    lc, lay = default
    lay, _, _ = spacer_into_drive(lay)
    first = run_checks(lc, lay)
    assert "cached" not in first.stats["collisions"]
    assert any(f["code"] == "COLLISION" for f in _geometry(first))
    assert len(list(cache.glob("*.json"))) == 1
    second = run_checks(lc, lay)
    assert second.stats["collisions"]["cached"] is True
    assert second.stats["seconds"]["collisions"] < first.stats["seconds"]["collisions"]
    assert _geometry(second) == _geometry(first)
    assert [f.to_dict() for f in second.findings] == [f.to_dict() for f in first.findings]
    # asked not to use it: measured again, same answer
    again = run_checks(lc, lay, use_cache=False)
    assert "cached" not in again.stats["collisions"] and _geometry(again) == _geometry(first)
    # the clean layout is another key: measured, and no collision carried over
    clean = run_checks(lc, default[1])
    assert "cached" not in clean.stats["collisions"] and not _geometry(clean)


def _plant(cache, key, doc) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"{key}.json").write_text(doc if isinstance(doc, str) else json.dumps(doc))


GOOD = {"severity": "error", "code": "COLLISION", "message": "a and b overlap by 9.0 mm³", "fix": "move one",
        "parts": ["a#1", "b#1"], "value": 9.0, "unit": "mm³", "limit": 0.001, "node": None, "count": 1,
        "where": "", "measure": ""}


@pytest.mark.parametrize("doc", [
    "{not json",
    json.dumps([GOOD]),  # not the document this module writes
    {"version": 0, "findings": [GOOD], "stats": {}},  # an older format
    {"version": 1, "findings": [dict(GOOD, code="HOLE_SIZE")], "stats": {}},  # not a geometry finding
    {"version": 1, "findings": [dict(GOOD, severity="fatal")], "stats": {}},
    {"version": 1, "findings": [dict(GOOD, parts="a#1")], "stats": {}},
    {"version": 1, "findings": [dict(GOOD, value="9")], "stats": {}},
    {"version": 1, "findings": [dict(GOOD, extra=1)], "stats": {}},
    {"version": 1, "findings": [{k: v for k, v in GOOD.items() if k != "fix"}], "stats": {}},
    {"version": 1, "findings": [GOOD], "stats": []},
], ids=["broken", "a-list", "old-version", "other-code", "bad-severity", "parts-text", "value-text", "extra-key",
        "missing-key", "stats-list"])
def test_an_entry_not_written_here_is_a_miss(default, cache, doc):
    lc, lay = default
    key = _key(lc, lay)
    _plant(cache, key, doc)
    assert geometry_cache.read(key) is None


def test_a_well_formed_entry_is_read_back_as_findings(default, cache):
    """The reader's other half: what write() keeps comes back as Finding values."""
    lc, lay = default
    key = _key(lc, lay)
    _plant(cache, key, {"version": 1, "findings": [GOOD], "stats": {"booleans": 3}})
    found, stats = geometry_cache.read(key)
    assert [f.to_dict() for f in found] == [GOOD] and found[0].parts == ("a#1", "b#1")
    assert stats == {"booleans": 3, "cached": True}


def test_a_link_in_the_cache_is_not_followed(default, cache, tmp_path):
    lc, lay = default
    key = _key(lc, lay)
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"version": 1, "findings": [GOOD], "stats": {}}))
    cache.mkdir(parents=True)
    os.symlink(target, cache / f"{key}.json")
    assert geometry_cache.read(key) is None


def test_write_keeps_only_geometry_findings_and_the_newest_entries(cache, monkeypatch):
    from rackdesign.findings import Finding

    geometry_cache.write("a" * 32, [Finding("error", "HOLE_SIZE", "not ours")], {})
    assert not cache.exists() or not list(cache.iterdir())
    monkeypatch.setattr(geometry_cache, "KEEP", 3)
    for i in range(5):
        geometry_cache.write(f"{i:032d}", [Finding(**dict(GOOD, parts=("a#1",)))], {})
        os.utime(cache / f"{i:032d}.json", (1000 + i, 1000 + i))
    assert sorted(p.stem for p in cache.glob("*.json")) == [f"{i:032d}" for i in (2, 3, 4)]
    assert not [p for p in cache.iterdir() if p.suffix != ".json"]  # no temp file left


@pytest.mark.cad
def test_a_second_check_does_not_import_the_cad_stack(tmp_path):
    """The point of the cache: `rack check` (and the checks before every export) again on the same
    rack answers without importing CadQuery, with the same findings."""
    pytest.importorskip("cadquery")
    probe = ("import json, sys; from pirack.load import load_cluster; from rackdesign.checks import run_checks; "
             "r = run_checks(load_cluster(None)); "
             "print(json.dumps({'cad': 'cadquery' in sys.modules, 'findings': [f.to_dict() for f in r.findings]}))")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    runs = []
    for _ in range(2):
        r = sh(sys.executable, "-c", probe, env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        runs.append(json.loads(r.stdout))
    assert runs[0]["cad"] is True and runs[1]["cad"] is False
    assert runs[0]["findings"] == runs[1]["findings"]
