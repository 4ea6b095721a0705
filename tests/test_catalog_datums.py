"""Datums: each part family's positions checked against its source's own numbers, and where
the layout puts them.

The sources measure from different places: SFF-8201 gives a 2.5" drive's holes from the
connector end (datum Z), Raspberry Pi's drawings give a board's and a HAT's holes from the
board's lower-left corner. The part files write the source's numbers from the source's datum;
the catalog converts them into the frame the layout uses. Each test below restates the source's
number and finds it again in the catalog, or in the layout.
"""

from __future__ import annotations

import itertools

import pytest

from pirack.catalog import Board, Drive, Hat, Switch, load_catalog
from pirack.load import load_cluster, load_text
from pirack.units import mm
from tests.overlay import overlay_text

CAT = load_catalog()

# SFF-8201 rev 3.4, Table 3-1 and Figure 3-1 (the drive files' first source)
SFF_A4_WIDTH, SFF_A6_LENGTH = 69.85, 100.45
SFF_A28_INSET, SFF_A29_SPACING = 4.07, 61.72
SFF_A50_A51 = (14.00, 90.60)  # bottom holes, from the connector end
SFF_A52_A53 = (14.00, 90.60)  # side holes, from the connector end
SFF_A23_SIDE_HEIGHT = 3.00

# Raspberry Pi HAT board mechanical specification (hat-board-mechanical.pdf), and the Pi 4 DXF
HAT_HOLE_PITCH = (58.0, 49.0)
HAT_HOLE_INSET = 3.5  # from the left and bottom edges
HAT_OUTLINE = (65.0, 56.5)  # SMT-header depth; 56.0 with a through-hole header
PI_OUTLINE = (85.0, 56.0)

DRIVES = [p.id for p in CAT.of_kind(Drive)]
BOARDS = [p.id for p in CAT.of_kind(Board)]
HATS = [p.id for p in CAT.of_kind(Hat)]


def _near(a, b, tol=1e-6):
    return abs(a - b) <= tol


# ---------------------------------------------------------------- 2.5" drives: datum Z, the connector end


@pytest.mark.parametrize("pid", DRIVES)
def test_drive_bottom_holes_from_the_connector_end(pid):
    """In the layout's frame (y from the front), the connector end is y = length: the holes sit
    14.00 and 90.60 mm from it (A50, A51), not from the front."""
    d = CAT.part(pid, Drive)
    if not d.has_bottom_holes:
        assert d.bottom_holes == [] and d.bottom_holes_optional
        return
    length = mm(d.length)
    from_connector = sorted({round(length - mm(y), 6) for _, y in d.bottom_holes})
    assert from_connector == list(SFF_A50_A51)
    from_front = sorted({round(mm(y), 6) for _, y in d.bottom_holes})
    assert from_front == [pytest.approx(SFF_A6_LENGTH - 90.60), pytest.approx(SFF_A6_LENGTH - 14.00)]
    assert from_front[0] == pytest.approx(9.85)  # not 14.00: the old front-datum error was 4.15 mm


@pytest.mark.parametrize("pid", DRIVES)
def test_drive_bottom_holes_from_datum_y(pid):
    """A28 = 4.07 from datum Y (the right long side seen from above, connector at the back),
    A29 = 61.72 between the columns: 4.07 and 65.79 from that side."""
    d = CAT.part(pid, Drive)
    if not d.has_bottom_holes:
        return
    w = mm(d.width)
    assert w == SFF_A4_WIDTH
    from_datum_y = sorted({round(w - mm(x), 6) for x, _ in d.bottom_holes})
    assert from_datum_y == [pytest.approx(SFF_A28_INSET), pytest.approx(SFF_A28_INSET + SFF_A29_SPACING)]
    for (x1, y1), (x2, y2) in itertools.combinations([(mm(x), mm(y)) for x, y in d.bottom_holes], 2):
        if _near(y1, y2):
            assert abs(x1 - x2) == pytest.approx(SFF_A29_SPACING)


@pytest.mark.parametrize("pid", DRIVES)
def test_drive_side_holes_from_the_connector_end(pid):
    d = CAT.part(pid, Drive)
    length = mm(d.length)
    assert sorted(round(length - mm(y), 6) for y in d.side_holes_from_front) == list(SFF_A52_A53)
    holes = d.side_holes
    assert len(holes) == 4 and {mm(z) for *_, z in holes} == {SFF_A23_SIDE_HEIGHT}
    assert {mm(x) for x, *_ in holes} == {0.0, mm(d.width)}  # both long faces: side mounting is possible


def test_bottom_holes_are_optional_only_up_to_7_mm(tmp_path):
    from pirack.catalog import load_part
    from pirack.errors import InputError

    assert CAT.part("drive-2.5-7mm", Drive).bottom_holes_optional
    assert not CAT.part("drive-2.5-9.5mm", Drive).bottom_holes_optional
    f = tmp_path / "thin.toml"
    f.write_text('id = "thin"\nbased_on = "drive-2.5-7mm"\nkind = "drive"\nhas_bottom_holes = false\n')
    thin = load_part(f)
    assert thin.bottom_holes == [] and len(thin.side_holes) == 4
    f2 = tmp_path / "thick.toml"
    f2.write_text('id = "thick"\nbased_on = "drive-2.5-9.5mm"\nkind = "drive"\nhas_bottom_holes = false\n')
    with pytest.raises(InputError, match="7 mm high or less"):
        load_part(f2)


def test_old_front_datum_keys_are_refused(tmp_path):
    from pirack.catalog import load_part
    from pirack.errors import InputError

    f = tmp_path / "old.toml"
    f.write_text('id = "old"\nbased_on = "drive-2.5-7mm"\nkind = "drive"\nside_holes_from_front = ["14 mm", "90.6 mm"]\n')
    with pytest.raises(InputError, match="connector end"):
        load_part(f)


def test_layout_puts_the_drive_holes_14_and_90_6_from_the_connector_end():
    """Where the layout cuts the base plate's drive holes, measured from the placed drive's
    connector end (the drive lies with its connector to the back: y grows towards it)."""
    from rackdesign.layout import build_layout

    lc = load_cluster(None)
    lay = build_layout(lc)
    drive = next(p for p in lay.parts if p.kind == "drive")
    d = lc.catalog.part(drive.part_id, Drive)
    assert drive.rot == ()  # unrotated: the part's y is the rack's y
    connector_y = drive.pos[1] + mm(d.length)
    assert drive.bbox[4] == pytest.approx(connector_y)
    holes = lay.plate("base").holes_of("drive")
    assert len(holes) == 4
    assert sorted({round(connector_y - h.y, 6) for h in holes}) == list(SFF_A50_A51)
    right = drive.pos[0] + mm(d.width)  # datum Y: the right long side seen from above
    assert sorted({round(right - h.x, 6) for h in holes}) == [SFF_A28_INSET, pytest.approx(SFF_A28_INSET + SFF_A29_SPACING)]
    # and the screws the layout puts in them
    screws = [p for p in lay.parts if p.role == "drive-screw"]
    assert sorted({round(connector_y - s.pos[1], 6) for s in screws}) == list(SFF_A50_A51)


# ---------------------------------------------------------------- boards and HATs: the drawing's lower-left corner


def _holes(part):
    return sorted((mm(x), mm(y)) for x, y in part.holes)


@pytest.mark.parametrize("pid", BOARDS)
def test_board_outline_and_holes_follow_the_drawing(pid):
    b = CAT.part(pid, Board)
    assert (mm(b.width), mm(b.depth)) == PI_OUTLINE
    holes = _holes(b)
    xs = sorted({x for x, _ in holes})
    ys = sorted({y for _, y in holes})
    assert len(holes) == 4 and len(xs) == 2 and len(ys) == 2
    assert (xs[0], ys[0]) == (HAT_HOLE_INSET, HAT_HOLE_INSET)
    assert (xs[1] - xs[0], ys[1] - ys[0]) == HAT_HOLE_PITCH
    assert mm(b.hole_diameter) == 2.7 and b.hole_thread == "M2.5"


@pytest.mark.parametrize("pid", HATS)
def test_hat_outline_and_holes_follow_the_hat_drawing(pid):
    h = CAT.part(pid, Hat)
    assert (mm(h.width), mm(h.depth)) == HAT_OUTLINE
    holes = _holes(h)
    assert holes[0] == (HAT_HOLE_INSET, HAT_HOLE_INSET)
    assert (holes[-1][0] - holes[0][0], holes[-1][1] - holes[0][1]) == HAT_HOLE_PITCH
    for fam in h.fits:  # and on every board it fits, its holes are the board's
        for b in (p for p in CAT.of_kind(Board) if p.family == fam):
            assert holes == _holes(b), (h.id, b.id)


@pytest.mark.parametrize("pid", BOARDS)
def test_board_poe_header_beside_its_mounting_hole(pid):
    """Pi 3B+/4: beside the top-right hole (hats README); Pi 5: beside the (61.5, 3.5) hole."""
    b = CAT.part(pid, Board)
    near = (mm(b.poe_header_near[0]), mm(b.poe_header_near[1]))
    assert near in _holes(b)
    assert near == ((61.5, 3.5) if b.family == "pi5" else (61.5, 52.5))


def test_pi4_family_shares_one_outline():
    """2/4/8 GB are one board: the same figures, read from one file (based_on)."""
    base = CAT.raw("rpi4b-8gb")
    for pid in ("rpi4b-2gb", "rpi4b-4gb"):
        r = CAT.raw(pid)
        for key in ("width", "depth", "holes", "thickness", "keepouts", "power", "family"):
            assert r[key] == base[key], (pid, key)
        assert CAT.part(pid, Board).name != CAT.part("rpi4b-8gb", Board).name


def test_pi5_has_its_own_figures():
    p4, p5 = CAT.part("rpi4b-8gb", Board), CAT.part("rpi5-8gb", Board)
    assert mm(p5.thickness) == 1.65 and mm(p4.thickness) == 1.4
    assert p5.usb_current_a() == 0.6 and p5.usb_current_a({"psu-5a"}) == 1.6
    assert p5.usb_current_a({"hat-plus-declares-supply"}) == 1.6 and p4.usb_current_a({"psu-5a"}) == 1.2
    assert {k.name for k in p5.keepouts} != {k.name for k in p4.keepouts}  # its own jack boxes
    hats5 = [h for h in CAT.of_kind(Hat) if "pi5" in h.fits]
    assert hats5, "the PoE+ HAT's error message sends Pi 5 users to a Pi 5 PoE HAT: one must exist"
    assert any(h.id in CAT.part("rpi-poe-plus-hat", Hat).does_not_fit["pi5"] for h in hats5)


def test_hat_standoff_on_a_board_in_the_layout():
    """The layout stacks the HAT at the board's top face plus the catalog standoff."""
    from rackdesign.layout import build_layout

    lc = load_cluster(None)
    lay = build_layout(lc)
    for hat in lay.parts_of("hat"):
        board = next(b for b in lay.parts_of("board") if b.node == hat.node)
        bp, hp = lc.catalog.part(board.part_id, Board), lc.catalog.part(hat.part_id, Hat)
        assert hat.pos[2] - board.pos[2] == pytest.approx(mm(bp.thickness) + mm(hp.standoff))
        assert hat.pos[:2] == board.pos[:2] and hat.rot == board.rot  # the same frame: holes on holes


# ---------------------------------------------------------------- switches: the port face


@pytest.mark.parametrize("pid", [p.id for p in CAT.of_kind(Switch)])
def test_switch_frame_has_the_port_face_at_y0(pid):
    sw = CAT.part(pid, Switch)
    front = next(k for k in sw.keepouts if k.name == "rj45-plugs-front")
    back = next(k for k in sw.keepouts if k.name == "dc-plug-back")
    assert mm(front.y) + mm(front.depth) == 0.0 and mm(back.y) == mm(sw.depth)
    assert sw.flat_mount is not None and sw.poe_ports <= sw.ports
    assert sw.allocation_w(4) == 30.0 and sw.allocation_w(None) == sw.poe_port_max_w


def test_a_pi5_node_with_its_poe_hat_loads():
    text = overlay_text({"nodes[0].board": "rpi5-8gb", "nodes[0].hat": "waveshare-poe-hat-f",
                         "nodes[1].board": "rpi5-4gb", "nodes[1].hat": "waveshare-poe-hat-f"})
    lc = load_text(text, "pi5.toml")
    assert {n.hat for n in lc.spec.nodes} == {"waveshare-poe-hat-f"}


# ---------------------------------------------------------------- coolers: the board's frame


def test_active_cooler_sits_on_the_pi5_in_the_boards_frame():
    """Its datum is the Pi 5's lower-left corner (the board drawing's frame): its footprint lies on
    the board, clear of the four mounting holes' M2.5 spacers (Ø5 hex), and no source gives it, so
    every figure is flagged to measure."""
    from pirack.catalog import Cooler

    c = CAT.part("rpi5-active-cooler", Cooler)
    b = CAT.part("rpi5-8gb", Board)
    x0, y0 = mm(c.x), mm(c.y)
    x1, y1 = x0 + mm(c.width), y0 + mm(c.depth)
    assert 0 <= x0 < x1 <= mm(b.width) and 0 <= y0 < y1 <= mm(b.depth)
    for hx, hy in _holes(b):
        gap = max(x0 - hx, hx - x1, y0 - hy, hy - y1)
        assert gap >= 2.5, (hx, hy)  # a spacer's hex (5 mm across flats) beside it
    assert c.fits == ["pi5"] and {f for m in c.to_measure() for f in m.figures} >= {"x", "y", "height"}


DATUM_TESTS = {
    "board": test_board_outline_and_holes_follow_the_drawing,
    "hat": test_hat_outline_and_holes_follow_the_hat_drawing,
    "drive": test_drive_bottom_holes_from_the_connector_end,
    "switch": test_switch_frame_has_the_port_face_at_y0,
    "cooler": test_active_cooler_sits_on_the_pi5_in_the_boards_frame,
}


def test_every_part_that_states_a_datum_has_a_datum_test():
    """A part file's `datum` says which end and face its positions are measured from; each kind
    that states one has a test above restating its source's numbers from that datum."""
    kinds = {p.kind for p in CAT.parts.values() if "datum" in CAT.raw(p.id)}
    assert kinds and kinds <= set(DATUM_TESTS), kinds - set(DATUM_TESTS)
    params = {DRIVES[0]: DRIVES, BOARDS[0]: BOARDS, HATS[0]: HATS}
    for pid, family in params.items():  # the parametrized tests run over every part of the kind
        assert set(family) == {p.id for p in CAT.of_kind(CAT[pid].kind)}
