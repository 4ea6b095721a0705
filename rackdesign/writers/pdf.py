"""PDF: cut sheets (page = sheet, 1:1 mm) and drawings for people (A4/A3), with reportlab;
PNG previews rendered from the PDF by poppler's pdftoppm.

Arcs go through reportlab's own arc primitive (pdfgeom.bezierArc, the curves its
PDFPathObject.arc draws), chained onto the current point so no zero-length lines appear.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

from ..geometry2d import Arc, Circle, Contour, Line
from . import pens, rgb

# Japanese glyphs: IPAGothic embedded (shows in every viewer); reportlab's built-in CID font
# (not embedded: the viewer supplies it) when the IPA font is not installed
IPA_GOTHIC = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")
CID_FONT = "HeiseiKakuGo-W5"


def _canvas(buf, w_mm: float, h_mm: float, title: str):
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    # invariant: no timestamps or random ids, so the same input gives the same bytes
    c = canvas.Canvas(buf, pagesize=(w_mm * mm, h_mm * mm), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setCreator("pirack")
    return c


def _colour(c, hexcol: str, stroke: bool = True) -> None:
    r, g, b = rgb(hexcol)
    (c.setStrokeColorRGB if stroke else c.setFillColorRGB)(r / 255, g / 255, b / 255)


def _add_contour(p, contour: Contour, k: float) -> None:
    from reportlab.pdfgen.pdfgeom import bezierArc

    segs = contour.segments
    p.moveTo(segs[0].start[0] * k, segs[0].start[1] * k)
    for s in segs:
        if isinstance(s, Line):
            if s.length() < 1e-9:  # degenerate side of a slot: nothing to cut
                continue
            p.lineTo(s.end[0] * k, s.end[1] * k)
        else:
            (cx, cy), r = s.center, s.radius
            for curve in bezierArc((cx - r) * k, (cy - r) * k, (cx + r) * k, (cy + r) * k, s.start_angle, s.sweep):
                p.curveTo(*curve[2:])
    if contour.is_closed():
        p.close()


def _add_path(p, path, k: float) -> None:
    if isinstance(path, Circle):
        p.circle(path.center[0] * k, path.center[1] * k, path.radius * k)
    else:
        _add_contour(p, path, k)


def sheet_pdf(sheet, profile) -> bytes:
    """One cut sheet as a one-page PDF, page size = sheet size, 1:1 millimetres."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import FILL_EVEN_ODD

    buf = io.BytesIO()
    c = _canvas(buf, sheet.width, sheet.height, sheet.name)
    pen = pens(profile)
    for part in sheet.parts:  # engraving first, cuts last: a part must not drop out before it is engraved
        if part.engrave:
            e = pen["engrave"]
            p = c.beginPath()
            for path in part.engrave:
                _add_path(p, path, mm)
            if e.fill:
                _colour(c, e.colour, stroke=False)
                c.drawPath(p, stroke=0, fill=1, fillMode=FILL_EVEN_ODD)
            else:
                _colour(c, e.colour)
                c.setLineWidth(max(e.width, 0.01) * mm)
                c.drawPath(p, stroke=1, fill=0)
    for purpose in ("score", "cut"):
        pp = pen[purpose]
        paths = [path for part in sheet.parts for pu, path in part.paths() if pu == purpose]
        if not paths:
            continue
        _colour(c, pp.colour)
        c.setLineWidth(max(pp.width, 0.01) * mm)
        p = c.beginPath()
        for path in paths:
            _add_path(p, path, mm)
        c.drawPath(p, stroke=1, fill=0)
    c.showPage()
    c.save()
    return buf.getvalue()


# --- drawings for people -----------------------------------------------------------------------

class PdfPlot:
    """Paper back end for writers.plot (paper mm, y up, as PDF itself)."""

    def __init__(self, paper_w: float, paper_h: float):
        from reportlab.lib.units import mm

        self.k = mm
        self.buf = io.BytesIO()
        self.c = _canvas(self.buf, paper_w, paper_h, "drawing")
        self.font = "Helvetica"

    def _style(self, st) -> None:
        _colour(self.c, st.colour)
        self.c.setLineWidth(st.width * self.k)
        self.c.setDash([d * self.k for d in st.dash], 0) if st.dash else self.c.setDash([], 0)

    def line(self, a, b, st) -> None:
        self._style(st)
        self.c.line(a[0] * self.k, a[1] * self.k, b[0] * self.k, b[1] * self.k)

    def arc(self, arc: Arc, st) -> None:
        self._style(st)
        p = self.c.beginPath()
        _add_contour(p, Contour((arc,)), self.k)
        self.c.drawPath(p, stroke=1, fill=0)

    def circle(self, c: Circle, st) -> None:
        self._style(st)
        self.c.circle(c.center[0] * self.k, c.center[1] * self.k, c.radius * self.k, stroke=1, fill=0)

    def polygon(self, pts, colour: str) -> None:
        _colour(self.c, colour, stroke=False)
        p = self.c.beginPath()
        p.moveTo(pts[0][0] * self.k, pts[0][1] * self.k)
        for x, y in pts[1:]:
            p.lineTo(x * self.k, y * self.k)
        p.close()
        self.c.drawPath(p, stroke=0, fill=1)

    def text(self, pos, s: str, size: float, anchor: str = "start", angle: float = 0.0) -> None:
        font = self.font
        if not s.isascii():
            font = japanese_font()
        c = self.c
        c.saveState()
        _colour(c, "#000000", stroke=False)
        c.setFont(font, size / 0.7 * self.k)  # size is the cap height in mm
        c.translate(pos[0] * self.k, pos[1] * self.k)
        if angle:
            c.rotate(angle)
        {"start": c.drawString, "middle": c.drawCentredString, "end": c.drawRightString}[anchor](0, 0, s)
        c.restoreState()

    def finish(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def japanese_font() -> str:
    """The name of a registered reportlab font with Japanese glyphs (registered on first use)."""
    from reportlab.pdfbase import pdfmetrics

    if IPA_GOTHIC.exists():
        from reportlab.pdfbase.ttfonts import TTFont

        if "IPAGothic" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("IPAGothic", str(IPA_GOTHIC)))
        return "IPAGothic"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def drawing_pdf(drawing, cluster: str, date: str) -> bytes:
    from .plot import plot

    return plot(drawing, cluster, date, PdfPlot)


def pdf_to_png(pdf: bytes, dpi: int = 100) -> bytes:
    """Render the first page of a PDF to PNG with poppler's pdftoppm."""
    with tempfile.TemporaryDirectory(prefix="pirack-png-") as d:
        src = Path(d) / "in.pdf"
        src.write_bytes(pdf)
        # At low priority: previews run beside the CAD worker, which is the export's critical path.
        r = subprocess.run(["nice", "-n", "10", "pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(src),
                            str(Path(d) / "out")], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"pdftoppm failed: {r.stderr.strip()}")
        return (Path(d) / "out.png").read_bytes()
