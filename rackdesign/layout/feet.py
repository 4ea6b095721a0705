"""Rubber feet under the base: one near each corner, moved inward until clear of every screw
head and nut under the base, so the rack stands on its feet and nothing else."""

from __future__ import annotations

import math

from ..geometry3d import Mm
from ..partspec import FootSpec
from .placed import Placer

FOOT_GAP = 1.0  # mm between a foot and a head beside it
MAX_STEPS = 120  # 1 mm steps inward before giving up (then the corner place stays)

Circle = tuple[Mm, Mm, Mm]  # (x, y, radius) of something under the base


def feet_positions(width: Mm, depth: Mm, r: Mm, margin: Mm, under: list[Circle],
                   gap: Mm = FOOT_GAP) -> list[tuple[Mm, Mm]]:
    """One foot of radius `r` near each corner of a width × depth base, `margin` in from the
    edges, stepped inward (along y, then x, then both) until clear of `under`."""
    out = []
    for sx, sy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        corner = (margin + r if sx == 0 else width - margin - r, margin + r if sy == 0 else depth - margin - r)
        out.append(_clear_spot(corner, sx, sy, r, under, gap) or corner)
    return out


def _clear_spot(corner: tuple[Mm, Mm], sx: int, sy: int, r: Mm, under: list[Circle],
                gap: Mm) -> tuple[Mm, Mm] | None:
    for step in range(0, MAX_STEPS):
        for axis in ("y", "x", "xy"):
            dx = step if "x" in axis else 0
            dy = step if "y" in axis else 0
            x = corner[0] + dx if sx == 0 else corner[0] - dx
            y = corner[1] + dy if sy == 0 else corner[1] - dy
            if all(math.hypot(x - ux, y - uy) >= r + ur + gap for ux, uy, ur in under):
                return (x, y)
    return None


def place_feet(placer: Placer, foot: FootSpec, width: Mm, depth: Mm, margin: Mm) -> None:
    """The four feet under a width × depth base, clear of the heads and nuts placed so far."""
    under = [(p.pos[0], p.pos[1], max(p.bbox.width, p.bbox.depth) / 2)
             for p in placer.parts if p.bbox.z0 < -1e-6 and p.kind in ("screw", "nut")]
    for x, y in feet_positions(width, depth, foot.diameter / 2, margin, under):
        placer.add(foot.id, "foot", (x, y, 0.0), foot.box, role="foot")
