"""The one 2D geometry model every drawing and cut-file writer renders.

A flat part (a plate, the switch support's flat pattern) is a `Part2D`: one outer contour,
inner contours (holes, cut-outs), engrave regions (filled, for labels and logos) and score
lines (bend lines). Contours are chains of true lines and arcs (circles stay circles), in
millimetres, y up, so writers never approximate or compute geometry: they only map each
path's purpose to the fabricator profile's colour, width and layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Union

P = tuple[float, float]
TOL = 1e-6

Purpose = Literal["cut", "engrave", "score", "bend"]


@dataclass(frozen=True)
class Line:
    start: P
    end: P

    def length(self) -> float:
        return math.dist(self.start, self.end)

    def moved(self, dx: float, dy: float, rot: int = 0) -> "Line":
        return Line(_move(self.start, dx, dy, rot), _move(self.end, dx, dy, rot))

    def points(self) -> list[P]:
        return [self.start, self.end]


@dataclass(frozen=True)
class Arc:
    """Counter-clockwise from start_angle to end_angle (degrees) around center."""

    center: P
    radius: float
    start_angle: float
    end_angle: float

    @property
    def sweep(self) -> float:
        s = (self.end_angle - self.start_angle) % 360.0
        return 360.0 if abs(s) < TOL else s

    @property
    def start(self) -> P:
        return _polar(self.center, self.radius, self.start_angle)

    @property
    def end(self) -> P:
        return _polar(self.center, self.radius, self.end_angle)

    def length(self) -> float:
        return math.radians(self.sweep) * self.radius

    def moved(self, dx: float, dy: float, rot: int = 0) -> "Arc":
        return Arc(_move(self.center, dx, dy, rot), self.radius, self.start_angle + 90 * rot, self.end_angle + 90 * rot)

    def points(self, n: int = 8) -> list[P]:
        """Sample points (for bounding boxes and overlap tests, never for output)."""
        k = max(2, int(n * self.sweep / 90) + 1)
        return [_polar(self.center, self.radius, self.start_angle + self.sweep * i / (k - 1)) for i in range(k)]


Segment = Union[Line, Arc]


@dataclass(frozen=True)
class Circle:
    center: P
    radius: float

    @property
    def diameter(self) -> float:
        return 2 * self.radius

    def length(self) -> float:
        return 2 * math.pi * self.radius

    def is_closed(self) -> bool:
        return True

    def moved(self, dx: float, dy: float, rot: int = 0) -> "Circle":
        return Circle(_move(self.center, dx, dy, rot), self.radius)

    def bbox(self) -> tuple[float, float, float, float]:
        (x, y), r = self.center, self.radius
        return (x - r, y - r, x + r, y + r)

    def area(self) -> float:
        return math.pi * self.radius**2


@dataclass(frozen=True)
class Contour:
    """A chain of segments; closed when the last ends where the first starts."""

    segments: tuple[Segment, ...]

    def is_closed(self, tol: float = 1e-4) -> bool:
        if not self.segments:
            return False
        for a, b in zip(self.segments, self.segments[1:] + self.segments[:1]):
            if math.dist(a.end, b.start) > tol:
                return False
        return True

    def length(self) -> float:
        return sum(s.length() for s in self.segments)

    def moved(self, dx: float, dy: float, rot: int = 0) -> "Contour":
        return Contour(tuple(s.moved(dx, dy, rot) for s in self.segments))

    def sample(self) -> list[P]:
        pts: list[P] = []
        for s in self.segments:
            pts.extend(s.points()[:-1])
        return pts

    def bbox(self) -> tuple[float, float, float, float]:
        pts = [p for s in self.segments for p in s.points()]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return (min(xs), min(ys), max(xs), max(ys))

    def area(self) -> float:
        """Signed area of the sampled polygon (positive when counter-clockwise)."""
        pts = self.sample()
        return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]))


Path = Union[Contour, Circle]


@dataclass
class Part2D:
    """A flat part to cut from one sheet. `outline` is the outer cut; `holes` are inner cuts."""

    name: str
    outline: Contour
    holes: list[Path] = field(default_factory=list)
    engrave: list[Path] = field(default_factory=list)  # filled regions (text and logos as outlines)
    score: list[Contour] = field(default_factory=list)  # open or closed lines the laser scores, not cut
    # where the part is bent on a hot line after cutting: drawn in their own colour for the
    # service to see, never cut or scored (a laser score does not bend acrylic, it weakens it)
    bend: list[Contour] = field(default_factory=list)
    thickness: float = 3.0  # mm, for grouping parts per sheet
    material: str = ""  # catalog id of the sheet
    notes: dict = field(default_factory=dict)  # what a hole is for, datum, ... (for drawings, never cut)

    def paths(self) -> list[tuple[Purpose, Path]]:
        out: list[tuple[Purpose, Path]] = [("cut", self.outline)]
        out += [("cut", h) for h in self.holes]
        out += [("engrave", e) for e in self.engrave]
        out += [("score", s) for s in self.score]
        out += [("bend", b) for b in self.bend]
        return out

    def bbox(self) -> tuple[float, float, float, float]:
        return self.outline.bbox()

    @property
    def size(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bbox()
        return (x1 - x0, y1 - y0)

    def moved(self, dx: float, dy: float, rot: int = 0) -> "Part2D":
        """Rotated by rot·90° about the origin, then moved by (dx, dy)."""

        def mv(p: Path) -> Path:
            return p.moved(dx, dy, rot)

        return Part2D(
            name=self.name,
            outline=mv(self.outline),
            holes=[mv(h) for h in self.holes],
            engrave=[mv(e) for e in self.engrave],
            score=[mv(s) for s in self.score],
            bend=[mv(b) for b in self.bend],
            thickness=self.thickness,
            material=self.material,
            notes=self.notes,
        )

    def cut_length(self) -> float:
        return self.outline.length() + sum(h.length() for h in self.holes)


def rounded_rect(x0: float, y0: float, w: float, h: float, r: float) -> Contour:
    """A rectangle with corner radius r (r = 0: sharp corners), counter-clockwise from the bottom edge."""
    r = max(0.0, min(r, w / 2, h / 2))
    x1, y1 = x0 + w, y0 + h
    if r <= TOL:
        pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        return Contour(tuple(Line(a, b) for a, b in zip(pts, pts[1:] + pts[:1])))
    segs: list[Segment] = [
        Line((x0 + r, y0), (x1 - r, y0)),
        Arc((x1 - r, y0 + r), r, 270, 360),
        Line((x1, y0 + r), (x1, y1 - r)),
        Arc((x1 - r, y1 - r), r, 0, 90),
        Line((x1 - r, y1), (x0 + r, y1)),
        Arc((x0 + r, y1 - r), r, 90, 180),
        Line((x0, y1 - r), (x0, y0 + r)),
        Arc((x0 + r, y0 + r), r, 180, 270),
    ]
    return Contour(tuple(segs))


def slot(cx: float, cy: float, length: float, width: float, vertical: bool = False) -> Contour:
    """A stadium (obround) cut-out centred on (cx, cy): straight length + two half circles."""
    r = width / 2
    half = max(0.0, (length - width) / 2)
    c = rounded_rect(-half - r, -r, 2 * half + width, width, r)
    return c.moved(0, 0, 1).moved(cx, cy) if vertical else c.moved(cx, cy)


def _polar(c: P, r: float, deg: float) -> P:
    a = math.radians(deg)
    return (c[0] + r * math.cos(a), c[1] + r * math.sin(a))


def _move(p: P, dx: float, dy: float, rot: int) -> P:
    x, y = p
    for _ in range(rot % 4):
        x, y = -y, x
    return (x + dx, y + dy)
