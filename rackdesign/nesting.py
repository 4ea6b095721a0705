"""Laying flat parts out on the fabricator's sheets, and kerf compensation.

Parts are grouped per material and thickness (one material per cut file), then packed with
rectpack (maxrects, 90° rotations allowed) as bounding boxes grown by the profile's spacing,
so two parts never share an edge and the laser never cuts a line twice. A part larger than
the sheet is a preflight finding; `nest` refuses it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .geometry2d import TOL, Arc, Circle, Contour, Line, P, Part2D, Path, Segment

_Q = 100  # rectpack works best on integers: pack in hundredths of a millimetre


@dataclass
class CutSheet:
    """One sheet of a cut job, of one material: the parts placed on it, in sheet coordinates
    (mm, y up). Not the catalog's material (pirack.catalog.Sheet): one of the pieces a cut
    file shows."""

    material: str
    thickness: float
    index: int  # 1-based within its material
    width: float
    height: float
    parts: list[Part2D] = field(default_factory=list)
    rotated: dict[str, bool] = field(default_factory=dict)  # part name -> turned by 90°

    @property
    def name(self) -> str:
        return f"cut-{material_slug(self.material, self.thickness)}-sheet-{self.index}"

    def used_bbox(self) -> tuple[float, float, float, float]:
        """The rectangle around the parts on this sheet (what an artboard-billing service charges)."""
        boxes = [p.bbox() for p in self.parts]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def material_slug(material: str, thickness: float) -> str:
    base = material or "sheet"
    t = f"{thickness:g}mm"
    return base if base.endswith(t) else f"{base}-{t}"


def fits_sheet(size: tuple[float, float], sheet_w: float, sheet_h: float, spacing: float) -> bool:
    """True if a part of this size fits the sheet (either way round) with `spacing` to every edge."""
    w, h = size
    W, H = sheet_w - 2 * spacing, sheet_h - 2 * spacing
    return (w <= W + TOL and h <= H + TOL) or (h <= W + TOL and w <= H + TOL)


def nest(parts: list[Part2D], sheet_w: float, sheet_h: float, spacing: float) -> list[CutSheet]:
    """Place every part on as many sheets as needed, per (material, thickness), in a stable order."""
    import rectpack

    groups: dict[tuple[str, float], list[Part2D]] = {}
    for p in parts:
        groups.setdefault((p.material, round(p.thickness, 3)), []).append(p)
    sheets: list[CutSheet] = []
    for (material, thickness), group in sorted(groups.items()):
        for p in group:
            if not fits_sheet(p.size, sheet_w, sheet_h, spacing):
                raise ValueError(f"plate '{p.name}' ({p.size[0]:.1f} x {p.size[1]:.1f} mm) does not fit the "
                                 f"{sheet_w:g} x {sheet_h:g} mm sheet")
        # Each rectangle is the part's box plus one spacing; the bin is the sheet minus one spacing,
        # and parts sit one spacing in from the rectangle's corner: gaps ≥ spacing everywhere.
        packer = rectpack.newPacker(rotation=True, pack_algo=rectpack.MaxRectsBssf, sort_algo=rectpack.SORT_AREA)
        for i, p in enumerate(group):
            w, h = p.size
            packer.add_rect(math.ceil((w + spacing) * _Q), math.ceil((h + spacing) * _Q), i)
        packer.add_bin(int((sheet_w - spacing) * _Q), int((sheet_h - spacing) * _Q), count=float("inf"))
        packer.pack()
        placed: dict[int, list[Part2D]] = {}
        rotated: dict[int, dict[str, bool]] = {}
        for b, x, y, w, h, i in sorted(packer.rect_list(), key=lambda r: (r[0], r[5])):
            p = group[i]
            pw, ph = p.size
            turn = w != math.ceil((pw + spacing) * _Q)  # rectpack swapped the sides: turned by 90°
            q = p.moved(0, 0, 1) if turn else p
            x0, y0, _, _ = q.bbox()
            q = q.moved(x / _Q + spacing - x0, y / _Q + spacing - y0)
            placed.setdefault(b, []).append(q)
            rotated.setdefault(b, {})[p.name] = turn
        if sum(len(v) for v in placed.values()) != len(group):
            raise RuntimeError("rectpack left parts unplaced")  # cannot happen with an unlimited bin count
        for n, b in enumerate(sorted(placed), start=1):
            sheets.append(CutSheet(material, thickness, n, sheet_w, sheet_h, placed[b], rotated[b]))
    return sheets


# --- kerf compensation -------------------------------------------------------------------------

def compensate_kerf(part: Part2D, kerf: float) -> Part2D:
    """The laser burns kerf/2 either side of the path: move the outline out and every hole in by
    kerf/2 so the cut part has its drawn size. Arcs stay arcs (their radius changes)."""
    d = kerf / 2
    if d <= 0:
        return part
    return Part2D(
        name=part.name,
        outline=offset_contour(part.outline, d),
        holes=[offset_path(h, -d) for h in part.holes],
        engrave=list(part.engrave),
        score=list(part.score),
        bend=list(part.bend),
        thickness=part.thickness,
        material=part.material,
        notes=part.notes,
    )


def offset_path(path: Path, d: float) -> Path:
    """Offset a closed path away from the region it encloses by d (negative: into it)."""
    if isinstance(path, Circle):
        if path.radius + d <= 0:
            raise ValueError(f"a Ø{path.diameter:.2f} mm hole is smaller than the kerf")
        return Circle(path.center, path.radius + d)
    return offset_contour(path, d)


def offset_contour(c: Contour, d: float) -> Contour:
    """Offset a closed chain of lines and arcs by d away from its enclosed region.

    Tangent joins (a rounded rectangle, a slot) stay joined; line-line corners are extended to
    their new intersection; any other corner gets a round join about the old vertex."""
    c = Contour(tuple(s for s in c.segments if s.length() > 1e-9))  # slot() leaves zero-length sides
    ccw = c.area() > 0
    moved = [_offset_segment(s, d, 1.0 if ccw else -1.0) for s in c.segments]
    starts, ends, joins = _join_corners(c, moved, d, ccw)
    out: list[Segment] = []
    for i, seg in enumerate(moved):
        out.append(Line(starts[i], ends[i]) if isinstance(seg, Line) else seg)
        if i in joins:
            out.append(joins[i])
    return Contour(tuple(out))


def _offset_segment(s: Segment, d: float, out_sign: float) -> Segment:
    """One side moved by d along its outward normal (an arc: its radius changed by d)."""
    if isinstance(s, Line):
        (x0, y0), (x1, y1) = s.start, s.end
        L = math.dist(s.start, s.end)
        nx, ny = (y1 - y0) / L * out_sign, -(x1 - x0) / L * out_sign  # outward normal
        return Line((x0 + nx * d, y0 + ny * d), (x1 + nx * d, y1 + ny * d))
    # Arcs run counter-clockwise: convex on a CCW contour (grow), concave on a CW one.
    r = s.radius + d * out_sign
    if r <= TOL:
        raise ValueError(f"an arc of radius {s.radius:.2f} mm is smaller than the kerf")
    return Arc(s.center, r, s.start_angle, s.end_angle)


def _join_corners(c: Contour, moved: list[Segment], d: float,
                  ccw: bool) -> tuple[list[P], list[P], dict[int, Arc]]:
    """Where each moved side now starts and ends, and the round join (if any) after side i."""
    n = len(moved)
    starts = [seg.start for seg in moved]
    ends = [seg.end for seg in moved]
    joins: dict[int, Arc] = {}
    for i in range(n):
        a, b = moved[i], moved[(i + 1) % n]
        p = _meeting_point(a, b)
        if p is not None:
            ends[i] = starts[(i + 1) % n] = p
            continue
        joins[i] = _round_join(c.segments[i].end, a, b, d, ccw)
    return starts, ends, joins


def _meeting_point(a: Segment, b: Segment) -> P | None:
    """Where two moved sides meet: where they still touch (a tangent join), or where two lines
    now intersect (both end there); None when the corner needs a round join."""
    if math.dist(a.end, b.start) < 1e-6:
        return a.end if isinstance(a, Arc) else b.start
    if isinstance(a, Line) and isinstance(b, Line):
        return _intersect(a, b)
    return None


def _round_join(vertex: P, a: Segment, b: Segment, d: float, ccw: bool) -> Arc:
    """An arc of radius |d| about the old vertex, from the end of side a to the start of side b."""
    a0 = math.degrees(math.atan2(a.end[1] - vertex[1], a.end[0] - vertex[0]))
    a1 = math.degrees(math.atan2(b.start[1] - vertex[1], b.start[0] - vertex[0]))
    return Arc(vertex, abs(d), a0, a1) if (d > 0) == ccw else Arc(vertex, abs(d), a1, a0)


def _intersect(a: Line, b: Line) -> P | None:
    (x1, y1), (x2, y2) = a.start, a.end
    (x3, y3), (x4, y4) = b.start, b.end
    den = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
    if abs(den) < 1e-12:
        return None
    t = ((x1 - x3) * (y3 - y4) - (y1 - y3) * (x3 - x4)) / den
    return (x1 + t * (x2 - x1), y1 + t * (y2 - y1))
