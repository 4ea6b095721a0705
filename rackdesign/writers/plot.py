"""Putting a Drawing on paper: page size and scale, line styles, dimensions, the title block.

Back ends (PDF, SVG) only draw lines, arcs, circles, filled polygons and text in paper
millimetres (y up); this module decides where everything goes, so both look the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..drawing import DCircle, DDim, DSeg, DText, Drawing
from ..geometry2d import Arc, Circle, Line

PAPERS = [("A4", 297.0, 210.0), ("A3", 420.0, 297.0)]  # landscape
SCALES = [1.0, 1 / 2, 1 / 2.5, 1 / 5, 1 / 10, 1 / 20]
MARGIN = 10.0
TITLE_W, TITLE_H = 130.0, 36.0
ARROW_L, ARROW_W = 3.0, 0.6  # paper mm


@dataclass(frozen=True)
class LineStyle:
    width: float  # paper mm
    colour: str = "#000000"
    dash: tuple[float, ...] = ()


STYLES = {
    "visible": LineStyle(0.35),
    "hidden": LineStyle(0.25, dash=(3.0, 1.5)),
    "center": LineStyle(0.18, dash=(8.0, 1.5, 1.0, 1.5)),
    "dimension": LineStyle(0.18),
    "thin": LineStyle(0.18),
    "engrave": LineStyle(0.18, "#555555"),
    "score": LineStyle(0.25, "#0000cc", dash=(4.0, 2.0)),
    "bend": LineStyle(0.3, "#008800", dash=(10.0, 2.0, 2.0, 2.0)),  # phantom line: a bend
    "ghost": LineStyle(0.2, "#8a8a8a", dash=(2.0, 1.2)),  # what a plate carries, not cut
    "frame": LineStyle(0.5),
}


def fmt_mm(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def scale_label(s: float) -> str:
    return "1:1" if abs(s - 1) < 1e-9 else f"1:{fmt_mm(1 / s)}"


def dim_geometry(d: DDim):
    """Where a dimension's line and extension lines go, in model mm: (p1, p2, ext_a, ext_b, value)."""
    (ax, ay), (bx, by) = d.a, d.b
    if d.direction == "horizontal":
        y = (max(ay, by) + d.offset) if d.offset >= 0 else (min(ay, by) + d.offset)
        return (ax, y), (bx, y), ((ax, ay), (ax, y)), ((bx, by), (bx, y)), abs(bx - ax)
    if d.direction == "vertical":
        x = (max(ax, bx) + d.offset) if d.offset >= 0 else (min(ax, bx) + d.offset)
        return (x, ay), (x, by), ((ax, ay), (x, ay)), ((bx, by), (x, by)), abs(by - ay)
    L = math.dist(d.a, d.b) or 1.0
    nx, ny = -(by - ay) / L, (bx - ax) / L
    p1 = (ax + nx * d.offset, ay + ny * d.offset)
    p2 = (bx + nx * d.offset, by + ny * d.offset)
    return p1, p2, (d.a, p1), (d.b, p2), math.dist(d.a, d.b)


def _extent(drawing: Drawing, s: float) -> tuple[float, float, float, float]:
    pts = []
    pad = 6.0 / s  # dimension text beyond its line, in model mm
    for it in drawing.items:
        if isinstance(it, DSeg):
            pts += it.seg.points()
        elif isinstance(it, DCircle):
            x0, y0, x1, y1 = it.circle.bbox()
            pts += [(x0, y0), (x1, y1)]
        elif isinstance(it, DText):
            w = len(it.text) * it.size * 0.75 / s
            pts += [(it.pos[0] - w, it.pos[1] - it.size / s), (it.pos[0] + w, it.pos[1] + it.size / s)]
        elif isinstance(it, DDim):
            p1, p2, *_ = dim_geometry(it)
            for p in (it.a, it.b, p1, p2):
                pts += [(p[0] - pad, p[1] - pad), (p[0] + pad, p[1] + pad)]
    if not pts:
        return (0.0, 0.0, 1.0, 1.0)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs), max(ys))


def choose_paper(drawing: Drawing) -> tuple[str, float, float, float, tuple]:
    """The smallest landscape sheet (A4, A3) that holds the drawing at 1:1, else the largest
    standard reduction that fits A3. Returns (name, width, height, scale, extent)."""
    for s in SCALES:
        for name, W, H in PAPERS:
            ext = _extent(drawing, s)
            w, h = (ext[2] - ext[0]) * s, (ext[3] - ext[1]) * s
            if w <= W - 2 * MARGIN and h <= H - 2 * MARGIN - TITLE_H - 4:
                return name, W, H, s, ext
    name, W, H = PAPERS[-1]
    return name, W, H, SCALES[-1], _extent(drawing, SCALES[-1])


def plot(drawing: Drawing, cluster: str, date: str, backend_cls) -> bytes:
    paper, W, H, s, ext = choose_paper(drawing)
    out = backend_cls(W, H)
    area_w, area_h = W - 2 * MARGIN, H - 2 * MARGIN - TITLE_H - 4
    ox = MARGIN + (area_w - (ext[2] - ext[0]) * s) / 2 - ext[0] * s
    oy = MARGIN + TITLE_H + 4 + (area_h - (ext[3] - ext[1]) * s) / 2 - ext[1] * s

    def P(p):
        return (ox + p[0] * s, oy + p[1] * s)

    for it in drawing.items:
        if isinstance(it, DSeg):
            st = STYLES.get(it.style, STYLES["visible"])
            if isinstance(it.seg, Line):
                out.line(P(it.seg.start), P(it.seg.end), st)
            else:
                a = it.seg
                out.arc(Arc(P(a.center), a.radius * s, a.start_angle, a.end_angle), st)
        elif isinstance(it, DCircle):
            out.circle(Circle(P(it.circle.center), it.circle.radius * s), STYLES.get(it.style, STYLES["visible"]))
        elif isinstance(it, DText):
            out.text(P(it.pos), it.text, it.size, it.anchor, it.angle)
        elif isinstance(it, DDim):
            _dimension(out, it, P)
    _frame_and_title(out, W, H, drawing, cluster, date, paper, s)
    return out.finish()


def _dimension(out, d: DDim, P) -> None:
    st = STYLES["dimension"]
    p1, p2, (ea0, ea1), (eb0, eb1), value = dim_geometry(d)
    q1, q2 = P(p1), P(p2)
    for e0, e1 in ((ea0, ea1), (eb0, eb1)):
        a, b = P(e0), P(e1)
        L = math.dist(a, b)
        if L > 1e-6:  # extension line: a small gap at the feature, 1.5 mm past the dimension line
            ux, uy = (b[0] - a[0]) / L, (b[1] - a[1]) / L
            out.line((a[0] + ux * 1.0, a[1] + uy * 1.0), (b[0] + ux * 1.5, b[1] + uy * 1.5), st)
    out.line(q1, q2, st)
    L = math.dist(q1, q2)
    if L > 1e-6:
        ux, uy = (q2[0] - q1[0]) / L, (q2[1] - q1[1]) / L
        for tip, sgn in ((q1, 1), (q2, -1)):
            bx, by = tip[0] + sgn * ux * ARROW_L, tip[1] + sgn * uy * ARROW_L
            out.polygon([tip, (bx - uy * ARROW_W, by + ux * ARROW_W), (bx + uy * ARROW_W, by - ux * ARROW_W)], "#000000")
        angle = math.degrees(math.atan2(uy, ux))
        if angle > 90.001 or angle <= -90.001:  # text reads from below or from the right
            angle -= 180 if angle > 0 else -180
        mx, my = (q1[0] + q2[0]) / 2, (q1[1] + q2[1]) / 2
        nx, ny = -math.sin(math.radians(angle)), math.cos(math.radians(angle))
        text = d.text if d.text is not None else fmt_mm(value)
        out.text((mx + nx * 1.0, my + ny * 1.0), text, 2.5, "middle", angle)


def _frame_and_title(out, W, H, drawing: Drawing, cluster: str, date: str, paper: str, s: float) -> None:
    fr = STYLES["frame"]
    th = STYLES["thin"]
    x0, y0, x1, y1 = MARGIN / 2, MARGIN / 2, W - MARGIN / 2, H - MARGIN / 2
    for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        out.line(a, b, fr)
    tx0, ty0, tx1, ty1 = x1 - TITLE_W, y0, x1, y0 + TITLE_H
    out.line((tx0, ty0), (tx0, ty1), fr)
    out.line((tx0, ty1), (tx1, ty1), fr)
    out.text((tx0 + 3, ty1 - 6.5), cluster, 4.0, "start")
    out.text((tx0 + 3, ty1 - 12.5), drawing.title[:70], 3.0, "start")
    out.text((tx0 + 3, ty1 - 18.0), f"scale {scale_label(s)} ({paper})   units mm   {date}", 2.5, "start")
    out.line((tx0, ty1 - 21.0), (tx1, ty1 - 21.0), th)
    import textwrap

    lines = [ln for note in drawing.notes for ln in textwrap.wrap(note, 88)]
    if len(lines) > 3:  # the title block holds three; the rest are in the drawing's source
        lines = lines[:2] + [lines[2][:84] + " ..."]
    for k, line in enumerate(lines):
        out.text((tx0 + 3, ty1 - 25.0 - 3.6 * k), line, 1.8, "start")
    out.text((tx1 - 2, ty1 - 6.5), "pirack", 2.0, "end")
