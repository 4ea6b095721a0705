"""SVG: cut sheets (svgwrite, true millimetres) and drawings for people.

Coordinates: our geometry is y up, SVG is y down, so every y is written as (height − y) —
no transform, because some services' importers ignore transforms. A counter-clockwise arc
(y up) becomes an arc with sweep-flag 0 in SVG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..geometry2d import Arc, Circle, Contour, Line
from . import Pen
from .cut import drawn, render_sheet, split_full_turns

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pirack.catalog import Fabricator

    from ..drawing import Drawing
    from ..geometry2d import P
    from ..nesting import CutSheet
    from .plot import LineStyle


def _n(v: float) -> str:
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def contour_d(c: Contour, H: float, closed: bool | None = None) -> str:
    """Path data for a contour (lines and true arcs), y flipped against the height H; a
    closed contour ends with Z."""
    c = drawn(c)
    closed = c.is_closed() if closed is None else closed
    segs = split_full_turns(c).segments
    x, y = segs[0].start
    out = [f"M{_n(x)} {_n(H - y)}"]
    for s in segs:
        if isinstance(s, Line):
            out.append(f"L{_n(s.end[0])} {_n(H - s.end[1])}")
        else:
            out.append(_arc_d(s, H))
    if closed:
        out.append("Z")
    return " ".join(out)


def _arc_d(a: Arc, H: float) -> str:
    """One SVG arc command (less than a full turn: see cut.split_full_turns)."""
    large = 1 if a.sweep > 180 else 0
    r = _n(a.radius)
    return f"A{r} {r} 0 {large} 0 {_n(a.end[0])} {_n(H - a.end[1])}"


def circle_d(c: Circle, H: float) -> str:
    """A circle as path data (two half arcs), for compound engrave paths."""
    (x, y), r = c.center, c.radius
    rr = _n(r)
    return (f"M{_n(x + r)} {_n(H - y)} A{rr} {rr} 0 1 0 {_n(x - r)} {_n(H - y)} "
            f"A{rr} {rr} 0 1 0 {_n(x + r)} {_n(H - y)} Z")


class SvgSheet:
    """Cut-file back end (writers.cut): one group per layer, named by the profile's layer,
    strokes in the profile's colour; circles as <circle>, contours as <path>."""

    def __init__(self, sheet: CutSheet):
        import svgwrite

        self.H = sheet.height
        self.dwg = svgwrite.Drawing(size=(f"{_n(sheet.width)}mm", f"{_n(sheet.height)}mm"), profile="full",
                                    debug=False)
        self.dwg.viewbox(0, 0, sheet.width, sheet.height)
        self.groups: dict[str, object] = {}
        self.g = None
        self.pen: Pen | None = None

    def begin_layer(self, purpose: str, pen: Pen) -> None:
        self.pen = pen
        if pen.layer not in self.groups:  # holes and outlines share the cut layer
            self.groups[pen.layer] = self.dwg.g(id=pen.layer)
            self.dwg.add(self.groups[pen.layer])
        self.g = self.groups[pen.layer]

    def _stroke(self) -> dict:
        return dict(fill="none", stroke=self.pen.colour, stroke_width=_n(max(self.pen.width, 0.01)))

    def contour(self, contour: Contour, closed: bool) -> None:
        self.g.add(self.dwg.path(d=contour_d(contour, self.H, closed), **self._stroke()))

    def circle(self, c: Circle) -> None:
        self.g.add(self.dwg.circle(center=(_n(c.center[0]), _n(self.H - c.center[1])), r=_n(c.radius),
                                   **self._stroke()))

    def fill(self, paths: list) -> None:
        # One part's engrave regions in one compound path, even-odd: the counters of letters
        # (the hole in an "o") stay clear.
        d = " ".join(circle_d(e, self.H) if isinstance(e, Circle) else contour_d(e, self.H, True) for e in paths)
        self.g.add(self.dwg.path(d=d, fill=self.pen.colour, fill_rule="evenodd", stroke="none"))

    def end_layer(self) -> None:
        self.g = None

    def finish(self) -> bytes:
        return self.dwg.tostring().encode("utf-8")


def sheet_svg(sheet: CutSheet, profile: Fabricator) -> bytes:
    """One cut sheet as SVG at 1:1 mm: width/height in mm, viewBox in mm, one group per layer
    in the order the laser runs them (engrave, score, cut)."""
    return render_sheet(sheet, profile, SvgSheet(sheet))


# --- drawings for people -----------------------------------------------------------------------

class SvgPlot:
    """Paper back end for writers.plot: paper millimetres, y up (flipped on output)."""

    def __init__(self, paper_w: float, paper_h: float):
        import svgwrite

        self.W, self.H = paper_w, paper_h
        self.dwg = svgwrite.Drawing(size=(f"{_n(paper_w)}mm", f"{_n(paper_h)}mm"), profile="full", debug=False)
        self.dwg.viewbox(0, 0, paper_w, paper_h)
        self.dwg.add(self.dwg.rect((0, 0), (paper_w, paper_h), fill="white"))

    def _style(self, st: LineStyle) -> dict:
        a = dict(fill="none", stroke=st.colour, stroke_width=_n(st.width))
        if st.dash:
            a["stroke_dasharray"] = ",".join(_n(v) for v in st.dash)
        return a

    def line(self, a: P, b: P, st: LineStyle) -> None:
        self.dwg.add(self.dwg.line((_n(a[0]), _n(self.H - a[1])), (_n(b[0]), _n(self.H - b[1])), **self._style(st)))

    def arc(self, arc: Arc, st: LineStyle) -> None:
        d = contour_d(Contour((arc,)), self.H, closed=False)
        self.dwg.add(self.dwg.path(d=d, **self._style(st)))

    def circle(self, c: Circle, st: LineStyle) -> None:
        self.dwg.add(self.dwg.circle((_n(c.center[0]), _n(self.H - c.center[1])), _n(c.radius), **self._style(st)))

    def polygon(self, pts: Sequence[P], colour: str) -> None:
        self.dwg.add(self.dwg.polygon([(_n(x), _n(self.H - y)) for x, y in pts], fill=colour, stroke="none"))

    def text(self, pos: P, s: str, size: float, anchor: str = "start", angle: float = 0.0) -> None:
        x, y = pos[0], self.H - pos[1]
        t = self.dwg.text(s, insert=(_n(x), _n(y)), font_size=_n(size * 1.4), text_anchor=anchor,
                          font_family="IPAGothic, Helvetica, Arial, sans-serif", fill="black")
        if angle:
            t["transform"] = f"rotate({_n(-angle)} {_n(x)} {_n(y)})"
        self.dwg.add(t)

    def finish(self) -> bytes:
        return self.dwg.tostring().encode("utf-8")


def drawing_svg(drawing: Drawing, cluster: str, date: str, mark: str = "") -> bytes:
    from .plot import plot

    return plot(drawing, cluster, date, SvgPlot, mark)
