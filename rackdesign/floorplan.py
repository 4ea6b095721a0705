"""Floor plans (平面図): one drawing per plate, for the person checking holes before ordering.

The plate's outline, holes and engraving; ghosted (dashed grey, never cut) the outline of what
sits on it — boards, the drive, the switch — and, under the base, the feet; an arrow to the
front; centre lines through round holes; the overall size; each hole's position dimensioned
from the datum (Part2D.notes["datum"], else the lower-left corner of the plate's box) as
stacked baseline dimensions; every hole and cut-out labelled with what it is for. The switch
support's bend line is dimensioned from the foot's edge, with its angle and inside radius.
Where the text goes so that nothing overlaps is decided on paper (writers.plot).
"""

from __future__ import annotations

from collections import defaultdict

from .drawing import Drawing
from .geometry2d import Circle, P, Part2D, Path
from .writers.plot import fmt_mm

DIM_GAP = 7.0  # mm between stacked dimension lines (model mm at 1:1)
ARROW_AT = 8.0  # the front arrow, this far right of the plate

# what a hole or cut-out is for, by its kind (plates.py notes["holes"])
PURPOSES = {"column": "spacer column", "board": "board mount", "drive": "drive screw", "support": "switch support screw",
            "cable": "cable pass", "airflow": "air vent", "tab-slot": "tab slot"}
CARRIED = {"board": "board", "drive": "drive", "switch": "switch (on its side) and support"}


def floor_plan(part: Part2D, cluster: str = "") -> Drawing:
    d = Drawing(title=f"floor plan: plate '{part.name}' ({part.thickness:g} mm {part.material})".strip())
    d.add_part(part)
    # plates.py puts the datum at the part's (0, 0) and gives its place in the rack frame
    rack_datum = part.notes.get("datum")
    x0, y0, _, _ = part.bbox()
    datum = (0.0, 0.0) if rack_datum else (x0, y0)
    _ghosts(d, part)
    _front_arrow(d, part)
    _centre_lines(d, part)
    _dimensions(d, part, datum)
    _hole_labels(d, part)
    _bend(d, part)
    if rack_datum:
        d.text((datum[0] + 1.0, datum[1] + 1.5), "datum", 2.0, "start")
    where = f" (at x {rack_datum[0]:.1f}, y {rack_datum[1]:.1f} in the rack)" if rack_datum else ""
    d.notes.append(f"{len(part.holes)} holes; mm from the datum, the plate's lower-left corner{where}")
    w, h = part.size
    d.notes.append(f"cut length {part.cut_length() / 1000:.2f} m; size {fmt_mm(w)} x {fmt_mm(h)} mm; "
                   "dashed grey: what sits on the plate (not cut)")
    return d


def _ghosts(d: Drawing, part: Part2D) -> None:
    """What the plate carries, and the feet under the base, as ghosted outlines with a label."""
    node = part.notes.get("node")
    for kind, part_id, (a, b, c, e) in part.notes.get("carries") or []:
        for p, q in (((a, b), (c, b)), ((c, b), (c, e)), ((c, e), (a, e)), ((a, e), (a, b))):
            d.line(p, q, "ghost")
        who = f" ({node})" if kind == "board" and node else ""
        d.text(((a + c) / 2, e - 4.0), f"{CARRIED.get(kind, kind)}{who}: {part_id}", 2.2, "middle")
    feet = part.notes.get("feet") or []
    for x, y, dia in feet:
        d.add_path(Circle((x, y), dia / 2), "ghost")
    if feet:
        x, y, dia = feet[0]
        d.text((x, y + dia / 2 + 1.0), f"{len(feet)}x foot (under)", 2.0, "middle")


def _front_arrow(d: Drawing, part: Part2D) -> None:
    """An arrow beside the plate pointing to the front (−y: where the jacks and the switch's
    ports face). The switch support has no front of its own: no arrow."""
    if part.notes.get("datum") is None:
        return
    _, y0, x1, _ = part.bbox()
    x = x1 + ARROW_AT
    tip, tail = (x, y0), (x, y0 + 20.0)
    d.line(tail, tip, "visible")
    d.line(tip, (x - 1.5, y0 + 4.0), "visible")
    d.line(tip, (x + 1.5, y0 + 4.0), "visible")
    d.text((x, y0 + 22.0), "front", 2.5, "middle")


def _centre_lines(d: Drawing, part: Part2D) -> None:
    for h in part.holes:
        if isinstance(h, Circle):
            ext = h.radius + 2.0
            (cx, cy) = h.center
            d.line((cx - ext, cy), (cx + ext, cy), "center")
            d.line((cx, cy - ext), (cx, cy + ext), "center")


def _dimensions(d: Drawing, part: Part2D, datum: P) -> None:
    """Overall size outermost; hole positions from the datum as baseline dimensions, nearest first."""
    x0, y0, x1, y1 = part.bbox()
    dx, dy = datum
    xs = sorted({round(_centre(h)[0], 2) for h in part.holes} - {round(dx, 2)})
    ys = sorted({round(_centre(h)[1], 2) for h in part.holes} - {round(dy, 2)})
    d.dim((x0, y0), (x1, y0), -(DIM_GAP * (len(xs) + 1)), direction="horizontal")
    d.dim((x0, y0), (x0, y1), -(DIM_GAP * (len(ys) + 1)), direction="vertical")
    for k, x in enumerate(xs, start=1):
        d.dim((dx, dy), (x, dy), -(DIM_GAP * k) - (dy - y0), direction="horizontal")
    for k, y in enumerate(ys, start=1):
        d.dim((dx, dy), (dx, y), -(DIM_GAP * k) - (dx - x0), direction="vertical")


def _hole_labels(d: Drawing, part: Part2D) -> None:
    """One label per purpose and size, next to its first hole: '4x Ø3.4 spacer column (M3)'."""
    info = part.notes.get("holes") or [{} for _ in part.holes]
    groups: dict[str, list] = defaultdict(list)
    for h, n in zip(part.holes, info):
        groups[_label(h, n)].append(h)
    for label, holes in groups.items():
        cx, cy = _centre(holes[0])
        r = _half_height(holes[0])
        d.text((cx + 1.5, cy + r + 1.5), f"{len(holes)}x {label}" if len(holes) > 1 else label, 2.2, "start")


def _label(h: Path, n: dict) -> str:
    what = PURPOSES.get(n.get("kind", ""), n.get("kind", ""))
    thread = f" ({n['thread']})" if n.get("thread") else ""
    return f"{_size_label(h)} {what}{thread}".strip()


def _bend(d: Drawing, part: Part2D) -> None:
    """The bend line dimensioned from the foot's end, with its angle and inside radius."""
    b = part.notes.get("bend")
    if not b or not part.bend:
        return
    x0, y0, _, y1 = part.bbox()
    at = b["at"]
    d.dim((x0, y1), (x0 + at, y1), DIM_GAP, text=f"{fmt_mm(at)} bend", direction="horizontal")
    d.text((x0 + at + 1.5, (y0 + y1) / 2), f"bend {fmt_mm(b['angle'])}°, inside R {fmt_mm(b['inner_radius'])}",
           2.2, "start", 90.0)
    d.notes.append(f"bend {fmt_mm(b['angle'])}° at {fmt_mm(at)} mm from the foot's end, inside radius "
                   f"{fmt_mm(b['inner_radius'])} mm, K {b['k_factor']:g}; legs foot {fmt_mm(b['foot'])}, "
                   f"wall {fmt_mm(b['wall'])} mm outside; instruction in cut/order-note.txt")


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
