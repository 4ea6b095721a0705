"""The rack layout (pure Python) and the stack solver."""

import itertools
import math

import pytest

from helpers import once
from pirack.init_template import init_text
from pirack.load import load_catalog, load_cluster, load_text
from pirack.units import mm
from rackdesign import stack as stk
from rackdesign import threads
from rackdesign.geometry3d import hex_circumradius, transform
from rackdesign.layout import build_layout
from rackdesign.partspec import nut_spec, screw_spec, spacer_spec


def _loaded(text):
    return load_text(text, "t.toml")


@pytest.fixture(scope="module")
def default():
    lc = load_cluster(None)
    return lc, build_layout(lc)


@pytest.fixture(scope="module")
def four():
    lc = _loaded(init_text(4))
    return lc, build_layout(lc)


def _rect_dist(px, py, r):
    x0, y0, x1, y1 = r
    return math.hypot(max(x0 - px, 0, px - x1), max(y0 - py, 0, py - y1))


@pytest.mark.parametrize("which", ["default", "four"])
def test_tiers_and_plates(which, request):
    """One tier a node, one base, one top."""
    lc, lay = request.getfixturevalue(which)
    roles = [p.role for p in lay.plates]
    assert roles.count("tier") == len(lc.spec.nodes)
    assert roles.count("base") == 1
    assert roles.count("top") == 1


@pytest.mark.parametrize("which", ["default", "four"])
def test_plates_stacked_bottom_to_top_each_gap_its_column_segment(which, request):
    lc, lay = request.getfixturevalue(which)
    zs = [lay.tiers[p.name] for p in lay.plates if p.role != "base"]
    assert zs == sorted(zs) and len(set(zs)) == len(zs)
    z = lay.thickness
    for seg in lay.columns[0].segments:
        z += seg.height
        assert lay.tiers[seg.upper] == pytest.approx(z)
        assert seg.height >= seg.required - 1e-6
        z += lay.thickness


@pytest.mark.parametrize("which", ["default", "four"])
def test_every_plate_holds_what_it_carries_and_its_holes_with_the_margin(which, request):
    """What a plate carries lies on it, `margin` from its front and back edges; its holes lie at
    least `margin` from every edge."""
    lc, lay = request.getfixturevalue(which)
    m = mm(lc.spec.rack.margin)
    for p in lay.plates:
        for c in p.carries:
            x0, y0, x1, y1 = c.area
            assert p.x - 1e-6 <= x0 and x1 <= p.x + p.width + 1e-6, p.name
            assert p.y + m - 1e-6 <= y0 and y1 <= p.y + p.depth - m + 1e-6, p.name
        for h in p.holes:
            r = h.diameter / 2
            assert p.x + m + r - 1e-6 <= h.x <= p.x + p.width - m - r + 1e-6
            assert p.y + m + r - 1e-6 <= h.y <= p.y + p.depth - m - r + 1e-6


@pytest.mark.parametrize("which", ["default", "four"])
def test_columns_clear_drive_and_boards(which, request):
    lc, lay = request.getfixturevalue(which)
    clr = mm(lc.spec.rack.min_clearance)
    drive = lay.parts_of("drive")
    assert len(drive) == 1
    obstacles = [d.bbox for d in drive] + [b.bbox for b in lay.parts_of("board")] + [h.bbox for h in lay.parts_of("hat")]
    for c in lay.columns:
        spacers = [p for p in lay.parts if p.column == c.name and p.kind == "spacer"]
        r = max(p.bbox[3] - p.pos[0] for p in spacers)
        assert r == pytest.approx(hex_circumradius(5.5))
        for bb in obstacles:
            assert _rect_dist(c.x, c.y, (bb[0], bb[1], bb[3], bb[4])) >= clr + r - 1e-6


@pytest.mark.parametrize("which", ["default", "four"])
def test_board_holes_follow_catalog(which, request):
    lc, lay = request.getfixturevalue(which)
    cat = lc.catalog
    for node in lc.spec.nodes:
        board = cat[node.board]
        plate = next(p for p in lay.plates if p.node == node.name)
        holes = plate.holes_of("board")
        want = [(mm(u), mm(v)) for u, v in board.holes]
        assert len(holes) == len(want)
        # the same pattern: every pairwise distance equals the catalog's
        d_cut = sorted(math.dist((a.x, a.y), (b.x, b.y)) for a, b in itertools.combinations(holes, 2))
        d_cat = sorted(math.dist(a, b) for a, b in itertools.combinations(want, 2))
        assert d_cut == pytest.approx(d_cat, abs=0.01)
        # and each hole sits under the placed board's own hole
        bp = next(p for p in lay.parts_of("board") if p.node == node.name)
        for (u, v), h in zip(want, holes):
            x, y, _ = transform((u, v, 0.0), bp.pos, bp.rot)
            assert h.x == pytest.approx(x, abs=0.01) and h.y == pytest.approx(y, abs=0.01)
        assert all(h.diameter == threads.plate_hole(h.thread, 3.0) for h in holes)  # anymany: min hole = t


def test_default_layout_parts(default):
    lc, lay = default
    counts = lay.counts()
    # the seed's fastener kinds: M3 pan 6 under the base and at the top; 5 mm board spacers, now in
    # the board holes' own M2.5 thread (the catalog has M2.5 M-F spacers; the seed used M2.6)
    assert counts["screw-m3-pan-6"] == 8
    assert counts["spacer-m2.5-mf-5"] == 8
    assert counts["foot-rubber-tk"] == 4
    assert counts["rpi4b-8gb"] == 2 and counts["tl-sg1005p"] == 1
    # the top segment is the seed's 28 mm
    assert lay.columns[0].segments[-1].stack.height == 28
    # 4 columns x 3 segments, one spacer each
    assert sum(1 for p in lay.parts if p.role == "column") == 12
    # fasteners are every instance, uniquely named
    names = [p.name for p in lay.parts]
    assert len(names) == len(set(names))
    # a standing switch and a support; the base carries both, the tiers do not reach them
    sw = lay.parts_of("switch")[0]
    assert sw.bbox[5] - sw.bbox[2] == pytest.approx(100.0)
    tier = lay.plate("tier-1-master")
    assert sw.bbox[0] >= tier.x + tier.width + mm(lc.spec.rack.min_clearance) - 1e-6
    assert lay.support is not None and lay.support.bend_at < lay.support.length


def test_feet_clear_screw_heads(default):
    _, lay = default
    heads = [p for p in lay.parts if p.bbox[2] < 0 and p.kind in ("screw", "nut")]
    feet = lay.parts_of("foot")
    assert len(feet) == 4
    for f in feet:
        r = (f.bbox[3] - f.bbox[0]) / 2
        for h in heads:
            hr = (h.bbox[3] - h.bbox[0]) / 2
            assert math.dist(f.pos[:2], h.pos[:2]) >= r + hr
        # nothing reaches below the feet
    assert min(p.bbox[2] for p in lay.parts) == pytest.approx(min(f.bbox[2] for f in feet))


def test_flat_switch_and_no_drive():
    text = load_cluster(None).text.replace('switch_orientation = "side"', 'switch_orientation = "flat"')
    text = text.replace('drive_placement = "base"', 'drive_placement = "none"')
    lc = _loaded(text)
    lay = build_layout(lc)
    assert not lay.parts_of("drive") and lay.support is None
    sw = lay.parts_of("switch")[0]
    assert sw.bbox[5] - sw.bbox[2] == pytest.approx(25.0)
    base = lay.plate("base")
    assert base.x + base.width >= sw.bbox[3]
    assert not base.holes_of("drive")
    # without the drive the first gap is smaller than the default's
    assert lay.columns[0].segments[0].height < build_layout(load_cluster(None)).columns[0].segments[0].height


# -- the stack solver ---------------------------------------------------------------------------

def _m3():
    cat = load_catalog()
    return ([spacer_spec(p) for p in cat.of_kind("spacer") if p.thread == "M3"],
            [screw_spec(p) for p in cat.of_kind("screw")])


# (required gap, segment end, expected stack bottom to top, its height)
ROUND_UP = [
    (10.0, "through", ("spacer-m3-mf-10",), 10),
    (11.7, "through", ("spacer-m3-mf-15",), 15),
    (28.0, "screw", ("spacer-m3-ff-28",), 28),
    (29.7, "through", ("spacer-m3-mf-30",), 30),
    (33.0, "through", ("spacer-m3-mf-20", "spacer-m3-mf-15"), 35),
    (36.0, "screw", ("spacer-m3-mf-28", "spacer-m3-ff-8"), 36),
    (36.5, "screw", ("spacer-m3-mf-25", "spacer-m3-ff-12"), 37),    # the lowest two-part stack
    (39.0, "through", ("spacer-m3-mf-20", "spacer-m3-mf-20"), 40),  # one size beats 30 + 10
    (45.0, "screw", ("spacer-m3-mf-10", "spacer-m3-ff-35"), 45),
    (58.0, "through", ("spacer-m3-mf-30", "spacer-m3-mf-28"), 58),
    (100.0, "through", ("spacer-m3-mf-25",) * 4, 100),
    (3.0, "screw", ("spacer-m3-ff-5",), 5),
]


@pytest.mark.parametrize("req,end,ids,height", ROUND_UP)
def test_round_up_table(req, end, ids, height):
    spacers, _ = _m3()
    st = stk.round_up(req, spacers, end)
    assert st.height == height
    assert st.ids == ids
    assert st.height >= req


def test_clearance_hole_tables():
    # ISO 273 / JIS B 1001: plates cut to medium, checks hold holes to fine
    assert threads.clearance_hole("M3") == 3.4 and threads.clearance_hole("M3", "fine") == 3.2
    assert threads.clearance_hole("M2.6") == 3.0 and threads.clearance_hole("M2.6", "fine") == 2.8
    assert threads.clearance_hole("M5") == 5.5
    for th in set(threads.CLEARANCE_FINE) | set(threads.CLEARANCE_MEDIUM):
        d = threads.thread_diameter(th)
        assert d < threads.clearance_hole(th, "fine") < threads.clearance_hole(th, "medium")
    # outside the tables: the series' ratio
    assert threads.clearance_hole("M6", "fine") == 6.4 and threads.clearance_hole("M6") == 6.7
    assert threads.clearance_hole("M2.5", "coarse") == 3.1 and threads.clearance_hole("M6", "coarse") == 7.2
    with pytest.raises(ValueError):
        threads.clearance_hole("M3", "loose")


def test_plate_hole_widens_to_the_fabricators_minimum_within_coarse():
    # M2.5 in 3 mm acrylic at a service that cuts no hole under 3.0 mm: Ø3.0, not the medium Ø2.9
    assert threads.plate_hole("M2.5", 3.0) == 3.0 and threads.plate_hole("M2.5", 0.0) == 2.9
    assert threads.plate_hole("M3", 3.0) == 3.4  # the medium hole is already larger
    # 5 mm acrylic (min hole 5.0): widening past coarse M2.5 (3.1) would let a board wander;
    # the medium hole stays and preflight says the service cannot cut it
    assert threads.plate_hole("M2.5", 5.0) == 2.9 and threads.plate_hole("M3", 3.6) == 3.6


def test_solve_exact_prefers_fewest_parts_then_sizes():
    spacers, _ = _m3()
    assert stk.solve(20, spacers, "screw").ids == ("spacer-m3-ff-20",)
    assert stk.solve(56, spacers, "screw").ids == ("spacer-m3-mf-28", "spacer-m3-ff-28")
    # 50 = 25 + 25 (one part kind to buy) wins over 30 + 20
    assert stk.solve(50, spacers, "through").ids == ("spacer-m3-mf-25", "spacer-m3-mf-25")
    assert stk.solve(60, spacers, "through").ids == ("spacer-m3-mf-30", "spacer-m3-mf-30")
    assert stk.solve(7, spacers, "through") is None
    # every stack of a "through" segment ends in a male thread
    assert all(s.spacers[-1].style == "male-female" for s in stk.stacks(spacers, "through"))


def test_screw_rules():
    spacers, screws = _m3()
    t = load_catalog()["acrylic-cast-3mm"].thickness_range_mm()
    assert t == pytest.approx((2.3, 3.7))
    ff28 = next(s for s in spacers if s.id == "spacer-m3-ff-28")
    c = stk.choose_screw(screws, "M3", t, ff28.female_depth)
    assert c.part_id == "screw-m3-pan-6" and c.ok and c.engagement == pytest.approx((2.3, 3.7))
    # into a drive: never deeper than its 2.5 mm of thread, even at the thinnest sheet
    d = stk.choose_screw(screws, "M3", t, 2.5, min_engage=1.0)
    assert d.part_id == "screw-m3-pan-4" and d.engagement[1] <= 2.5 and not d.ok and d.note
    # 5 mm sheet: an M-F's 6 mm male thread cannot reach through it far enough
    t5 = load_catalog()["acrylic-cast-5mm"].thickness_range_mm()
    mf = next(s for s in spacers if s.id == "spacer-m3-mf-30")
    assert not stk.check_male(mf, t5, 7.5).ok
    assert stk.check_male(mf, t, 7.5).ok


def test_solver_column_of_65_gaps():
    """A 64-node rack's column: a segment per gap, each tall enough, joined through every plate
    (how fast: bench/bench_check.py)."""
    spacers, screws = _m3()
    cap = nut_spec(load_catalog()["nut-m3-cap"])
    gaps = [("p%d" % i, "p%d" % (i + 1), 20 + (i % 17)) for i in range(65)]
    segs = stk.solve_column(gaps, spacers, screws, (2.3, 3.7), cap)
    assert len(segs) == 65
    assert all(s.height >= s.required for s in segs) and [s.lower for s in segs] == [g[0] for g in gaps]
    assert all(s.stack.end == "through" for s in segs[:-1]) and segs[-1].stack.end in ("cap-nut", "screw")


# -- the flat parts -----------------------------------------------------------------------------

@pytest.fixture
def flat(default):
    """The default's flat parts by name, made once (in the first test that asks: CAD-free)."""
    from rackdesign.plates import flat_parts

    return once("test_layout.flat", lambda: {p.name: p for p in flat_parts(default[1])})


def _box_inside(inner, outer) -> bool:
    return outer[0] < inner[0] and inner[2] < outer[2] and outer[1] < inner[1] and inner[3] < outer[3]


def test_flat_parts_are_closed_3mm_plates_every_hole_inside(flat):
    assert list(flat) == ["base", "tier-1-master", "tier-2-slave1", "top", "switch-support"]
    for part in flat.values():
        assert part.outline.is_closed()
        assert (part.thickness, part.material) == (3.0, "acrylic-cast-3mm")
        assert len(part.notes["holes"]) == len(part.holes)
        assert all(_box_inside(h.bbox(), part.bbox()) for h in part.holes), part.name


@pytest.mark.parametrize("node", ["master", "slave1"])
def test_flat_parts_cut_holes_are_the_catalog_pattern(default, flat, node):
    from rackdesign.geometry2d import Circle

    lc, lay = default
    want = [(mm(u), mm(v)) for u, v in lc.catalog["rpi4b-8gb"].holes]
    part = next(p for p in flat.values() if p.notes.get("node") == node)
    dx, dy = part.notes["datum"]
    bp = next(p for p in lay.parts_of("board") if p.node == node)
    cut = [h for h, n in zip(part.holes, part.notes["holes"]) if n["kind"] == "board"]
    # M2.5 clearance: ISO 273 medium (2.9) widened to the service's 3.0 mm minimum hole (within coarse, 3.1)
    assert all(isinstance(h, Circle) and h.diameter == pytest.approx(3.0) for h in cut)
    # back into the board's own frame (inverse of the board's -90° turn): the catalog's centres within 0.01 mm
    got = [(-(h.center[1] + dy - bp.pos[1]), h.center[0] + dx - bp.pos[0]) for h in cut]
    for g, w in zip(sorted(got), sorted(want)):
        assert g == pytest.approx(w, abs=0.01)


def test_flat_base_holes_columns_drive_support(flat):
    base = flat["base"]
    kinds = [n["kind"] for n in base.notes["holes"]]
    assert kinds.count("column") == 4 and kinds.count("drive") == 4 and kinds.count("support") == 2
    # drive holes: 61.72 mm apart across (A29), 90.60 - 14.00 = 76.6 mm along (A51 - A50, SFF-8201)
    dh = sorted(h.center for h, n in zip(base.holes, base.notes["holes"]) if n["kind"] == "drive")
    assert dh[2][0] - dh[0][0] == pytest.approx(61.72, abs=0.01)
    assert dh[1][1] - dh[0][1] == pytest.approx(76.6, abs=0.01)
    assert all(n["diameter"] == 3.4 for n in base.notes["holes"] if n["thread"] == "M3")


def test_flat_switch_support_bend_drawn_not_scored_nothing_engraved(default, flat):
    lay = default[1]
    sup = flat["switch-support"]
    assert len(sup.bend) == 1 and not sup.score  # drawn for the service, not scored
    bend = sup.bend[0].segments[0]
    assert bend.start[0] == bend.end[0] == pytest.approx(lay.support.bend_at)
    assert 0 < bend.start[0] < sup.size[0]
    assert not any(p.engrave for p in flat.values())


# -- what cannot be laid out: a LayoutError with the check's code, where, and what to do --------

ALL_FASTENERS = sorted(p.stem for p in (load_catalog().root / "fasteners").glob("*.toml")
                       if not p.stem.startswith(("foot", "washer")))


def _with_fasteners(ids, text=None):
    text = text or load_cluster(None).text
    return text.replace("[rack]\n", f"[rack]\nfasteners = {ids!r}\n".replace("'", '"'), 1)


@pytest.mark.parametrize("leave_out,code,where,fix", [
    # no M3 spacer at all: the columns cannot be stacked
    ("spacer-m3-", "STACK_HEIGHT", "spacer columns (front-left, back-left, front-right, back-right)",
     "rack.fasteners (the catalog has spacer-m3-"),
    # the seed's board spacer (M-F under a HAT) in neither thread
    ("spacer-m2", "NO_SPACER", "tier-1-master", "rack.fasteners (the catalog has spacer-m2.5-mf-"),
    # no M3 screw: the drive cannot be screwed to the base
    ("screw-m3-", "NO_SCREW", "base plate", "rack.fasteners (the catalog has screw-m3-"),
])
def test_fasteners_left_out_are_a_layout_error(leave_out, code, where, fix):
    from pirack.errors import WorkFailed
    from rackdesign.findings import LayoutError

    lc = _loaded(_with_fasteners([i for i in ALL_FASTENERS if not i.startswith(leave_out)]))
    with pytest.raises(LayoutError) as ei:
        build_layout(lc)
    e = ei.value
    assert isinstance(e, WorkFailed) and e.code == code
    assert e.message.startswith(where), e.message
    assert fix in e.fix and str(e) == f"{e.message}; {e.fix}"


def test_impossible_clearance_is_a_stack_height_error():
    from rackdesign.findings import LayoutError

    lc = _loaded(load_cluster(None).text.replace('min_clearance = "3 mm"', 'min_clearance = "150 mm"'))
    with pytest.raises(LayoutError) as ei:
        build_layout(lc)
    e = ei.value
    assert e.code == "STACK_HEIGHT"
    assert "between base and tier-1-master" in e.message and "the tallest is 120 mm" in e.message
    assert "rack.min_clearance (now 150 mm)" in e.fix and "longer M3 male-female spacers" in e.fix
