"""The base plate: the columns' holes, the 2.5" drive screwed to it from below through its
SFF-8201 bottom holes (its connector end at the back), and the switch beside the stack."""

from __future__ import annotations

from ..findings import Finding
from ..stack import choose_screw
from .inputs import RackInput
from .placed import HEAD_DOWN, Carried, Cutout, Hole, Placer, Plate
from .plan import STRAP_SLOT_WIDTH, StackPlan, strap_room
from .switch_support import SwitchOnBase, place_switch

DRIVE_SCREW_ENGAGEMENT = 1.0  # mm, two turns: a drive's bottom holes are shallow


def place_base(placer: Placer, inp: RackInput, plan: StackPlan, column_holes: tuple[Hole, ...],
               findings: list[Finding]) -> tuple[Plate, SwitchOnBase]:
    """The base plate, with the drive and the switch placed on it (their findings added)."""
    holes, carries = list(column_holes), []
    if inp.drive is not None:
        holes += _place_drive(placer, inp, plan, findings)
        carries.append(Carried("drive", inp.drive.id, plan.drive_area))
    switch = SwitchOnBase()
    if inp.switch is not None:
        switch = place_switch(placer, inp.switch, inp.switch_orientation, plan.switch_x, plan.base_depth, inp.sheet,
                              inp.margin, inp.fasteners, inp.support_web)
        holes += switch.holes
        carries += switch.carried
        findings += switch.findings
    plate = Plate("base", "base", 0.0, 0.0, 0.0, plan.base_width, plan.base_depth, inp.sheet.thickness,
                  inp.corner_radius, tuple(holes), tuple(strap_slots(inp, plan)), carries=tuple(carries))
    return plate, switch


def strap_slots(inp: RackInput, plan: StackPlan) -> list[Cutout]:
    """A flat switch with no screw holes is held by a strap over it: two slots through the base,
    one beside each side of its outline (the port face and the power jack stay free)."""
    sw = inp.switch
    if strap_room(inp) == 0.0:
        return []
    y = plan.base_depth / 2  # the switch lies centred on the base's depth
    length = sw.strap_width + 2.0  # the strap passes with 1 mm each side
    off = sw.mount_gap + STRAP_SLOT_WIDTH / 2
    return [Cutout("strap", x, y, length, STRAP_SLOT_WIDTH, vertical=True)
            for x in (plan.switch_x - off, plan.switch_x + sw.width + off)]


def _place_drive(placer: Placer, inp: RackInput, plan: StackPlan, findings: list[Finding]) -> list[Hole]:
    drive, fasteners = inp.drive, inp.fasteners
    x0, y0 = plan.drive_area.x0, plan.drive_area.y0
    holes = [Hole(x0 + u, y0 + v, inp.hole(drive.thread), "drive", drive.thread) for u, v in drive.bottom_holes]
    placer.add(drive.id, "drive", (x0, y0, inp.sheet.thickness), drive.box, role="drive")
    choice = choose_screw(fasteners.screws, drive.thread, inp.sheet.thickness_range, drive.thread_depth_bottom,
                          min_engage=DRIVE_SCREW_ENGAGEMENT, what="drive screw")
    if not choice.ok:
        findings.append(choice.finding("drive screws"))
    screw = fasteners.chosen_screw(choice, drive.thread, f"drive {drive.id}", "base plate")
    for u, v in drive.bottom_holes:
        placer.add(screw.id, "screw", (x0 + u, y0 + v, 0.0), screw.box, HEAD_DOWN, role="drive-screw")
    return holes
