"""Integrity of the parts catalog (parts/<group>/<id>.toml).

The figure-coverage check walks the raw TOML, not the loaded models, so that a figure
added to a file is caught even if no model field reads it yet.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pirack.catalog import KINDS, Fabricator, load_catalog, load_part
from pirack.errors import InputError
from pirack.units import mm, parse_length

ROOT = Path(__file__).resolve().parents[1]
PARTS = ROOT / "parts"
FILES = sorted(PARTS.rglob("*.toml"))

GROUP_KINDS = {
    "boards": {"board"},
    "hats": {"hat"},
    "drives": {"drive"},
    "switches": {"switch"},
    "cables": {"cable"},
    "sheets": {"sheet"},
    "fasteners": {"spacer", "screw", "nut", "washer", "foot"},
    "coolers": {"cooler"},
    "fabricators": {"fabricator"},
}

# Parts the seed (and the default cluster) refers to by id.
REQUIRED_IDS = [
    "rpi4b-8gb", "rpi5-8gb", "rpi-poe-plus-hat", "ssd-sata-2.5-500gb", "tl-sg1005p",
    "sata-usb-c", "lan-cat6-0.5m", "acrylic-cast-2mm", "acrylic-cast-3mm", "acrylic-cast-5mm",
    *[f"spacer-m3-ff-{n}" for n in (5, 6, 8, 10, 12, 15, 20, 25, 28, 30, 35, 40)],
    *[f"spacer-m3-mf-{n}" for n in (10, 15, 20, 25, 28, 30)],
    "spacer-m2.6-ff-5", "spacer-m2.6-mf-5",
    *[f"spacer-m2.5-ff-{n}" for n in (5, 6, 11)],
    *[f"screw-m3-pan-{n}" for n in (4, 5, 6, 8, 10, 12)],
    "screw-m2.6-pan-4", "screw-m2.6-pan-6", "screw-m2.5-pan-5", "screw-m2.5-pan-6",
    "nut-m3-cap", "nut-m3-hex", "foot-rubber-tk",
    "anymany-pdf", "generic-svg", "generic-dxf",
]

# The seed's cost table: item name (name_ja) -> part id.
SEED_NAMES = {
    "Raspberry Pi 4B 8GB": "rpi4b-8gb",
    "Raspberry Pi PoE+ HAT": "rpi-poe-plus-hat",
    "PoE対応ハブ": "tl-sg1005p",
    "LANケーブル": "lan-cat6-0.5m",
    "SATA SSD 500GB": "ssd-sata-2.5-500gb",
    "SATA-USBCケーブル": "sata-usb-c",
    "M3 スペーサー(ステンレス) 28mm": "spacer-m3-ff-28",
    "M3 スペーサー(ステンレス) 10mm": "spacer-m3-ff-10",
    "M3 ナベ小ネジ(ステンレス) 6mm": "screw-m3-pan-6",
    "M3 袋ナット(ステンレス)": "nut-m3-cap",
    "M2.6 スペーサー(黄銅) 5mm": "spacer-m2.6-ff-5",
    "M2.6 ナベ小ネジ(黄銅) 4mm": "screw-m2.6-pan-4",
    "ゴム足 TK型": "foot-rubber-tk",
}

ELECTRICAL_SUFFIXES = ("_w", "_a", "_v")


def raw(path: Path) -> dict:
    """The file's data as the catalog validates it (with `based_on`, merged over its base)."""
    return load_catalog(PARTS).raw(path.stem)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# ---------------------------------------------------------------- the figure walker


def is_length(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_length(value)
    except ValueError:
        return False
    return True


def is_hole_list(value) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(p, list) and len(p) == 2 and all(is_length(c) for c in p) for p in value)
    )


def is_electrical(path: str, value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    keys = path.split(".")
    return "power" in keys or keys[-1].endswith(ELECTRICAL_SUFFIXES)


def figures(data: dict, prefix: str = ""):
    """Yield the dotted key of every physical figure: lengths, hole lists, electrical figures.
    List items share their list's key ("keepouts.x"); `sources` itself is skipped."""
    for key, value in data.items():
        if not prefix and key == "sources":
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            yield from figures(value, path)
        elif isinstance(value, list):
            if is_hole_list(value) or any(is_length(v) for v in value):
                yield path
            else:
                for item in value:
                    if isinstance(item, dict):
                        yield from figures(item, path)
        elif is_length(value) or is_electrical(path, value):
            yield path


def covered(path: str, sources: list[dict]) -> bool:
    for src in sources:
        for f in src.get("figures", []):
            if f == "*" or path == f or path.startswith(f + "."):
                return True
    return False


def uncovered(data: dict) -> list[str]:
    sources = data.get("sources", [])
    return [p for p in figures(data) if not covered(p, sources)]


def test_walker_finds_every_kind_of_figure():
    data = {
        "id": "x",
        "thread": "M3",  # a name, not a length
        "poe_standard": "802.3at",  # parses with pint as a pressure unit: not a length
        "width": "85 mm",
        "holes": [["3.5 mm", "3.5 mm"], ["61.5 mm", "3.5 mm"]],
        "side_holes_from_front": ["14 mm", "90.6 mm"],
        "usb_current_max_a": 1.2,
        "ports": 5,
        "price": 100,
        "fill": True,
        "power": {"max_w": 6.0},
        "keepouts": [{"name": "jacks", "x": "64 mm"}],
        "pricing": {"material_per_cm2": {"3 mm": 4.5}, "cut_per_m": 700},
        "sources": [{"figures": ["width"], "document": "d", "official_drawing": True}],
    }
    assert sorted(figures(data)) == sorted(
        ["width", "holes", "side_holes_from_front", "usb_current_max_a", "power.max_w", "keepouts.x"]
    )
    assert sorted(uncovered(data)) == sorted(
        ["holes", "side_holes_from_front", "usb_current_max_a", "power.max_w", "keepouts.x"]
    )
    data["sources"].append({"figures": ["power", "keepouts", "holes"], "document": "d", "official_drawing": False})
    assert sorted(uncovered(data)) == ["side_holes_from_front", "usb_current_max_a"]
    data["sources"].append({"figures": ["*"], "document": "d", "official_drawing": False})
    assert uncovered(data) == []


def test_prefix_match_is_on_whole_keys():
    sources = [{"figures": ["power"], "document": "d", "official_drawing": False}]
    assert covered("power.max_w", sources)
    assert not covered("power_budget_w", sources)


# ---------------------------------------------------------------- every file


def test_catalog_has_files():
    assert len(FILES) >= len(REQUIRED_IDS)


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_part_files_name_no_override_or_old_keys(path):
    text = tomllib.loads(path.read_text(encoding="utf-8"))
    assert "override" not in text, "override is for a user's own parts folder only"


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_part_loads(path):
    part = load_part(path)
    assert part.id == path.stem
    assert part.kind in GROUP_KINDS[path.parent.name], f"{part.kind} does not belong in parts/{path.parent.name}/"


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_part_id_is_kebab_case(path):
    assert re.fullmatch(r"[a-z0-9]+(?:[.-][a-z0-9]+)*", path.stem), path.stem


def citable_or_flagged(src: dict) -> bool:
    """A source that can be looked up (url, or where in the document), or figures flagged to measure."""
    if src.get("measure_before_cutting") is True:
        return bool(str(src.get("measure", "")).strip())
    return bool(str(src.get("url", "")).strip() or str(src.get("where", "")).strip())


def unsourced(data: dict) -> list[str]:
    """Figures no citable source covers and no flagged entry marks to measure."""
    good = [s for s in data.get("sources", []) if citable_or_flagged(s)]
    return [p for p in figures(data) if not covered(p, good)]


def test_an_estimate_does_not_count_as_a_source():
    data = {"width": "85 mm", "height_above": "16 mm", "sources": [
        {"figures": ["width"], "document": "drawing", "official_drawing": True, "url": "https://example.org/d.pdf"},
        {"figures": ["height_above"], "document": "estimate", "official_drawing": False, "note": "guess"}]}
    assert unsourced(data) == ["height_above"]
    data["sources"][1].update(measure_before_cutting=True, measure="")
    assert unsourced(data) == ["height_above"]  # a flag must say what to measure
    data["sources"][1]["measure"] = "the jack's top above the PCB, calipers"
    assert unsourced(data) == []


PHYSICAL = [f for f in FILES if f.parent.name != "fabricators"]  # fabricator profiles: h14's files


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_every_figure_has_a_source(path):
    missing = uncovered(raw(path))
    assert not missing, f"{_rel(path)}: no [[sources]] entry covers {missing}"


@pytest.mark.parametrize("path", PHYSICAL, ids=_rel)
def test_every_figure_is_cited_or_flagged_to_measure(path):
    """Walks the raw TOML: each physical figure is covered by a source that gives a URL or a
    figure/table to look it up, or by an entry flagged measure_before_cutting that says what
    to measure."""
    missing = unsourced(raw(path))
    assert not missing, f"{_rel(path)}: {missing} neither cite a source (url/where) nor say measure_before_cutting"


@pytest.mark.parametrize("path", PHYSICAL, ids=_rel)
def test_official_drawing_only_with_a_citation(path):
    for i, src in enumerate(raw(path).get("sources", [])):
        if src.get("official_drawing"):
            assert src.get("url") or src.get("where"), f"{_rel(path)} sources[{i}]: official_drawing without url/where"
            assert not src.get("measure_before_cutting"), f"{_rel(path)} sources[{i}]: official yet to be measured?"


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_sources_are_complete(path):
    data = raw(path)
    for i, src in enumerate(data.get("sources", [])):
        where = f"{_rel(path)} sources[{i}]"
        assert isinstance(src.get("document"), str) and src["document"].strip(), f"{where}: no document"
        assert isinstance(src.get("official_drawing"), bool), f"{where}: official_drawing must be true or false"
        assert src.get("figures"), f"{where}: lists no figures"
        for f in src["figures"]:
            top = f.split(".")[0]
            assert f == "*" or top in data, f"{where}: covers '{f}', which is not a key of this file"
        if not src["official_drawing"]:
            assert src.get("note", "").strip(), f"{where}: an unofficial source must say why (note)"


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_prices_are_whole_yen_per_pack(path):
    data = raw(path)
    if "price" in data:
        price = data["price"]
        assert isinstance(price, int) and not isinstance(price, bool) and price >= 0, price
        assert data.get("price_source"), "a price needs a price_source"
    pack = data.get("pack_size", 1)
    assert isinstance(pack, int) and not isinstance(pack, bool) and pack >= 1, pack


def test_load_catalog_and_required_ids():
    cat = load_catalog(PARTS)
    assert len(cat.parts) == len(FILES)
    missing = [pid for pid in REQUIRED_IDS if pid not in cat]
    assert not missing
    for kind in KINDS:
        assert cat.of_kind(kind), f"no part of kind {kind}"


def test_duplicate_id_is_refused(tmp_path):
    for group in ("boards", "hats"):
        (tmp_path / group).mkdir()
    src = (PARTS / "boards" / "rpi4b-8gb.toml").read_text(encoding="utf-8")
    (tmp_path / "boards" / "rpi4b-8gb.toml").write_text(src, encoding="utf-8")
    (tmp_path / "hats" / "rpi4b-8gb.toml").write_text(src, encoding="utf-8")
    with pytest.raises(InputError, match="used twice"):
        load_catalog(tmp_path)


def test_seed_items_carry_the_seed_name():
    cat = load_catalog(PARTS)
    for name_ja, pid in SEED_NAMES.items():
        assert cat[pid].name_ja == name_ja, pid


# ---------------------------------------------------------------- figures that designs depend on


def test_pi4_mounting_holes_match_the_official_drawing():
    pi = load_catalog(PARTS).get("rpi4b-8gb", "board")
    assert (mm(pi.width), mm(pi.depth)) == (85.0, 56.0)
    assert mm(pi.hole_diameter) == pytest.approx(2.7)
    pts = sorted((mm(x), mm(y)) for x, y in pi.holes)
    assert len(pts) == 4
    xs = sorted({round(x, 6) for x, _ in pts})
    ys = sorted({round(y, 6) for _, y in pts})
    assert xs[1] - xs[0] == pytest.approx(58.0)
    assert ys[1] - ys[0] == pytest.approx(49.0)
    assert xs[0] == pytest.approx(3.5) and ys[0] == pytest.approx(3.5)
    assert mm(pi.depth) - ys[1] == pytest.approx(3.5)
    # every hole is inside the board with its Ø2.7 clear of the edges
    r = mm(pi.hole_diameter) / 2
    for x, y in pts:
        assert r < x < mm(pi.width) - r and r < y < mm(pi.depth) - r


@pytest.mark.parametrize("kind", ["board", "hat", "drive", "switch", "cooler"])
def test_positioned_parts_state_their_datum(kind):
    for part in load_catalog(PARTS).of_kind(kind):
        assert len(part.datum) > 40, f"{part.id}: say which corner, end and face its positions are measured from"


def test_pi5_shares_the_pi4_hole_pattern():
    cat = load_catalog(PARTS)
    p4, p5 = cat["rpi4b-8gb"], cat["rpi5-8gb"]
    assert sorted((mm(x), mm(y)) for x, y in p4.holes) == sorted((mm(x), mm(y)) for x, y in p5.holes)


def test_pi4_power_limits():
    pi = load_catalog(PARTS)["rpi4b-8gb"]
    assert pi.usb_current_max_a == pytest.approx(1.2)
    assert pi.undervoltage_v == pytest.approx(4.63)


def test_board_keepouts_stay_near_the_board():
    for pi in load_catalog(PARTS).of_kind("board"):
        for box in pi.keepouts:
            assert mm(box.x) + mm(box.width) <= mm(pi.width) + 5, box.name
            assert mm(box.y) + mm(box.depth) <= mm(pi.depth) + 5, box.name


def test_poe_hat_fits_pi4_not_pi5():
    cat = load_catalog(PARTS)
    hat = cat.get("rpi-poe-plus-hat", "hat")
    assert "pi4" in hat.fits and "pi5" not in hat.fits
    assert "pi5" in hat.does_not_fit and "header" in hat.does_not_fit["pi5"]
    assert hat.poe_standard == "802.3at"
    assert hat.output_w == pytest.approx(hat.output_v * hat.output_current_a)
    assert (mm(hat.width), mm(hat.depth)) == (65.0, 56.5)
    board = cat["rpi4b-8gb"]
    assert sorted((mm(x), mm(y)) for x, y in hat.holes) == sorted((mm(x), mm(y)) for x, y in board.holes)
    assert mm(hat.height_below) < mm(hat.standoff)
    for pid in hat.included:
        assert pid in cat, f"included part {pid} is not in the catalog"


def test_drive_figures_are_sff_8201_table_3_1():
    drive = load_catalog(PARTS).get("ssd-sata-2.5-500gb", "drive")
    assert (mm(drive.width), mm(drive.length), mm(drive.height)) == (69.85, 100.45, 7.0)  # A4, A6 max, A1
    assert [mm(v) for v in drive.bottom_holes_from_connector] == [14.00, 90.60]  # A50, A51
    assert [mm(v) for v in drive.side_holes_from_connector] == [14.00, 90.60]  # A52, A53
    assert (mm(drive.bottom_hole_inset), mm(drive.bottom_hole_spacing)) == (4.07, 61.72)  # A28, A29
    assert mm(drive.side_hole_height) == 3.00  # A23
    assert mm(drive.thread_depth_side) == 2.0 and mm(drive.thread_depth_bottom) == 2.5  # A38 (A1 <= 7), A41
    assert drive.power.current_5v_a > 0


def test_sheet_tolerance():
    sheet = load_catalog(PARTS).get("acrylic-cast-3mm", "sheet")
    lo, hi = sheet.thickness_range_mm()
    assert (lo, hi) == (pytest.approx(2.3), pytest.approx(3.7))
    assert 0.1 <= mm(sheet.kerf) <= 0.15


def test_switch_poe():
    sw = load_catalog(PARTS).get("tl-sg1005p", "switch")
    assert sw.poe_ports == 4 and sw.ports == 5
    assert 56 <= sw.poe_budget_w <= 65


def test_fastener_names_match_their_figures():
    cat = load_catalog(PARTS)
    for part in cat.of_kind("spacer") + cat.of_kind("screw"):
        m = re.fullmatch(r"(?:spacer|screw)-(m[\d.]+)-(?:ff|mf|pan)-(\d+)", part.id)
        assert m, part.id
        assert part.thread.lower() == m.group(1)
        assert mm(part.length) == float(m.group(2))
    for part in cat.of_kind("spacer"):
        assert (part.style == "male-female") == (part.male_thread_length is not None), part.id


# ---------------------------------------------------------------- fabricators


@pytest.mark.parametrize("pid", ["anymany-pdf", "generic-svg", "generic-dxf"])
def test_fabricator_purposes_are_distinct(pid):
    fab = load_catalog(PARTS).get(pid, "fabricator")
    assert isinstance(fab, Fabricator)
    purposes = [fab.cut, fab.engrave, fab.score]
    colours = [p.colour.lower() for p in purposes]
    layers = [p.layer for p in purposes]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours), colours
    assert len(set(colours)) == 3, colours
    assert len(set(layers)) == 3, layers
    assert not fab.cut.fill and fab.engrave.fill
    assert fab.min_hole.at(3.0) >= 3.0  # minimum hole ≈ material thickness
    assert fab.pricing.currency == "JPY"
    assert "3 mm" in fab.pricing.material_per_cm2


def test_threads_must_be_metric(tmp_path):
    """A thread the solver cannot size (like #6-32) is refused when the part is read, naming the key."""
    from pirack.catalog import catalog_dir, load_part
    from pirack.errors import InputError

    src = (catalog_dir() / "fasteners" / "screw-m3-pan-6.toml").read_text()
    bad = tmp_path / "screw-m3-pan-6.toml"
    bad.write_text(src.replace('thread = "M3"', 'thread = "#6-32"'))
    with pytest.raises(InputError) as err:
        load_part(bad)
    assert err.value.key == "thread" and "metric" in err.value.message
