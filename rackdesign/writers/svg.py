"""SVG: cut sheets (svgwrite, true millimetres) and drawings for people.

Coordinates: our geometry is y up, SVG is y down, so every y is written as (height − y) —
no transform, because some services' importers ignore transforms. A counter-clockwise arc
(y up) becomes an arc with sweep-flag 0 in SVG.
"""

from __future__ import annotations

from ..geometry2d import Arc, Circle, Contour, Line
from . import Pen, pens


def _n(v: float) -> str:
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def contour_d(c: Contour, H: float) -> str:
    """Path data for a contour (lines and true arcs), y flipped against the height H."""
    segs = c.segments
    x, y = segs[0].start
    out = [f"M{_n(x)} {_n(H - y)}"]
    for s in segs:
        if isinstance(s, Line):
            if s.length() < 1e-9:  # degenerate side of a slot: nothing to cut
                continue
            out.append(f"L{_n(s.end[0])} {_n(H - s.end[1])}")
        else:
            out.extend(_arc_d(s, H))
    if c.is_closed():
        out.append("Z")
    return " ".join(out)


def _arc_d(a: Arc, H: float) -> list[str]:
    if a.sweep >= 359.999:  # a full turn cannot be one SVG arc: two halves
        mid = Arc(a.center, a.radius, a.start_angle, a.start_angle + 180)
        return _arc_d(mid, H) + _arc_d(Arc(a.center, a.radius, a.start_angle + 180, a.end_angle), H)
    large = 1 if a.sweep > 180 else 0
    r = _n(a.radius)
    return [f"A{r} {r} 0 {large} 0 {_n(a.end[0])} {_n(H - a.end[1])}"]


def circle_d(c: Circle, H: float) -> str:
    """A circle as path data (two half arcs), for compound engrave paths."""
    (x, y), r = c.center, c.radius
    rr = _n(r)
    return (f"M{_n(x + r)} {_n(H - y)} A{rr} {rr} 0 1 0 {_n(x - r)} {_n(H - y)} "
            f"A{rr} {rr} 0 1 0 {_n(x + r)} {_n(H - y)} Z")


def sheet_svg(sheet, profile) -> bytes:
    """One cut sheet as SVG at 1:1 mm: width/height in mm, viewBox in mm, one group per layer."""
    import svgwrite

    W, H = sheet.width, sheet.height
    dwg = svgwrite.Drawing(size=(f"{_n(W)}mm", f"{_n(H)}mm"), profile="full", debug=False)
    dwg.viewbox(0, 0, W, H)
    pen = pens(profile)
    groups = {}
    for purpose in ("cut", "score", "engrave"):
        groups[purpose] = dwg.g(id=pen[purpose].layer)
    for part in sheet.parts:
        for purpose, path in part.paths():
            if purpose == "engrave":
                continue
            _stroke(dwg, groups[purpose], path, pen[purpose], H)
        if part.engrave:
            _engrave(dwg, groups["engrave"], part.engrave, pen["engrave"], H)
    for purpose in ("engrave", "score", "cut"):  # cut last: lasers often run layers in file order
        if len(groups[purpose].elements):
            dwg.add(groups[purpose])
    return dwg.tostring().encode("utf-8")


def _stroke(dwg, g, path, p: Pen, H: float) -> None:
    attrs = dict(fill="none", stroke=p.colour, stroke_width=_n(max(p.width, 0.01)))
    if isinstance(path, Circle):
        g.add(dwg.circle(center=(_n(path.center[0]), _n(H - path.center[1])), r=_n(path.radius), **attrs))
    else:
        g.add(dwg.path(d=contour_d(path, H), **attrs))


def _engrave(dwg, g, paths, p: Pen, H: float) -> None:
    # All engrave regions of a part in one compound path, even-odd: the counters of letters
    # (the hole in an "o") stay clear.
    d = " ".join(circle_d(e, H) if isinstance(e, Circle) else contour_d(e, H) for e in paths)
    if p.fill:
        g.add(dwg.path(d=d, fill=p.colour, fill_rule="evenodd", stroke="none"))
    else:
        g.add(dwg.path(d=d, fill="none", stroke=p.colour, stroke_width=_n(max(p.width, 0.01))))


# --- drawings for people -----------------------------------------------------------------------

class SvgPlot:
    """Paper back end for writers.plot: paper millimetres, y up (flipped on output)."""

    def __init__(self, paper_w: float, paper_h: float):
        import svgwrite

        self.W, self.H = paper_w, paper_h
        self.dwg = svgwrite.Drawing(size=(f"{_n(paper_w)}mm", f"{_n(paper_h)}mm"), profile="full", debug=False)
        self.dwg.viewbox(0, 0, paper_w, paper_h)
        self.dwg.add(self.dwg.rect((0, 0), (paper_w, paper_h), fill="white"))

    def _style(self, st) -> dict:
        a = dict(fill="none", stroke=st.colour, stroke_width=_n(st.width))
        if st.dash:
            a["stroke_dasharray"] = ",".join(_n(v) for v in st.dash)
        return a

    def line(self, a, b, st) -> None:
        self.dwg.add(self.dwg.line((_n(a[0]), _n(self.H - a[1])), (_n(b[0]), _n(self.H - b[1])), **self._style(st)))

    def arc(self, arc: Arc, st) -> None:
        d = f"M{_n(arc.start[0])} {_n(self.H - arc.start[1])} " + " ".join(_arc_d(arc, self.H))
        self.dwg.add(self.dwg.path(d=d, **self._style(st)))

    def circle(self, c: Circle, st) -> None:
        self.dwg.add(self.dwg.circle((_n(c.center[0]), _n(self.H - c.center[1])), _n(c.radius), **self._style(st)))

    def polygon(self, pts, colour: str) -> None:
        self.dwg.add(self.dwg.polygon([(_n(x), _n(self.H - y)) for x, y in pts], fill=colour, stroke="none"))

    def text(self, pos, s: str, size: float, anchor: str = "start", angle: float = 0.0) -> None:
        x, y = pos[0], self.H - pos[1]
        t = self.dwg.text(s, insert=(_n(x), _n(y)), font_size=_n(size * 1.4), text_anchor=anchor,
                          font_family="IPAGothic, Helvetica, Arial, sans-serif", fill="black")
        if angle:
            t["transform"] = f"rotate({_n(-angle)} {_n(x)} {_n(y)})"
        self.dwg.add(t)

    def finish(self) -> bytes:
        return self.dwg.tostring().encode("utf-8")


def drawing_svg(drawing, cluster: str, date: str) -> bytes:
    from .plot import plot

    return plot(drawing, cluster, date, SvgPlot)
