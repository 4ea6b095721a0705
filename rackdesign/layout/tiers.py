"""A tier: one node's plate with its board, the board's mount (spacers and screws, the HAT
on top) and the plate's optional cable and air cut-outs.

The board lies turned a quarter (JACKS_TO_FRONT: board frame (u, v) -> rack (x + v, y − u)),
centred across the content, its jacks' end (largest u, overhang included) at the content's
front edge: the LAN jacks face the switch's ports.
"""

from __future__ import annotations

import math

from ..geometry3d import Mm, Point3, Rotation, transform, world_box
from ..partspec import BoardSpec
from .inputs import NodeParts, RackInput
from .mounts import BoardMount
from .placed import HEAD_DOWN, JACKS_TO_FRONT, Carried, Cutout, Hole, Placer, Plate
from .plan import StackPlan

CABLE_PASS_MIN = 6.0  # mm of free depth behind the board for a cable cut-out
CABLE_PASS = (40.0, 10.0)  # its largest length and width
VENT_INSET = 8.0  # air vents: inside the board's hole pattern by this much
VENT_PITCH, VENT_WIDTH = 10.0, 5.0


def board_origin(plan: StackPlan, board: BoardSpec, z: Mm) -> Point3:
    """Where the board's own origin goes so that, turned by JACKS_TO_FRONT, its box is centred
    across the content with its jacks at the content's front edge."""
    box = board.box
    return (plan.content_x + (plan.content_width - (box.y1 - box.y0)) / 2 - box.y0, plan.content_y + box.x1, z)


def place_tier(placer: Placer, inp: RackInput, plan: StackPlan, node: NodeParts, mount: BoardMount, z: Mm,
               column_holes: tuple[Hole, ...]) -> Plate:
    """The tier plate of `node` with its bottom face at `z`, and everything it carries."""
    t, board = inp.sheet.thickness, node.board
    origin = board_origin(plan, board, z + t + mount.standoff)
    holes = tuple(Hole(x, y, inp.hole(mount.thread), "board", mount.thread, node=node.name)
                  for x, y in _on_board(board.holes, origin, JACKS_TO_FRONT))
    placer.add(board.id, "board", origin, board.box, JACKS_TO_FRONT, role="board", node=node.name)
    for h in holes:  # a screw up through the plate into the spacer under the board
        placer.add(mount.plate_screw.id, "screw", (h.x, h.y, z), mount.plate_screw.box, HEAD_DOWN,
                   role="board-screw", node=node.name)
        placer.add(mount.board_spacer.id, "spacer", (h.x, h.y, z + t), mount.board_spacer.box, JACKS_TO_FRONT,
                   role="board-mount", node=node.name)
    _place_board_top(placer, node, mount, origin, holes)
    footprint = world_box(board.box, origin, JACKS_TO_FRONT).plan
    return Plate(node.plate, "tier", 0.0, plan.plate_y, z, plan.plate_width, plan.plate_depth, t, inp.corner_radius,
                 column_holes + holes, tuple(_cutouts(inp, plan, board, origin)), node=node.name,
                 carries=(Carried("board", board.id, footprint),))


def _on_board(points: tuple[tuple[Mm, Mm], ...], origin: Point3, rot: Rotation) -> list[tuple[Mm, Mm]]:
    """Points of the board's frame (its holes) in the rack's plan."""
    out = []
    for u, v in points:
        x, y, _ = transform((u, v, 0.0), (origin[0], origin[1], 0.0), rot)
        out.append((x, y))
    return out


def _place_board_top(placer: Placer, node: NodeParts, mount: BoardMount, origin: Point3,
                     holes: tuple[Hole, ...]) -> None:
    """The HAT on its spacers with its screws, or (no HAT) a screw down through each hole."""
    board, hat = node.board, node.hat
    board_top = origin[2] + board.thickness
    if hat is not None:
        hat_z = origin[2] + board.thickness + hat.standoff
        placer.add(hat.id, "hat", (origin[0], origin[1], hat_z), hat.box, JACKS_TO_FRONT, role="hat", node=node.name)
        for x, y in _on_board(hat.holes, origin, JACKS_TO_FRONT):
            # turned with the board: the hex's flats face the board's connectors
            placer.add(mount.hat_spacer.id, "spacer", (x, y, board_top), mount.hat_spacer.box, JACKS_TO_FRONT,
                       role="hat-mount", node=node.name)
            placer.add(mount.hat_screw.id, "screw", (x, y, hat_z + hat.thickness), mount.hat_screw.box,
                       role="hat-screw", node=node.name)
    elif mount.top_screw is not None:
        for h in holes:
            placer.add(mount.top_screw.id, "screw", (h.x, h.y, board_top), mount.top_screw.box,
                       role="board-screw-top", node=node.name)


def _cutouts(inp: RackInput, plan: StackPlan, board: BoardSpec, origin: Point3) -> list[Cutout]:
    """A cable pass behind the board (the SATA-USB and LAN cables go between tiers there) and
    air vents under it, inside its hole pattern (the HAT's fan blows down through the board)."""
    cuts = []
    free_y0 = plan.content_y + plan.board_depth
    free_y1 = plan.plate_y + plan.plate_depth - inp.margin
    if inp.cable_cutouts and free_y1 - free_y0 >= CABLE_PASS_MIN:
        width = min(CABLE_PASS[1], free_y1 - free_y0 - 1.0)
        length = min(CABLE_PASS[0], plan.content_width - 10.0)
        cuts.append(Cutout("cable", plan.content_x + plan.content_width / 2, (free_y0 + free_y1) / 2, length, width))
    if inp.airflow_cutouts:
        cuts += _vents(board, origin)
    return cuts


def _vents(board: BoardSpec, origin: Point3) -> list[Cutout]:
    us = [u for u, _ in board.holes]
    vs = [v for _, v in board.holes]
    u0, u1 = min(us) + VENT_INSET, max(us) - VENT_INSET
    v0, v1 = min(vs) + VENT_INSET, max(vs) - VENT_INSET
    n = max(1, int((v1 - v0) // VENT_PITCH))
    cuts = []
    for k in range(n):
        v = v0 + (v1 - v0) * (k + 0.5) / n
        a = transform((u0, v, 0.0), (origin[0], origin[1], 0.0), JACKS_TO_FRONT)
        c = transform((u1, v, 0.0), (origin[0], origin[1], 0.0), JACKS_TO_FRONT)
        cuts.append(Cutout("airflow", (a[0] + c[0]) / 2, (a[1] + c[1]) / 2, math.dist(a[:2], c[:2]) + VENT_WIDTH,
                           VENT_WIDTH, vertical=abs(a[0] - c[0]) < 1e-6))
    return cuts
