"""The front elevation drawn from the assembly by hidden-line removal (how fast: bench/bench_model.py)."""

import pytest

pytestmark = pytest.mark.cad


@pytest.fixture(scope="module")
def plan(default_rack):
    from rackdesign.frontplan import front_plan

    lc, lay, assy = default_rack
    return lay, assy, front_plan(lay, assy)


def geometry_bbox(d) -> tuple[float, float, float, float]:
    """The extent of the projected geometry (visible and hidden lines), without annotations."""
    pts = [p for it in d.items if getattr(it, "style", None) in ("visible", "hidden") and hasattr(it, "seg")
           for p in it.seg.points()]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs), max(ys))


def test_extent_is_the_assembly_seen_from_the_front(plan):
    from rackdesign.writers import plot

    lay, assy, d = plan
    bb = assy.toCompound().BoundingBox()
    x0, y0, x1, y1 = geometry_bbox(d)
    assert x1 - x0 == pytest.approx(bb.xlen, abs=0.5)
    assert y1 - y0 == pytest.approx(bb.zlen, abs=0.5)
    assert (x0, y0) == pytest.approx((bb.xmin, bb.zmin), abs=0.5)
    # the paper and scale the PDF/SVG/PNG use: a standard sheet and reduction, everything on it
    paper, W, H, s, ext = plot.choose_paper(d)
    assert paper in ("A4", "A3") and s in plot.SCALES and 0 < s <= 1
    assert (ext[2] - ext[0]) * s <= W - 2 * plot.MARGIN
    assert (ext[3] - ext[1]) * s <= H - 2 * plot.MARGIN - plot.TITLE_H - 4  # above the title block
    assert ext[0] <= x0 and ext[1] <= y0 and ext[2] >= x1 and ext[3] >= y1


def test_hidden_and_visible_lines(plan):
    from rackdesign.drawing import DSeg

    lay, _, d = plan
    styles = [it.style for it in d.items if isinstance(it, DSeg)]
    assert styles.count("hidden") > 50 and styles.count("visible") > 50
    # every plate's top and bottom face shows as a visible horizontal edge at its height
    vis = [it.seg for it in d.items if isinstance(it, DSeg) and it.style == "visible" and hasattr(it.seg, "end")]
    for p in lay.plates:
        for z in (p.z, p.top):
            assert any(abs(s.start[1] - z) < 0.01 and abs(s.end[1] - z) < 0.01 and abs(s.end[0] - s.start[0]) > 10
                       for s in vis), (p.name, z)
    # the drive sits behind the front columns' screws, but its top edge is seen
    drive = lay.parts_of("drive")[0]
    assert any(abs(s.start[1] - drive.bbox[5]) < 0.01 and abs(s.end[1] - drive.bbox[5]) < 0.01 for s in vis)


def written(d) -> tuple[str, list, set[str]]:
    """What the front plan says: its texts and parts list (the legend) joined, its dimensions,
    and their values."""
    from rackdesign.drawing import DDim, DText

    texts = " | ".join([it.text for it in d.items if isinstance(it, DText)] + d.legend)
    dims = [it for it in d.items if isinstance(it, DDim)]
    return texts, dims, {it.text for it in dims}


def test_heights_and_columns_are_written(plan):
    """Every plate above the base: its height dimensioned and named with it."""
    lay, _, d = plan
    texts, _, dim_texts = written(d)
    for p in lay.plates:
        if p.role != "base":
            assert f"{p.z:.1f}" in dim_texts and f"{p.name} {p.z:.1f}" in texts


def test_the_spacer_columns_are_written(plan):
    """The column's length, each segment's height, and every part in it (and the screws)."""
    lay, _, d = plan
    texts, _, dim_texts = written(d)
    col = lay.columns[0]
    assert f"{col.length:.1f} mm of spacers" in texts
    for s in col.segments:
        assert f"{s.height:g}" in dim_texts
        assert all(pid in texts for pid in s.stack.ids), s.stack.ids
    assert "screw-m3-pan-6" in texts


def test_the_dimensioned_heights_are_the_plates_real_heights(plan):
    lay, _, d = plan
    _, dims, _ = written(d)
    heights = [it for it in dims if it.direction == "vertical" and it.text and it.text.replace(".", "").isdigit()]
    for it in heights:
        assert abs(abs(it.b[1] - it.a[1]) - float(it.text)) < 0.05
