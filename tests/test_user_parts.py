"""A cluster file's own parts (parts/ beside it) and typed catalog access."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from pirack.catalog import Board, Hat, WrongKind, load_catalog, user_parts_dir
from pirack.errors import InputError
from pirack.load import load_cluster
from pirack.units import mm
from tests.helpers import sh
from tests.overlay import overlay_text

MY_BOARD = '''id = "my-pi4"
based_on = "rpi4b-8gb"
kind = "board"
name = "My Pi 4 (measured)"
thickness = "1.5 mm"
price = 9000
price_source = "what I paid"

[[sources]]
figures = ["thickness"]
document = "my calipers"
where = "measured at the board's edge, 2024-08-01"
official_drawing = false
note = "Three readings, 1.49-1.51 mm."
'''


def _cluster(tmp_path, patch=None):
    f = tmp_path / "cluster.toml"
    f.write_text(overlay_text(patch or {}))
    (tmp_path / "parts").mkdir(exist_ok=True)
    return f


def test_user_part_joins_the_catalog(tmp_path):
    f = _cluster(tmp_path, {"nodes[1].board": "my-pi4"})
    (tmp_path / "parts" / "my-pi4.toml").write_text(MY_BOARD)
    lc = load_cluster(f)
    b = lc.catalog.part("my-pi4", Board)
    assert mm(b.thickness) == 1.5 and mm(b.width) == 85.0  # its own figure over the built-in family's
    assert lc.catalog.path_of("my-pi4") == tmp_path / "parts" / "my-pi4.toml"
    assert lc.catalog.user_dir == (tmp_path / "parts").resolve() and "rpi4b-8gb" in lc.catalog
    assert load_cluster(f).catalog is lc.catalog  # read once per folder


def test_no_parts_folder_no_user_catalog(tmp_path):
    f = tmp_path / "cluster.toml"
    f.write_text(overlay_text({}))
    assert user_parts_dir(f) is None and load_cluster(f).catalog.user_dir is None


def test_bad_user_part_is_exit_2_naming_file_and_key(tmp_path, rack):
    f = _cluster(tmp_path)
    bad = tmp_path / "parts" / "my-pi4.toml"
    bad.write_text(MY_BOARD.replace('thickness = "1.5 mm"', 'thickness = "1.5"'))
    code, out, err = rack("validate", str(f))
    assert code == 2, err
    assert str(bad) in err and "thickness" in err and "Traceback" not in err


def test_unsourced_user_figure_is_refused(tmp_path):
    f = _cluster(tmp_path)
    (tmp_path / "parts" / "my-pi4.toml").write_text(MY_BOARD.replace('where = "measured at the board\'s edge, 2024-08-01"\n', ""))
    with pytest.raises(InputError) as err:
        load_cluster(f)
    assert err.value.file.endswith("my-pi4.toml") and "sources[" in err.value.message + (err.value.key or "")


def test_clash_with_a_built_in_id_needs_override(tmp_path, rack):
    f = _cluster(tmp_path)
    mine = tmp_path / "parts" / "rpi4b-8gb.toml"
    mine.write_text(MY_BOARD.replace('id = "my-pi4"\n', 'id = "rpi4b-8gb"\n'))  # based on the built-in it replaces
    code, out, err = rack("validate", str(f))
    assert code == 2 and str(mine) in err and "override = true" in err, err
    # asked for explicitly: the user's part replaces the built-in one
    mine.write_text("override = true\n" + MY_BOARD.replace('id = "my-pi4"\n', 'id = "rpi4b-8gb"\n'))
    lc = load_cluster(f)
    assert lc.catalog["rpi4b-8gb"].name == "My Pi 4 (measured)" and mm(lc.catalog["rpi4b-8gb"].thickness) == 1.5
    assert load_catalog()["rpi4b-8gb"].name == "Raspberry Pi 4 Model B 8GB"  # the built-in catalog is untouched


def test_override_of_nothing_is_refused(tmp_path):
    f = _cluster(tmp_path)
    (tmp_path / "parts" / "my-pi4.toml").write_text("override = true\n" + MY_BOARD)
    with pytest.raises(InputError) as err:
        load_cluster(f)
    assert err.value.key == "override"


def test_typed_access():
    cat = load_catalog()
    b = cat.get("rpi4b-8gb", Board)
    assert isinstance(b, Board) and cat.get("rpi4b-8gb", Hat) is None and cat.get("nope", Board) is None
    assert cat.get("rpi4b-8gb", "board") is b and cat.get("rpi4b-8gb") is b and cat["rpi4b-8gb"] is b
    assert cat.part("rpi-poe-plus-hat", Hat).standoff is not None
    with pytest.raises(WrongKind, match="is a board, not a hat"):
        cat.part("rpi4b-8gb", Hat)
    with pytest.raises(KeyError):
        cat.part("nope", Board)
    assert all(isinstance(p, Hat) for p in cat.of_kind(Hat)) and cat.of_kind(Hat) == cat.of_kind("hat")


def test_figures_to_measure_are_listed_per_part():
    cat = load_catalog()
    hat = {m.figures: m for m in cat.to_measure(["rpi-poe-plus-hat"])}
    assert ("standoff",) in hat and "spacers" in hat[("standoff",)].measure
    assert all(m.part_id == "rpi-poe-plus-hat" and m.measure for m in hat.values())
    assert not cat.to_measure(["lan-cat6-0.5m"])  # nothing to measure there


# -- the README's example, as a file a test loads ------------------------------------------------

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "own-part"


def test_a_figure_the_user_sourced_is_not_to_measure(tmp_path):
    """The base's "measure the thickness" stops at a derived part that sources its own thickness
    (the README's measured Pi 4); what it does not source (heights, keep-outs) is still listed."""
    f = _cluster(tmp_path, {"nodes[1].board": "my-pi4"})
    (tmp_path / "parts" / "my-pi4.toml").write_text(MY_BOARD)
    cat = load_cluster(f).catalog
    base = {m.figures for m in cat.to_measure(["rpi4b-8gb"])}
    mine = {m.figures for m in cat.to_measure(["my-pi4"])}
    assert ("thickness",) in base
    assert mine == base - {("thickness",)} and mine
    sources = cat.part("my-pi4", Board).sources
    assert [s.document for s in sources if "thickness" in s.figures] == ["my calipers"]


def test_a_derived_source_removes_only_what_it_covers(tmp_path):
    """A source of `height_above` alone leaves the base's entry for `height_below`."""
    f = _cluster(tmp_path, {"nodes[1].board": "my-pi4"})
    (tmp_path / "parts" / "my-pi4.toml").write_text(MY_BOARD.replace('figures = ["thickness"]',
                                                                     'figures = ["thickness", "height_above"]'))
    mine = {m.figures for m in load_cluster(f).catalog.to_measure(["my-pi4"])}
    assert ("height_below",) in mine and not any("height_above" in fs or "thickness" in fs for fs in mine)


def test_readme_example_is_the_example_folder_and_it_loads():
    """README 'Add your own part' shows examples/own-part/parts/my-pi4.toml; the example cluster
    beside it uses the part, and the layout builds with its measured 1.5 mm board."""
    from rackdesign.layout import build_layout

    readme = (EXAMPLE.parent.parent / "README.md").read_text()
    block = re.search(r"```toml\n# parts/my-pi4\.toml[^\n]*\n(.*?)```", readme, re.S)
    assert block, "README's parts section lost its example"
    body = (EXAMPLE / "parts" / "my-pi4.toml").read_text().split("\n", 1)[1]  # without its first comment
    assert body == block.group(1)
    lc = load_cluster(EXAMPLE / "cluster.toml")
    assert lc.catalog.user_dir == EXAMPLE / "parts" and lc.spec.nodes[1].board == "my-pi4"
    mine = lc.catalog.part("my-pi4", Board)
    assert mm(mine.thickness) == 1.5 and mine.holes == lc.catalog.part("rpi4b-8gb", Board).holes
    lay = build_layout(lc)
    board = next(p for p in lay.parts_of("board") if p.node == "slave1")
    hat = next(p for p in lay.parts_of("hat") if p.node == "slave1")
    assert hat.pos[2] - board.pos[2] == pytest.approx(1.5 + 9.0)  # its thickness under the HAT's standoff


def test_user_parts_are_in_the_export_cache_key(tmp_path):
    """A changed part file beside the cluster file changes the rack: the cached export must miss."""
    from rackdesign import cache

    shutil.copytree(EXAMPLE, tmp_path / "c")
    f = tmp_path / "c" / "cluster.toml"
    text = f.read_text()
    before = cache.export_key(text, f, "dxf", None)
    part = tmp_path / "c" / "parts" / "my-pi4.toml"
    part.write_text(part.read_text().replace('thickness = "1.5 mm"', 'thickness = "1.6 mm"'))
    assert cache.export_key(text, f, "dxf", None) != before
    assert cache.export_key(text, f, "dxf", None, force=True) != cache.export_key(text, f, "dxf", None)


@pytest.mark.cad
def test_the_cad_worker_reads_the_user_parts(tmp_path):
    """The export's forked CAD worker loads the catalog again: it must join parts/ beside the
    cluster file, or a node on a user's board has no part there (a fresh process: it forks)."""
    shutil.copytree(EXAMPLE, tmp_path / "c")
    r = sh("rack", "export", "step", str(tmp_path / "c" / "cluster.toml"), "--out", str(tmp_path / "ex"),
           "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    step = (tmp_path / "ex" / "own-part" / "model" / "rack.step").read_text()
    assert "my-pi4#1" in step and "rpi4b-8gb#1" in step  # the worker built slave1 on the user's board


@pytest.mark.parametrize("name, make, says", [
    ("fifo.toml", lambda p: os.mkfifo(p), "not a regular file"),
    ("big.toml", lambda p: p.write_text("# x\n" * 100_000), "limit"),
    ("bad id$.toml", lambda p: p.write_text('kind = "board"\n'), "part id"),
])
def test_user_parts_folder_is_input_like_the_cluster_file(tmp_path, name, make, says):
    """A FIFO in parts/ is refused, not waited on; a huge file is refused before it is read;
    a file name that is no catalog id (it names the part everywhere) is refused; each with
    the file named."""
    folder = tmp_path / "parts"
    folder.mkdir()
    make(folder / name)
    with pytest.raises(InputError) as exc:
        load_catalog(user_dir=folder)
    assert name in str(exc.value.file) and says in str(exc.value)
