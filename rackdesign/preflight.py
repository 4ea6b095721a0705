"""Preflight: what a laser service would reject or cut wrongly, found before anything is written.

Each finding names the plate and the feature: a plate larger than the sheet, a hole under the
profile's minimum hole, a web (hole to hole, hole to edge) under the minimum web, an open
contour, a duplicate or overlapping line. `rack export` exits 1 on any finding.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Iterator

from pirack.catalog import Fabricator
from pirack.errors import WorkFailed

from .geometry2d import Arc, Circle, Contour, Line, Part2D, Path
from .nesting import fits_sheet

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

EPS = 1e-6


@dataclass(frozen=True)
class PreflightProblem:
    """Something in a cut file a laser service would reject (not a design check's Finding)."""

    plate: str
    feature: str
    message: str

    def __str__(self) -> str:
        return f"plate '{self.plate}': {self.feature}: {self.message}"


class PreflightFailed(WorkFailed):
    """The export stops before anything is written: one line per problem."""

    def __init__(self, problems: list[PreflightProblem]):
        super().__init__(f"preflight: {len(problems)} problem(s) a laser service would reject; nothing written",
                         details=[str(p) for p in problems], data={"problems": [asdict(p) for p in problems]})
        self.problems = problems


def hole_name(part: Part2D, i: int) -> str:
    """'hole 3 (Ø2.7 at 61.5, 3.5)', with the model's name for it when it gave one."""
    h = part.holes[i]
    names = part.notes.get("hole_names") or part.notes.get("holes")
    given = None
    if isinstance(names, (list, tuple)) and i < len(names):
        given = names[i]
    elif isinstance(names, dict):
        given = names.get(i)
    if isinstance(given, dict):  # plates.py: {"kind", "thread", "node", "column", ...}
        given = " ".join(str(given[k]) for k in ("kind", "thread", "node", "column") if given.get(k))
    if isinstance(h, Circle):
        what = f"Ø{h.diameter:.2f} at {h.center[0]:.2f}, {h.center[1]:.2f}"
    else:
        x0, y0, x1, y1 = h.bbox()
        what = f"cut-out {x1 - x0:.2f} x {y1 - y0:.2f} at {x0:.2f}, {y0:.2f}"
    return f"hole {i + 1}{' [' + str(given) + ']' if given else ''} ({what})"


def preflight(parts: list[Part2D], profile: Fabricator) -> list[PreflightProblem]:
    from pirack.units import mm

    W, H, spacing = mm(profile.sheet_width), mm(profile.sheet_height), mm(profile.spacing)
    out: list[PreflightProblem] = []
    for p in parts:
        t = p.thickness
        min_hole, min_web = profile.min_hole.at(t), profile.min_web.at(t)
        # open contours first: the other checks need closed shapes
        open_found = False
        for feature, c in _contours(p):
            if isinstance(c, Contour) and not c.is_closed():
                gap = math.dist(c.segments[-1].end, c.segments[0].start) if c.segments else 0.0
                out.append(PreflightProblem(p.name, feature, f"open contour (its ends are {gap:.3f} mm apart): a laser "
                                                    "service needs every cut path closed"))
                open_found = True
        w, h = p.size
        if not fits_sheet((w, h), W, H, spacing):
            out.append(PreflightProblem(p.name, "outline", f"{w:.1f} x {h:.1f} mm is larger than the {W:g} x {H:g} mm sheet of "
                                                  f"'{profile.id}' (with {spacing:g} mm to the edges)"))
        out += _duplicates(p)
        if open_found:
            continue
        for i, hole in enumerate(p.holes):
            size = _hole_size(hole)
            if size < min_hole - EPS:
                out.append(PreflightProblem(p.name, hole_name(p, i), f"{size:.2f} mm is under the minimum hole {min_hole:.2f} mm "
                                                           f"for {t:g} mm material ('{profile.id}')"))
        out += _webs(p, min_web, profile.id)
    return out


def _contours(p: Part2D) -> Iterator[tuple[str, Path]]:
    yield "outline", p.outline
    for i, h in enumerate(p.holes):
        yield hole_name(p, i), h
    for i, e in enumerate(p.engrave):
        yield f"engrave region {i + 1}", e


def _hole_size(hole: Path) -> float:
    if isinstance(hole, Circle):
        return hole.diameter
    r = _shape(hole).minimum_rotated_rectangle
    xs, ys = r.exterior.coords.xy
    sides = [math.dist((xs[i], ys[i]), (xs[i + 1], ys[i + 1])) for i in range(len(xs) - 1)]
    return min(sides) if sides else 0.0


def _shape(path: Path, res: int = 64) -> BaseGeometry:
    from shapely.geometry import Point, Polygon

    if isinstance(path, Circle):
        return Point(path.center).buffer(path.radius, quad_segs=res)
    pts = []
    for s in path.segments:
        pts.extend(s.points(res)[:-1] if isinstance(s, Arc) else [s.start])
    return Polygon(pts).buffer(0)


def _webs(p: Part2D, min_web: float, profile_id: str) -> list[PreflightProblem]:
    """Material left between two holes, and between a hole and the plate's edge."""
    out = []
    outline = _shape(p.outline)
    edge = outline.exterior
    shapes = [_shape(h) for h in p.holes]
    for i, (h, s) in enumerate(zip(p.holes, shapes)):
        if not outline.contains(s):
            out.append(PreflightProblem(p.name, hole_name(p, i), "crosses or lies outside the plate's outline"))
            continue
        web = edge.distance(s)
        if web < min_web - 1e-3:
            out.append(PreflightProblem(p.name, f"{hole_name(p, i)} to the edge",
                               f"web {web:.2f} mm is under the minimum web {min_web:.2f} mm ('{profile_id}')"))
    for i in range(len(p.holes)):
        for j in range(i + 1, len(p.holes)):
            a, b = p.holes[i], p.holes[j]
            if isinstance(a, Circle) and isinstance(b, Circle):
                web = max(0.0, math.dist(a.center, b.center) - a.radius - b.radius)  # exact for circles
            else:
                web = shapes[i].distance(shapes[j])
            if web < min_web - 1e-3:
                what = "overlap" if web <= 0 else f"web {web:.2f} mm is under the minimum web {min_web:.2f} mm ('{profile_id}')"
                out.append(PreflightProblem(p.name, f"{hole_name(p, i)} to {hole_name(p, j)}", what))
    return out


def _key(v: float) -> float:
    return round(v, 3) + 0.0


def _duplicates(p: Part2D) -> list[PreflightProblem]:
    """The same cut twice: identical segments or circles, or collinear lines that overlap."""
    out = []
    seen: dict = {}
    lines: list[tuple[str, Line]] = []
    cut = [("outline", p.outline)] + [(hole_name(p, i), h) for i, h in enumerate(p.holes)]
    for feature, path in cut:
        if isinstance(path, Circle):
            items = [("circle", _key(path.center[0]), _key(path.center[1]), _key(path.radius))]
        else:
            items = []
            for s in path.segments:
                if isinstance(s, Line):
                    if s.length() < 1e-9:
                        continue
                    a, b = sorted([(_key(s.start[0]), _key(s.start[1])), (_key(s.end[0]), _key(s.end[1]))])
                    items.append(("line", a, b))
                    lines.append((feature, s))
                else:
                    items.append(("arc", _key(s.center[0]), _key(s.center[1]), _key(s.radius),
                                  _key(s.start_angle % 360), _key(s.sweep)))
        for k in items:
            if k in seen:
                out.append(PreflightProblem(p.name, feature, f"duplicate {k[0]} (also in {seen[k]}): the laser would cut it twice"))
            else:
                seen[k] = feature
    reported = {(f.feature) for f in out}
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            fa, a = lines[i]
            fb, b = lines[j]
            ov = _collinear_overlap(a, b)
            if ov > 1e-3 and fa not in reported:
                out.append(PreflightProblem(p.name, fa, f"overlapping line ({ov:.2f} mm shared with {fb}): the laser would cut it twice"))
                reported.add(fa)
    return out


def _collinear_overlap(a: Line, b: Line) -> float:
    (x0, y0), (x1, y1) = a.start, a.end
    L = math.dist(a.start, a.end)
    ux, uy = (x1 - x0) / L, (y1 - y0) / L
    for q in (b.start, b.end):  # both ends of b on a's infinite line
        if abs((q[0] - x0) * uy - (q[1] - y0) * ux) > 1e-4:
            return 0.0
    t = sorted(((q[0] - x0) * ux + (q[1] - y0) * uy) for q in (b.start, b.end))
    lo, hi = max(0.0, t[0]), min(L, t[1])
    return max(0.0, hi - lo)
