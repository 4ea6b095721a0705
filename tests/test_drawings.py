"""Drawings for people, measured on paper: no text box intersects another text box or a
dimension line (or an extension line); floor plans show what each plate carries, the feet,
the front, and what every cut-out is for; the front plan's notes never crowd at 1:2 (4 and 6
nodes), the title block is never cut off, and the per-column counts are the BOM's.

Boxes come from writers.plot.paper_layout (where the renderers put every text), sized with
the embedded fonts' metrics; lines are the dimensions' own paper segments."""

from __future__ import annotations

import pytest

from helpers import once, run_main_in
from rackdesign.drawing import DSeg, Drawing
from rackdesign.writers.plot import (boxes_overlap, legend_lines, note_lines, paper_layout, segment_hits_box,
                                     title_notes)


def overlaps(d: Drawing) -> list[str]:
    """Every text box that meets another text box, or a dimension or extension line (a
    dimension's value may touch only its own dimension line)."""
    page, texts, lines = paper_layout(d)
    return _text_over_text(texts) + _text_across_lines(texts, lines) + _off_the_view(texts, page.view)


def _text_over_text(texts) -> list[str]:
    return [f"'{a.text}' over '{b.text}'" for i, a in enumerate(texts) for b in texts[i + 1:]
            if boxes_overlap(a.box, b.box)]


def _text_across_lines(texts, lines) -> list[str]:
    dims = [t for t in texts if t.kind == "dimension"]
    bad = []
    for t in texts:
        own = dims.index(t) if t in dims else None
        bad += [f"'{t.text}' across dimension {k}" for k, dl in enumerate(lines) for seg in (dl.line, *dl.extensions)
                if not (seg is dl.line and k == own) and segment_hits_box(*seg, t.box)]
    return bad


def _off_the_view(texts, v) -> list[str]:
    """Texts (but the legend, which has its own place) not wholly inside the view."""
    return [f"'{t.text}' off the view" for t in texts if t.kind != "legend"
            and not (v[0] <= t.box[0] and v[1] <= t.box[1] and t.box[2] <= v[2] and t.box[3] <= v[3])]


def cluster(rack, tmp_path, nodes: int):
    from pirack.load import load_cluster

    f = tmp_path / f"c{nodes}.toml"
    code, _, err = rack("init", "--nodes", str(nodes), "--name", f"n{nodes}", str(f))
    assert code == 0, err
    return load_cluster(f)


def floor_plans(lc):
    from rackdesign.floorplan import floor_plan
    from rackdesign.layout import build_layout
    from rackdesign.pipeline import flat_parts_for

    lay = build_layout(lc)
    return lay, [(p, floor_plan(p, lc.spec.cluster.name)) for p in flat_parts_for(lc, lay, None)]


def test_the_overlap_check_can_fail():
    """Two texts on one spot with nowhere to go, and a text across a dimension line, are caught."""
    d = Drawing("t")
    d.dim((0.0, 0.0), (300.0, 0.0), 0.0, direction="horizontal")
    for k in range(30):  # more text than the space around the point holds: some must stay on top of others
        d.text((150.0, 0.0), f"label {k:03d} on the dimension line", 3.0)
    assert overlaps(d)


@pytest.mark.parametrize("nodes", [2, 4, 6])
def test_floor_plans_no_text_over_text_or_dimension_lines(rack, tmp_path, nodes):
    from pirack.load import load_cluster

    lc = load_cluster(None) if nodes == 2 else cluster(rack, tmp_path, nodes)
    _, plans = floor_plans(lc)
    for part, d in plans:
        assert overlaps(d) == [], part.name


@pytest.fixture
def default_plans():
    """The default's layout and its floor plans, made once (in the first test that asks:
    CAD-free): (layout, {plate name: (flat part, drawing, its texts)})."""
    return once("test_drawings.default_plans", _default_plans)


def _default_plans():
    from pirack.load import load_cluster

    lay, plans = floor_plans(load_cluster(None))
    return lay, {p.name: (p, d, [t.text for t in paper_layout(d)[1]]) for p, d in plans}


def test_floor_plans_show_what_sits_on_each_plate_the_feet_and_the_front(default_plans):
    """Each carried footprint: four ghost lines on its rectangle, and a label."""
    lay, by_name = default_plans
    for plate in lay.plates:
        _, d, texts = by_name[plate.name]
        ghosts = [it for it in d.items if getattr(it, "style", "") == "ghost"]
        for c in plate.carries:
            a = (c.area.x0 - plate.x, c.area.y0 - plate.y)
            assert any(isinstance(g, DSeg) and g.seg.start == pytest.approx(a) for g in ghosts), (plate.name, c)
            assert any(c.part_id in t for t in texts), (plate.name, c.part_id)


def test_the_base_floor_plan_shows_the_four_feet(default_plans):
    lay, by_name = default_plans
    (base,) = [p for p in lay.plates if p.role == "base"]
    _, d, texts = by_name[base.name]
    ghosts = [it for it in d.items if getattr(it, "style", "") == "ghost"]
    assert sum(1 for g in ghosts if not isinstance(g, DSeg)) == len(lay.parts_of("foot")) == 4
    assert any("foot" in t for t in texts)


def test_every_floor_plan_marks_the_front_and_says_what_each_hole_is_for(default_plans):
    """Every hole and cut-out labelled by its purpose, never a bare size."""
    lay, by_name = default_plans
    words = {"column": "spacer column", "board": "board mount", "drive": "drive screw",
             "support": "switch support screw", "cable": "cable pass", "airflow": "air vent"}
    for plate in lay.plates:
        part, _, texts = by_name[plate.name]
        assert "front" in texts, plate.name
        for k in {n["kind"] for n in part.notes["holes"]}:
            assert any(words[k] in t for t in texts), (plate.name, k)


def test_tier_floor_plans_show_the_board(default_plans):
    lay, by_name = default_plans
    tiers = [by_name[p.name][2] for p in lay.plates if p.role == "tier"]
    assert all(any("board (" in t for t in texts) for texts in tiers)


def test_the_switch_support_floor_plan_dimensions_the_bend():
    from pirack.load import load_cluster
    from rackdesign.drawing import DDim

    lc = load_cluster(None)
    lay, plans = floor_plans(lc)
    part, d = next((p, d) for p, d in plans if p.name == "switch-support")
    sp = lay.support
    bend_dims = [it for it in d.items if isinstance(it, DDim) and it.text and "bend" in it.text]
    assert len(bend_dims) == 1
    dim = bend_dims[0]
    assert abs(dim.b[0] - dim.a[0]) == pytest.approx(sp.bend_at, abs=1e-6)  # from the foot's end
    assert dim.a[0] == pytest.approx(part.bbox()[0])
    texts = [t.text for t in paper_layout(d)[1]]
    assert f"bend {sp.bend_angle:g}°, inside R {sp.inner_radius:g}" in texts


@pytest.fixture(scope="module", params=[4, 6, 8])
def front(request, tmp_path_factory):
    """A `rack init --nodes N` cluster's front plan, built once for the tests below: (nodes,
    loaded cluster, layout, drawing)."""
    from pirack.load import load_cluster
    from rackdesign.cli import main
    from rackdesign.frontplan import front_plan
    from rackdesign.layout import build_layout
    from rackdesign.model import build_assembly

    nodes = request.param
    f = tmp_path_factory.mktemp("front") / f"c{nodes}.toml"
    code, _, err = run_main_in(f.parent, main, ["rack", "init", "--nodes", str(nodes), "--name", f"n{nodes}", str(f)])
    assert code == 0, err
    lc = load_cluster(f)
    lay = build_layout(lc)
    return nodes, lc, lay, front_plan(lay, build_assembly(lay, lc.catalog))


@pytest.mark.cad
def test_front_plan_notes_never_crowd_and_nothing_is_cut_off(front):
    """At 6 and 8 nodes the front plan goes to 1:2 or smaller (4 nodes fit A3 at 1:1 since the
    HAT's spacers are the sourced 9 mm); its parts list (a legend at a
    fixed paper size), its labels and dimension values still meet nothing; the title block holds
    every note line in full."""
    nodes, _, _, d = front
    page, texts, _ = paper_layout(d)
    if nodes >= 6:  # the crowded case the issue measured: a reduced scale
        assert page.scale <= 0.5
    assert overlaps(d) == []
    assert not any(t.text.endswith("...") for t in texts)
    assert all("..." not in ln for ln in note_lines(d))
    drawn = " | ".join(t.text for t in texts)  # every note line in full: in the title block or continued in the legend
    shown = title_notes(d) + [ln.strip() for ln in legend_lines(d)]
    assert all(ln in shown for ln in note_lines(d))
    assert all(ln.strip() in drawn for ln in legend_lines(d))


def _legend_columns(legend: list[str]) -> tuple[dict[str, int], int]:
    """From the front plan's parts list: each part's count summed over the 'column ...' lines,
    and how many such lines there are (wrapped lines continue with a 4-space indent)."""
    logical: list[str] = []
    for ln in legend:
        if ln.startswith("    ") and logical:
            logical[-1] += " " + ln.strip()
        else:
            logical.append(ln)
    per_column: dict[str, int] = {}
    columns = [line for line in logical if line.startswith("column ")]
    for line in columns:
        for item in line.split(": ", 1)[1].split(", ") if ": " in line else ():
            n, pid = item.split("x ", 1)
            per_column[pid] = per_column.get(pid, 0) + int(n)
    return per_column, len(columns)


@pytest.mark.cad
def test_front_plan_column_counts_are_the_boms(front):
    """Per-column counts, summed over the columns, are the BOM's counts of those parts."""
    from rackdesign.bom import needed_counts

    _, lc, lay, d = front
    per_column, column_lines = _legend_columns(d.legend)
    assert per_column
    counts = needed_counts(lc, lay)
    for pid, n in per_column.items():
        in_columns = sum(1 for p in lay.parts if p.part_id == pid and p.column)
        assert n == in_columns <= counts[pid], pid
    assert column_lines == len(lay.columns)


def test_the_title_block_carries_a_mark_when_given():
    """The hook `rack export --force` uses: the mark replaces the 'pirack' tag in the title block."""
    import io

    from pypdf import PdfReader

    from rackdesign.writers.pdf import drawing_pdf

    d = Drawing("t")
    d.text((0.0, 0.0), "x", 3.0)
    marked = PdfReader(io.BytesIO(drawing_pdf(d, "c", "2026-12-02", "NOT CHECKED: 2 errors"))).pages[0].extract_text()
    plain = PdfReader(io.BytesIO(drawing_pdf(d, "c", "2026-12-02"))).pages[0].extract_text()
    assert "NOT CHECKED: 2 errors" in marked and "NOT CHECKED" not in plain and "pirack" in plain
