"""The rack frame: points, boxes and quarter-turn placements, in millimetres.

Frame: x to the right, y to the back, z up; the origin is the front-left corner of the base
plate's bottom face. Catalog lengths are pint quantities; rackdesign converts each part to
millimetre floats once (rackdesign.partspec) and works in `Mm` from there on.
"""

from __future__ import annotations

import math
from typing import NamedTuple, TypeAlias

Mm: TypeAlias = float  # a length in millimetres
Point3: TypeAlias = tuple[Mm, Mm, Mm]
# Quarter turns about the part's own axes, applied in order, then the move: (("z", -90),)
Rotation: TypeAlias = tuple[tuple[str, float], ...]


class Rect(NamedTuple):
    """An axis-aligned rectangle in the plan (x, y)."""

    x0: Mm
    y0: Mm
    x1: Mm
    y1: Mm


class Box(NamedTuple):
    """An axis-aligned box: a part's extent in its own frame, or placed in the rack frame."""

    x0: Mm
    y0: Mm
    z0: Mm
    x1: Mm
    y1: Mm
    z1: Mm

    @property
    def width(self) -> Mm:
        return self.x1 - self.x0

    @property
    def depth(self) -> Mm:
        return self.y1 - self.y0

    @property
    def height(self) -> Mm:
        return self.z1 - self.z0

    @property
    def plan(self) -> Rect:
        """Its footprint seen from above."""
        return Rect(self.x0, self.y0, self.x1, self.y1)

    def moved(self, dx: Mm = 0.0, dy: Mm = 0.0, dz: Mm = 0.0) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.z0 + dz, self.x1 + dx, self.y1 + dy, self.z1 + dz)

    @staticmethod
    def around(boxes: list[Box]) -> Box:
        """The smallest box holding all of `boxes`."""
        return Box(min(b.x0 for b in boxes), min(b.y0 for b in boxes), min(b.z0 for b in boxes),
                   max(b.x1 for b in boxes), max(b.y1 for b in boxes), max(b.z1 for b in boxes))


def rotate_point(p: Point3, axis: str, deg: float) -> Point3:
    """`p` turned by `deg` degrees about the frame's `axis` ("x", "y" or "z") through the origin."""
    x, y, z = p
    a = math.radians(deg)
    c, s = round(math.cos(a), 12), round(math.sin(a), 12)
    if axis == "x":
        return (x, y * c - z * s, y * s + z * c)
    if axis == "y":
        return (x * c + z * s, y, -x * s + z * c)
    return (x * c - y * s, x * s + y * c, z)


def transform(p: Point3, pos: Point3, rot: Rotation = ()) -> Point3:
    """A point of a part's own frame in the rack frame: the part's turns in order, then its move."""
    for axis, deg in rot:
        p = rotate_point(p, axis, deg)
    return (p[0] + pos[0], p[1] + pos[1], p[2] + pos[2])


def to_local_plan(x: Mm, y: Mm, pos: Point3, rot: Rotation) -> tuple[Mm, Mm]:
    """A rack-frame point of the plan back in a part's own frame (the inverse of `transform`)."""
    p = (x - pos[0], y - pos[1], 0.0)
    for axis, deg in reversed(rot):
        p = rotate_point(p, axis, -deg)
    return p[0], p[1]


def world_box(local: Box, pos: Point3, rot: Rotation = ()) -> Box:
    """A part's own-frame box placed in the rack frame (its corners turned and moved)."""
    x0, y0, z0, x1, y1, z1 = local
    pts = [transform((x, y, z), pos, rot) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
    xs, ys, zs = zip(*pts)
    return Box(min(xs), min(ys), min(zs), max(xs), max(ys), max(zs))


def hex_circumradius(across_flats: Mm) -> Mm:
    return across_flats / math.sqrt(3)


def rect_distance(px: Mm, py: Mm, r: Rect) -> Mm:
    """Distance from a point to a rectangle (0 inside)."""
    dx = max(r.x0 - px, 0.0, px - r.x1)
    dy = max(r.y0 - py, 0.0, py - r.y1)
    return math.hypot(dx, dy)
