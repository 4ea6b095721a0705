"""CLEARANCE: in each space between two stack plates, the gap between the tallest thing
standing there (a HAT, its screws, the USB and Ethernet jacks, the drive) and whatever is
above it (the plate, or the heads of the next tier's screws hanging under it), vs
rack.min_clearance. One finding per space: an error under the minimum, else an info line
with the gap (the heights the seed only learned from a front view).

Footprints are the layout's boxes (a HAT's box includes its tallest part over its whole area,
a board's its jacks): conservative, as the layout itself sizes the gaps.
"""

from __future__ import annotations

from pirack.units import mm

from . import Finding

EPS = 1e-6
SKIP_ROLES = ("column", "column-screw", "column-top")


def _overlap_xy(a, b) -> bool:
    return a[0] < b[3] - EPS and b[0] < a[3] - EPS and a[1] < b[4] - EPS and b[1] < a[4] - EPS


def check(ctx) -> list[Finding]:
    lay = ctx.lay
    clr = mm(ctx.spec.rack.min_clearance)
    stack = sorted((p for p in lay.plates if p.role in ("base", "tier", "top")), key=lambda p: p.z)
    parts = sorted((p for p in lay.parts if p.kind not in ("plate", "support", "foot") and p.role not in SKIP_ROLES),
                   key=lambda p: p.bbox[2])
    out = []
    zs = [p.bbox[2] for p in parts]
    import bisect

    for lower, upper in zip(stack, stack[1:]):
        area = (upper.x, upper.y, 0.0, upper.x + upper.width, upper.y + upper.depth, 0.0)
        i0 = bisect.bisect_left(zs, lower.z - 50.0)  # nothing hangs 50 mm below its plate
        i1 = bisect.bisect_right(zs, upper.top)
        floor, ceiling = [], []
        for p in parts[i0:i1]:
            b = p.bbox
            if not _overlap_xy(b, area):
                continue
            if b[2] < upper.z - EPS and b[5] > upper.z + EPS and b[2] > lower.top - EPS:
                ceiling.append(p)  # hangs from the upper plate through its hole
            elif b[5] > lower.top + EPS and b[5] <= upper.z + EPS and b[2] < upper.z - EPS:
                floor.append(p)
        if not floor:
            continue
        best = None  # (gap, low part, what is above)
        for f in floor:
            cands = [(upper.z - f.bbox[5], upper.name)]
            cands += [(c.bbox[2] - f.bbox[5], c.name) for c in ceiling if _overlap_xy(f.bbox, c.bbox)]
            g, above = min(cands)
            if best is None or g < best[0]:
                best = (g, f, above)
        g, f, above = best
        where = f"{lower.name} → {upper.name}"
        msg = (f"{where}: {f.name} ({f.role}) tops out at z {f.bbox[5]:.1f}, {above} is at z "
               f"{f.bbox[5] + g:.1f}: gap {g:.2f} mm (min {clr:g})")
        if g < clr - 1e-6:
            out.append(Finding("error", "CLEARANCE", msg, fix="taller spacers between these plates (the layout sizes them "
                               "from the parts' heights: check the catalog heights)", parts=(f.name, above),
                               value=round(g, 3), unit="mm", limit=clr, node=f.node))
        else:
            out.append(Finding("info", "CLEARANCE", msg, parts=(f.name, above), value=round(g, 3), unit="mm",
                               limit=clr, node=f.node))
    return out
