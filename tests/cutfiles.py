"""Reading cut files back with libraries independent of the ones that wrote them, and comparing
them entity by entity with the 2D model.

    DXF  ezdxf (CIRCLE, LWPOLYLINE with bulges and the closed flag, HATCH)
    SVG  svgelements (paths with M/L/A/Z, circles, the group a path sits in)
    PDF  pypdf's content-stream parser (m/l/c/h, stroke and fill colours, paint operators)

Each reader returns `Entity` values in sheet millimetres (y up): the style it was drawn with
(a DXF layer, an SVG group id and stroke/fill colour, a PDF colour), whether it is closed in
the format's own way (DXF closed flag or CIRCLE, SVG Z or <circle>, PDF closepath), its
start, length and bounding box, and for circles centre and radius. `compare` matches the
model's paths to them one by one.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from rackdesign.geometry2d import Circle, Contour, Line

TOL = 0.01  # mm
PT = 25.4 / 72  # mm per PDF point


@dataclass
class Entity:
    style: str  # DXF layer | SVG "group:colour" | PDF colour (#rrggbb)
    closed: bool
    points: list  # dense samples along the path, in order (mm)
    length: float
    center: tuple | None = None  # circles only
    radius: float | None = None
    filled: bool = False  # part of a filled (engrave) region
    raw: dict = field(default_factory=dict)

    @property
    def start(self):
        return self.points[0]

    def bbox(self):
        xs, ys = [p[0] for p in self.points], [p[1] for p in self.points]
        return (min(xs), min(ys), max(xs), max(ys))


# --- geometry helpers (test-side, independent of the writers) ---------------------------------

def _arc_points(c, r, a0, sweep, n=64):
    return [(c[0] + r * math.cos(a0 + sweep * i / n), c[1] + r * math.sin(a0 + sweep * i / n)) for i in range(n + 1)]


def _bezier_points(p0, p1, p2, p3, n=64):
    out = []
    for i in range(n + 1):
        t = i / n
        u = 1 - t
        out.append((u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                    u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1]))
    return out


def _polyline_length(pts):
    return sum(math.dist(a, b) for a, b in zip(pts, pts[1:]))


def _join(chunks):
    pts = []
    for c in chunks:
        pts.extend(c if not pts else c[1:])
    return pts


def model_entity(path, style: str, filled: bool = False) -> Entity:
    """The 2D model's path as an Entity (exact lengths, dense samples)."""
    if isinstance(path, Circle):
        pts = _arc_points(path.center, path.radius, 0.0, 2 * math.pi)
        return Entity(style, True, pts, path.length(), path.center, path.radius, filled)
    segs = [s for s in path.segments if s.length() > 1e-9]
    chunks = []
    for s in segs:
        if isinstance(s, Line):
            chunks.append([s.start, s.end])
        else:
            chunks.append(_arc_points(s.center, s.radius, math.radians(s.start_angle), math.radians(s.sweep)))
    return Entity(style, Contour(tuple(segs)).is_closed(), _join(chunks), sum(s.length() for s in segs),
                  filled=filled)


def _circle_fit(on_curve):
    """Centre and radius if the on-curve points lie on one circle, else (None, None)."""
    cx = sum(p[0] for p in on_curve) / len(on_curve)
    cy = sum(p[1] for p in on_curve) / len(on_curve)
    rs = [math.dist((cx, cy), p) for p in on_curve]
    if len(on_curve) >= 4 and max(rs) - min(rs) < 1e-4:
        return (cx, cy), sum(rs) / len(rs)
    return None, None


# --- DXF -----------------------------------------------------------------------------------------

def read_dxf(data: bytes) -> list[Entity]:
    import ezdxf
    from ezdxf.math import bulge_to_arc

    doc = ezdxf.read(io.StringIO(data.decode()))
    out = []
    for e in doc.modelspace():
        kind = e.dxftype()
        if kind == "CIRCLE":
            c, r = (e.dxf.center.x, e.dxf.center.y), e.dxf.radius
            out.append(Entity(e.dxf.layer, True, _arc_points(c, r, 0.0, 2 * math.pi), 2 * math.pi * r, c, r))
        elif kind == "LWPOLYLINE":
            v = list(e.get_points("xyb"))
            pairs = list(zip(v, v[1:] + v[:1])) if e.closed else list(zip(v, v[1:]))
            chunks, length = [], 0.0
            for (x0, y0, b), (x1, y1, _) in pairs:
                if abs(b) < 1e-12:
                    chunks.append([(x0, y0), (x1, y1)])
                    length += math.dist((x0, y0), (x1, y1))
                    continue
                c, _, _, r = bulge_to_arc((x0, y0), (x1, y1), b)
                sweep = 4 * math.atan(b)  # signed: positive counter-clockwise
                start = math.atan2(y0 - c.y, x0 - c.x)
                chunks.append(_arc_points((c.x, c.y), r, start, sweep))
                length += abs(sweep) * r
            out.append(Entity(e.dxf.layer, bool(e.closed), _join(chunks), length))
        elif kind == "HATCH":
            out.append(Entity(e.dxf.layer, True, [(0.0, 0.0)], 0.0, filled=True, raw={"hatch": e}))
    return out


def pattern_spans(centres) -> list[float]:
    """A hole pattern's extent along x and along y, shorter first (so a pattern turned by 90°
    by the nesting measures the same)."""
    xs, ys = [c[0] for c in centres], [c[1] for c in centres]
    return sorted([max(xs) - min(xs), max(ys) - min(ys)])


def dxf_entity_keys(msp) -> list[tuple]:
    """Each CIRCLE and LWPOLYLINE of a DXF modelspace as (kind, layer, geometry rounded to
    1e-4 mm): two equal keys are one entity drawn twice (a laser would cut it twice)."""
    keys = [("C", e.dxf.layer, tuple(round(v, 4) for v in (e.dxf.center.x, e.dxf.center.y, e.dxf.radius)))
            for e in msp.query("CIRCLE")]
    keys += [("P", e.dxf.layer, tuple(tuple(round(v, 4) for v in pt) for pt in e.get_points("xyb")))
             for e in msp.query("LWPOLYLINE")]
    return keys


# --- SVG -----------------------------------------------------------------------------------------

def read_svg(data: bytes, sheet_w: float, sheet_h: float) -> list[Entity]:
    import svgelements as se

    svg = se.SVG.parse(io.BytesIO(data), reify=True)
    k = sheet_w / svg.width  # user units (viewBox mm) from svgelements' pixels

    def P(p):
        return (p.x * k, sheet_h - p.y * k)

    out = []
    for group in svg:
        if not isinstance(group, se.Group):
            continue
        for e in group:
            colour = (e.stroke if e.stroke is not None and e.stroke.value is not None else e.fill)
            style = f"{group.id}:{colour.hex[:7] if colour is not None else None}"
            filled = e.fill is not None and e.fill.value is not None
            if isinstance(e, se.Circle):
                c, r = P(se.Point(e.cx, e.cy)), e.rx * k
                out.append(Entity(style, True, _arc_points(c, r, 0.0, 2 * math.pi), 2 * math.pi * r, c, r, filled))
            elif isinstance(e, se.Path):
                out += _svg_subpaths(e, style, filled, P, k)
    return out


def _svg_subpaths(path, style, filled, P, k) -> list[Entity]:
    import svgelements as se

    out = []
    for sub in path.as_subpaths():
        segs = list(se.Path(sub).segments())
        chunks, length, closed = [], 0.0, False
        for s in segs:
            if isinstance(s, se.Move):
                continue
            if isinstance(s, se.Close):
                closed = True
                if math.dist(P(s.start), P(s.end)) > 1e-9:  # Z drawing a last side
                    chunks.append([P(s.start), P(s.end)])
                    length += s.length() * k
                continue
            chunks.append([P(s.point(t / 64)) for t in range(65)] if isinstance(s, se.Arc) else [P(s.start), P(s.end)])
            length += s.length(error=1e-9) * k
        out.append(Entity(style, closed, _join(chunks), length, filled=filled))
    return out


# --- PDF -----------------------------------------------------------------------------------------

def _hex(rgb) -> str:
    return "#" + "".join(f"{round(float(v) * 255):02x}" for v in rgb)


def read_pdf(data: bytes) -> list[Entity]:
    """Every painted subpath of the first page: stroked ones in the stroke colour, filled ones
    in the fill colour."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    ops = ContentStream(page.get_contents(), reader).operations
    out: list[Entity] = []
    state = {"RG": "#000000", "rg": "#000000"}
    subs: list[dict] = []
    for args, op in ops:
        op = op.decode()
        if op in ("RG", "rg"):
            state[op] = _hex(args)
        elif op == "m":
            subs.append({"pts": [(float(args[0]) * PT, float(args[1]) * PT)], "chunks": [], "on": [], "closed": False})
            subs[-1]["on"].append(subs[-1]["pts"][0])
        elif op == "l":
            _pdf_line(subs[-1], (float(args[0]) * PT, float(args[1]) * PT))
        elif op == "c":
            _pdf_curve(subs[-1], [(float(args[i]) * PT, float(args[i + 1]) * PT) for i in (0, 2, 4)])
        elif op == "h":
            subs[-1]["closed"] = True
        elif op in ("S", "s", "f", "f*", "B", "B*", "n"):
            if op != "n":
                stroke = op in ("S", "s", "B", "B*")
                for sub in subs:
                    out.append(_pdf_entity(sub, state["RG" if stroke else "rg"], not stroke, op == "s"))
            subs = []
    return out


def _pdf_line(sub, p):
    sub["chunks"].append([sub["pts"][-1], p])
    sub["pts"].append(p)
    sub["on"].append(p)


def _pdf_curve(sub, ctrl):
    sub["chunks"].append(_bezier_points(sub["pts"][-1], *ctrl))
    sub["pts"].append(ctrl[2])
    sub["on"].append(ctrl[2])


def _pdf_entity(sub, colour, filled, close_op) -> Entity:
    closed = sub["closed"] or close_op
    pts = _join(sub["chunks"]) or sub["pts"]
    if closed and math.dist(pts[0], pts[-1]) > 1e-9:  # closepath draws the last side
        pts = pts + [pts[0]]
    c, r = (None, None)
    if closed and sub["chunks"] and all(len(ch) > 2 for ch in sub["chunks"]):
        c, r = _circle_fit(sub["on"][:-1] if math.dist(sub["on"][0], sub["on"][-1]) < 1e-6 else sub["on"])
    return Entity(colour, closed, pts, _polyline_length(pts), c, r, filled)


# --- comparing -----------------------------------------------------------------------------------

def same(model: Entity, found: Entity, tol: float = TOL) -> bool:
    """The same path: closed alike, same length, same start (or for a circle: centre and
    radius) and the same bounding box, within tol."""
    if model.closed != found.closed or abs(model.length - found.length) > tol:
        return False
    if model.center is not None:
        return (found.center is not None and math.dist(model.center, found.center) <= tol
                and abs(model.radius - found.radius) <= tol)
    if not model.closed and math.dist(model.start, found.start) > tol:
        return False
    return all(abs(a - b) <= tol for a, b in zip(model.bbox(), found.bbox()))


def compare(model: list[Entity], found: list[Entity], tol: float = TOL) -> list[str]:
    """Problems, empty when every model entity is found once with its style and nothing else is there."""
    problems = []
    left = list(found)
    for m in model:
        hit = next((f for f in left if f.style == m.style and same(m, f, tol)), None)
        if hit is None:
            near = [f for f in left if same(m, f, tol)]
            why = f"drawn as {near[0].style}" if near else "not found"
            problems.append(f"{m.style} {'closed' if m.closed else 'open'} path from {tuple(round(v, 3) for v in m.start)}, "
                            f"length {m.length:.3f}: {why}")
            continue
        left.remove(hit)
    problems += [f"extra {f.style} {'closed' if f.closed else 'open'} path at {tuple(round(v, 3) for v in f.start)}, "
                 f"length {f.length:.3f}" for f in left]
    return problems
