"""HOLE_DRIFT: the holes as cut (plates.py's Part2D circles: what the laser follows) against
the catalog's patterns, within 0.01 mm — per board (its four holes, taken back into the
board's own frame), the drive's bottom holes on the base, the HAT's holes over the board's,
every spacer column's hole on every plate (they must line up), and the switch support's
holes over the base's. The seed's holes drifted between redraws; this makes drift an error.
"""

from __future__ import annotations

import math

from ..findings import Finding
from ..geometry3d import Mm, to_local_plan
from ..partspec import board_spec, drive_spec, hat_spec
from .design import Design
from .fasteners import CutHole, plate_holes

TOL = 0.01
Point = tuple[Mm, Mm]


def _match(got: list[Point], want: list[Point]) -> tuple[float, Point | None]:
    """Largest distance pairing each wanted point with its nearest got point (inf if counts differ)."""
    if len(got) != len(want):
        return math.inf, None
    worst, at = 0.0, None
    for w in want:
        g = min(got, key=lambda q: math.dist(q, w))
        d = math.dist(g, w)
        if d > worst:
            worst, at = d, w
    return worst, at


def _drift(what: str, worst: float, at: Point | None, parts: tuple[str, ...], node: str | None = None,
           fix: str = "the plate drawing must come from the layout (plates.py)") -> list[Finding]:
    if worst <= TOL:
        return []
    n = "a different number of holes" if worst == math.inf else f"{worst:.3f} mm off at {at[0]:g}, {at[1]:g}"
    return [Finding("error", "HOLE_DRIFT", f"{what}: {n} (tolerance {TOL:g} mm)", fix=fix, parts=parts,
                    value=None if worst == math.inf else round(worst, 4), unit="mm", limit=TOL, node=node)]


def _boards(design: Design, holes: list[CutHole]) -> tuple[list[Finding], int]:
    """Each board's holes as cut, taken back into the board's own frame, vs its catalog pattern;
    its HAT's holes vs the board's."""
    lay, cat, out, checked = design.lay, design.cat, [], 0
    for b in lay.parts_of("board"):
        board = board_spec(cat[b.part_id])
        plate = next((p for p in lay.plates if p.node == b.node and p.role == "tier"), None)
        if plate is None:
            continue
        got = [to_local_plan(h.x, h.y, b.pos, b.rot) for h in holes
               if h.plate == plate.name and h.info.get("kind") == "board" and h.info.get("node") == b.node]
        want = list(board.holes)
        out += _drift(f"{plate.name}: holes for {board.id} vs its catalog pattern", *_match(got, want),
                      (plate.name, b.name), b.node)
        checked += 1
        hat = next((h for h in lay.parts_of("hat") if h.node == b.node), None)
        if hat is not None:
            hp = hat_spec(cat[hat.part_id])
            out += _drift(f"{b.node}: {hp.id}'s holes vs {board.id}'s (the HAT spacers stand on the board's holes)",
                          *_match(list(hp.holes), want), (hat.name, b.name), b.node,
                          fix="a HAT made for this board's hole pattern")
    return out, checked


def _drive(design: Design, holes: list[CutHole]) -> list[Finding]:
    out = []
    for d in design.lay.parts_of("drive"):
        drive = drive_spec(design.cat[d.part_id])
        got = [to_local_plan(h.x, h.y, d.pos, d.rot) for h in holes if h.plate == "base" and h.info.get("kind") == "drive"]
        out += _drift(f"base: holes for {drive.id} vs its SFF-8201 bottom-hole pattern",
                      *_match(got, list(drive.bottom_holes)), ("base", d.name))
    return out


def _support(design: Design, holes: list[CutHole]) -> list[Finding]:
    lay = design.lay
    sup = next((p for p in lay.parts if p.kind == "support"), None)
    if sup is None or lay.support is None:
        return []
    foot = lay.support.foot
    want = [(sup.pos[0] + foot - x, sup.pos[1] + y) for x, y, _ in lay.support.holes]
    got = [(h.x, h.y) for h in holes if h.plate == "base" and h.info.get("kind") == "support"]
    return _drift("base: holes for the switch support vs the support's own holes", *_match(got, want),
                  ("base", sup.name))


def _columns(design: Design, holes: list[CutHole]) -> list[Finding]:
    """Every column's hole on every plate, all on one axis."""
    lay, out = design.lay, []
    for c in lay.columns:
        pts = {h.plate: (h.x, h.y) for h in holes if h.info.get("kind") == "column" and h.info.get("column") == c.name}
        missing = [p.name for p in lay.plates if p.name not in pts]
        if missing:
            out.append(Finding("error", "HOLE_DRIFT", f"column {c.name}: no hole in {', '.join(missing)}",
                               fix="every plate needs the column's hole", parts=tuple(missing)))
        worst = max((math.dist(xy, (c.x, c.y)) for xy in pts.values()), default=0.0)
        out += _drift(f"column {c.name}: its holes on {len(pts)} plates do not line up", worst, (c.x, c.y), tuple(pts))
    return out


def check(design: Design) -> list[Finding]:
    holes = plate_holes(design.parts2d)
    boards, checked = _boards(design, holes)
    out = boards + _drive(design, holes) + _columns(design, holes) + _support(design, holes)
    if out:
        return out
    return [Finding("info", "HOLE_DRIFT", f"{checked} board patterns, {len(design.lay.columns)} columns and the "
                    f"drive/support holes checked against the catalog within {TOL:g} mm", value=TOL, unit="mm")]
