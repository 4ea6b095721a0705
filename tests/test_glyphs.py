"""Every character of every PDF we write is in an embedded font that has its glyph: cut sheets
and the coupon (no text, no font at all), floor plans, the front plan, the BOM in both
languages. Read back with pypdf (what is shown, in which font) and fontTools (the embedded
font's character map)."""

from __future__ import annotations

import io

import pytest

from pdffonts import shown
from rackdesign.writers import fonts

pytestmark = pytest.mark.skipif(
    not all(f.exists() for f in (fonts.LIBERATION_SANS, fonts.DEJAVU_SANS, fonts.IPA_GOTHIC)),
    reason="fonts-liberation, fonts-dejavu-core and fonts-ipafont-gothic are not installed (tools/install.sh)")


def uncovered(data: bytes) -> list[str]:
    return [f"{s.char!r} (code {s.code}) in {s.font}: {s.why}" for s in shown(data) if not s.covered]


def font_names(data: bytes) -> set[str]:
    from pypdf import PdfReader

    return {str(f.get_object()["/BaseFont"]) for p in PdfReader(io.BytesIO(data)).pages
            for f in p["/Resources"].get("/Font", {}).values()}


@pytest.fixture(scope="module")
def default():
    from pirack.load import load_cluster
    from rackdesign.pipeline import flat_parts_for
    from rackdesign.layout import build_layout

    lc = load_cluster(None)
    lay = build_layout(lc)
    return lc, lay, flat_parts_for(lc, lay, None)


def test_cut_sheets_and_coupon_have_no_text_and_no_font(default):
    from rackdesign.coupon import coupon_files, coupon_for
    from rackdesign.pipeline import sheets_for
    from rackdesign.writers.pdf import sheet_pdf

    lc, _, parts = default
    prof = lc.catalog["anymany-pdf"]
    pdfs = [sheet_pdf(s, prof) for s in sheets_for(parts, prof)]
    pdfs += [v for k, v in coupon_files(coupon_for(lc, parts, prof, 0.0), prof).items() if k.endswith(".pdf")]
    for data in pdfs:
        assert shown(data) == [] and font_names(data) == set()


def test_floor_plans_every_glyph_covered(default):
    from rackdesign.floorplan import floor_plan
    from rackdesign.writers.pdf import drawing_pdf

    lc, _, parts = default
    for p in parts:
        data = drawing_pdf(floor_plan(p, lc.spec.cluster.name), lc.spec.cluster.name, "2024-08-31")
        assert shown(data), p.name  # the plan has text
        assert uncovered(data) == [], p.name


@pytest.mark.cad
def test_front_plan_every_glyph_covered(default_rack):
    from rackdesign.frontplan import front_plan
    from rackdesign.writers.pdf import drawing_pdf

    lc, lay, assy = default_rack
    data = drawing_pdf(front_plan(lay, assy), lc.spec.cluster.name, "2024-08-31")
    assert shown(data) and uncovered(data) == []


def test_text_the_fonts_split_between_them():
    """Latin and ≥ (Liberation Sans), ⌀ (only DejaVu has it) and Japanese (only IPAGothic), in one string."""
    from rackdesign.drawing import Drawing
    from rackdesign.writers.pdf import drawing_pdf

    text = "穴 Ø3.4 ≥ 2.5 mm ≤ ⌀ ± × ² — 正面図 ½"
    d = Drawing(title="glyphs")
    d.line((0, 0), (100, 50))
    d.text((10, 10), text, 3.0)
    data = drawing_pdf(d, "seed", "2024-08-31")
    assert uncovered(data) == []
    shown_text = "".join(s.char for s in shown(data))
    assert text.replace(" ", "") in shown_text.replace(" ", "")
    names = font_names(data)
    assert {n.split("+")[-1] for n in names} == {"LiberationSans", "DejaVuSans", "IPAGothic"}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_bom_pdf_every_glyph_covered(default, lang, tmp_path):
    from overlay import overlay_text
    from pirack.load import load_cluster
    from rackdesign.bom import build_bom
    from rackdesign.bom_render import render_pdf
    from rackdesign.layout import build_layout

    lc, lay, _ = default
    f = tmp_path / "c.toml"
    f.write_text(overlay_text({}, delete=["purchases.acrylic_quote"]))  # the estimate's range: an en dash
    lc2 = load_cluster(f)
    for b in (build_bom(lc, lay), build_bom(lc2, build_layout(lc2))):
        data = render_pdf(b, lang)
        text = "".join(s.char for s in shown(data))
        assert uncovered(data) == []
        assert ("≥" in text or "–" in text)  # the glyphs that were boxes before
        assert ("総額" in text) == (lang == "ja") and ("Total" in text) == (lang == "en")
