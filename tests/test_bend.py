"""The bent ("く") switch support as a fabrication feature: the flat pattern from the sheet's
bend data (bend allowance), the bend as its own colour in the cut file (never cut), and the
order note beside the cut files. The cut PDF is re-read with pypdf (tests/cutfiles.read_pdf),
not with reportlab that wrote it."""

from __future__ import annotations

import io
import math

import pytest
from pypdf import PdfReader

from cutfiles import read_pdf
from pirack.catalog import load_catalog
from rackdesign.layout.switch_support import Bend, support_pattern

CAT = load_catalog()


def by_formula(t, r, k, angle, foot, wall):
    """Flat length by the sheet-metal formula written out: legs minus the outside setback
    (R + T)·tan(A/2) each, plus BA = π (R + K·T) A / 180 (SOLIDWORKS help, 'K-Factor')."""
    setback = (r + t) * math.tan(math.radians(angle / 2))
    return foot + wall - 2 * setback + math.pi * (r + k * t) * angle / 180


@pytest.mark.parametrize("sheet", ["acrylic-cast-2mm", "acrylic-cast-3mm", "acrylic-cast-5mm"])
def test_flat_pattern_length_is_the_bend_allowance_formula_on_the_sheet_data(sheet):
    s = CAT[sheet]
    from pirack.units import mm

    t, r = mm(s.thickness), mm(s.bend.inner_radius)
    sp = support_pattern(Bend(r, s.bend.k_factor, s.bend.angle, t), 60.0, 15.0, 58.8)
    assert sp.length == pytest.approx(by_formula(t, r, s.bend.k_factor, s.bend.angle, 15.0, 60.0), abs=1e-3)
    # the bend line is the middle of the bend zone: setback short of the foot's corner, plus BA/2
    ba = math.pi * (r + s.bend.k_factor * t) * s.bend.angle / 180
    assert sp.bend_at == pytest.approx(15.0 - (r + t) + ba / 2, abs=1e-3)
    assert sp.allowance == pytest.approx(ba, abs=1e-3) and sp.inner_radius == r


def test_the_sheet_data_drives_the_flat_pattern():
    """A tighter radius or a neutral axis nearer the inside face gives a shorter flat pattern:
    the numbers come from the data, not from constants in the code."""
    base = support_pattern(Bend(3.0, 0.5, 90.0, 3.0), 60.0, 15.0, 58.8)
    tight = support_pattern(Bend(1.5, 0.5, 90.0, 3.0), 60.0, 15.0, 58.8)
    metal_k = support_pattern(Bend(3.0, 0.33, 90.0, 3.0), 60.0, 15.0, 58.8)
    assert tight.length > base.length  # smaller setback outweighs the shorter arc
    assert metal_k.length < base.length
    assert metal_k.length == pytest.approx(by_formula(3.0, 3.0, 0.33, 90.0, 15.0, 60.0), abs=1e-3)
    obtuse = support_pattern(Bend(3.0, 0.5, 60.0, 3.0), 60.0, 15.0, 58.8)  # bent through 60°
    assert obtuse.length == pytest.approx(by_formula(3.0, 3.0, 0.5, 60.0, 15.0, 60.0), abs=1e-3)


def test_the_layout_uses_the_sheet_bend_data():
    from pirack.load import load_cluster
    from rackdesign.layout import build_layout

    lc = load_cluster(None)
    lay = build_layout(lc)
    bend = CAT[lc.spec.rack.sheet].bend
    from pirack.units import mm

    assert lay.support.inner_radius == mm(bend.inner_radius) and lay.support.k_factor == bend.k_factor
    assert lay.support.bend_angle == bend.angle


@pytest.mark.cad  # the export writes the front plan (CadQuery)
def test_seed_service_pdf_closed_cut_layer_bend_in_its_own_colour_order_note_beside(rack, in_tmp):
    """Done-when of issue 14: the seed's service's profile (anymany-pdf, the default) gives a
    cut PDF whose cut colour holds only closed paths (every outline and hole), the bend line in
    its own colour (open, full length, not cut), no text; and the order note beside it says
    where and how to bend."""
    from pirack.load import load_cluster
    from rackdesign.layout import build_layout
    from rackdesign.pipeline import flat_parts_for

    lc = load_cluster(None)
    prof = CAT[lc.spec.rack.fabricator]
    assert prof.id == "anymany-pdf"
    lay = build_layout(lc)
    parts = flat_parts_for(lc, lay, None)
    code, out, err = rack("export", "pdf", "-o", str(in_tmp / "out"))
    assert code == 0, err
    (cut_dir,) = (in_tmp / "out").glob("*/cut")
    pdfs = sorted(cut_dir.glob("*.pdf"))
    assert pdfs
    found = [e for pdf in pdfs for e in read_pdf(pdf.read_bytes())]
    cut = [e for e in found if e.style == prof.cut.colour]
    assert len(cut) == sum(1 + len(p.holes) for p in parts) and all(e.closed for e in cut)
    bend = [e for e in found if e.style == prof.bend.colour]
    assert len(bend) == 1 and not bend[0].closed
    assert bend[0].length == pytest.approx(lay.support.width, abs=0.01)
    assert {e.style for e in found} <= {prof.cut.colour, prof.bend.colour, prof.engrave.colour}
    for pdf in pdfs:  # no text in a cut file: the instruction is in the note
        page = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0]
        assert not dict(page["/Resources"].get("/Font", {})) and not page.extract_text().strip()
    note = (cut_dir / "order-note.txt").read_text()
    sp = lay.support
    for want in (*(p.name for p in pdfs), f"{sp.bend_at:.2f}".rstrip("0").rstrip(".") + " mm from the foot's end",
                 f"Bend {sp.bend_angle:g}°", f"Inside radius R {sp.inner_radius:g} mm", prof.bend.colour,
                 "do NOT cut or score", "曲げ"):
        assert want in note, want


def test_a_service_that_does_not_bend_gets_two_plates_joined_by_tabs_and_slots():
    """bends = false in the fabricator profile (the generic ones): no bend line anywhere; the
    support is a foot (the screw holes and two slots) and a wall (two tabs) whose tabs fit the
    slots with the thickest sheet in tolerance; every path closed; preflight passes."""
    from pirack.load import load_cluster
    from rackdesign.layout import build_layout
    from rackdesign.pipeline import flat_parts_for
    from rackdesign.preflight import preflight

    lc = load_cluster(None)
    lay = build_layout(lc)
    prof = CAT["generic-dxf"]
    assert prof.bends is False and CAT["anymany-pdf"].bends is True
    parts = {p.name: p for p in flat_parts_for(lc, lay, None, prof)}
    assert "switch-support" not in parts and not any(p.bend for p in parts.values())
    foot, wall = parts["switch-support-foot"], parts["switch-support-wall"]
    thickest = CAT[lc.spec.rack.sheet].thickness_range_mm()[1]
    slots = [h for h, n in zip(foot.holes, foot.notes["holes"]) if n["kind"] == "tab-slot"]
    assert len(slots) == 2
    # tabs: where the wall's outline reaches below its edge (x < t), one per slot, inside it
    t = lay.thickness
    tab_ys = sorted({round(s.start[1], 3) for s in wall.outline.segments if s.start[0] == 0.0})
    assert len(tab_ys) == 4
    for (lo, hi), slot in zip(zip(tab_ys[::2], tab_ys[1::2]), sorted(slots, key=lambda s: s.bbox()[1])):
        x0, y0, x1, y1 = slot.bbox()
        assert y0 < lo and hi < y1  # the tab's width fits along the slot
        assert x1 - x0 >= thickest  # the wall's thickness fits across it, thickest sheet included
        assert x1 < foot.size[0] - 1.0  # the slot stays inside the plate
    assert wall.size[0] == pytest.approx(lay.support.wall) and foot.size[0] == pytest.approx(lay.support.foot)
    assert all(p.outline.is_closed() for p in (foot, wall)) and all(h.is_closed() for h in foot.holes)
    assert preflight(list(parts.values()), prof) == []
    # the screw holes are the bent support's, still matching the base (rackdesign.checks.holes)
    assert [h.center for h in foot.holes if hasattr(h, "center")] == [(x, y) for x, y, _ in lay.support.holes]
