"""What the web view shows, as plain typed values: the pipeline adapter (pipeline.py) turns the
layout, the flat parts and the check report into these, and nothing else in rackdesign/web
reads rackdesign's own types. Millimetres in the rack frame (x right, y back, z up) unless a
field says otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

Box3 = tuple[float, float, float, float, float, float]  # x0, y0, z0, x1, y1, z1
Box2 = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class PartView:
    """One solid of the assembly; `name` is its node name in the 3D scene (f"{part_id}#{n}")."""

    name: str
    part_id: str
    kind: str  # board | hat | drive | switch | spacer | screw | nut | foot | plate | support
    role: str
    node: str | None
    column: str | None
    label: str  # what a person calls it: "Raspberry Pi 4 Model B 8GB (master)"
    bbox: Box3


@dataclass(frozen=True)
class HoleView:
    """A hole or cut-out of a plate, in the plate's own frame (lower-left corner at 0, 0; y up)."""

    box: Box2
    kind: str  # column | board | drive | support | cable | airflow
    round: bool
    node: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class PlateView:
    name: str
    role: str  # base | tier | top | support
    node: str | None
    width: float
    height: float
    z: float | None  # bottom face in the rack; None for the switch support's pieces
    thickness: float
    datum: tuple[float, float] | None  # rack-frame x, y of the plate's (0, 0)
    holes: tuple[HoleView, ...]
    svg: bytes = field(repr=False, compare=False, default=b"")
    bend: bool = False  # it has a bend line: the service bends it after cutting

    def to_json(self) -> dict:
        d = asdict(self)
        del d["svg"]
        return d


@dataclass(frozen=True)
class LegendEntry:
    """One colour of the plates' drawings: what the cut files draw in it, named as the order note
    and the floor plans name it, in the fabricator's pen."""

    purpose: str  # cut | engrave | score | bend (rackdesign.geometry2d.Part2D.paths)
    label: str  # "bend line"
    meaning: str  # the tooltip
    colour: str  # "#00ff00"
    layer: str  # "BEND"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ErrorView:
    """Why the file could not be shown: what the CLI would print, in pieces."""

    message: str
    file: str | None = None
    key: str | None = None
    more: tuple[str, ...] = ()
    kind: str = "input"  # input | layout | missing | internal
    fix: str = ""

    def to_json(self) -> dict:
        return {**asdict(self), "more": list(self.more)}
