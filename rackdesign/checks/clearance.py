"""CLEARANCE: in each space between two stack plates, the gap between the tallest thing
standing there (a HAT, its screws, the USB and Ethernet jacks, the drive) and whatever is
above it (the plate, or the heads of the next tier's screws hanging under it), vs
rack.min_clearance. One finding per space: an error under the minimum, else an info line
with the gap (the heights the seed only learned from a front view).

Footprints are the layout's boxes (a HAT's box includes its tallest part over its whole area,
a board's its jacks): conservative, as the layout itself sizes the gaps.
"""

from __future__ import annotations

import bisect

from pirack.units import mm

from ..findings import Finding
from ..geometry3d import Box, Mm
from ..layout.placed import Placed, Plate
from .design import Design

EPS = 1e-6
SKIP_ROLES = ("column", "column-screw", "column-top")
HANGS_BELOW = 50.0  # mm: nothing hangs further than this below its plate


def _overlap_xy(a: Box, b: Box) -> bool:
    return a.x0 < b.x1 - EPS and b.x0 < a.x1 - EPS and a.y0 < b.y1 - EPS and b.y0 < a.y1 - EPS


def _between(parts: list[Placed], zs: list[Mm], lower: Plate, upper: Plate) -> tuple[list[Placed], list[Placed]]:
    """What stands on `lower` under `upper`, and what hangs from `upper` through its holes."""
    area = Box(upper.x, upper.y, 0.0, upper.x + upper.width, upper.y + upper.depth, 0.0)
    floor, ceiling = [], []
    for p in parts[bisect.bisect_left(zs, lower.z - HANGS_BELOW):bisect.bisect_right(zs, upper.top)]:
        b = p.bbox
        if not _overlap_xy(b, area):
            continue
        if b.z0 < upper.z - EPS and b.z1 > upper.z + EPS and b.z0 > lower.top - EPS:
            ceiling.append(p)
        elif b.z1 > lower.top + EPS and b.z1 <= upper.z + EPS and b.z0 < upper.z - EPS:
            floor.append(p)
    return floor, ceiling


def _smallest_gap(floor: list[Placed], ceiling: list[Placed], upper: Plate) -> tuple[Mm, Placed, str]:
    """(gap, the part under it, what is above it) where the gap is smallest."""
    best = None
    for f in floor:
        cands = [(upper.z - f.bbox.z1, upper.name)]
        cands += [(c.bbox.z0 - f.bbox.z1, c.name) for c in ceiling if _overlap_xy(f.bbox, c.bbox)]
        g, above = min(cands)
        if best is None or g < best[0]:
            best = (g, f, above)
    return best


def check(design: Design) -> list[Finding]:
    lay = design.lay
    clr = mm(design.spec.rack.min_clearance)
    stack = sorted((p for p in lay.plates if p.role in ("base", "tier", "top")), key=lambda p: p.z)
    parts = sorted((p for p in lay.parts if p.kind not in ("plate", "support", "foot") and p.role not in SKIP_ROLES),
                   key=lambda p: p.bbox.z0)
    zs = [p.bbox.z0 for p in parts]
    out = []
    for lower, upper in zip(stack, stack[1:]):
        floor, ceiling = _between(parts, zs, lower, upper)
        if not floor:
            continue
        g, f, above = _smallest_gap(floor, ceiling, upper)
        msg = (f"{lower.name} → {upper.name}: {f.name} ({f.role}) tops out at z {f.bbox.z1:.1f}, {above} is at z "
               f"{f.bbox.z1 + g:.1f}: gap {g:.2f} mm (min {clr:g})")
        if g < clr - 1e-6:
            out.append(Finding("error", "CLEARANCE", msg, fix="taller spacers between these plates (the layout sizes them "
                               "from the parts' heights: check the catalog heights)", parts=(f.name, above),
                               value=round(g, 3), unit="mm", limit=clr, node=f.node))
        else:
            out.append(Finding("info", "CLEARANCE", msg, parts=(f.name, above), value=round(g, 3), unit="mm",
                               limit=clr, node=f.node))
    return out
