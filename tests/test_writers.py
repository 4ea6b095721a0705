"""Cut-file writers, nesting, kerf, engraving, preflight and floor plans, on plates built here.

Every file is read back with an independent reader (ezdxf, XML, pypdf, PNG pixels) and measured.
"""

import io
import math
import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from cutfiles import dxf_entity_keys, pattern_spans
from helpers import once
from pirack.catalog import load_catalog
from pirack.errors import InputError
from rackdesign.geometry2d import Arc, Circle, Contour, Line, Part2D, rounded_rect, slot

CAT = load_catalog()
PI_HOLES = [(3.5, 3.5), (61.5, 3.5), (3.5, 52.5), (61.5, 52.5)]


def pi_plate(name="tier-1", w=110.0, h=130.0, dx=20.0, dy=30.0, d=2.7, node=None):
    holes = [Circle((dx + x, dy + y), d / 2) for x, y in PI_HOLES]
    holes += [Circle((5.5, 5.5), 1.7), Circle((w - 5.5, 5.5), 1.7), Circle((5.5, h - 5.5), 1.7), Circle((w - 5.5, h - 5.5), 1.7)]
    holes.append(slot(w / 2, h - 20, 30, 8))
    return Part2D(name, rounded_rect(0, 0, w, h, 4), holes, thickness=3.0, material="acrylic-cast-3mm",
                  notes={"node": node} if node else {})


def profile(pid="anymany-pdf", **update):
    p = CAT[pid]
    return p.model_copy(update=update) if update else p


def one_sheet(parts, prof):
    from pirack.units import mm
    from rackdesign.nesting import nest

    return nest(parts, mm(prof.sheet_width), mm(prof.sheet_height), mm(prof.spacing))


# --- nesting -------------------------------------------------------------------------------------

def test_nesting_no_overlap_spacing_and_more_sheets():
    from rackdesign.nesting import nest

    parts = [pi_plate(f"p{i}", 110 + i, 130) for i in range(9)]
    sheets = nest(parts, 300, 280, 3.0)
    assert len(sheets) > 1  # 9 plates cannot share a 300 x 280 sheet
    assert sorted(p.name for s in sheets for p in s.parts) == sorted(p.name for p in parts)
    for s in sheets:
        boxes = [p.bbox() for p in s.parts]
        for x0, y0, x1, y1 in boxes:
            assert x0 >= 3 - 1e-6 and y0 >= 3 - 1e-6 and x1 <= 300 - 3 + 1e-6 and y1 <= 280 - 3 + 1e-6
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                gap = max(b[0] - a[2], a[0] - b[2], b[1] - a[3], a[1] - b[3])
                assert gap >= 3 - 1e-6, (a, b)


def test_nesting_rotates_and_keeps_sizes():
    from rackdesign.nesting import nest

    long = Part2D("long", rounded_rect(0, 0, 50, 380, 3), thickness=3.0, material="m")
    (sheet,) = nest([long], 400, 100, 3.0)  # only fits turned by 90°
    assert sheet.rotated["long"]
    w, h = sheet.parts[0].size
    assert abs(w - 380) < 1e-6 and abs(h - 50) < 1e-6


def test_nesting_refuses_a_part_bigger_than_the_sheet():
    from rackdesign.nesting import nest

    with pytest.raises(ValueError, match="does not fit"):
        nest([pi_plate("huge", 700, 500)], 600, 400, 3.0)


def test_kerf_keeps_arcs_and_sizes():
    from rackdesign.nesting import compensate_kerf

    k = compensate_kerf(pi_plate(), 0.2)
    x0, y0, x1, y1 = k.outline.bbox()
    assert abs((x1 - x0) - 110.2) < 1e-6 and abs((y1 - y0) - 130.2) < 1e-6
    arcs = [s for s in k.outline.segments if isinstance(s, Arc)]
    assert len(arcs) == 4 and all(abs(a.radius - 4.1) < 1e-9 for a in arcs)
    assert abs(k.holes[0].radius - (1.35 - 0.1)) < 1e-9
    sl = k.holes[-1]
    sx0, sy0, sx1, sy1 = sl.bbox()
    assert abs((sy1 - sy0) - 7.8) < 1e-6 and abs((sx1 - sx0) - 29.8) < 1e-6
    assert k.outline.is_closed() and sl.is_closed()


# --- DXF ---------------------------------------------------------------------------------------

def read_dxf(data: bytes):
    import ezdxf

    return ezdxf.read(io.StringIO(data.decode()))


@pytest.fixture
def pi_sheet_dxf():
    """Two Pi plates (one engraved) nested on one generic-dxf sheet, written and read back with
    ezdxf, once (in the first test that asks: CAD-free): its document."""
    return once("test_writers.pi_sheet_dxf", _pi_sheet_dxf)


def _pi_sheet_dxf():
    from rackdesign.engrave import place_polygons, text_polygons
    from rackdesign.writers.dxf import sheet_dxf

    prof = profile("generic-dxf")
    plate = pi_plate()
    plate.engrave = place_polygons(plate, text_polygons("tier-1 ago", 3.0))
    (sheet,) = one_sheet([plate, pi_plate("top")], prof)
    return read_dxf(sheet_dxf(sheet, prof))


def test_dxf_units_layers_no_text(pi_sheet_dxf):
    assert pi_sheet_dxf.header["$INSUNITS"] == 4
    assert {"CUT", "ENGRAVE", "SCORE"} <= {layer.dxf.name for layer in pi_sheet_dxf.layers}
    assert not list(pi_sheet_dxf.modelspace().query("TEXT MTEXT"))  # text only as outlines
    assert list(pi_sheet_dxf.modelspace().query('HATCH[layer=="ENGRAVE"]'))


def test_dxf_hole_pattern(pi_sheet_dxf):
    circles = [c for c in pi_sheet_dxf.modelspace().query("CIRCLE") if abs(c.dxf.radius - 1.35) < 1e-9]
    assert len(circles) == 8
    assert all(c.dxf.layer == "CUT" for c in circles)
    # the Pi's hole pattern survives nesting (maybe turned by 90°): 58 x 49 mm
    for plate_circles in (circles[:4], circles[4:]):
        short, long = pattern_spans([(c.dxf.center.x, c.dxf.center.y) for c in plate_circles])
        assert abs(short - 49.0) < 0.01
        assert abs(long - 58.0) < 0.01


def test_dxf_arcs_closed_paths_nothing_twice(pi_sheet_dxf):
    msp = pi_sheet_dxf.modelspace()
    polys = list(msp.query("LWPOLYLINE"))
    assert polys
    assert all(p.closed for p in polys)
    bulges = [pt[0] for p in polys if p.dxf.layer == "CUT" for pt in p.get_points("b")]
    assert sum(1 for b in bulges if abs(b - math.tan(math.radians(90) / 4)) < 1e-9) >= 8  # rounded corners as arcs
    keys = dxf_entity_keys(msp)
    assert len(keys) == len(set(keys)), "duplicate entities"


def test_dxf_kerf_ours_shrinks_holes_grows_outline():
    from rackdesign.pipeline import sheets_for
    from rackdesign.writers.dxf import sheet_dxf

    prof = profile("generic-dxf", kerf_compensation="ours")
    (sheet,) = sheets_for([pi_plate()], prof)
    msp = read_dxf(sheet_dxf(sheet, prof)).modelspace()
    radii = sorted({round(c.dxf.radius, 4) for c in msp.query("CIRCLE")})
    assert radii == [round(1.35 - 0.075, 4), round(1.7 - 0.075, 4)]
    outline = max(msp.query("LWPOLYLINE"), key=lambda p: len(p))
    xs = [pt[0] for pt in outline.get_points("xy")]
    assert abs((max(xs) - min(xs)) - 110.15) < 1e-6  # the outline grew by kerf/2 each side


# --- SVG ---------------------------------------------------------------------------------------

SVGNS = "{http://www.w3.org/2000/svg}"


def test_svg_mm_viewbox_colours_no_text():
    from rackdesign.engrave import place_polygons, text_polygons
    from rackdesign.writers.svg import sheet_svg

    prof = profile("generic-svg")
    plate = pi_plate()
    plate.engrave = place_polygons(plate, text_polygons("logo", 3.0))
    (sheet,) = one_sheet([plate], prof)
    root = ET.fromstring(sheet_svg(sheet, prof))
    assert root.get("width") == "790mm" and root.get("height") == "384mm"
    vb = [float(v) for v in re.split(r"[ ,]+", root.get("viewBox"))]
    assert vb == [0, 0, 790, 384]
    assert not list(root.iter(SVGNS + "text"))
    cut = root.find(f"{SVGNS}g[@id='CUT']")
    strokes = {el.get("stroke") for el in cut}
    assert strokes == {"#0000ff"}  # the profile's cut colour, nothing else in the cut layer
    assert len(cut.findall(SVGNS + "circle")) == 8
    assert any(" A" in el.get("d", "") for el in cut.findall(SVGNS + "path"))  # arcs kept as arcs
    eng = root.find(f"{SVGNS}g[@id='ENGRAVE']")
    (fill,) = list(eng)
    assert fill.get("fill") == "#000000" and fill.get("fill-rule") == "evenodd"
    # each contour closed
    for el in root.iter(SVGNS + "path"):
        for sub in re.split(r"(?=M)", el.get("d")):
            if sub.strip():
                assert sub.strip().endswith("Z")


# --- PDF and PNG -------------------------------------------------------------------------------

def test_pdf_page_is_the_sheet_and_cut_is_red():
    from pypdf import PdfReader

    from rackdesign.writers.pdf import sheet_pdf

    prof = profile("anymany-pdf")
    (sheet,) = one_sheet([pi_plate()], prof)
    reader = PdfReader(io.BytesIO(sheet_pdf(sheet, prof)))
    (page,) = reader.pages
    w = float(page.mediabox.width) / 72 * 25.4
    h = float(page.mediabox.height) / 72 * 25.4
    assert abs(w - 600) < 0.1 and abs(h - 400) < 0.1
    content = page.get_contents().get_data().decode("latin-1")
    assert re.search(r"\b1 0 0 RG\b", content)  # red stroke
    assert " c\n" in content or " c " in content  # arcs as curves, not flattened into many lines
    assert not re.search(r"\bT[jJ]\b", content)  # no text shown (reportlab's empty BT/ET preamble aside)


def test_pdf_pixels_measure_the_plate():
    from PIL import Image

    from rackdesign.writers.pdf import pdf_to_png, sheet_pdf

    prof = profile("anymany-pdf")
    (sheet,) = one_sheet([pi_plate(w=150.0, h=100.0)], prof)
    img = Image.open(io.BytesIO(pdf_to_png(sheet_pdf(sheet, prof), 72))).convert("RGB")
    assert abs(img.width - 600 / 25.4 * 72) <= 1
    px = img.load()
    red = [(x, y) for x in range(img.width) for y in range(img.height)
           if px[x, y][0] > 200 and px[x, y][0] - px[x, y][1] > 40 and px[x, y][0] - px[x, y][2] > 40]  # anti-aliased hairline
    xs, ys = [p[0] for p in red], [p[1] for p in red]
    extent = sorted([max(xs) - min(xs), max(ys) - min(ys)])  # the plate may lie turned on the sheet
    assert abs(extent[1] - 150 / 25.4 * 72) <= 2
    assert abs(extent[0] - 100 / 25.4 * 72) <= 2


# --- engraving ---------------------------------------------------------------------------------

def fake_lc(tmp_path, labels=True, logo=None, width="30 mm"):
    from pirack.units import parse_length

    eng = SimpleNamespace(labels=labels, logo=logo, logo_width=parse_length(width))
    return SimpleNamespace(spec=SimpleNamespace(rack=SimpleNamespace(engraving=eng)), base_dir=tmp_path,
                           display=str(tmp_path / "cluster.toml"))


LOGO = """<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">
<circle cx="50" cy="50" r="40" fill="black"/><rect x="30" y="30" width="40" height="40" fill="#fff"/></svg>"""


def test_engraving_clear_of_cuts(tmp_path):
    from shapely.geometry import Point, Polygon

    from rackdesign.engrave import MARGIN, add_engraving

    (tmp_path / "logo.svg").write_text(LOGO)
    parts = add_engraving([pi_plate("tier-1-master", node="master"), pi_plate("top")],
                          fake_lc(tmp_path, logo="logo.svg", width="40 mm"))
    assert all(p.engrave for p in parts)
    logo_plate = max(parts, key=lambda p: len(p.engrave))
    for p in parts:
        outline = Polygon([s.start for s in p.outline.segments]).buffer(-(MARGIN - 0.01))
        holes = [Point(h.center).buffer(h.radius + MARGIN - 0.01) for h in p.holes if isinstance(h, Circle)]
        for e in p.engrave:
            poly = Polygon([s.start for s in e.segments])
            assert outline.contains(poly)
            assert not any(h.intersects(poly) for h in holes)
    # the logo's ring: 40 mm wide, with the white square cut out (an inner ring)
    xs = [s.start[0] for e in logo_plate.engrave for s in e.segments]
    assert max(xs) - min(xs) >= 40 - 0.5


def test_logo_too_big_names_the_key(tmp_path):
    from rackdesign.engrave import add_engraving

    (tmp_path / "logo.svg").write_text(LOGO)
    with pytest.raises(InputError) as exc:
        add_engraving([pi_plate()], fake_lc(tmp_path, logo="logo.svg", width="300 mm"))
    assert exc.value.key == "rack.engraving.logo" and "does not fit" in exc.value.message
    with pytest.raises(InputError) as exc:
        add_engraving([pi_plate()], fake_lc(tmp_path, logo="missing.svg"))
    assert exc.value.key == "rack.engraving.logo"


# --- preflight ---------------------------------------------------------------------------------

def bad_parts():
    """One plate per finding kind: (part, words the finding must contain)."""
    sq = rounded_rect(0, 0, 100, 100, 0)
    return [
        (Part2D("huge", rounded_rect(0, 0, 700, 100, 4), thickness=3.0), ["outline", "larger than the 600 x 400 mm sheet"]),
        (Part2D("tiny-hole", sq, [Circle((50, 50), 1.0)], thickness=3.0), ["hole 1", "minimum hole"]),
        (Part2D("thin-web", sq, [Circle((50, 50), 2), Circle((55.5, 50), 2)], thickness=3.0), ["hole 1", "hole 2", "minimum web"]),
        (Part2D("edge-web", sq, [Circle((2.5, 50), 1.6)], thickness=3.0), ["to the edge", "minimum web"]),
        (Part2D("open", Contour(sq.segments[:3]), thickness=3.0), ["outline", "open contour"]),
        (Part2D("dup", sq, [Circle((50, 50), 2), Circle((50, 50), 2)], thickness=3.0), ["hole 2", "duplicate"]),
        (Part2D("overlap", sq, [rounded_rect(10, 10, 20, 20, 0),
                                Contour((Line((10, 10), (20, 10)), Line((20, 10), (20, 14)), Line((20, 14), (10, 14)), Line((10, 14), (10, 10))))],
                thickness=3.0), ["overlapping line"]),
    ]


@pytest.mark.parametrize("case", range(7))
def test_preflight_each_kind(case):
    from rackdesign.preflight import preflight

    part, words = bad_parts()[case]
    findings = preflight([part], profile("anymany-pdf"))
    assert findings and all(f.plate == part.name for f in findings)
    text = "\n".join(map(str, findings))
    for w in words:
        assert w in text, text


def test_preflight_passes_a_good_plate():
    from rackdesign.preflight import preflight

    assert preflight([pi_plate(d=3.0)], profile("anymany-pdf")) == []


# --- drawings ----------------------------------------------------------------------------------

def test_floor_plan_dimensions_and_render():
    from PIL import Image
    from pypdf import PdfReader

    from rackdesign.drawing import DDim
    from rackdesign.floorplan import floor_plan
    from rackdesign.writers.pdf import drawing_pdf, pdf_to_png
    from rackdesign.writers.plot import dim_geometry
    from rackdesign.writers.svg import drawing_svg

    d = floor_plan(pi_plate("tier-1"))
    dims = [it for it in d.items if isinstance(it, DDim)]
    values = sorted(round(dim_geometry(x)[4], 2) for x in dims)
    assert 110.0 in values and 130.0 in values  # overall size
    assert {23.5, 81.5} <= set(values) and {33.5, 82.5} <= set(values)  # Pi holes from the lower-left datum
    pdf = drawing_pdf(d, "seed", "2024-08-31")
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    size = sorted((round(float(page.mediabox.width) / 72 * 25.4), round(float(page.mediabox.height) / 72 * 25.4)))
    assert size in ([210, 297], [297, 420])
    text = page.extract_text()
    assert "seed" in text and "1:1" in text and "110" in text
    img = Image.open(io.BytesIO(pdf_to_png(pdf, 50))).convert("L")
    dark = sum(1 for v in img.tobytes() if v < 128)
    assert dark > 1000  # lines were drawn
    root = ET.fromstring(drawing_svg(d, "seed", "2024-08-31"))
    assert root.get("width").endswith("mm")
    assert any(t.text and "110" in t.text for t in root.iter(SVGNS + "text"))


@pytest.mark.parametrize("ipa", [True, False])
def test_drawing_pdf_japanese_text_with_and_without_the_ipa_font(monkeypatch, ipa):
    """Japanese text in a drawing: IPAGothic embedded when installed, else reportlab's built-in
    CID font (the same fallback as the BOM's PDF), never a failure."""
    from pypdf import PdfReader

    import rackdesign.writers.fonts as wfonts
    import rackdesign.writers.pdf as wpdf
    from rackdesign.drawing import Drawing

    if not ipa:
        monkeypatch.setattr(wfonts, "IPA_GOTHIC", wpdf.Path("/nonexistent/ipag.ttf"))
    elif not wfonts.IPA_GOTHIC.exists():
        pytest.skip("fonts-ipafont-gothic is not installed")
    d = Drawing(title="正面図")
    d.line((0, 0), (100, 50))
    d.text((10, 10), "正面図 テスト", 3.0)
    page = PdfReader(io.BytesIO(wpdf.drawing_pdf(d, "seed", "2024-08-31"))).pages[0]
    fonts = {str(f["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    want = "IPAGothic" if ipa else wfonts.CID_FONT
    assert any(want in f for f in fonts), fonts
    if ipa:
        assert "正面図" in page.extract_text()
