"""STABILITY: how far the rack leans before it tips over.

The tip angle about an edge of what the rack stands on (its feet, else the base plate) is
atan(d / h): d the horizontal distance from the centre of mass to that edge, h its height.
Part masses are not in the catalog, so the centre of mass is taken where a uniform tower's
would be: over the middle of the stack plates, at half the top plate's height. Every tier
carries the same board and HAT, and the heavy parts that are not uniform (the drive, the
switch) sit on the base, so the real centre is lower and the real angle larger: the figure
errs on the safe side.

Threshold: IEC 62368-1 (audio/video and IT equipment), 8.6.2 stability: equipment must not
overbalance when tilted 10° from its normal position. Under it: a warning; otherwise an info
line with the angle.
"""

from __future__ import annotations

import math

from ..findings import Finding
from .design import Design

MIN_TIP_DEG = 10.0  # IEC 62368-1, 8.6.2 (tilt test)


def _support(design: Design) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of what the rack stands on: the feet's outer edges, else the base."""
    lay = design.lay
    feet = lay.parts_of("foot")
    if feet:
        boxes = [f.bbox for f in feet]
        return (min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes))
    base = lay.plates[0]
    return (base.x, base.y, base.x + base.width, base.y + base.depth)


def check(design: Design) -> list[Finding]:
    lay = design.lay
    top = lay.plates[-1]
    stack = lay.plates[1:] or lay.plates
    cx = sum(p.x + p.width / 2 for p in stack) / len(stack)
    cy = sum(p.y + p.depth / 2 for p in stack) / len(stack)
    floor = min(p.bbox.z0 for p in lay.parts)  # under the feet
    h = (top.z + top.thickness - floor) / 2
    x0, y0, x1, y1 = _support(design)
    d = min(cx - x0, x1 - cx, cy - y0, y1 - cy)
    angle = math.degrees(math.atan2(max(d, 0.0), h))
    msg = (f"a {top.z + top.thickness:.0f} mm tower on a {x1 - x0:.0f} × {y1 - y0:.0f} mm footprint tips over past "
           f"{angle:.1f}° (centre of mass taken at half the height over the stack: the safe side)")
    common = dict(value=round(angle, 1), unit="°", limit=MIN_TIP_DEG)
    if angle < MIN_TIP_DEG:
        return [Finding("warning", "STABILITY", msg + f", under the {MIN_TIP_DEG:g}° a desk device should stand "
                        "(IEC 62368-1 tilt test)", fix="a wider base (rack.margin), fewer tiers per rack, or fix the "
                        "base to the desk", **common)]
    return [Finding("info", "STABILITY", msg, **common)]
