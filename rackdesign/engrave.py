"""Engraving: plate labels and an optional SVG logo, as filled outlines in a plate's free space.

Text becomes glyph outlines from a real font (IPAGothic, through matplotlib's TextPath), never
text objects, because laser services cannot be trusted to have our fonts. Free space is the
plate shrunk by a margin minus every hole grown by the same margin (shapely), so engraving
never touches a cut.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable

from pirack.errors import InputError

from .geometry2d import Circle, Contour, Line, P, Part2D
from .geometry2d import Path as CutPath

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry
    from svgelements import Color, Shape, Subpath

    from pirack.load import LoadedCluster

Ring = list[P]  # a closed polygon's points (the last joins the first)

FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
LABEL_SIZES = (3.0, 2.2)  # cap height in mm: try the first, fall back to the smaller
MARGIN = 2.0  # engraving to any cut, mm
LOGO_KEY = "rack.engraving.logo"
LOGO_MAX_BYTES = 2 << 20  # a logo is a few KB; 2 MiB leaves room for a traced bitmap


def add_engraving(parts: list[Part2D], lc: LoadedCluster, warn: Callable[[str], None] | None = None) -> list[Part2D]:
    """Return the parts with labels (rack.engraving.labels) and the logo (rack.engraving.logo) added."""
    eng = lc.spec.rack.engraving
    out = list(parts)
    if eng.logo:
        out = _place_logo(out, lc)
    if eng.labels:
        for i, p in enumerate(out):
            text = label_text(p)
            placed = None
            for size in LABEL_SIZES:
                placed = place_polygons(p, text_polygons(text, size), prefer="bottom")
                if placed:
                    break
            if placed:
                out[i] = replace(p, engrave=list(p.engrave) + placed)
            elif warn:
                warn(f"plate '{p.name}': no free space for its label '{text}'; left unlabelled")
    return out


def label_text(p: Part2D) -> str:
    node = p.notes.get("node") or ", ".join(p.notes.get("nodes", []) or [])
    return f"{p.name} {node}" if node and node not in p.name else p.name


# --- outlines --------------------------------------------------------------------------------

def text_polygons(text: str, cap_height: float) -> list[Ring]:
    """Glyph outlines of `text` (lower-left at 0, 0), as closed polygons in mm."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    prop = FontProperties(fname=FONT)
    tp = TextPath((0, 0), text, size=cap_height / 0.72, prop=prop)
    polys = [[(float(x), float(y)) for x, y in poly] for poly in tp.to_polygons(closed_only=True)]
    return _normalise(polys)


def logo_file(base: Path, logo: str) -> Path:
    """The file rack.engraving.logo names: as written when absolute, else in the cluster file's folder."""
    path = Path(logo)
    return path if path.is_absolute() else base / path


def read_logo(base: Path, logo: str, display: str) -> tuple[Path, bytes]:
    """The logo file (relative to the cluster file's folder) and its bytes, read only once it
    is known to be a regular file under LOGO_MAX_BYTES (/dev/zero never ends, a FIFO blocks
    forever) and then only if it is an SVG. InputError naming rack.engraving.logo otherwise."""
    from pirack.errors import escape
    from pirack.paths import read_input

    path = logo_file(base, logo)
    data = read_input(path, LOGO_MAX_BYTES, display, LOGO_KEY,
                      missing="no such file (an SVG logo, relative to the cluster file)")
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or b"<svg" not in data:
        raise InputError(display, LOGO_KEY, f"{escape(str(path))}: not an SVG file (no <svg> element)")
    return path, data


def svg_polygons(path: str | Path | BinaryIO, width: float) -> list[list[tuple[float, float]]]:
    """The filled shapes of an SVG file as closed polygons (outer rings and their holes, for an
    even-odd fill), scaled to `width` mm, y up. Shapes filled white are cut out of what is
    under them, as the logo looks on screen."""
    from svgelements import SVG, Shape

    svg = SVG.parse(path if hasattr(path, "read") else str(path))  # a file name or the logo's bytes as a stream
    region = None
    for el in svg.elements():
        if not isinstance(el, Shape) or el.fill is None or el.fill.value is None:
            continue
        shape = _filled_shape(el)
        if shape is not None and not shape.is_empty:
            region = _paint(region, shape, light=_is_light(el.fill))
    if region is None or region.is_empty:
        return []
    return _normalise(_rings(region, width))


def _filled_shape(el: Shape):
    """One SVG shape as a shapely geometry: its subpaths combined even-odd, curves in 0.5 mm steps."""
    from shapely.geometry import Polygon
    from svgelements import Path as SPath

    shape = None
    for sub in SPath(el).as_subpaths():
        pts = _subpath_points(sub)
        if len(pts) >= 3:
            poly = Polygon(pts).buffer(0)
            shape = poly if shape is None else shape.symmetric_difference(poly)
    return shape


def _subpath_points(sub: Subpath) -> list[tuple[float, float]]:
    import numpy as np
    from svgelements import Close, Line as SLine, Move

    pts: list[tuple[float, float]] = []
    for seg in sub:
        if isinstance(seg, (Move, SLine, Close)):
            if seg.end is not None:
                pts.append((seg.end.x, -seg.end.y))  # SVG is y down
        elif seg.start is not None and seg.end is not None:
            n = max(4, int(seg.length(error=1e-3) / 0.5) + 1)
            pts.extend((float(q[0]), -float(q[1])) for q in seg.npoint(np.linspace(0, 1, n)[1:]))
    return pts


def _is_light(fill: Color) -> bool:
    from svgelements import Color

    return Color(fill).distance_to(Color("white")) < 40


def _paint(region: BaseGeometry | None, shape: BaseGeometry, light: bool):
    """Dark shapes add to what is engraved; light ones cut out of what is under them."""
    if light:
        return region.difference(shape) if region is not None else None
    return shape if region is None else region.union(shape)


def _rings(region: BaseGeometry, width: float) -> list[Ring]:
    """The region scaled to `width` mm wide, as outer rings and hole rings."""
    import shapely
    from shapely.geometry import Polygon

    x0, _, x1, _ = region.bounds
    k = width / (x1 - x0) if x1 > x0 else 1.0
    region = shapely.affinity.scale(region, k, k, origin=(0, 0))
    polys: list[Ring] = []
    for g in getattr(region, "geoms", [region]):
        if isinstance(g, Polygon):
            polys.append(list(g.exterior.coords))
            polys.extend(list(r.coords) for r in g.interiors)
    return polys


def _normalise(polys: list[Ring]) -> list[Ring]:
    """Move to the origin and drop repeated points; each polygon closed implicitly."""
    if not polys:
        return polys
    x0 = min(x for p in polys for x, _ in p)
    y0 = min(y for p in polys for _, y in p)
    out = []
    for p in polys:
        q = []
        for x, y in p:
            pt = (x - x0, y - y0)
            if not q or math.dist(q[-1], pt) > 1e-6:
                q.append(pt)
        while len(q) > 1 and math.dist(q[0], q[-1]) <= 1e-6:
            q.pop()
        if len(q) >= 3:
            out.append(q)
    return out


def polygon_contour(poly: Ring, dx: float = 0.0, dy: float = 0.0) -> Contour:
    pts = [(x + dx, y + dy) for x, y in poly]
    return Contour(tuple(Line(a, b) for a, b in zip(pts, pts[1:] + pts[:1])))


# --- free space ------------------------------------------------------------------------------

def _shape(path: CutPath, res: int = 16) -> BaseGeometry:
    from shapely.geometry import Point, Polygon

    if isinstance(path, Circle):
        return Point(path.center).buffer(path.radius, quad_segs=res)
    pts = []
    for s in path.segments:
        pts.extend(s.points(res)[:-1] if not isinstance(s, Line) else [s.start])
    return Polygon(pts).buffer(0)


def free_space(p: Part2D, margin: float = MARGIN):
    """Where engraving may go on a plate: inside the outline by `margin`, `margin` clear of holes
    and of engraving already there."""
    from shapely.ops import unary_union

    inner = _shape(p.outline).buffer(-margin)
    blocked = [_shape(h).buffer(margin) for h in p.holes] + [_shape(e).buffer(margin) for e in p.engrave]
    return inner.difference(unary_union(blocked)) if blocked else inner


def place_polygons(p: Part2D, polys: list[Ring], prefer: str = "bottom", step: float = 0.5) -> list[Contour] | None:
    """Find a spot for a group of polygons in the plate's free space; return them as contours
    placed there, or None. prefer='bottom': nearest the middle of the lower edge (labels);
    'clear': the spot with the most room around it (logos)."""
    import numpy as np
    import shapely

    if not polys:
        return []
    w = max(x for q in polys for x, _ in q)
    h = max(y for q in polys for _, y in q)
    free = free_space(p)
    if free.is_empty:
        return None
    fx0, fy0, fx1, fy1 = free.bounds
    xs = np.arange(fx0, fx1 - w + 1e-9, step)
    ys = np.arange(fy0, fy1 - h + 1e-9, step)
    if not len(xs) or not len(ys):
        return None
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    shapely.prepare(free)
    if prefer == "clear":
        boxes = shapely.box(gx, gy, gx + w, gy + h)
        ok = shapely.contains(free, boxes)
        if not ok.any():
            return None
        gx, gy = gx[ok], gy[ok]
        # most room: the box centre farthest from the free space's edge
        room = shapely.distance(shapely.points(gx + w / 2, gy + h / 2), free.boundary)
        i = int(np.argmax(room))
    else:
        px0, py0, px1, _ = p.bbox()
        order = np.argsort((gx - ((px0 + px1) / 2 - w / 2)) ** 2 + (gy - py0) ** 2, kind="stable")
        gx, gy = gx[order], gy[order]
        i = -1
        for k in range(0, len(gx), 256):  # nearest candidates first: usually the first chunk fits
            ok = shapely.contains(free, shapely.box(gx[k:k + 256], gy[k:k + 256], gx[k:k + 256] + w, gy[k:k + 256] + h))
            if ok.any():
                i = k + int(np.argmax(ok))
                break
        if i < 0:
            return None
    return [polygon_contour(q, float(gx[i]), float(gy[i])) for q in polys]


def logo_polygons(lc: LoadedCluster) -> tuple[Path, float, list[Ring]]:
    """The cluster's logo (rack.engraving.logo, which must be set) as filled polygons at its
    width: (path, width in mm, polygons). InputError naming the key for any file that is not
    an SVG with filled shapes. Cheap: an export calls it before the design work starts, so a bad
    logo is bad input at once, not after the checks."""
    import io

    from pirack.units import mm

    eng = lc.spec.rack.engraving
    path, data = read_logo(lc.base_dir, eng.logo, lc.display)
    width = mm(eng.logo_width)
    try:
        polys = svg_polygons(io.BytesIO(data), width)
    except Exception as exc:  # svgelements raises many kinds on broken files
        raise InputError(lc.display, LOGO_KEY, f"{path}: not a readable SVG ({exc})") from None
    if not polys:
        raise InputError(lc.display, LOGO_KEY, f"{path}: the SVG has no filled shapes to engrave")
    return path, width, polys


def _place_logo(parts: list[Part2D], lc: LoadedCluster) -> list[Part2D]:
    path, width, polys = logo_polygons(lc)
    key = LOGO_KEY
    import shapely

    best = None
    for i, p in enumerate(parts):
        placed = place_polygons(p, polys, prefer="clear", step=1.0)
        if placed:
            room = shapely.area(free_space(p))
            if best is None or room > best[0]:
                best = (room, i, placed)
    if best is None:
        h = max(y for q in polys for _, y in q)
        raise InputError(lc.display, key, f"{path}: the logo ({width:g} x {h:.1f} mm) does not fit the free space "
                                          f"of any plate; make rack.engraving.logo_width smaller")
    _, i, placed = best
    out = list(parts)
    out[i] = replace(parts[i], engrave=list(parts[i].engrave) + placed)
    return out
