"""What the layout hands on: plates with their holes and cut-outs, every solid placed in the
rack frame, the spacer columns, and the whole `Layout`. Plain frozen data in millimetres:
the assembly (rackdesign.model), the cut files (rackdesign.plates), the checks, the plans and
the BOM all read these and nothing else.

Part frames (each part is built in its own frame, see rackdesign.partspec, and placed by
pos + rot): rotations are quarter turns about the part's own origin, applied in order, then
the move. A plate's frame is the lower-left corner of its bottom face; the switch support's
is the wall's inner face at the bottom, front end, foot along +x, wall up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Finding
from ..geometry3d import Box, Mm, Point3, Rect, Rotation, world_box
from ..stack import Segment

COLUMN_NAMES = ("front-left", "back-left", "front-right", "back-right")

# The placements the rack uses (see rackdesign.geometry3d.Rotation).
UPRIGHT: Rotation = ()
HEAD_DOWN: Rotation = (("x", 180),)  # a screw up from under a plate, its head below
# A board turned a quarter (board frame (u, v) -> rack (v, -u)): its jacks, at the board's
# largest u, face the front, towards the switch's ports.
JACKS_TO_FRONT: Rotation = (("z", -90),)
ON_ITS_SIDE: Rotation = (("y", -90),)  # the switch standing: its height along x, its width up


@dataclass(frozen=True)
class Hole:
    x: Mm  # centre, in the rack frame
    y: Mm
    diameter: Mm
    kind: str  # "column" | "board" | "drive" | "support"
    thread: str
    node: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class Cutout:
    """A stadium-shaped cut-out (cable pass or air vent), centre in the rack frame."""

    kind: str  # "cable" | "airflow" | "strap" (a flat switch's strap slot in the base)
    cx: Mm
    cy: Mm
    length: Mm
    width: Mm
    vertical: bool = False  # long axis along y


@dataclass(frozen=True)
class Carried:
    """The footprint of what a plate holds (a board with its jacks, the drive, the switch and
    its support), in the rack frame: the plate must cover it, with the margin."""

    kind: str  # "board" | "drive" | "switch"
    part_id: str
    area: Rect


@dataclass(frozen=True)
class Plate:
    name: str  # "base", "tier-1-master", "top"
    role: str  # "base" | "tier" | "top"
    x: Mm  # lower-left corner in the rack frame
    y: Mm
    z: Mm  # bottom face
    width: Mm
    depth: Mm
    thickness: Mm
    corner_radius: Mm
    holes: tuple[Hole, ...]
    cutouts: tuple[Cutout, ...] = ()
    node: str | None = None
    carries: tuple[Carried, ...] = ()

    @property
    def top(self) -> Mm:
        return self.z + self.thickness

    def holes_of(self, kind: str) -> list[Hole]:
        return [h for h in self.holes if h.kind == kind]


@dataclass(frozen=True)
class Placed:
    """One solid of the assembly: a catalog part (or a plate) placed in the rack frame."""

    part_id: str  # catalog id, or the plate's / support's name
    kind: str  # catalog kind, or "plate" / "support"
    name: str  # unique instance name, f"{part_id}#{n}"
    pos: Point3
    rot: Rotation = UPRIGHT
    bbox: Box = Box(0, 0, 0, 0, 0, 0)
    role: str = ""  # what it does: "column", "board-mount", "hat-mount", "drive", "support", ...
    node: str | None = None
    column: str | None = None
    params: tuple = ()  # what its shape depends on beyond the part id (model cache key)


@dataclass(frozen=True)
class Column:
    name: str
    x: Mm
    y: Mm
    segments: tuple[Segment, ...]

    @property
    def length(self) -> Mm:
        """Spacer length from the base's top face to the top plate's bottom face."""
        return round(sum(s.height for s in self.segments), 6)


@dataclass(frozen=True)
class SupportPattern:
    """The switch support's flat pattern (in its own frame, before bending)."""

    length: Mm  # flat length across the bend
    width: Mm  # along y
    bend_at: Mm  # distance of the bend line from the foot's end
    bend_angle: float  # degrees
    holes: tuple[tuple[Mm, Mm, Mm], ...]  # (x, y, diameter) in the flat pattern
    foot: Mm  # leg lengths (outside), for the model
    wall: Mm
    inner_radius: Mm = 0.0  # the bend (switch_support.Bend): inside radius, K-factor, allowance
    k_factor: float = 0.5
    allowance: Mm = 0.0  # bend allowance: the flat length the bend itself takes
    # None: bent; else the layout was made for a service that does not bend, and the support is
    # two plates joined by tabs and slots, the foot's web beyond the slots this long (SupportForm)
    web: Mm | None = None

    @property
    def bent(self) -> bool:
        return self.web is None


class Placer:
    """Places solids one after another, naming each instance f"{part_id}#{n}" in order."""

    def __init__(self) -> None:
        self.parts: list[Placed] = []
        self.count: dict[str, int] = {}

    def add(self, part_id: str, kind: str, pos: Point3, local: Box, rot: Rotation = UPRIGHT, *,
            role: str = "", node: str | None = None, column: str | None = None, params: tuple = ()) -> Placed:
        n = self.count.get(part_id, 0) + 1
        self.count[part_id] = n
        p = Placed(part_id, kind, f"{part_id}#{n}", tuple(round(v, 6) for v in pos), tuple(rot),
                   world_box(local, pos, rot), role, node, column, params)
        self.parts.append(p)
        return p


@dataclass
class Layout:
    name: str
    sheet: str
    thickness: Mm
    thickness_range: tuple[Mm, Mm]
    plates: list[Plate]
    columns: list[Column]
    parts: list[Placed]
    tiers: dict[str, Mm]  # plate name -> z of its bottom face
    support: SupportPattern | None = None
    findings: list[Finding] = field(default_factory=list)  # where the layout settled for a part breaking a rule

    def plate(self, name: str) -> Plate:
        return next(p for p in self.plates if p.name == name)

    def parts_of(self, kind: str) -> list[Placed]:
        return [p for p in self.parts if p.kind == kind]

    def counts(self) -> dict[str, int]:
        """Catalog part id -> pieces in the rack (plates and the support excluded)."""
        out: dict[str, int] = {}
        for p in self.parts:
            if p.kind not in ("plate", "support"):
                out[p.part_id] = out.get(p.part_id, 0) + 1
        return out

    def bbox(self) -> Box:
        return Box.around([p.bbox for p in self.parts])

    @property
    def size(self) -> tuple[Mm, Mm, Mm]:
        b = self.bbox()
        return (b.width, b.depth, b.height)
