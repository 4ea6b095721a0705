"""The one mapping from what a finding names to what the page can light up.

A finding's `parts` hold instance names ("screw-m3-pan-4#1", the scene's node names), plate
names ("top") or catalog ids ("rpi4b-8gb"), and sometimes a node. `scene_targets` turns them
into scene node names; `plate_marks` turns scene parts into marks on the plates' drawings: the
whole outline for a plate itself, else the part's footprint on the plates it rests on or passes
through, with the holes inside that footprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .views import PartView, PlateView

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .views import Box2

TOUCH = 0.5  # mm: a part this close to a plate's faces rests on it or passes through it


@dataclass
class PlateMark:
    outline: bool = False
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)  # plate frame
    holes: list[int] = field(default_factory=list)  # indices into PlateView.holes

    def to_json(self) -> dict:
        return {"outline": self.outline, "boxes": [list(b) for b in self.boxes], "holes": self.holes}


def scene_targets(refs: Iterable[str], node: str | None, parts: list[PartView]) -> list[str]:
    """Scene node names for a finding's part references (and its node, if it names one)."""
    names = {p.name for p in parts}
    out: dict[str, None] = {}
    for ref in refs:
        out.update((name, None) for name in _ref_targets(ref, node, parts, names))
    if not out and node is not None:  # a finding about a node as a whole
        out.update((p.name, None) for p in parts if p.node == node and p.kind in ("board", "hat"))
    return list(out)


def _ref_targets(ref: str, node: str | None, parts: list[PartView], names: set[str]) -> list[str]:
    """A scene node's own name, else every part of that catalog id (the node's, if it has one)."""
    if ref in names:
        return [ref]
    matches = [p for p in parts if p.part_id == ref]
    if node is not None:
        mine = [p for p in matches if p.node == node]
        matches = mine or matches  # a node's board, not every board of that model
    return [p.name for p in matches]


def carrier(part: PartView, plates: list[PlateView]) -> PlateView | None:
    """The plate a part stands on: the highest whose top face is at or below the part's bottom."""
    below = [pl for pl in plates if pl.z is not None and pl.z + pl.thickness <= part.bbox[2] + TOUCH]
    return max(below, key=lambda pl: pl.z, default=None)


def touches(part: PartView, plate: PlateView) -> bool:
    z0, z1 = part.bbox[2], part.bbox[5]
    return plate.z is not None and z0 <= plate.z + plate.thickness + TOUCH and z1 >= plate.z - TOUCH


def footprint(part: PartView, plate: PlateView) -> tuple[float, float, float, float] | None:
    """The part's x-y extent in the plate's frame, or None when it misses the plate."""
    dx, dy = plate.datum
    x0, y0, x1, y1 = part.bbox[0] - dx, part.bbox[1] - dy, part.bbox[3] - dx, part.bbox[4] - dy
    if x1 < 0 or y1 < 0 or x0 > plate.width or y0 > plate.height:
        return None
    return (round(x0, 3), round(y0, 3), round(x1, 3), round(y1, 3))


def plate_marks(names: list[str], parts: list[PartView], plates: list[PlateView]) -> dict[str, PlateMark]:
    """Plate name -> what to mark on it for these scene parts."""
    by_name = {p.name: p for p in parts}
    marks: dict[str, PlateMark] = {}
    for name in names:
        part = by_name.get(name)
        if part is None:
            continue
        if part.kind in ("plate", "support"):
            for plate in _cut_as(part, plates):
                marks.setdefault(plate, PlateMark()).outline = True
            continue
        home = carrier(part, plates)
        for plate in plates:
            if plate.datum is None or not (touches(part, plate) or plate is home):
                continue
            box = footprint(part, plate)
            if box is None:
                continue
            mark = marks.setdefault(plate.name, PlateMark())
            mark.boxes.append(box)
            mark.holes.extend(i for i, h in enumerate(plate.holes) if _centre_in(h.box, box) and i not in mark.holes)
    return marks


def _cut_as(part: PartView, plates: list[PlateView]) -> list[str]:
    """The plates a plate or the switch support is cut as: the support is one bent plate, or a
    foot and a wall plate for a fabricator that does not bend."""
    if part.kind == "support":
        return [p.name for p in plates if p.role == "support"]
    return [part.part_id]


def _centre_in(hole: Box2, box: Box2) -> bool:
    cx, cy = (hole[0] + hole[2]) / 2, (hole[1] + hole[3]) / 2
    return box[0] - TOUCH <= cx <= box[2] + TOUCH and box[1] - TOUCH <= cy <= box[3] + TOUCH


def finding_targets(finding: dict, parts: list[PartView], plates: list[PlateView]) -> dict:
    """{"scene": [node names], "plates": {plate: mark}} for one finding of the check report."""
    scene = scene_targets(finding.get("parts") or (), finding.get("node"), parts)
    marks = plate_marks(scene, parts, plates)
    return {"scene": scene, "plates": {k: m.to_json() for k, m in marks.items()}}
