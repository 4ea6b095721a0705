"""The flat parts of the rack: each plate and the switch support's flat pattern as Part2D.

Geometry only (outline, true-circle holes, cut-outs, the bend line), in the
part's own frame (lower-left corner at 0, 0). Engraving (labels, logo) is added by a separate
pass (rackdesign/engrave). `notes["holes"]` says what each hole is, aligned with `.holes`;
`notes["datum"]` is the rack-frame point of the part's (0, 0), for the floor plan's dimensions.
"""

from __future__ import annotations

from .geometry2d import Circle, Contour, Line, Part2D, rounded_rect, slot
from .layout.placed import Layout, Plate


def plate_part(lay: Layout, plate: Plate) -> Part2D:
    holes, info = [], []
    for h in plate.holes:
        holes.append(Circle((h.x - plate.x, h.y - plate.y), h.diameter / 2))
        d = {"kind": h.kind, "thread": h.thread, "diameter": h.diameter}
        if h.node:
            d["node"] = h.node
        if h.column:
            d["column"] = h.column
        info.append(d)
    for c in plate.cutouts:
        holes.append(slot(c.cx - plate.x, c.cy - plate.y, c.length, c.width, vertical=c.vertical))
        info.append({"kind": c.kind, "length": c.length, "width": c.width})
    return Part2D(
        name=plate.name,
        outline=rounded_rect(0.0, 0.0, plate.width, plate.depth, plate.corner_radius),
        holes=holes,
        thickness=plate.thickness,
        material=lay.sheet,
        notes={"holes": info, "datum": (plate.x, plate.y), "role": plate.role, "node": plate.node,
               "z": plate.z, "carries": _carries(plate), "feet": _feet(lay, plate)},
    )


def _carries(plate: Plate) -> list[tuple[str, str, tuple]]:
    """What sits on the plate, (kind, part id, footprint) in the plate's frame (for the floor
    plan's ghosted outlines; never cut)."""
    return [(c.kind, c.part_id, (c.area.x0 - plate.x, c.area.y0 - plate.y, c.area.x1 - plate.x, c.area.y1 - plate.y))
            for c in plate.carries]


def _feet(lay: Layout, plate: Plate) -> list[tuple[float, float, float]]:
    """The feet under the base, (x, y, diameter) in the plate's frame."""
    if plate.role != "base":
        return []
    return [(f.pos[0] - plate.x, f.pos[1] - plate.y, f.bbox.x1 - f.bbox.x0) for f in lay.parts_of("foot")]


def support_part(lay: Layout) -> Part2D | None:
    """The switch support before bending: x runs from the foot's free end across the bend to
    the wall's top; the bend line is drawn (never cut or scored) to tell the service where."""
    sp = lay.support
    if sp is None:
        return None
    r = min(3.0, sp.width / 4)  # rounded corners: no sharp point to crack from
    holes = [Circle((x, y), d / 2) for x, y, d in sp.holes]
    bend = Contour((Line((sp.bend_at, 0.0), (sp.bend_at, sp.width)),))
    return Part2D(
        name="switch-support",
        outline=rounded_rect(0.0, 0.0, sp.length, sp.width, r),
        holes=holes,
        bend=[bend],
        thickness=lay.thickness,
        material=lay.sheet,
        notes={"holes": [{"kind": "support", "thread": "M3", "diameter": d} for _, _, d in sp.holes],
               "datum": None, "role": "support", "bend": {"at": sp.bend_at, "angle": sp.bend_angle,
                                                          "foot": sp.foot, "wall": sp.wall,
                                                          "inner_radius": sp.inner_radius, "k_factor": sp.k_factor,
                                                          "allowance": sp.allowance}},
    )


def flat_parts(lay: Layout) -> list[Part2D]:
    """Every part cut from the sheet: base, tiers, top, then the switch support (if any)."""
    parts = [plate_part(lay, p) for p in lay.plates]
    sup = support_part(lay)
    if sup is not None:
        parts.append(sup)
    return parts
