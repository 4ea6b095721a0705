"""The CadQuery assembly: counts, size, no overlapping solids, exports."""

import itertools
import re
from collections import Counter

import pytest

from helpers import stl_extent

pytestmark = pytest.mark.cad


def test_fastener_counts_match_layout(default_rack):
    lc, lay, assy = default_rack
    names = [ch.name for ch in assy.children]
    per_part = Counter(re.sub(r"#\d+$", "", n) for n in names)
    assert dict(per_part) == {**lay.counts(), **{p.name: 1 for p in lay.plates}, "switch-support": 1}
    # the default rack, counted by hand from the design: 4 columns of M-F 15 + M-F 30 + F-F 28,
    # M3x6 under the base and on top, M3x4 into the drive, board and HAT fasteners per node: the
    # boards on M2.5 M-F 5 mm spacers (M2.5x6 from below), the HATs on their 9 mm F-F with M2.5x5
    expect = {
        "spacer-m3-mf-15": 4, "spacer-m3-mf-30": 4, "spacer-m3-ff-28": 4, "screw-m3-pan-6": 8,
        "screw-m3-pan-4": 4, "spacer-m2.5-mf-5": 8, "screw-m2.5-pan-6": 8, "spacer-m2.5-ff-9": 8,
        "screw-m2.5-pan-5": 8, "screw-m3-pan-10": 2, "nut-m3-hex": 2, "foot-rubber-tk": 4,
    }
    for pid, n in expect.items():
        assert per_part[pid] == n, pid
    kinds = Counter(ch.metadata["kind"] for ch in assy.children)
    assert kinds["screw"] == 8 + 4 + 8 + 8 + 2
    # each distinct part built once
    assert assy.metadata["distinct_shapes"] < len(names) / 2
    shapes = {}
    for ch in assy.children:
        shapes.setdefault(ch.metadata["part_id"], set()).add(id(ch.obj))
    assert all(len(v) == 1 for v in shapes.values())


def test_bounding_box_matches_layout(default_rack):
    _, lay, assy = default_rack
    bb = assy.toCompound().BoundingBox()
    want = lay.bbox()
    got = (bb.xmin, bb.ymin, bb.zmin, bb.xmax, bb.ymax, bb.zmax)
    assert got == pytest.approx(want, abs=0.05)
    base = lay.plate("base")
    assert bb.xlen == pytest.approx(base.width, abs=0.05) and bb.ylen == pytest.approx(base.depth, abs=0.05)


def test_plates_have_their_holes(default_rack):
    from rackdesign.model import placed_solids

    _, lay, assy = default_rack
    solids = placed_solids(assy)
    import math
    for p in lay.plates:
        s = solids[f"{p.name}#1"]
        full = p.width * p.depth * p.thickness
        r = p.corner_radius
        corners = (4 - math.pi) * r * r * p.thickness
        holes = sum(math.pi * (h.diameter / 2) ** 2 for h in p.holes) * p.thickness
        cut = sum((c.length - c.width) * c.width + math.pi * (c.width / 2) ** 2 for c in p.cutouts) * p.thickness
        assert s.Volume() == pytest.approx(full - corners - holes - cut, rel=1e-3), p.name
        bb = s.BoundingBox()
        assert bb.zmin == pytest.approx(p.z) and bb.zmax == pytest.approx(p.top)


def test_no_solids_overlap(default_rack):
    from rackdesign.model import placed_solids

    _, lay, assy = default_rack
    kinds = {p.name: p.kind for p in lay.parts}
    solids = [(n, s, s.BoundingBox()) for n, s in placed_solids(assy).items()
              if kinds[n] in ("plate", "board", "drive", "spacer", "switch", "support", "screw")]
    assert len(solids) > 40
    hits = []
    for (n1, s1, b1), (n2, s2, b2) in itertools.combinations(solids, 2):
        if (b1.xmax <= b2.xmin or b2.xmax <= b1.xmin or b1.ymax <= b2.ymin or b2.ymax <= b1.ymin
                or b1.zmax <= b2.zmin or b2.zmax <= b1.zmin):
            continue
        v = s1.intersect(s2).Volume()
        if v > 1.0:
            hits.append((n1, n2, round(v, 2)))
    assert hits == []


def test_overlap_check_can_fail(default_rack):
    """The check above finds an overlap when there is one: a column moved onto the drive."""
    import cadquery as cq
    from rackdesign.model import placed_solids

    _, lay, assy = default_rack
    s = placed_solids(assy)
    drive = s["ssd-sata-2.5-500gb#1"]
    spacer = s["spacer-m3-mf-15#1"].moved(cq.Location(cq.Vector(20, 20, 0)))
    assert spacer.intersect(drive).Volume() > 1.0


def test_exports(default_rack, tmp_path):
    import cadquery as cq
    from rackdesign.model import export_step, export_stl

    _, lay, assy = default_rack
    step, stl = tmp_path / "rack.step", tmp_path / "rack.stl"
    export_step(assy, step)
    export_stl(assy, stl)
    back = cq.importers.importStep(str(step)).val()
    bb = back.BoundingBox()
    want = lay.bbox()
    assert (bb.xmin, bb.zmin, bb.xmax, bb.zmax) == pytest.approx((want[0], want[2], want[3], want[5]), abs=0.05)
    assert len(back.Solids()) >= len(lay.parts)
    w, dp, h = lay.size
    assert stl_extent(stl.read_bytes()) == [pytest.approx(w, abs=0.1), pytest.approx(dp, abs=0.1),
                                            pytest.approx(h, abs=0.1)]
