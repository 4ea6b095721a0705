"""A design you can trust (issue 13): the default and the common clusters pass their own checks
with no warning about a part choice of ours; what is left is a list of figures to measure; the
PoE budget by class and by worst case; the tip angle; `rack export` refuses a design with
errors and `--force` marks every drawing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import run_main_in
from overlay import overlay_text
from pirack.init_template import init_text, switch_for
from pirack.load import load_text
from rackdesign.checks import run_checks
from rackdesign.layout import build_layout

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.toml"

PI5 = overlay_text({
    **{f"nodes[{i}].board": "rpi5-8gb" for i in range(2)},
    **{f"nodes[{i}].hat": "waveshare-poe-hat-f" for i in range(2)},
    "nodes[2]": {"name": "slave2", "role": "slave", "board": "rpi5-8gb", "hat": "waveshare-poe-hat-f",
                 "mac": "02:00:00:50:00:12", "address": "192.168.50.12", "boot": "sd"},
})

CLUSTERS = {
    "default": overlay_text({}),
    **{f"init-{n}": init_text(n) for n in range(2, 9)},
    "pi5-3": PI5,
    "flat-switch": overlay_text({"rack.switch_orientation": "flat"}),
}


def _report(text: str, geometry: bool):
    return run_checks(load_text(text, "c.toml"), geometry=geometry)


@pytest.mark.cad
@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_common_clusters_pass_with_only_figures_to_measure(name):
    """No error, and every warning hangs on a figure to measure (it says what); collisions and
    keep-outs included."""
    r = _report(CLUSTERS[name], geometry=True)
    errors = [f.sentence for f in r.findings if f.severity == "error"]
    assert errors == [], errors
    assert r.design_warnings == [], [f.sentence for f in r.design_warnings]
    assert r.to_measure and all(len(f.measure) > 20 for f in r.to_measure)
    # the figures a maker must check are listed: the HAT's standoff (every tier depends on it)
    assert any(f.code == "MEASURE" and "standoff" in f.message for f in r.to_measure)


def test_init_picks_a_switch_with_a_poe_port_per_node():
    for n in range(1, 5):
        assert switch_for(n)[0] == "tl-sg1005p"
    for n in range(5, 9):
        assert switch_for(n)[0] == "tl-sg1008mp"  # 8 PoE+ ports (the TL-SG1008P has only 4)
    sid, why = switch_for(9)
    assert sid == "tl-sg1008mp" and why.startswith("CHOOSE: no switch in the catalog has 9 PoE ports")
    assert 'switch = "tl-sg1008mp"' in init_text(6) and "CHOOSE" in init_text(9)


def test_too_few_ports_names_the_catalogs_bigger_switches():
    six = init_text(6).replace('switch = "tl-sg1008mp"', 'switch = "tl-sg1005p"')
    r = _report(six, geometry=False)
    ports = [f for f in r.findings if f.code == "POE_PORTS"]
    assert ports and all(f.severity == "error" and "tl-sg1008mp" in f.fix for f in ports)
    assert all("tl-sg1008p" not in f.fix for f in ports if "PoE" in f.message)  # 4 PoE ports: not enough


def test_tip_angle_of_a_tall_tower_on_a_small_base():
    """The angle is atan(d / h) with the centre of mass at half the height over the stack: more
    tiers, smaller angle; under IEC 62368-1's 10° a warning says how to fix it."""
    angles = {}
    for n in (2, 8, 24):
        lc = load_text(init_text(n), "c.toml")
        lay = build_layout(lc)
        st = [f for f in run_checks(lc, lay, geometry=False).findings if f.code == "STABILITY"]
        assert len(st) == 1 and st[0].unit == "°"
        angles[n] = st[0]
        top = lay.plates[-1]
        h = (top.z + top.thickness - min(p.bbox.z0 for p in lay.parts)) / 2
        base = lay.plates[0]  # d, the centre's distance to the nearest edge, is at most half the base
        assert 0 < math.tan(math.radians(st[0].value)) * h <= min(base.width, base.depth) / 2 + 0.1
    assert angles[2].value > angles[8].value > angles[24].value
    assert angles[2].severity == angles[8].severity == "info"
    tall = angles[24]
    assert tall.severity == "warning" and tall.value < 10.0 and tall.limit == 10.0 and "wider base" in tall.fix


def test_pi5_usb_current_from_its_supply():
    """A Pi 5 gives 600 mA to its USB ports unless a HAT+ declares its supply (1.6 A)."""
    from pirack.catalog import load_catalog

    bus = PI5.replace("powered = true", "powered = false")
    assert bus != PI5
    usb = [f for f in _report(bus, geometry=False).findings if f.code == "USB_CURRENT"]
    assert usb and usb[0].limit == pytest.approx(0.6) and "usb_max_current_enable" in usb[0].fix
    cat = load_catalog()
    parts = dict(cat.parts)
    parts["waveshare-poe-hat-f"] = parts["waveshare-poe-hat-f"].model_copy(update={"declares_supply": True})
    from pirack.catalog import Catalog

    r = run_checks(load_text(bus, "c.toml", catalog=Catalog(parts, cat.root)), geometry=False)
    usb = [f for f in r.findings if f.code == "USB_CURRENT"]
    assert usb and usb[0].limit == pytest.approx(1.6)


def test_washers_in_rack_fasteners_are_refused(rack, in_tmp):
    Path("c.toml").write_text(overlay_text({"rack.fasteners": ["spacer-m3-mf-28", "washer-m3-plain"]}))
    code, out, err = rack("validate", "c.toml")
    assert code == 2 and "rack.fasteners[1]" in err and "washer" in err and "Traceback" not in err
    assert "places none" in " ".join(err.split())


# -- export refuses a failing design; --force marks every drawing -------------------------------

@pytest.fixture(scope="module")
def forced(tmp_path_factory):
    """In one folder with its own cache, once: `rack check --json` of examples/seed.toml (2
    errors), its export refused, then forced as PDF and as SVG, and the default (no errors)
    exported as SVG. Each run's (exit code, stderr); `refused_wrote` is whether the refused
    export left its folder."""
    from rackdesign.cli import main

    d = tmp_path_factory.mktemp("forced")

    def rack(*args):
        return run_main_in(d, main, ["rack", *args])

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(d / "xdg"))
        _, out, _ = rack("check", "--json", str(SEED))
        refused = rack("export", "pdf", str(SEED), "--out", "ex")
        refused_wrote = (d / "ex").exists()
        force = [rack("export", fmt, str(SEED), "--out", "ex", "--force") for fmt in ("pdf", "svg")]
        clean = rack("export", "svg", "--out", "clean")
    return SimpleNamespace(folder=d, errors=json.loads(out)["summary"]["error"], refused=refused,
                           refused_wrote=refused_wrote, force=force, clean=clean)


@pytest.mark.cad
def test_export_refuses_a_design_with_errors_and_force_marks_it(forced):
    n = forced.errors
    assert n > 0
    code, _, err = forced.refused
    assert code == 1 and f"the design has {n} errors" in err and "Traceback" not in err
    assert "SCREW_DEPTH:" in err and "SCREW_ENGAGEMENT:" in err and "a shorter screw" in err  # listed, with the fix
    assert not forced.refused_wrote
    for code, _, err in forced.force:
        assert code == 0, err
        assert "marked NOT CHECKED" in " ".join(err.split())  # the terminal wraps the warning


@pytest.mark.cad
def test_every_forced_drawing_carries_the_mark(forced):
    from pypdf import PdfReader

    mark = f"NOT CHECKED: {forced.errors} errors"
    drawings = sorted((forced.folder / "ex" / "seed" / "drawings").iterdir())
    pdfs = [p for p in drawings if p.suffix == ".pdf"]
    svgs = [p for p in drawings if p.suffix == ".svg"]
    assert len(pdfs) == len(svgs) >= 5  # every plate's floor plan and the front plan
    for p in pdfs:
        assert mark in PdfReader(p).pages[0].extract_text(), p
    for p in svgs:
        assert mark in p.read_text(), p


@pytest.mark.cad
def test_a_design_without_errors_carries_no_mark(forced):
    code, _, err = forced.clean
    assert code == 0, err
    svgs = list((forced.folder / "clean" / "seed" / "drawings").glob("*.svg"))
    assert all("NOT CHECKED" not in p.read_text() for p in svgs)


# -- the seed as built: every error is explained ------------------------------------------------

# (code, role of the male part) -> what it is; examples/seed.toml says the same at its top
SEED_ERRORS = {
    ("SCREW_DEPTH", "drive-screw"): "real: M3x6 go 3.0 mm into holes SFF-8201 guarantees 2.5 mm deep; fix M3x4",
    ("SCREW_ENGAGEMENT", "board-screw"): "real: the HAT boxes' M2.6x4 engage two turns; fix M2.6x6",
}


@pytest.fixture(scope="module")
def seed_checked():
    """examples/seed.toml as built, checked with geometry once: (loaded cluster, layout, report)."""
    from pirack.load import load_cluster

    lc = load_cluster(SEED)
    lay = build_layout(lc)
    return lc, lay, run_checks(lc, lay, geometry=True)


@pytest.mark.cad
def test_seed_errors_are_the_explained_ones_each_with_its_fix(seed_checked):
    _, lay, r = seed_checked
    role = {p.name: p.role for p in lay.parts}
    errors = [f for f in r.findings if f.severity == "error"]
    got = {(f.code, role[f.parts[0]]) for f in errors}
    assert got == set(SEED_ERRORS), [f.sentence for f in errors]
    assert all(f.fix for f in errors)
    text = SEED.read_text()
    assert "2 errors" in text and all(code in text for code, _ in SEED_ERRORS)


@pytest.mark.cad
def test_the_seeds_support_is_bonded_said_so_no_screw_holes(seed_checked):
    """Its support cannot be screwed with its parts: bonded, said so, and no holes cut for screws."""
    _, lay, r = seed_checked
    bonded = [f for f in r.findings if f.code == "SUPPORT_BONDED"]
    assert len(bonded) == 1 and bonded[0].severity == "warning" and "M3" in bonded[0].fix
    assert not [p for p in lay.parts if p.role in ("support-screw", "support-nut")]
    assert not lay.plates[0].holes_of("support") and lay.support.holes == ()


@pytest.mark.cad
def test_the_seeds_bom_still_totals_its_cost_table(seed_checked):
    from rackdesign.bom import build_bom

    lc, lay, _ = seed_checked
    assert int(build_bom(lc, lay).total.amount) == 50591  # what the seed paid


@pytest.mark.cad
def test_the_seeds_cap_nuts_are_a_depth_to_measure_not_a_collision(seed_checked):
    """Its cap nuts bottom out only against a depth no source gives: a warning saying what to
    measure; the overruns are the depth findings, not collisions."""
    _, _, r = seed_checked
    cap = [f for f in r.findings if f.code == "SCREW_DEPTH" and "nut-m3-cap" in f.message]
    assert cap and all(f.severity == "warning" and "thread depth" in f.measure for f in cap)
    assert not [f for f in r.findings if f.code == "COLLISION"]


def test_flat_switch_is_held_by_a_strap_through_two_base_slots():
    """The switch lying flat has no published screw holes: a strap over it goes through two slots
    cut in the base, one beside each side of its outline; ports and power stay free."""
    from rackdesign.plates import flat_parts
    from rackdesign.preflight import preflight
    from rackdesign.pipeline import profile_for

    lc = load_text(CLUSTERS["flat-switch"], "c.toml")
    lay = build_layout(lc)
    base = lay.plates[0]
    sw = lay.parts_of("switch")[0].bbox
    slots = [c for c in base.cutouts if c.kind == "strap"]
    assert len(slots) == 2 and all(c.vertical and c.length >= 20.0 for c in slots)
    left, right = sorted(slots, key=lambda c: c.cx)
    assert sw.x0 - (left.cx + left.width / 2) == pytest.approx(1.0)  # frame_gap from the switch's side
    assert (right.cx - right.width / 2) - sw.x1 == pytest.approx(1.0)
    assert all(sw.y0 < c.cy - c.length / 2 and c.cy + c.length / 2 < sw.y1 for c in slots)  # beside it, not past it
    parts = flat_parts(lay)
    cut = next(p for p in parts if p.name == "base")
    assert sum(1 for h in cut.notes["holes"] if h["kind"] == "strap") == 2
    assert preflight(parts, profile_for(lc, None)) == []  # the service can cut them
    side = build_layout(load_text(CLUSTERS["default"], "c.toml"))
    assert not [c for c in side.plates[0].cutouts if c.kind == "strap"]
    # the switch's flat-mount figures are to measure only when it lies flat

    def flat_mount_to_measure(text):
        r = _report(text, geometry=False)
        return [f for f in r.to_measure if f.code == "MEASURE" and "flat_mount" in f.message]

    assert flat_mount_to_measure(CLUSTERS["flat-switch"]) and not flat_mount_to_measure(CLUSTERS["default"])


@pytest.mark.cad
@pytest.mark.parametrize("board", ["rpi5-8gb", "rpi4b-8gb", "rpi3b-plus"])
def test_a_board_without_a_hat_stands_on_spacers_its_screws_fit(board):
    """No HAT: screws come into the board's F-F spacers from both ends, so the layout takes one
    long enough for both (a 5 mm F-F holds 2.5 mm of thread at each end: too little)."""
    text = overlay_text({"nodes[0].board": board, "nodes[1].board": board}, delete=["nodes[0].hat", "nodes[1].hat"])
    lc = load_text(text, "c.toml")
    lay = build_layout(lc)
    r = run_checks(lc, lay, geometry=True)
    assert [f.sentence for f in r.findings if f.severity == "error"] == []
    assert r.design_warnings == [], [f.sentence for f in r.design_warnings]
    spacers = {p.part_id for p in lay.parts if p.role == "board-mount"}
    assert spacers and all("-ff-" in s and s != "spacer-m2.5-ff-5" for s in spacers)
