"""Cut files read back entity by entity (DXF with ezdxf, SVG with svgelements, PDF with pypdf's
content-stream parser) and compared with the 2D model they were written from: every hole,
outline, score line and engrave region is there once, closed or open as the model says, in
its purpose's layer and colour, with its position, radius and length within 0.01 mm."""

from __future__ import annotations

import io

import pytest

from cutfiles import compare, model_entity, read_dxf, read_pdf, read_svg
from pirack.catalog import load_catalog
from rackdesign.geometry2d import Arc, Circle, Contour, Line, Part2D, rounded_rect, slot

CAT = load_catalog()
PURPOSE_PATHS = (("bend", "bend"), ("engrave", "engrave"), ("score", "score"), ("cut", "holes"), ("cut", "outline"))


def sample_parts() -> list[Part2D]:
    """A plate with every kind of path: rounded outline, round holes, a slot (with the
    zero-length sides slot() leaves), a round hole drawn as one full-turn arc, engraved text;
    and a support with an open score line and an open bend line across it."""
    from rackdesign.engrave import place_polygons, text_polygons

    holes = [Circle((10.0, 10.0), 1.7), Circle((80.0, 10.0), 1.35), slot(45.0, 50.0, 30.0, 8.0),
             Contour((Arc((20.0, 60.0), 3.0, 0.0, 360.0),))]
    plate = Part2D("plate", rounded_rect(0, 0, 90, 75, 4), holes, thickness=3.0, material="acrylic-cast-3mm")
    plate.engrave = place_polygons(plate, text_polygons("tier 1 ago", 3.0))
    support = Part2D("support", rounded_rect(0, 0, 60, 40, 0), [Circle((30.0, 30.0), 1.7)],
                     score=[Contour((Line((0.0, 20.0), (60.0, 20.0)),))],
                     bend=[Contour((Line((0.0, 10.0), (60.0, 10.0)),))], thickness=3.0, material="acrylic-cast-3mm")
    return [plate, support]


def nested(parts, prof):
    from rackdesign.pipeline import sheets_for

    return sheets_for(parts, prof)


def default_sheets(prof):
    from pirack.load import load_cluster
    from rackdesign.pipeline import flat_parts_for
    from rackdesign.layout import build_layout

    lc = load_cluster(None)
    return nested(flat_parts_for(lc, build_layout(lc), None), prof)


def model(sheet, prof, fmt: str):
    """The sheet's paths as the entities each format must hold, styled as that format styles a purpose."""
    from rackdesign.writers import pens

    pen = pens(prof)
    out = []
    for purpose, which in PURPOSE_PATHS:
        p = pen[purpose]
        filled = purpose == "engrave" and p.fill
        style = {"dxf": p.layer, "svg": f"{p.layer}:{p.colour}", "pdf": p.colour}[fmt]
        for part in sheet.parts:
            paths = [part.outline] if which == "outline" else getattr(part, which)
            out += [model_entity(path, style, filled) for path in paths]
    return out


def read(fmt: str, sheet, prof):
    from rackdesign.writers.dxf import sheet_dxf
    from rackdesign.writers.pdf import sheet_pdf
    from rackdesign.writers.svg import sheet_svg

    if fmt == "dxf":
        found = read_dxf(sheet_dxf(sheet, prof))
        hatches = [e for e in found if e.raw.get("hatch") is not None]
        return [e for e in found if e not in hatches], hatches
    if fmt == "svg":
        return read_svg(sheet_svg(sheet, prof), sheet.width, sheet.height), []
    return read_pdf(sheet_pdf(sheet, prof)), []


@pytest.mark.parametrize("fmt", ["pdf", "svg", "dxf"])
@pytest.mark.parametrize("pid", ["anymany-pdf", "generic-svg", "generic-dxf"])
def test_every_entity_read_back_matches_the_model(fmt, pid):
    prof = CAT[pid]
    (sheet,) = nested(sample_parts(), prof)
    found, hatches = read(fmt, sheet, prof)
    assert compare(model(sheet, prof, fmt), found) == []
    if fmt == "dxf":  # one solid fill per engraved part, on the engrave layer
        assert len(hatches) == 1 and hatches[0].style == prof.engrave.layer


@pytest.mark.parametrize("fmt", ["pdf", "svg", "dxf"])
def test_default_design_read_back_matches_the_model(fmt):
    prof = CAT["anymany-pdf"]
    sheets = default_sheets(prof)
    assert sheets
    for sheet in sheets:
        found, _ = read(fmt, sheet, prof)
        assert compare(model(sheet, prof, fmt), found) == []


def test_the_switch_support_bend_line_is_complete_in_every_format():
    """The bend line of the switch support: open, its full 58.8 mm, in the bend colour/layer
    (not the score's, not the cut's)."""
    prof = CAT["anymany-pdf"]
    (sheet,) = default_sheets(prof)
    (bend,) = [b for p in sheet.parts for b in p.bend]
    assert not [s for p in sheet.parts for s in p.score]  # nothing is laser-scored
    want = bend.length()
    assert want > 50
    assert len({prof.bend.colour, prof.cut.colour, prof.score.colour, prof.engrave.colour}) == 4
    for fmt in ("pdf", "svg", "dxf"):
        found, _ = read(fmt, sheet, prof)
        bends = [e for e in found if e.style in (prof.bend.layer, prof.bend.colour,
                                                 f"{prof.bend.layer}:{prof.bend.colour}")]
        assert len(bends) == 1, fmt
        assert not bends[0].closed and abs(bends[0].length - want) < 0.01, (fmt, bends[0].length)


def test_anymany_cut_layer_only_closed_paths_and_no_font():
    """What the seed's service gets: every red path closed with closepath, the bend in its own
    colour, no text and no font listed in the PDF."""
    from pypdf import PdfReader

    from rackdesign.writers.pdf import sheet_pdf

    prof = CAT["anymany-pdf"]
    (sheet,) = default_sheets(prof)
    data = sheet_pdf(sheet, prof)
    found = read_pdf(data)
    cut = [e for e in found if e.style == prof.cut.colour]
    holes_and_outlines = sum(1 + len(p.holes) for p in sheet.parts)
    assert len(cut) == holes_and_outlines and all(e.closed for e in cut)
    bend = [e for e in found if e.style == prof.bend.colour]
    assert len(bend) == 1 and prof.bend.colour != prof.cut.colour and not bend[0].closed
    assert {e.style for e in found} == {prof.cut.colour, prof.bend.colour, prof.engrave.colour}
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert not dict(page["/Resources"].get("/Font", {}))


def test_holes_come_before_the_outline_in_the_cut_layer():
    """A part must not drop out of the sheet before its holes are cut: holes first, outlines last."""
    from rackdesign.writers.dxf import sheet_dxf

    prof = CAT["generic-dxf"]
    (sheet,) = nested(sample_parts(), prof)
    found = read_dxf(sheet_dxf(sheet, prof))
    cut = [e for e in found if e.style == prof.cut.layer]
    outline_lengths = sorted(round(p.outline.length(), 3) for p in sheet.parts)
    assert sorted(round(e.length, 3) for e in cut[-2:]) == outline_lengths
