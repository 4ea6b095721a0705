"""Catalog parts as the layout uses them: every length converted to millimetres once, here.

The catalog (pirack.catalog) keeps lengths as pint quantities with their sources; the layout,
the solver and the checks do arithmetic on thousands of them, so each part they place is read
into a frozen spec of `Mm` floats first. Each spec knows its extent in its own frame (`box`),
as the layout's part frames define it:

- board / HAT: the catalog's board frame (lower-left corner), z = 0 at the part's bottom face;
  a board's box includes its jacks' keep-outs (they overhang the edge) and what is under it.
- drive: front-left corner of its bottom face.  switch: lying flat, front-left bottom corner.
- spacer: centre of its bottom face; body up to its length, male thread above.
- screw: centre of the head's bearing face; head up, shank down.
- nut: centre of its bearing face; body up.  foot: centre of its top face; body down.
"""

from __future__ import annotations

from dataclasses import dataclass

from pirack.catalog import Board, Drive, Foot, Hat, Nut, Screw, Sheet, Spacer, Switch
from pirack.units import mm

from .geometry3d import Box, Mm, hex_circumradius
from .threads import female_depth

HolePos = tuple[Mm, Mm]


@dataclass(frozen=True)
class SpacerSpec:
    id: str
    thread: str
    length: Mm  # body length, the male thread not counted
    style: str  # "female-female" | "male-female"
    male: Mm = 0.0  # male thread length (M-F)
    across_flats: Mm = 5.5

    @property
    def female_depth(self) -> Mm:
        """Usable female thread depth at one end (rackdesign.threads' rule)."""
        return female_depth(self.thread, self.length, self.style)

    @property
    def kind_label(self) -> str:
        return "M-F" if self.style == "male-female" else "F-F"

    @property
    def box(self) -> Box:
        r = hex_circumradius(self.across_flats)
        return Box(-r, -r, 0.0, r, r, self.length + self.male)


@dataclass(frozen=True)
class ScrewSpec:
    id: str
    thread: str
    length: Mm  # under the head
    head_diameter: Mm
    head_height: Mm

    @property
    def box(self) -> Box:
        r = self.head_diameter / 2
        return Box(-r, -r, -self.length, r, r, self.head_height)


@dataclass(frozen=True)
class NutSpec:
    id: str
    thread: str
    style: str  # "cap" | "hex"
    across_flats: Mm
    height: Mm
    thread_depth: Mm  # a cap nut's blind depth

    @property
    def box(self) -> Box:
        r = hex_circumradius(self.across_flats)
        return Box(-r, -r, 0.0, r, r, self.height)


@dataclass(frozen=True)
class FootSpec:
    id: str
    diameter: Mm
    height: Mm

    @property
    def box(self) -> Box:
        r = self.diameter / 2
        return Box(-r, -r, -self.height, r, r, 0.0)


@dataclass(frozen=True)
class BoardSpec:
    id: str
    width: Mm  # along the long edge (the board frame's u)
    depth: Mm  # v
    thickness: Mm
    hole_diameter: Mm
    hole_thread: str
    holes: tuple[HolePos, ...]
    box: Box  # with the jacks' keep-outs and what hangs under it


@dataclass(frozen=True)
class HatSpec:
    id: str
    width: Mm
    depth: Mm
    thickness: Mm
    standoff: Mm  # board top face to HAT bottom face
    height_above: Mm
    holes: tuple[HolePos, ...]
    included: dict[str, int]  # part id -> pieces in its box
    box: Box  # with its fan under it and its tallest part above


@dataclass(frozen=True)
class DriveSpec:
    id: str
    width: Mm
    length: Mm
    height: Mm
    thread: str
    bottom_holes: tuple[HolePos, ...]  # (across from the left edge, along from the front)
    thread_depth_bottom: Mm

    @property
    def box(self) -> Box:
        return Box(0.0, 0.0, 0.0, self.width, self.length, self.height)


@dataclass(frozen=True)
class SwitchSpec:
    id: str
    width: Mm  # lying flat: x
    depth: Mm  # front to back
    height: Mm
    strap_width: Mm | None = None  # lying flat, held by a strap through two base slots (catalog flat_mount)
    mount_gap: Mm = 0.5  # its outline to what holds it

    @property
    def box(self) -> Box:
        return Box(0.0, 0.0, 0.0, self.width, self.depth, self.height)


@dataclass(frozen=True)
class SheetSpec:
    id: str
    thickness: Mm  # nominal
    thickness_range: tuple[Mm, Mm]  # (thinnest, thickest) within the material's tolerance
    bend: BendSpec | None = None  # how it bends on a hot line (None: not known)


@dataclass(frozen=True)
class BendSpec:
    """The sheet's bend data (catalog SheetBend) in mm and degrees."""

    inner_radius: Mm
    k_factor: float
    angle: float  # degrees the material is bent through


def _holes(holes: list) -> tuple[HolePos, ...]:
    return tuple((mm(u), mm(v)) for u, v in holes)


def spacer_spec(p: Spacer) -> SpacerSpec:
    male = mm(p.male_thread_length) if p.male_thread_length else 0.0
    return SpacerSpec(p.id, p.thread, mm(p.length), p.style, male, mm(p.across_flats))


def screw_spec(p: Screw) -> ScrewSpec:
    return ScrewSpec(p.id, p.thread, mm(p.length), mm(p.head_diameter), mm(p.head_height))


def nut_spec(p: Nut) -> NutSpec:
    return NutSpec(p.id, p.thread, p.style, mm(p.across_flats), mm(p.height), mm(p.thread_depth))


def foot_spec(p: Foot) -> FootSpec:
    return FootSpec(p.id, mm(p.diameter), mm(p.height))


def board_spec(p: Board) -> BoardSpec:
    x0 = y0 = top = 0.0
    x1, y1 = mm(p.width), mm(p.depth)
    for k in p.keepouts:  # jacks overhang the board's edge and rise above it
        x0, y0 = min(x0, mm(k.x)), min(y0, mm(k.y))
        x1 = max(x1, mm(k.x) + mm(k.width))
        y1 = max(y1, mm(k.y) + mm(k.depth))
        top = max(top, mm(k.z) + mm(k.height))
    t = mm(p.thickness)
    return BoardSpec(p.id, mm(p.width), mm(p.depth), t, mm(p.hole_diameter), p.hole_thread, _holes(p.holes),
                     Box(x0, y0, -mm(p.height_below), x1, y1, t + top))


def hat_spec(p: Hat) -> HatSpec:
    box = Box(0.0, 0.0, -mm(p.height_below), mm(p.width), mm(p.depth), mm(p.thickness) + mm(p.height_above))
    return HatSpec(p.id, mm(p.width), mm(p.depth), mm(p.thickness), mm(p.standoff), mm(p.height_above),
                   _holes(p.holes), dict(p.included), box)


def drive_spec(p: Drive) -> DriveSpec:
    return DriveSpec(p.id, mm(p.width), mm(p.length), mm(p.height), p.thread, _holes(p.bottom_holes),
                     mm(p.thread_depth_bottom))


def switch_spec(p: Switch) -> SwitchSpec:
    fm = p.flat_mount
    strap = mm(fm.strap_width) if fm is not None and fm.method == "strap" else None
    gap = mm(fm.frame_gap) if fm is not None and fm.frame_gap is not None else 0.5
    return SwitchSpec(p.id, mm(p.width), mm(p.depth), mm(p.height), strap, gap)


def sheet_spec(p: Sheet) -> SheetSpec:
    bend = None if p.bend is None else BendSpec(mm(p.bend.inner_radius), p.bend.k_factor, p.bend.angle)
    return SheetSpec(p.id, mm(p.thickness), p.thickness_range_mm(), bend)


SPEC_OF_KIND = {"spacer": spacer_spec, "screw": screw_spec, "nut": nut_spec, "foot": foot_spec,
                "board": board_spec, "hat": hat_spec, "drive": drive_spec, "switch": switch_spec}


def part_box(part: Spacer | Screw | Nut | Foot | Board | Hat | Drive | Switch) -> Box:
    """A catalog part's extent in its own frame."""
    return SPEC_OF_KIND[part.kind](part).box
