"""The CadQuery assembly of the rack, built from the layout.

Every distinct part is built once (cached on its part id and the parameters its shape depends
on) and each instance is placed by a `Location`: a 16-tier rack stays fast that way. Children
are named after the layout's instance names, f"{part_id}#{n}", so fasteners can be counted per
catalog part. Shapes are simplified (boxes, hex prisms, cylinders): enough for collisions,
heights and the front plan, not a rendering.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path

import cadquery as cq

from pirack.catalog import Board, Catalog, Drive, Foot, Hat, Nut, Screw, Spacer, Switch
from pirack.units import mm

from .geometry2d import Arc, Circle, Contour, Line, Part2D
from .geometry3d import Mm
from .layout.placed import Layout, Placed
from .layout.switch_support import SLOT_CLEARANCE, SupportForm, unbent_support
from .plates import flat_parts
from .threads import thread_diameter

# Simplified thread bodies: a male thread or shank drawn at 0.80·d, a female bore at 0.85·d,
# so a screw in a spacer neither overlaps it nor leaves a visible gap.
SHANK = 0.80
BORE = 0.85

COLOURS = {
    "plate": cq.Color(0.75, 0.9, 1.0, 0.45),
    "support": cq.Color(0.75, 0.9, 1.0, 0.45),
    "board": cq.Color(0.1, 0.5, 0.2),
    "hat": cq.Color(0.15, 0.35, 0.15),
    "drive": cq.Color(0.2, 0.2, 0.25),
    "switch": cq.Color(0.9, 0.9, 0.9),
    "spacer": cq.Color(0.8, 0.8, 0.82),
    "screw": cq.Color(0.6, 0.6, 0.65),
    "nut": cq.Color(0.6, 0.6, 0.65),
    "foot": cq.Color(0.1, 0.1, 0.1),
}


# -- 2D → 3D ------------------------------------------------------------------------------------

def _wire(path: Contour | Circle) -> cq.Wire:
    if isinstance(path, Circle):
        return cq.Wire.makeCircle(path.radius, cq.Vector(*path.center, 0), cq.Vector(0, 0, 1))
    edges = []
    for s in path.segments:
        if s.length() < 1e-9:  # rounded_rect with r = h/2 (a slot) has zero-length sides
            continue
        if isinstance(s, Line):
            edges.append(cq.Edge.makeLine(cq.Vector(*s.start, 0), cq.Vector(*s.end, 0)))
        elif isinstance(s, Arc):
            a = math.radians(s.start_angle + s.sweep / 2)
            mid = (s.center[0] + s.radius * math.cos(a), s.center[1] + s.radius * math.sin(a))
            edges.append(cq.Edge.makeThreePointArc(cq.Vector(*s.start, 0), cq.Vector(*mid, 0), cq.Vector(*s.end, 0)))
    return cq.Wire.assembleEdges(edges)


def _plate_solid(part: Part2D) -> cq.Solid:
    return cq.Solid.extrudeLinear(_wire(part.outline), [_wire(h) for h in part.holes],
                                  cq.Vector(0, 0, part.thickness))


# -- simple solids --------------------------------------------------------------------------------

def _box(x0: Mm, y0: Mm, z0: Mm, x1: Mm, y1: Mm, z1: Mm) -> cq.Solid:
    return cq.Solid.makeBox(x1 - x0, y1 - y0, z1 - z0, cq.Vector(x0, y0, z0))


def _cyl(r: Mm, z0: Mm, z1: Mm, x: Mm = 0.0, y: Mm = 0.0) -> cq.Solid:
    return cq.Solid.makeCylinder(r, z1 - z0, cq.Vector(x, y, z0), cq.Vector(0, 0, 1))


def _hex(across_flats: Mm, z0: Mm, z1: Mm) -> cq.Solid:
    """A hex prism, flats facing ±x (so it reaches across_flats/2 towards a board edge)."""
    r = across_flats / math.sqrt(3)
    pts = [cq.Vector(r * math.cos(math.radians(30 + 60 * k)), r * math.sin(math.radians(30 + 60 * k)), z0)
           for k in range(6)]
    w = cq.Wire.makePolygon(pts, close=True)
    return cq.Solid.extrudeLinear(w, [], cq.Vector(0, 0, z1 - z0))


def _spacer(p: Spacer) -> cq.Shape:
    d = thread_diameter(p.thread)
    body = _hex(mm(p.across_flats), 0, mm(p.length)).cut(_cyl(BORE * d / 2, -1, mm(p.length) + 1))
    if p.style == "male-female" and p.male_thread_length:
        stud = _cyl(SHANK * d / 2, mm(p.length), mm(p.length) + mm(p.male_thread_length))
        body = body.fuse(stud)
    return body.clean()


def _screw(p: Screw) -> cq.Shape:
    d = thread_diameter(p.thread)
    head = _cyl(mm(p.head_diameter) / 2, 0, mm(p.head_height))
    return head.fuse(_cyl(SHANK * d / 2, -mm(p.length), 0)).clean()


def _nut(p: Nut) -> cq.Shape:
    d = thread_diameter(p.thread)
    h = mm(p.height)
    if p.style == "cap":
        hexh = min(h, mm(p.thread_depth) + 0.4)
        body = _hex(mm(p.across_flats), 0, hexh).fuse(_cyl(mm(p.across_flats) * 0.4, hexh, h))
        return body.cut(_cyl(BORE * d / 2, -1, mm(p.thread_depth))).clean()
    return _hex(mm(p.across_flats), 0, h).cut(_cyl(BORE * d / 2, -1, h + 1)).clean()


def _foot(p: Foot) -> cq.Shape:
    return _cyl(mm(p.diameter) / 2, -mm(p.height), 0)


def _board(p: Board) -> cq.Shape:
    t = mm(p.thickness)
    pcb = _box(0, 0, 0, mm(p.width), mm(p.depth), t)
    for u, v in p.holes:
        pcb = pcb.cut(_cyl(mm(p.hole_diameter) / 2, -1, t + 1, mm(u), mm(v)))
    parts = [pcb]
    for k in p.keepouts:  # jacks and connectors as their keep-out boxes
        x, y, z = mm(k.x), mm(k.y), t + mm(k.z)
        parts.append(_box(x, y, z, x + mm(k.width), y + mm(k.depth), z + mm(k.height)))
    return cq.Compound.makeCompound(parts)


def _hat(p: Hat) -> cq.Shape:
    t, w, dp = mm(p.thickness), mm(p.width), mm(p.depth)
    pcb = _box(0, 0, 0, w, dp, t)
    hd = 2.75  # M2.5 clearance in the HAT's board (its holes match the Pi's)
    for u, v in p.holes:
        pcb = pcb.cut(_cyl(hd / 2, -1, t + 1, mm(u), mm(v)))
    parts = [pcb]
    # the 25 mm fan on its underside, centred; a block for its tallest top-side part
    fan, hb = 25.0, mm(p.height_below)
    parts.append(_box(w / 2 - fan / 2, dp / 2 - fan / 2, -hb, w / 2 + fan / 2, dp / 2 + fan / 2, 0))
    ha = mm(p.height_above)
    if ha > 0:
        parts.append(_box(w / 2 - 8, 8, t, w / 2 + 8, 24, t + ha))
    return cq.Compound.makeCompound(parts)


def _drive(p: Drive) -> cq.Shape:
    body = _box(0, 0, 0, mm(p.width), mm(p.length), mm(p.height))
    d = thread_diameter(p.thread)
    for u, v in p.bottom_holes:
        body = body.cut(_cyl(d / 2, -1, mm(p.thread_depth_bottom), mm(u), mm(v)))
    return body


def _switch(p: Switch) -> cq.Shape:
    return _box(0, 0, 0, mm(p.width), mm(p.depth), mm(p.height))


def _support(lay: Layout, t: Mm, wall: Mm, foot: Mm, depth: Mm, web: Mm | None = None,
             slot_width: Mm = 0.0) -> cq.Shape:
    """The switch support as the fabricator makes it (layout.switch_support.SupportForm): bent
    at 90° when `web` is None, a wall (x 0..t) rising from the foot (x 0..foot), both t thick;
    else the two plates the cut files carry, the wall's tabs standing in the foot's slots."""
    if web is not None:
        return _two_plate_support(lay, SupportForm(foot, 0.0, web, slot_width), t)
    body = _box(0, 0, 0, t, depth, wall).fuse(_box(0, 0, 0, foot, depth, t)).clean()
    sp = lay.support
    for x, y, dia in sp.holes:  # flat-pattern x runs from the foot's free end
        body = body.cut(_cyl(dia / 2, -1, t + 1, foot - x, y))
    return body


def _two_plate_support(lay: Layout, form: SupportForm, t: Mm) -> cq.Shape:
    """The foot plate and the wall plate of the cut files (switch_support.unbent_support), placed:
    the foot flat, its free end at x = foot (flat-pattern x runs from that end); the wall
    standing in the slots, its flat x going up (its tabs reach down through the foot)."""
    foot2d, wall2d = unbent_support(lay.support, t, form.slot_width - SLOT_CLEARANCE, form.web, lay.sheet)
    foot = _plate_solid(foot2d).mirror("YZ", (form.foot / 2, 0, 0))
    wall = _plate_solid(wall2d).rotate((0, 0, 0), (0, 1, 0), -90).translate((form.wall_x(t) + t, 0, 0))
    return cq.Compound.makeCompound([foot, wall])


# -- placing --------------------------------------------------------------------------------------

_AXES = {"x": (1, 0, 0), "y": (0, 1, 0), "z": (0, 0, 1)}


def location(p: Placed) -> cq.Location:
    loc = cq.Location(cq.Vector(*p.pos))
    for axis, deg in reversed(p.rot):  # the first rotation listed is applied first
        loc = loc * cq.Location(cq.Vector(0, 0, 0), cq.Vector(*_AXES[axis]), deg)
    return loc


class ShapeCache:
    """One shape per distinct part: catalog parts by id, plates by name."""

    def __init__(self, lay: Layout, catalog: Catalog):
        self.lay, self.cat = lay, catalog
        self.shapes: dict[tuple, cq.Shape] = {}
        self.plates = {p.name: p for p in flat_parts(lay)}
        self.builds = 0

    def get(self, p: Placed) -> cq.Shape:
        key = (p.part_id, p.kind, p.params)
        s = self.shapes.get(key)
        if s is None:
            s = self.shapes[key] = self._build(p)
            self.builds += 1
        return s

    def _build(self, p: Placed) -> cq.Shape:
        if p.kind == "plate":
            return _plate_solid(self.plates[p.part_id])
        if p.kind == "support":
            return _support(self.lay, *p.params)
        part = self.cat[p.part_id]
        return {"spacer": _spacer, "screw": _screw, "nut": _nut, "foot": _foot, "board": _board, "hat": _hat,
                "drive": _drive, "switch": _switch}[p.kind](part)


def build_assembly(lay: Layout, catalog: Catalog) -> cq.Assembly:
    """The rack as a CadQuery assembly: one child per layout part, named f"{part_id}#{n}",
    with metadata (part id, kind, role) for counting and checks. `catalog`: the loaded
    cluster's (the layout names its parts by id)."""
    cache = ShapeCache(lay, catalog)
    assy = cq.Assembly(name=f"rack-{lay.name}")
    for p in lay.parts:
        assy.add(cache.get(p), name=p.name, loc=location(p), color=COLOURS.get(p.kind),
                 metadata={"part_id": p.part_id, "kind": p.kind, "role": p.role})
    assy.metadata = {"distinct_shapes": cache.builds}
    return assy


def placed_solids(assy: cq.Assembly) -> dict[str, cq.Shape]:
    """Child name -> its shape moved to its place."""
    out = {}
    for ch in assy.children:
        out[ch.name] = ch.obj.moved(ch.loc) if ch.loc is not None else ch.obj
    return out


def export_step(assy: cq.Assembly, path: str | PathLike) -> None:
    assy.export(str(Path(path)), exportType="STEP")


def export_stl(assy: cq.Assembly, path: str | PathLike, tolerance: Mm = 0.05, angular: float = 0.2) -> None:
    cq.exporters.export(assy.toCompound(), str(Path(path)), exportType="STL",
                        tolerance=tolerance, angularTolerance=angular)
