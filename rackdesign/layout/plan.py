"""The plan of the rack, seen from above: how big the plates are and where the spacer columns
stand.

The boards (turned so their jacks face the front) and the drive share one content rectangle;
the four spacer columns stand outside it, `min_clearance` clear of everything in it (the
seed's plates were redrawn three times because spacers blocked the SSD); the stack plates
(tiers, top) are the content plus the columns plus the margin; the base adds the switch
beside the stack, and the stack plates sit centred on the base's depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..findings import LayoutError
from ..geometry3d import Mm, Rect, hex_circumradius, rect_distance
from .inputs import RackInput
from .placed import COLUMN_NAMES
from .switch_support import base_size, support_form


@dataclass(frozen=True)
class StackPlan:
    content_x: Mm  # where the boards and the drive sit: the content's front-left corner (rack frame)
    content_y: Mm
    content_width: Mm
    content_depth: Mm
    board_depth: Mm  # the deepest board, jacks included, from the content's front edge
    drive_area: Rect | None
    plate_width: Mm  # the stack plates (tiers and top), at x = 0
    plate_depth: Mm
    plate_y: Mm
    base_width: Mm
    base_depth: Mm
    switch_x: Mm
    column_hole: Mm
    columns: dict[str, tuple[Mm, Mm]]  # name -> centre (rack frame), COLUMN_NAMES order


def plan_stack(inp: RackInput, column_spacer_across_flats: Mm) -> StackPlan:
    """The plan for the rack's parts, with columns of spacers `column_spacer_across_flats` wide."""
    # each board's extent across x (its v) and along y (its u, the jacks overhang to the front)
    board_width = max(n.board.box.y1 - n.board.box.y0 for n in inp.nodes)
    board_depth = max(n.board.box.x1 - n.board.box.x0 for n in inp.nodes)
    drive_width, drive_length = (inp.drive.width, inp.drive.length) if inp.drive else (0.0, 0.0)
    content_width, content_depth = max(drive_width, board_width), max(drive_length, board_depth)
    # columns clear of the content by min_clearance, to 0.1 mm (round numbers on the floor plan)
    column_r = hex_circumradius(column_spacer_across_flats)
    column_to_content = math.ceil((inp.min_clearance + column_r) * 10 - 1e-9) / 10
    column_hole = inp.hole("M3")
    column_inset = column_hole / 2 + inp.margin  # plate edge to a column's centre
    plate_width = content_width + 2 * (column_to_content + column_inset)
    plate_depth = content_depth + 2 * inp.margin
    room = strap_room(inp)  # a flat switch's strap slots, on both sides of it
    switch_x, base_width, base_depth = base_size(plate_width, plate_depth, inp.switch, inp.switch_orientation,
                                                 inp.min_clearance + room, inp.sheet.thickness, inp.margin + room,
                                                 support_form(inp.sheet.thickness, inp.support_web,
                                                              inp.sheet.thickness_range[1]))
    plate_y = (base_depth - plate_depth) / 2  # stack plates centred on the base's depth
    x0, y0 = column_inset + column_to_content, plate_y + inp.margin
    drive_area = (Rect(x0 + (content_width - drive_width) / 2, y0, x0 + (content_width + drive_width) / 2,
                       y0 + drive_length) if inp.drive else None)
    columns = dict(zip(COLUMN_NAMES, (
        (column_inset, plate_y + column_inset),  # front-left
        (column_inset, plate_y + plate_depth - column_inset),  # back-left
        (plate_width - column_inset, plate_y + column_inset),  # front-right
        (plate_width - column_inset, plate_y + plate_depth - column_inset),  # back-right
    )))
    plan = StackPlan(x0, y0, content_width, content_depth, board_depth, drive_area, plate_width, plate_depth, plate_y,
                     base_width, base_depth, switch_x, column_hole, columns)
    _columns_clear_of_drive(plan, column_r, inp)
    return plan


STRAP_SLOT_WIDTH = 4.0  # mm across a strap slot: a hook-and-loop strap is ~2 mm thick, doubled at the buckle


def strap_room(inp: RackInput) -> Mm:
    """What a flat switch held by a strap needs on each side: its gap, the slot, a web of sheet."""
    sw = inp.switch
    if sw is None or inp.switch_orientation != "flat" or sw.strap_width is None:
        return 0.0
    return sw.mount_gap + STRAP_SLOT_WIDTH + inp.sheet.thickness


def _columns_clear_of_drive(plan: StackPlan, column_r: Mm, inp: RackInput) -> None:
    """The plan's own promise, checked: no column within min_clearance of the drive."""
    if plan.drive_area is None:
        return
    for name, (x, y) in plan.columns.items():
        gap = rect_distance(x, y, plan.drive_area) - column_r
        if gap < inp.min_clearance - 1e-6:  # the seed's first plates: a spacer blocked the SSD
            raise LayoutError("LAYOUT", f"base plate: the {name} spacer column stands {gap:.1f} mm from the "
                              f"drive {inp.drive.id}, under rack.min_clearance ({inp.min_clearance:g} mm)",
                              "this is a bug in the layout: report it with the cluster file")
