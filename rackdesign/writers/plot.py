"""Putting a Drawing on paper: page size and scale, line styles, dimensions, the title block,
the legend, and where every text goes so that no text overlaps another or a dimension line.

Back ends (PDF, SVG) only draw lines, arcs, circles, filled polygons and text in paper
millimetres (y up); this module decides where everything goes, so both look the same.
`paper_layout` is that decision as data (each text's box on paper, each dimension's lines):
the renderers draw it and the tests measure it.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..drawing import DCircle, DDim, DSeg, DText, Drawing
from ..geometry2d import Arc, Circle, Line

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..geometry2d import P

PAPERS = [("A4", 297.0, 210.0), ("A3", 420.0, 297.0)]  # landscape
SCALES = [1.0, 1 / 2, 1 / 2.5, 1 / 5, 1 / 10, 1 / 20]
MARGIN = 10.0
TITLE_W, TITLE_H = 130.0, 36.0  # the title block; taller when the notes need more lines
NOTE_SIZE, NOTE_PITCH, NOTE_COLS = 1.8, 3.6, 88  # title-block notes
LEGEND_SIZE, LEGEND_PITCH = 2.2, 3.8  # legend lines (Drawing.legend), in paper mm at any scale
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


class PlotBackend(Protocol):
    """What `plot` draws with (writers.pdf.PdfPlot, writers.svg.SvgPlot), in paper mm, y up."""

    def line(self, a: P, b: P, st: LineStyle) -> None: ...

    def arc(self, arc: Arc, st: LineStyle) -> None: ...

    def circle(self, c: Circle, st: LineStyle) -> None: ...

    def polygon(self, pts: Sequence[P], colour: str) -> None: ...

    def text(self, pos: P, s: str, size: float, anchor: str = "start", angle: float = 0.0) -> None: ...

    def finish(self) -> bytes: ...


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



def text_box(pos: P, text: str, size: float, anchor: str = "start", angle: float = 0.0) -> tuple:
    """The paper box (x0, y0, x1, y1) a text takes as the back ends draw it: font size
    size/0.7 (size is the cap height), width from the embedded fonts' metrics (writers.fonts),
    descender to ascender; rotated texts by their corners."""
    from . import fonts

    fs = size / 0.7
    w = fonts.width(text, fs)
    x0 = {"start": 0.0, "middle": -w / 2, "end": -w}[anchor]
    corners = [(x0, -0.22 * fs), (x0 + w, -0.22 * fs), (x0 + w, 0.88 * fs), (x0, 0.88 * fs)]
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    pts = [(pos[0] + x * c - y * s, pos[1] + x * s + y * c) for x, y in corners]
    return (min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts))


def boxes_overlap(a: tuple, b: tuple, pad: float = 0.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def segment_hits_box(p: P, q: P, box: tuple, pad: float = 0.0) -> bool:
    """Does the segment pq pass through the box (grown by pad)? Liang-Barsky clipping."""
    x0, y0, x1, y1 = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if abs(pk) < 1e-12:
            if qk < 0:
                return False
            continue
        t = qk / pk
        if pk < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


@dataclass(frozen=True)
class PlacedText:
    """A text where it is drawn on paper; `leader` when it was moved away from its anchor."""

    pos: tuple
    text: str
    size: float
    anchor: str
    angle: float
    box: tuple
    kind: str  # "dimension" | "note" | "legend"
    leader: tuple | None = None


@dataclass(frozen=True)
class Page:
    paper: str
    W: float
    H: float
    scale: float
    extent: tuple  # the view's extent in model mm
    ox: float  # paper = (ox, oy) + model x scale
    oy: float
    title_h: float
    band_h: float  # the band at the foot of the page: the title block and, beside it, the legend
    legend_cols: int = 1
    legend_col_w: float = 0.0

    def at(self, p: P) -> tuple:
        return (self.ox + p[0] * self.scale, self.oy + p[1] * self.scale)

    @property
    def view(self) -> tuple:
        """The paper area the view and its texts may use."""
        return (MARGIN, MARGIN + self.band_h + 4, self.W - MARGIN, self.H - MARGIN)


@dataclass(frozen=True)
class DimLines:
    """A dimension on paper: its line (between the arrow tips) and its extension lines."""

    line: tuple
    extensions: tuple


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
            b = text_box((0.0, 0.0), it.text, it.size, it.anchor, it.angle)
            pts += [(it.pos[0] + b[0] / s, it.pos[1] + b[1] / s), (it.pos[0] + b[2] / s, it.pos[1] + b[3] / s)]
        elif isinstance(it, DDim):
            p1, p2, *_ = dim_geometry(it)
            for p in (it.a, it.b, p1, p2):
                pts += [(p[0] - pad, p[1] - pad), (p[0] + pad, p[1] + pad)]
    if not pts:
        return (0.0, 0.0, 1.0, 1.0)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs), max(ys))


def note_lines(drawing: Drawing) -> list[str]:
    """The title block's note lines: every note wrapped, none cut off (the block grows)."""
    return [ln for note in drawing.notes for ln in textwrap.wrap(note, NOTE_COLS)]


TITLE_NOTES = 3  # note lines the title block holds; the rest continue in the legend, in full


def title_notes(drawing: Drawing) -> list[str]:
    return note_lines(drawing)[:TITLE_NOTES]


def legend_lines(drawing: Drawing) -> list[str]:
    """The legend (parts lists) and the notes the title block has no room for, never cut."""
    more = note_lines(drawing)[TITLE_NOTES:]
    return list(drawing.legend) + (["notes (continued):"] + [f"  {ln}" for ln in more] if more else [])


def _legend_grid(drawing: Drawing, W: float) -> tuple[int, float, float]:
    """(columns, column width, height) of the legend in the band left of the title block."""
    lines = legend_lines(drawing)
    if not lines:
        return 1, 0.0, 0.0
    col_w = max(text_box((0.0, 0.0), ln, LEGEND_SIZE)[2] for ln in lines) + 4.0
    room = W - 2 * MARGIN - TITLE_W - 4.0
    cols = max(1, min(len(lines), int(room // col_w)))
    rows = -(-len(lines) // cols)
    return cols, col_w, LEGEND_PITCH * rows + 3.0


def _band_h(drawing: Drawing, W: float) -> float:
    return max(TITLE_H, _legend_grid(drawing, W)[2])


def choose_paper(drawing: Drawing) -> tuple[str, float, float, float, tuple]:
    """The smallest landscape sheet (A4, A3) that holds the drawing at 1:1, else the largest
    standard reduction that fits A3, with room for the title block and the legend. Returns
    (name, width, height, scale, extent)."""
    for s in SCALES:
        for name, W, H in PAPERS:
            ext = _extent(drawing, s)
            w, h = (ext[2] - ext[0]) * s, (ext[3] - ext[1]) * s
            if w <= W - 2 * MARGIN and h <= H - 2 * MARGIN - _band_h(drawing, W) - 4:
                return name, W, H, s, ext
    name, W, H = PAPERS[-1]
    return name, W, H, SCALES[-1], _extent(drawing, SCALES[-1])


def page_for(drawing: Drawing) -> Page:
    paper, W, H, s, ext = choose_paper(drawing)
    band = _band_h(drawing, W)
    cols, col_w, _ = _legend_grid(drawing, W)
    area_w, area_h = W - 2 * MARGIN, H - 2 * MARGIN - band - 4
    ox = MARGIN + (area_w - (ext[2] - ext[0]) * s) / 2 - ext[0] * s
    oy = MARGIN + band + 4 + (area_h - (ext[3] - ext[1]) * s) / 2 - ext[1] * s
    return Page(paper, W, H, s, ext, ox, oy, TITLE_H, band, cols, col_w)


def dim_lines(d: DDim, page: Page) -> DimLines:
    """A dimension's line and extension lines on paper (the extension lines start 1 mm off the
    feature and run 1.5 mm past the dimension line)."""
    p1, p2, (ea0, ea1), (eb0, eb1), _ = dim_geometry(d)
    ext = []
    for e0, e1 in ((ea0, ea1), (eb0, eb1)):
        a, b = page.at(e0), page.at(e1)
        L = math.dist(a, b)
        if L > 1e-6:
            ux, uy = (b[0] - a[0]) / L, (b[1] - a[1]) / L
            ext.append(((a[0] + ux * 1.0, a[1] + uy * 1.0), (b[0] + ux * 1.5, b[1] + uy * 1.5)))
    return DimLines((page.at(p1), page.at(p2)), tuple(ext))


def _dim_text(d: DDim, lines: DimLines) -> tuple[tuple, float, str]:
    """Where a dimension's value sits by default: above the middle of its line, reading from
    below or from the right. (position, angle, text)."""
    q1, q2 = lines.line
    L = math.dist(q1, q2)
    ux, uy = ((q2[0] - q1[0]) / L, (q2[1] - q1[1]) / L) if L > 1e-6 else (1.0, 0.0)
    angle = math.degrees(math.atan2(uy, ux))
    if angle > 90.001 or angle <= -90.001:
        angle -= 180 if angle > 0 else -180
    mx, my = (q1[0] + q2[0]) / 2, (q1[1] + q2[1]) / 2
    nx, ny = -math.sin(math.radians(angle)), math.cos(math.radians(angle))
    text = d.text if d.text is not None else fmt_mm(dim_geometry(d)[4])
    return (mx + nx * 1.0, my + ny * 1.0), angle, text


class _Free:
    """What is already on the paper: text boxes and dimension/extension lines."""

    def __init__(self, page: Page, lines: list[DimLines], drawing: Drawing | None = None):
        self.page, self.boxes = page, []
        self.geometry = _geometry(drawing, page) if drawing is not None else ([], [])
        # (segment, the dimension's index or None for an extension line): a value sits on its
        # own dimension line, never across an extension line
        self.segments = [(ln, k if ln is dl.line else None) for k, dl in enumerate(lines)
                         for ln in (dl.line, *dl.extensions)]

    def ok(self, box: tuple, own: int | None = None, clear_of_geometry: bool = False) -> bool:
        v = self.page.view
        if box[0] < v[0] or box[1] < v[1] or box[2] > v[2] or box[3] > v[3]:
            return False
        if any(boxes_overlap(box, b, 0.3) for b in self.boxes):
            return False
        if clear_of_geometry:  # notes also keep off the drawn lines, holes and ghosts
            segs, boxes = self.geometry
            if any(boxes_overlap(box, b, 0.2) for b in boxes) or any(segment_hits_box(p, q, box, 0.2) for p, q in segs):
                return False
        return not any(segment_hits_box(p, q, box, 0.2) for (p, q), k in self.segments if k is None or k != own)


def _geometry(drawing: Drawing, page: Page) -> tuple[list, list]:
    """The drawing's lines as paper segments; its circles and arcs as paper boxes."""
    segs, boxes = [], []
    for it in drawing.items:
        if isinstance(it, DSeg) and isinstance(it.seg, Line):
            segs.append((page.at(it.seg.start), page.at(it.seg.end)))
        elif isinstance(it, DSeg):  # an arc: the box of its points
            pts = [page.at(p) for p in it.seg.points()]
            boxes.append((min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)))
        elif isinstance(it, DCircle):
            b = it.circle.bbox()
            (x0, y0), (x1, y1) = page.at((b[0], b[1])), page.at((b[2], b[3]))
            boxes.append((x0, y0, x1, y1))
    return segs, boxes


def _ring(step: float, n: int) -> list[tuple[float, float]]:
    """Offsets to try, nearest first: up, down, right, left and the diagonals, growing."""
    out = [(0.0, 0.0)]
    for k in range(1, n + 1):
        r = step * k
        out += [(0.0, r), (0.0, -r), (r, 0.0), (-r, 0.0), (r, r), (-r, r), (r, -r), (-r, -r)]
    return out


def _place(free: _Free, pos: P, text: str, size: float, anchor: str, angle: float, kind: str,
           offsets: Sequence[tuple[float, float]], own: int | None = None) -> PlacedText:
    """The first offset where the text is clear of everything placed (a note also clear of the
    drawing's lines, if it can be); the text stays where it was asked for if nothing is free
    (the overlap tests then fail and say which)."""
    tries = [(o, True) for o in offsets] if kind == "note" else []
    for (dx, dy), geometry in tries + [(o, False) for o in offsets]:
        p = (pos[0] + dx, pos[1] + dy)
        box = text_box(p, text, size, anchor, angle)
        if free.ok(box, own, geometry):
            free.boxes.append(box)
            moved = math.hypot(dx, dy) >= 3.0
            return PlacedText(p, text, size, anchor, angle, box, kind, (pos, _nearest(box, pos)) if moved else None)
    box = text_box(pos, text, size, anchor, angle)
    free.boxes.append(box)
    return PlacedText(pos, text, size, anchor, angle, box, kind)


def _nearest(box: tuple, p: P) -> tuple:
    return (min(max(p[0], box[0]), box[2]), min(max(p[1], box[1]), box[3]))


def paper_layout(drawing: Drawing, page: Page | None = None) -> tuple[Page, list[PlacedText], list[DimLines]]:
    """Where everything goes on paper: the page, every text (dimension values first, slid
    along their line when in the way; then notes, moved to the nearest free place with a
    leader; then the legend block) and every dimension's lines."""
    page = page or page_for(drawing)
    dims = [it for it in drawing.items if isinstance(it, DDim)]
    lines = [dim_lines(d, page) for d in dims]
    free = _Free(page, lines, drawing)
    texts = []
    for k, (d, dl) in enumerate(zip(dims, lines)):
        pos, angle, text = _dim_text(d, dl)
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        along = [(c * t, s * t) for m in range(0, 40) for t in ((m * 1.5, -m * 1.5) if m else (0.0,))]
        texts.append(_place(free, pos, text, 2.5, "middle", angle, "dimension", along, own=k))
    for it in drawing.items:
        if isinstance(it, DText):
            texts.append(_place(free, page.at(it.pos), it.text, it.size, it.anchor, it.angle, "note", _ring(1.5, 24)))
    legend = legend_lines(drawing)
    rows = -(-len(legend) // page.legend_cols) if legend else 0
    top = MARGIN / 2 + page.band_h  # the band's top, level with the title block's
    for k, line in enumerate(legend):
        col, row = divmod(k, rows)
        pos = (MARGIN + 2.0 + col * page.legend_col_w, top - LEGEND_PITCH * (row + 1))
        box = text_box(pos, line, LEGEND_SIZE, "start")
        texts.append(PlacedText(pos, line, LEGEND_SIZE, "start", 0.0, box, "legend"))
    return page, texts, lines


def plot(drawing: Drawing, cluster: str, date: str, backend_cls: Callable[[float, float], PlotBackend], mark: str = "") -> bytes:
    """`mark`: a warning for the title block (`rack export --force`: "NOT CHECKED: N errors")."""
    page, texts, lines = paper_layout(drawing)
    out = backend_cls(page.W, page.H)
    s, P = page.scale, page.at
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
    for dl in lines:
        _dimension(out, dl)
    for t in texts:
        out.text(t.pos, t.text, t.size, t.anchor, t.angle)
        if t.leader:
            out.line(t.leader[0], t.leader[1], STYLES["thin"])
    _frame_and_title(out, page, drawing, cluster, date, mark)
    return out.finish()


def _dimension(out: PlotBackend, dl: DimLines) -> None:
    st = STYLES["dimension"]
    for a, b in dl.extensions:
        out.line(a, b, st)
    q1, q2 = dl.line
    out.line(q1, q2, st)
    L = math.dist(q1, q2)
    if L > 1e-6:
        ux, uy = (q2[0] - q1[0]) / L, (q2[1] - q1[1]) / L
        for tip, sgn in ((q1, 1), (q2, -1)):
            bx, by = tip[0] + sgn * ux * ARROW_L, tip[1] + sgn * uy * ARROW_L
            out.polygon([tip, (bx - uy * ARROW_W, by + ux * ARROW_W), (bx + uy * ARROW_W, by - ux * ARROW_W)], "#000000")


def _frame_and_title(out: PlotBackend, page: Page, drawing: Drawing, cluster: str, date: str, mark: str = "") -> None:
    fr, th = STYLES["frame"], STYLES["thin"]
    W, H = page.W, page.H
    x0, y0, x1, y1 = MARGIN / 2, MARGIN / 2, W - MARGIN / 2, H - MARGIN / 2
    for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        out.line(a, b, fr)
    tx0, ty0, tx1, ty1 = x1 - TITLE_W, y0, x1, y0 + TITLE_H
    out.line((tx0, ty0), (tx0, ty1), fr)
    out.line((tx0, ty1), (tx1, ty1), fr)
    out.text((tx0 + 3, ty1 - 6.5), cluster, 4.0, "start")
    out.text((tx0 + 3, ty1 - 12.5), drawing.title, 3.0, "start")
    out.text((tx0 + 3, ty1 - 18.0), f"scale {scale_label(page.scale)} ({page.paper})   units mm   {date}", 2.5, "start")
    out.line((tx0, ty1 - 21.0), (tx1, ty1 - 21.0), th)
    for k, line in enumerate(title_notes(drawing)):  # the rest continue in the legend
        out.text((tx0 + 3, ty1 - 25.0 - NOTE_PITCH * k), line, NOTE_SIZE, "start")
    if mark:
        out.text((tx1 - 2, ty1 - 6.5), mark, 3.5, "end")
    else:
        out.text((tx1 - 2, ty1 - 6.5), "pirack", 2.0, "end")
