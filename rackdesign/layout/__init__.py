"""The rack layout: every plate, part and fastener of the rack positioned in one frame.

Pure Python (no CAD stack): the assembly (model.py), the cut files (plates.py), the checks and
the BOM all read this. Frame: millimetres; x to the right, y to the back, z up; the origin is
the front-left corner of the base plate's bottom face (rackdesign.geometry3d).

The rack is the seed's: the 2.5" drive lies on the base plate, screwed from below through its
SFF-8201 bottom holes; one tier plate per node above it, each carrying its board on short
spacers (the HAT on top at its standoff); a top plate; four M3 spacer columns join the plates,
set beside the drive and the boards; the PoE switch stands on its side beside the stack, held
by a bent ("く") acrylic support (for a service that does not bend: two plates joined by tabs and
slots, switch_support.support_form), or lies flat on the base; rubber feet under the base.

The steps, each in its own module:
  inputs.py          the cluster's rack settings and its catalog parts, in mm, read once
  mounts.py          each board's spacers and screws (and its HAT's)
  plan.py            plate sizes and where the columns stand (seen from above)
  columns.py         the gap each column segment bridges, the solver's stacks, the plates' heights
  base.py, tiers.py  the plates with what they carry; switch_support.py the switch and its support
  feet.py            the feet, clear of every head under the base
  placed.py          the typed result: Plate, Hole, Placed, Column, Layout
"""

from __future__ import annotations

from pirack.load import LoadedCluster

from ..findings import Finding
from ..geometry3d import Box, Mm
from .base import place_base
from .columns import column_findings, column_gaps, column_spacers, place_columns, plate_heights, solve_columns
from .feet import place_feet
from .inputs import RackInput, read_input
from .mounts import choose_mount
from .placed import Hole, Layout, Placer, Plate
from .plan import StackPlan, plan_stack
from .tiers import place_tier


def build_layout(lc: LoadedCluster, fabricator: str | None = None) -> Layout:
    """The rack of a loaded cluster (cut by `fabricator`, default rack.fabricator). Raises
    LayoutError (rackdesign.findings) when it cannot be laid out as asked; records a Finding
    wherever it settled for a part that breaks a rule."""
    inp = read_input(lc, fabricator)
    spacers = column_spacers(inp)
    plan = plan_stack(inp, max(s.across_flats for s in spacers))
    mounts = [choose_mount(inp.fasteners, node, inp.sheet.thickness_range) for node in inp.nodes]
    findings: list[Finding] = [f for m in mounts for f in m.findings]
    segments = solve_columns(inp, spacers, column_gaps(inp, mounts))
    findings += column_findings(segments)
    heights = plate_heights(segments, inp.sheet.thickness)

    placer = Placer()
    column_holes = _column_holes(plan)
    base, switch = place_base(placer, inp, plan, column_holes, findings)
    tiers = [place_tier(placer, inp, plan, node, mount, heights[node.plate], column_holes)
             for node, mount in zip(inp.nodes, mounts)]
    plates = [base, *tiers, _top_plate(inp, plan, heights["top"], column_holes)]
    _place_plates(placer, plates)
    columns = place_columns(placer, inp, plan, segments)
    if inp.feet is not None:
        place_feet(placer, inp.feet, plan.base_width, plan.base_depth, inp.margin)
    return Layout(inp.name, inp.sheet.id, inp.sheet.thickness, inp.sheet.thickness_range, plates, columns,
                  placer.parts, heights, switch.support, findings)


def _column_holes(plan: StackPlan) -> tuple[Hole, ...]:
    """Every plate's holes for the four columns (they must line up)."""
    return tuple(Hole(x, y, plan.column_hole, "column", "M3", column=n) for n, (x, y) in plan.columns.items())


def _top_plate(inp: RackInput, plan: StackPlan, z: Mm, column_holes: tuple[Hole, ...]) -> Plate:
    return Plate("top", "top", 0.0, plan.plate_y, z, plan.plate_width, plan.plate_depth, inp.sheet.thickness,
                 inp.corner_radius, column_holes)


def _place_plates(placer: Placer, plates: list[Plate]) -> None:
    for p in plates:
        placer.add(p.name, "plate", (p.x, p.y, p.z), Box(0.0, 0.0, 0.0, p.width, p.depth, p.thickness), role=p.role,
                   params=(p.name,))
