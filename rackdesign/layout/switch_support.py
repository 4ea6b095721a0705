"""The PoE switch beside the stack, and what holds it.

`side` (the seed's way): the switch stands on its side, port face to the front, its height
along x, leaning on a bent ("く") acrylic support: a strip cut flat from the same sheet and
bent 90° into a foot on the base and a wall along the switch. Two M3 screws come up through
the base and the support's foot, hex nuts on the foot (the screw's end then rises beside the
wall instead of reaching below the feet). `flat`: the switch lies on the base.

For a fabricator that does not bend (its profile's `bends = false`), the layout places what will
be built instead: a foot plate and a wall plate whose tabs stand in two slots of the foot, the
slots `web` in from the foot's end and the screws past them (`SupportForm`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..findings import Finding
from ..geometry3d import Box, Mm, Rect
from ..partspec import NutSpec, SheetSpec, SwitchSpec
from ..stack import ScrewChoice, choose_screw
from ..threads import clearance_hole
from .allowed import AllowedFasteners
from .placed import HEAD_DOWN, ON_ITS_SIDE, Carried, Hole, Placer, SupportPattern

if TYPE_CHECKING:
    from pirack.catalog import Fabricator

# A sheet without [bend] data (parts/sheets): inside radius = thickness, neutral axis mid-way
# (the figures the catalog's acrylic sheets give, themselves unsourced estimates).
DEFAULT_BEND_RADIUS_T = 1.0
DEFAULT_K = 0.5
SUPPORT_WALL_FRACTION = 0.6  # the support's wall reaches this share of the standing switch
SUPPORT_FOOT = 15.0  # mm the support's foot runs out from the wall (room for its screws)
SUPPORT_GAP = 0.5  # switch face to the support's wall
SUPPORT_SCREW_FROM_EDGE = 10.0  # the foot's two screws, from its front and back ends


@dataclass(frozen=True)
class SwitchOnBase:
    """What the switch adds to the base plate."""

    holes: tuple[Hole, ...] = ()
    carried: tuple[Carried, ...] = ()
    support: SupportPattern | None = None
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class SupportForm:
    """Where the support's pieces stand along x, measured from the wall's end of its foot (the
    switch's side). Bent: the wall is the strip's end, the screws midway along the foot past it.
    Not bent (`web` given): the wall's tabs stand in slots `web` in from that end, `slot_width`
    wide (the thickest sheet in tolerance, plus SLOT_CLEARANCE); the screws are past the slots, a
    web from them and from the foot's far end, so their nuts stay clear of the wall."""

    foot: Mm  # the foot's length
    screw_x: Mm  # the foot's two screws
    web: Mm | None = None  # None: bent
    slot_width: Mm = 0.0

    @property
    def bent(self) -> bool:
        return self.web is None

    def wall_x(self, t: Mm) -> Mm:
        """The wall's face towards the switch: the foot's end when bent, else centred in its slots."""
        return 0.0 if self.web is None else self.web + (self.slot_width - t) / 2


def support_form(t: Mm, web: Mm | None = None, thickest: Mm | None = None) -> SupportForm:
    """The bent support (`web` None), or the two plates joined by tabs and slots."""
    if web is None:
        return SupportForm(SUPPORT_FOOT, t + (SUPPORT_FOOT - t) / 2)
    slot = (thickest if thickest is not None else t) + SLOT_CLEARANCE
    hole = clearance_hole("M3")
    screw_x = web + slot + web + hole / 2
    return SupportForm(round(max(SUPPORT_FOOT, screw_x + hole / 2 + web), 3), round(screw_x, 3), web, slot)


def no_bend_web(profile: Fabricator | None, t: Mm) -> Mm | None:
    """None when the fabricator bends the support (or no profile is known); else the foot's web
    beyond the slots of the two-plate support: the fabricator's minimum web, at least t."""
    if profile is None or profile.bends:
        return None
    return max(profile.min_web.at(t), t)


def base_size(stack_width: Mm, stack_depth: Mm, switch: SwitchSpec | None, orientation: str, clearance: Mm,
              t: Mm, margin: Mm, form: SupportForm | None = None) -> tuple[Mm, Mm, Mm]:
    """(the switch's x, the base's width, its depth): the switch `clearance` beside the stack,
    the base out to the support's foot (`form`, default bent) with its screw holes `margin`
    clear of the edge."""
    if switch is None:
        return 0.0, stack_width, stack_depth
    switch_x = stack_width + clearance
    if orientation == "side":
        form = form or support_form(t)
        screw_x = switch.height + SUPPORT_GAP + form.screw_x
        width = switch_x + max(switch.height + SUPPORT_GAP + form.foot, screw_x + clearance_hole("M3") / 2 + margin)
    else:
        width = switch_x + switch.width + margin
    return switch_x, width, max(stack_depth, switch.depth + 2 * margin)


def support_hole_ys(depth: Mm) -> tuple[Mm, Mm]:
    return (SUPPORT_SCREW_FROM_EDGE, depth - SUPPORT_SCREW_FROM_EDGE)


@dataclass(frozen=True)
class Bend:
    """One bend of a sheet: inside radius R, K-factor K (neutral axis at K·T from the inside
    face), the angle A it is bent through, the thickness T."""

    inner_radius: Mm
    k_factor: float
    angle: float  # degrees
    thickness: Mm

    @property
    def allowance(self) -> Mm:
        """BA = π (R + K·T) A / 180: the neutral axis's length through the bend."""
        return math.pi * (self.inner_radius + self.k_factor * self.thickness) * self.angle / 180

    @property
    def setback(self) -> Mm:
        """Outside setback (R + T)·tan(A/2): from the outside mould line's corner to where the
        bend starts, on each leg."""
        return (self.inner_radius + self.thickness) * math.tan(math.radians(self.angle) / 2)

    def flat_length(self, leg_a: Mm, leg_b: Mm) -> Mm:
        """Flat length of two legs of outside lengths a and b joined by this bend."""
        return leg_a + leg_b - 2 * self.setback + self.allowance


def sheet_bend(sheet: SheetSpec) -> Bend:
    """The sheet's bend data (parts/sheets [bend]), else the defaults above."""
    if sheet.bend is None:
        return Bend(DEFAULT_BEND_RADIUS_T * sheet.thickness, DEFAULT_K, 90.0, sheet.thickness)
    return Bend(sheet.bend.inner_radius, sheet.bend.k_factor, sheet.bend.angle, sheet.thickness)


def support_pattern(bend: Bend, wall: Mm, foot: Mm, depth: Mm, screwed: bool = True,
                    screw_x: Mm | None = None, web: Mm | None = None) -> SupportPattern:
    """Flat pattern of the bent support: a strip whose bend joins a foot of `foot` mm and a wall
    of `wall` mm (outside lengths). Flat length = foot + wall - 2 x setback + bend allowance;
    the bend line is the middle of the bend, (foot - setback) + BA/2 from the foot's end.
    `screw_x`: the screws from the wall's end (SupportForm; default midway past the wall).
    `web`: the two-plate form's web (SupportForm.web), recorded for what cuts it."""
    t = bend.thickness
    length = bend.flat_length(foot, wall)
    bend_at = foot - bend.setback + bend.allowance / 2
    if screw_x is None:
        screw_x = t + (foot - t) / 2
    hole_x = foot - screw_x  # from the foot's free end (x = 0 in the flat pattern)
    holes = tuple((hole_x, y, clearance_hole("M3")) for y in support_hole_ys(depth)) if screwed else ()
    return SupportPattern(round(length, 3), depth, round(bend_at, 3), bend.angle, holes, foot, wall,
                          bend.inner_radius, bend.k_factor, round(bend.allowance, 3), web)


def place_switch(placer: Placer, switch: SwitchSpec, orientation: str, switch_x: Mm, base_depth: Mm,
                 sheet: SheetSpec, margin: Mm, fasteners: AllowedFasteners, web: Mm | None = None) -> SwitchOnBase:
    """The switch on the base (and its support, screws and nuts when it stands on its side).
    `web`: the fabricator does not bend (no_bend_web): the support is two plates (SupportForm)."""
    base_top = sheet.thickness
    switch_y = (base_depth - switch.depth) / 2
    if orientation != "side":
        placer.add(switch.id, "switch", (switch_x, switch_y, base_top), switch.box, role="switch")
        area = Rect(switch_x, switch_y, switch_x + switch.width, switch_y + switch.depth)
        return SwitchOnBase(carried=(Carried("switch", switch.id, area),))
    placer.add(switch.id, "switch", (switch_x + switch.height, switch_y, base_top), switch.box, ON_ITS_SIDE,
               role="switch")
    t = sheet.thickness
    form = support_form(t, web, sheet.thickness_range[1])
    wall = round(SUPPORT_WALL_FRACTION * switch.width, 1)
    depth = round(min(switch.depth - 2 * margin, 0.6 * switch.depth), 1)
    x = switch_x + switch.height + SUPPORT_GAP
    y = (base_depth - depth) / 2
    # params: what the model builds it from (the bent strip, or the two plates when web is given)
    placer.add("switch-support", "support", (x, y, base_top), Box(0.0, 0.0, 0.0, form.foot, depth, wall),
               role="support", params=(t, wall, form.foot, depth, form.web, form.slot_width))
    area = Rect(switch_x, switch_y, x + form.foot, switch_y + switch.depth)
    holes, findings = _support_screws(placer, x + form.screw_x, [y + dy for dy in support_hole_ys(depth)], sheet,
                                      fasteners)
    pattern = support_pattern(sheet_bend(sheet), wall, form.foot, depth, screwed=bool(holes), screw_x=form.screw_x,
                              web=form.web)
    return SwitchOnBase(tuple(holes), (Carried("switch", switch.id, area),), pattern,
                        tuple(findings))


def _support_screws(placer: Placer, x: Mm, ys: list[Mm], sheet: SheetSpec,
                    fasteners: AllowedFasteners) -> tuple[list[Hole], list[Finding]]:
    """Two M3 screws up through the base and the foot, a nut on each (a cap nut when
    rack.fasteners allows only those). When the screws rack.fasteners allows cannot do it, no
    screws and no holes: the support is bonded (a warning says so and what would screw it)."""
    nut, choice = _support_screw_choice(sheet, fasteners)
    if not choice.ok and fasteners.restricted:  # the user's own stock cannot screw it: no holes
        return [], [_bonded(choice)]
    findings = [] if choice.ok else [choice.finding("switch support screws")]
    screw = fasteners.chosen_screw(choice, "M3", "switch support", "base plate")
    holes = []
    for y in ys:
        holes.append(Hole(x, y, clearance_hole("M3"), "support", "M3"))
        placer.add(screw.id, "screw", (x, y, 0.0), screw.box, HEAD_DOWN, role="support-screw")
        if nut:
            placer.add(nut.id, "nut", (x, y, sheet.thickness + sheet.thickness), nut.box, role="support-nut")
    return holes, findings


def _bonded(choice: ScrewChoice) -> Finding:
    """The support left unscrewed: none of the screws rack.fasteners allows can hold a nut
    through the base and the foot (the seed's M3x6 and cap nuts could not: its rack stands, so
    its support was fixed another way, which the post does not say)."""
    return Finding("warning", "SUPPORT_BONDED",
                   f"the switch support is not screwed ({choice.note.rstrip('.')}): its foot is to be bonded "
                   "to the base (acrylic cement, or strong double-sided tape)",
                   fix="to screw it instead, allow in rack.fasteners an M3 screw long enough to reach a nut "
                       "through the base and the support's foot (two sheets)",
                   where="switch support")


def _support_screw_choice(sheet: SheetSpec, fasteners: AllowedFasteners) -> tuple[NutSpec | None, ScrewChoice]:
    thinnest, thickest = sheet.thickness_range
    grip = (2 * thinnest, 2 * thickest)  # the base and the support's foot
    hex_nut, cap_nut = fasteners.nut("M3", "hex"), fasteners.nut("M3", "cap")
    if hex_nut is None and cap_nut is not None:  # rack.fasteners allows only cap nuts
        return cap_nut, choose_screw(fasteners.screws, "M3", grip, cap_nut.thread_depth, what="support screw")
    nut_height = hex_nut.height if hex_nut else 0.0
    return hex_nut, choose_screw(fasteners.screws, "M3", grip, 99.0, min_engage=nut_height, what="support screw")


# --- the no-bend alternative: two plates joined by tabs and slots --------------------------------

TAB_WIDTH = 10.0  # each of the wall's two tabs, along the support's depth
SLOT_CLEARANCE = 0.2  # mm a slot is wider and longer than what goes in it


def unbent_support(sp: SupportPattern, thickness: Mm, thickest: Mm, edge: Mm, material: str) -> list:
    """For a service that does not bend: the support as a foot plate and a wall plate, the
    wall's two tabs through two slots in the foot (glued with acrylic cement). The foot keeps
    the bent support's screw holes; the wall stands `edge` mm in from the foot's end (the web
    that keeps the slots inside the plate), so the switch leans on it that much further out.
    Slots take the thickest sheet within tolerance plus SLOT_CLEARANCE."""
    from ..geometry2d import Circle, Part2D, rounded_rect

    t, depth = thickness, sp.width
    slot_w, tab_ys = thickest + SLOT_CLEARANCE, (depth / 3, 2 * depth / 3)
    slot_x1 = sp.foot - edge
    slots = [_rect(slot_x1 - slot_w, y - (TAB_WIDTH + SLOT_CLEARANCE) / 2, slot_x1, y + (TAB_WIDTH + SLOT_CLEARANCE) / 2)
             for y in tab_ys]
    screw_holes = [Circle((x, y), d / 2) for x, y, d in sp.holes]
    info = [{"kind": "support", "thread": "M3", "diameter": d} for _, _, d in sp.holes]
    info += [{"kind": "tab-slot", "length": TAB_WIDTH + SLOT_CLEARANCE, "width": slot_w} for _ in tab_ys]
    joint = {"joint": "tabs and slots", "tabs": len(tab_ys), "tab_width": TAB_WIDTH, "edge": edge}
    foot = Part2D("switch-support-foot", rounded_rect(0.0, 0.0, sp.foot, depth, min(3.0, sp.foot / 4)),
                  screw_holes + slots, thickness=t, material=material,
                  notes={"holes": info, "datum": None, "role": "support", **joint})
    wall = Part2D("switch-support-wall", _wall_outline(sp.wall, depth, t, tab_ys), [], thickness=t,
                  material=material, notes={"holes": [], "datum": None, "role": "support", **joint})
    return [foot, wall]


def _rect(x0: Mm, y0: Mm, x1: Mm, y1: Mm):
    from ..geometry2d import Contour, Line

    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return Contour(tuple(Line(a, b) for a, b in zip(pts, pts[1:] + pts[:1])))


def _wall_outline(wall: Mm, depth: Mm, t: Mm, tab_ys: tuple[Mm, ...]):
    """The wall plate: `wall` mm high (x) including its tabs, which stick out t (the foot's
    thickness) below its edge at x = t; counter-clockwise."""
    from ..geometry2d import Contour, Line

    pts = [(t, 0.0), (wall, 0.0), (wall, depth), (t, depth)]
    for y in sorted(tab_ys, reverse=True):
        hi, lo = y + TAB_WIDTH / 2, y - TAB_WIDTH / 2
        pts += [(t, hi), (0.0, hi), (0.0, lo), (t, lo)]
    return Contour(tuple(Line(a, b) for a, b in zip(pts, pts[1:] + pts[:1])))
