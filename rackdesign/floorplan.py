"""Floor plans (平面図): one drawing per plate, for the person checking holes before ordering.

The plate's outline, holes and engraving; centre lines through round holes; the overall
size; each hole's position dimensioned from the datum (Part2D.notes["datum"], else the lower-
left corner of the plate's box) as stacked baseline dimensions; hole sizes noted.
"""

from __future__ import annotations

from collections import defaultdict

from .drawing import Drawing
from .geometry2d import Circle, P, Part2D, Path
from .writers.plot import fmt_mm

DIM_GAP = 7.0  # mm between stacked dimension lines (model mm at 1:1)


def floor_plan(part: Part2D, cluster: str = "") -> Drawing:
    d = Drawing(title=f"floor plan: plate '{part.name}' ({part.thickness:g} mm {part.material})".strip())
    d.add_part(part)
    x0, y0, x1, y1 = part.bbox()
    # plates.py puts the datum at the part's (0, 0) and gives its place in the rack frame
    rack_datum = part.notes.get("datum")
    dx, dy = (0.0, 0.0) if rack_datum else (x0, y0)

    # centre lines through round holes
    for h in part.holes:
        if isinstance(h, Circle):
            ext = h.radius + 2.0
            (cx, cy) = h.center
            d.line((cx - ext, cy), (cx + ext, cy), "center")
            d.line((cx, cy - ext), (cx, cy + ext), "center")

    # overall size: width under, height on the left, outermost
    xs = sorted({round(_centre(h)[0], 2) for h in part.holes} - {round(dx, 2)})
    ys = sorted({round(_centre(h)[1], 2) for h in part.holes} - {round(dy, 2)})
    d.dim((x0, y0), (x1, y0), -(DIM_GAP * (len(xs) + 1)), direction="horizontal")
    d.dim((x0, y0), (x0, y1), -(DIM_GAP * (len(ys) + 1)), direction="vertical")

    # hole positions from the datum: baseline dimensions, nearest first
    for k, x in enumerate(xs, start=1):
        d.dim((dx, dy), (x, dy), -(DIM_GAP * k) - (dy - y0), direction="horizontal")
    for k, y in enumerate(ys, start=1):
        d.dim((dx, dy), (dx, y), -(DIM_GAP * k) - (dx - x0), direction="vertical")

    # hole sizes, one note per size, next to its first hole
    groups: dict[str, list] = defaultdict(list)
    for h in part.holes:
        groups[_size_label(h)].append(h)
    for label, holes in groups.items():
        cx, cy = _centre(holes[0])
        r = _half_height(holes[0])
        d.text((cx + 1.5, cy + r + 1.5), f"{len(holes)}x {label}" if len(holes) > 1 else label, 2.5, "start")
    d.text((dx, dy - 3.5), "datum", 2.0, "middle")
    where = f" (at x {rack_datum[0]:.1f}, y {rack_datum[1]:.1f} in the rack)" if rack_datum else ""
    d.notes.append(f"{len(part.holes)} holes; mm from the datum, the plate's lower-left corner{where}")
    d.notes.append(f"cut length {part.cut_length() / 1000:.2f} m; size {fmt_mm(x1 - x0)} x {fmt_mm(y1 - y0)} mm")
    return d


def _centre(h: Path) -> P:
    if isinstance(h, Circle):
        return h.center
    x0, y0, x1, y1 = h.bbox()
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def _half_height(h: Path) -> float:
    if isinstance(h, Circle):
        return h.radius
    x0, y0, x1, y1 = h.bbox()
    return (y1 - y0) / 2


def _size_label(h: Path) -> str:
    if isinstance(h, Circle):
        return f"Ø{fmt_mm(h.diameter)}"
    x0, y0, x1, y1 = h.bbox()
    return f"{fmt_mm(x1 - x0)} x {fmt_mm(y1 - y0)}"
