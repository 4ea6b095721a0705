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
from typing import TYPE_CHECKING

from ..geometry2d import Arc, Circle, Contour, Line
from . import Pen, fonts, rgb
from .cut import drawn, render_sheet

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reportlab.pdfgen.canvas import Canvas
    from reportlab.pdfgen.pathobject import PDFPathObject

    from pirack.catalog import Fabricator

    from ..drawing import Drawing
    from ..geometry2d import P
    from ..geometry2d import Path as Path2D
    from ..nesting import CutSheet
    from .plot import LineStyle

def _canvas(buf: io.BytesIO, w_mm: float, h_mm: float, title: str):
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    # invariant: no timestamps or random ids, so the same input gives the same bytes; a
    # TrueType initial font: listed in the file only if text uses it
    c = canvas.Canvas(buf, pagesize=(w_mm * mm, h_mm * mm), invariant=1, pageCompression=1,
                      initialFontName=fonts.base())
    c.setTitle(title)
    c.setCreator("pirack")
    return c


def _colour(c: Canvas, hexcol: str, stroke: bool = True) -> None:
    r, g, b = rgb(hexcol)
    (c.setStrokeColorRGB if stroke else c.setFillColorRGB)(r / 255, g / 255, b / 255)


def _add_contour(p: PDFPathObject, contour: Contour, k: float, closed: bool) -> None:
    """Lines and arcs onto a reportlab path (arcs as reportlab's own Bézier arcs, chained onto
    the current point); a closed contour ends with closepath (h), an open one does not."""
    from reportlab.pdfgen.pdfgeom import bezierArc

    segs = contour.segments
    p.moveTo(segs[0].start[0] * k, segs[0].start[1] * k)
    for s in segs:
        if isinstance(s, Line):
            p.lineTo(s.end[0] * k, s.end[1] * k)
        else:
            (cx, cy), r = s.center, s.radius
            for curve in bezierArc((cx - r) * k, (cy - r) * k, (cx + r) * k, (cy + r) * k, s.start_angle, s.sweep):
                p.curveTo(*curve[2:])
    if closed:
        p.close()


def _add_path(p: PDFPathObject, path: Path2D, k: float) -> None:
    if isinstance(path, Circle):
        p.circle(path.center[0] * k, path.center[1] * k, path.radius * k)
        p.close()  # reportlab's circle ends where it starts but leaves the path open
    else:
        _add_contour(p, drawn(path), k, True)


class PdfSheet:
    """Cut-file back end (writers.cut): the page is the sheet at 1:1; each cut or score path is
    its own stroked path in the purpose's colour and width; a part's engrave regions are one
    compound path filled even-odd."""

    def __init__(self, sheet: CutSheet):
        from reportlab.lib.units import mm

        self.k = mm
        self.buf = io.BytesIO()
        self.c = _canvas(self.buf, sheet.width, sheet.height, sheet.name)
        self.pen: Pen | None = None

    def begin_layer(self, purpose: str, pen: Pen) -> None:
        self.pen = pen
        _colour(self.c, pen.colour, stroke=True)
        _colour(self.c, pen.colour, stroke=False)
        self.c.setLineWidth(max(pen.width, 0.01) * self.k)

    def contour(self, contour: Contour, closed: bool) -> None:
        p = self.c.beginPath()
        _add_contour(p, contour, self.k, closed)
        self.c.drawPath(p, stroke=1, fill=0)

    def circle(self, c: Circle) -> None:
        p = self.c.beginPath()
        _add_path(p, c, self.k)
        self.c.drawPath(p, stroke=1, fill=0)

    def fill(self, paths: list) -> None:
        from reportlab.pdfgen.canvas import FILL_EVEN_ODD

        p = self.c.beginPath()
        for path in paths:
            _add_path(p, path, self.k)
        self.c.drawPath(p, stroke=0, fill=1, fillMode=FILL_EVEN_ODD)

    def end_layer(self) -> None:
        self.pen = None

    def finish(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def sheet_pdf(sheet: CutSheet, profile: Fabricator) -> bytes:
    """One cut sheet as a one-page PDF, page size = sheet size, 1:1 millimetres, no text and
    no font."""
    return render_sheet(sheet, profile, PdfSheet(sheet))


# --- drawings for people -----------------------------------------------------------------------

class PdfPlot:
    """Paper back end for writers.plot (paper mm, y up, as PDF itself)."""

    def __init__(self, paper_w: float, paper_h: float):
        from reportlab.lib.units import mm

        self.k = mm
        self.buf = io.BytesIO()
        self.c = _canvas(self.buf, paper_w, paper_h, "drawing")

    def _style(self, st: LineStyle) -> None:
        _colour(self.c, st.colour)
        self.c.setLineWidth(st.width * self.k)
        self.c.setDash([d * self.k for d in st.dash], 0) if st.dash else self.c.setDash([], 0)

    def line(self, a: P, b: P, st: LineStyle) -> None:
        self._style(st)
        self.c.line(a[0] * self.k, a[1] * self.k, b[0] * self.k, b[1] * self.k)

    def arc(self, arc: Arc, st: LineStyle) -> None:
        self._style(st)
        p = self.c.beginPath()
        _add_contour(p, Contour((arc,)), self.k, closed=False)
        self.c.drawPath(p, stroke=1, fill=0)

    def circle(self, c: Circle, st: LineStyle) -> None:
        self._style(st)
        self.c.circle(c.center[0] * self.k, c.center[1] * self.k, c.radius * self.k, stroke=1, fill=0)

    def polygon(self, pts: Sequence[P], colour: str) -> None:
        _colour(self.c, colour, stroke=False)
        p = self.c.beginPath()
        p.moveTo(pts[0][0] * self.k, pts[0][1] * self.k)
        for x, y in pts[1:]:
            p.lineTo(x * self.k, y * self.k)
        p.close()
        self.c.drawPath(p, stroke=0, fill=1)

    def text(self, pos: P, s: str, size: float, anchor: str = "start", angle: float = 0.0) -> None:
        """Text in runs, each in a font that has its glyphs (writers.fonts), anchored as a whole."""
        c = self.c
        pt = size / 0.7 * self.k  # size is the cap height in mm
        x = {"start": 0.0, "middle": -fonts.width(s, pt) / 2, "end": -fonts.width(s, pt)}[anchor]
        c.saveState()
        _colour(c, "#000000", stroke=False)
        c.translate(pos[0] * self.k, pos[1] * self.k)
        if angle:
            c.rotate(angle)
        t = c.beginText(x, 0)
        for font, chunk in fonts.runs(s):
            t.setFont(font, pt)
            t.textOut(chunk)
        c.drawText(t)
        c.restoreState()

    def finish(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def drawing_pdf(drawing: Drawing, cluster: str, date: str, mark: str = "") -> bytes:
    from .plot import plot

    return plot(drawing, cluster, date, PdfPlot, mark)


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
