"""The four spacer columns that join the plates: the gap each segment must bridge (what
stands on the tier below, what hangs under the plate above, rack.min_clearance), the stacks
the solver (rackdesign.stack) chooses for them, the plates' heights that follow, and the
columns' spacers, screws and cap nuts placed."""

from __future__ import annotations

from ..findings import Finding, LayoutError
from ..geometry3d import Mm
from ..partspec import SpacerSpec
from ..stack import Gap, Segment, solve_column
from .inputs import NodeParts, RackInput
from .mounts import BoardMount
from .placed import COLUMN_NAMES, HEAD_DOWN, Column, Placer
from .plan import StackPlan

THREAD = "M3"


def column_spacers(inp: RackInput) -> list[SpacerSpec]:
    """The allowed M3 spacers (a LayoutError when there are none)."""
    spacers = [s for s in inp.fasteners.spacers if s.thread == THREAD]
    if not spacers:
        raise LayoutError("STACK_HEIGHT", f"spacer columns ({', '.join(COLUMN_NAMES)}): no M3 spacer to stack",
                          inp.fasteners.where_to_add("spacer", "M3 spacers", lambda p: p.thread == THREAD))
    return spacers


def tier_content_height(node: NodeParts, mount: BoardMount) -> Mm:
    """From a tier plate's top face to the top of what stands on it: the board's jacks, or the
    HAT with its tallest part or its screws' heads."""
    board, hat = node.board, node.hat
    top = mount.standoff + board.thickness + board.box.z1 - board.thickness
    if hat is not None:
        hat_top = mount.standoff + board.thickness + hat.standoff + hat.thickness
        top = max(top, hat_top + hat.height_above, hat_top + mount.head_above)
    return top


def column_gaps(inp: RackInput, mounts: list[BoardMount]) -> list[Gap]:
    """Each segment's least height, base up: what stands below (the drive on the base, a tier's
    content) + min_clearance + what hangs under the plate above (its board screws' heads)."""
    names, clearance = inp.plate_names, inp.min_clearance
    gaps = [("base", names[1], mounts[0].plate_screw.head_height + clearance
             + (inp.drive.height if inp.drive else 0.0))]
    for i, node in enumerate(inp.nodes):
        below_next = mounts[i + 1].plate_screw.head_height if i + 1 < len(inp.nodes) else 0.0
        gaps.append((names[i + 1], names[i + 2], tier_content_height(node, mounts[i]) + clearance + below_next))
    return gaps


def solve_columns(inp: RackInput, spacers: list[SpacerSpec], gaps: list[Gap]) -> list[Segment]:
    """The segments every column shares (a LayoutError naming the columns when a gap has no stack)."""
    fasteners = inp.fasteners
    try:
        return solve_column(gaps, spacers, fasteners.screws, inp.sheet.thickness_range, fasteners.nut(THREAD, "cap"))
    except LayoutError as exc:
        longer = fasteners.where_to_add("spacer", "longer M3 male-female spacers",
                                        lambda p: p.thread == THREAD and p.style == "male-female")
        raise LayoutError(exc.code, f"spacer columns ({', '.join(COLUMN_NAMES)}): {exc.message}",
                          f"lower rack.min_clearance (now {inp.min_clearance:g} mm), or {longer}") from None


def column_findings(segments: list[Segment]) -> list[Finding]:
    return [c.finding(f"column {s.lower}→{s.upper}") for s in segments for c in s.problems]


def plate_heights(segments: list[Segment], t: Mm) -> dict[str, Mm]:
    """Plate name -> z of its bottom face: each plate on the segment below it."""
    tiers: dict[str, Mm] = {"base": 0.0}
    z = t
    for s in segments:
        tiers[s.upper] = z + s.height
        z = z + s.height + t
    return tiers


def place_columns(placer: Placer, inp: RackInput, plan: StackPlan, segments: list[Segment]) -> list[Column]:
    """Every column's spacers bottom up, the screw under the base, and what closes the top."""
    t, fasteners = inp.sheet.thickness, inp.fasteners
    columns = []
    for name, (x, y) in plan.columns.items():
        z = t
        for k, s in enumerate(segments):
            for sp in s.stack.spacers:
                placer.add(sp.id, "spacer", (x, y, z), sp.box, role="column", column=name)
                z += sp.length
            if k == 0 and s.joint.part_id:
                screw = fasteners[s.joint.part_id]
                placer.add(screw.id, "screw", (x, y, 0.0), screw.box, HEAD_DOWN, role="column-screw", column=name)
            if s.top is not None and s.top.part_id:
                top = fasteners[s.top.part_id]
                placer.add(top.id, fasteners.kind(top.id), (x, y, z + t), top.box, role="column-top", column=name)
            z += t
        columns.append(Column(name, x, y, tuple(segments)))
    return columns
