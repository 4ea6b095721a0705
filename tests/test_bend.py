"""The bent ("く") switch support as a fabrication feature: the flat pattern from the sheet's
bend data (bend allowance), the bend as its own colour in the cut file (never cut), and the
order note beside the cut files. The cut PDF is re-read with pypdf (tests/cutfiles.read_pdf),
not with reportlab that wrote it."""

from __future__ import annotations

import io
import math
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from cutfiles import read_pdf
from helpers import once, run_main_in
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


@pytest.fixture(scope="module")
def seed_pdf(tmp_path_factory):
    """`rack export pdf` of the default with the seed's service (anymany-pdf, the default), run
    once: the profile, the layout, the flat parts, the cut folder and its PDFs."""
    from pirack.load import load_cluster
    from rackdesign.cli import main
    from rackdesign.layout import build_layout
    from rackdesign.pipeline import flat_parts_for

    lc = load_cluster(None)
    lay = build_layout(lc)
    out = tmp_path_factory.mktemp("bend-pdf") / "out"
    code, _, err = run_main_in(out.parent, main, ["rack", "export", "pdf", "-o", str(out)])
    assert code == 0, err
    (cut_dir,) = out.glob("*/cut")
    return SimpleNamespace(prof=CAT[lc.spec.rack.fabricator], lay=lay, parts=flat_parts_for(lc, lay, None),
                           cut_dir=cut_dir, pdfs=sorted(cut_dir.glob("*.pdf")))


@pytest.mark.cad  # the export writes the front plan (CadQuery)
def test_seed_service_pdf_closed_cut_layer_bend_in_its_own_colour_order_note_beside(seed_pdf):
    """Done-when of issue 14: the seed's service's profile (anymany-pdf, the default) gives a
    cut PDF whose cut colour holds only closed paths (every outline and hole), the bend line in
    its own colour (open, full length, not cut), no text (test below); and the order note beside
    it says where and how to bend (test below)."""
    prof = seed_pdf.prof
    assert prof.id == "anymany-pdf"
    assert seed_pdf.pdfs
    found = [e for pdf in seed_pdf.pdfs for e in read_pdf(pdf.read_bytes())]
    cut = [e for e in found if e.style == prof.cut.colour]
    assert len(cut) == sum(1 + len(p.holes) for p in seed_pdf.parts) and all(e.closed for e in cut)
    bend = [e for e in found if e.style == prof.bend.colour]
    assert len(bend) == 1 and not bend[0].closed
    assert bend[0].length == pytest.approx(seed_pdf.lay.support.width, abs=0.01)
    assert {e.style for e in found} <= {prof.cut.colour, prof.bend.colour, prof.engrave.colour}


@pytest.mark.cad  # the export writes the front plan (CadQuery)
def test_seed_service_cut_pdfs_hold_no_text(seed_pdf):
    """No text in a cut file: the instruction is in the note."""
    for pdf in seed_pdf.pdfs:
        page = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0]
        assert not dict(page["/Resources"].get("/Font", {})) and not page.extract_text().strip()


@pytest.mark.cad  # the export writes the front plan (CadQuery)
def test_seed_service_order_note_says_where_and_how_to_bend(seed_pdf):
    note = (seed_pdf.cut_dir / "order-note.txt").read_text()
    sp, prof = seed_pdf.lay.support, seed_pdf.prof
    for want in (*(p.name for p in seed_pdf.pdfs), f"{sp.bend_at:.2f}".rstrip("0").rstrip(".") + " mm from the foot's end",
                 f"Bend {sp.bend_angle:g}°", f"Inside radius R {sp.inner_radius:g} mm", prof.bend.colour,
                 "do NOT cut or score", "曲げ"):
        assert want in note, want


@pytest.fixture
def unbent():
    """The default for a service that does not bend (generic-dxf), made once (in the first test
    that asks: CAD-free): the layout, the flat parts by name, the profile."""
    return once("test_bend.unbent", _unbent)


def _unbent():
    from pirack.load import load_cluster
    from rackdesign.layout import build_layout
    from rackdesign.pipeline import flat_parts_for

    lc = load_cluster(None)
    prof = CAT["generic-dxf"]
    lay = build_layout(lc, prof.id)  # the layout for this service: its support is the two plates
    return SimpleNamespace(lc=lc, lay=lay, prof=prof, parts={p.name: p for p in flat_parts_for(lc, lay, None, prof)})


def test_parts_are_cut_for_the_service_the_layout_was_made_for():
    """flat_parts_for cuts what the layout laid out: a layout made for a service that bends, cut
    for one that does not (or the other way round, or for no service), is refused at once, not
    cut as the other form (whose foot, screws and slots differ)."""
    from pirack.load import load_cluster
    from rackdesign.layout import build_layout
    from rackdesign.pipeline import flat_parts_for

    lc = load_cluster(None)
    bent, plates = build_layout(lc), build_layout(lc, "generic-dxf")
    assert bent.support.bent and not plates.support.bent and plates.support.web > 0
    with pytest.raises(ValueError, match="made for a service that bends"):
        flat_parts_for(lc, bent, None, CAT["generic-dxf"])
    for prof in (CAT[lc.spec.rack.fabricator], None):
        with pytest.raises(ValueError, match="made for a service that does not bend"):
            flat_parts_for(lc, plates, None, prof)
    assert "switch-support" in {p.name for p in flat_parts_for(lc, bent, None, CAT[lc.spec.rack.fabricator])}


def test_a_service_that_does_not_bend_gets_two_plates_joined_by_tabs_and_slots(unbent):
    """bends = false in the fabricator profile (the generic ones): no bend line anywhere; the
    support is a foot (the screw holes and two slots) and a wall (two tabs) whose tabs fit the
    slots with the thickest sheet in tolerance (test below); every path closed; preflight passes."""
    from rackdesign.preflight import preflight

    parts = unbent.parts
    assert unbent.prof.bends is False and CAT["anymany-pdf"].bends is True
    assert "switch-support" not in parts and not any(p.bend for p in parts.values())
    foot, wall = parts["switch-support-foot"], parts["switch-support-wall"]
    assert wall.size[0] == pytest.approx(unbent.lay.support.wall) and foot.size[0] == pytest.approx(unbent.lay.support.foot)
    assert all(p.outline.is_closed() for p in (foot, wall)) and all(h.is_closed() for h in foot.holes)
    assert preflight(list(parts.values()), unbent.prof) == []
    # the screw holes are the bent support's, still matching the base (rackdesign.checks.holes)
    assert [h.center for h in foot.holes if hasattr(h, "center")] == [(x, y) for x, y, _ in unbent.lay.support.holes]


def test_the_walls_tabs_fit_the_foots_slots_with_the_thickest_sheet(unbent):
    foot, wall = unbent.parts["switch-support-foot"], unbent.parts["switch-support-wall"]
    thickest = CAT[unbent.lc.spec.rack.sheet].thickness_range_mm()[1]
    slots = [h for h, n in zip(foot.holes, foot.notes["holes"]) if n["kind"] == "tab-slot"]
    assert len(slots) == 2
    # tabs: where the wall's outline reaches below its edge (x < t), one per slot, inside it
    tab_ys = sorted({round(s.start[1], 3) for s in wall.outline.segments if s.start[0] == 0.0})
    assert len(tab_ys) == 4
    for (lo, hi), slot in zip(zip(tab_ys[::2], tab_ys[1::2]), sorted(slots, key=lambda s: s.bbox()[1])):
        x0, y0, x1, y1 = slot.bbox()
        assert y0 < lo and hi < y1  # the tab's width fits along the slot
        assert x1 - x0 >= thickest  # the wall's thickness fits across it, thickest sheet included
        assert x1 < foot.size[0] - 1.0  # the slot stays inside the plate
