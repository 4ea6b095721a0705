"""HOLE_DRIFT: the holes as cut (plates.py's Part2D circles: what the laser follows) against
the catalog's patterns, within 0.01 mm — per board (its four holes, taken back into the
board's own frame), the drive's bottom holes on the base, the HAT's holes over the board's,
every spacer column's hole on every plate (they must line up), and the switch support's
holes over the base's. The seed's holes drifted between redraws; this makes drift an error.
"""

from __future__ import annotations

import math

from pirack.units import mm

from rackdesign.layout import _rot_point

from . import Finding
from .fasteners import plate_holes

TOL = 0.01


def _to_local(x, y, pos, rot):
    """Rack frame -> a part's own frame (inverse of layout.transform, in the plane)."""
    p = (x - pos[0], y - pos[1], 0.0)
    for axis, deg in reversed(rot):
        p = _rot_point(p, axis, -deg)
    return p[0], p[1]


def _match(got, want):
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


def check(ctx) -> list[Finding]:
    lay, cat = ctx.lay, ctx.cat
    holes = plate_holes(ctx.parts2d)
    out = []

    def drift(what, worst, at, parts, node=None, fix="the plate drawing must come from the layout (plates.py)"):
        if worst > TOL:
            n = "a different number of holes" if worst == math.inf else f"{worst:.3f} mm off at {at[0]:g}, {at[1]:g}"
            out.append(Finding("error", "HOLE_DRIFT", f"{what}: {n} (tolerance {TOL:g} mm)", fix=fix, parts=parts,
                               value=None if worst == math.inf else round(worst, 4), unit="mm", limit=TOL, node=node))

    checked = 0
    for b in lay.parts_of("board"):
        board = cat[b.part_id]
        plate = next((p for p in lay.plates if p.node == b.node and p.role == "tier"), None)
        if plate is None:
            continue
        got = [_to_local(x, y, b.pos, b.rot) for (pn, x, y, _, info) in holes
               if pn == plate.name and info.get("kind") == "board" and info.get("node") == b.node]
        want = [(mm(u), mm(v)) for u, v in board.holes]
        worst, at = _match(got, want)
        drift(f"{plate.name}: holes for {board.id} vs its catalog pattern", worst, at, (plate.name, b.name), b.node)
        checked += 1
        hat = next((h for h in lay.parts_of("hat") if h.node == b.node), None)
        if hat is not None:
            hp = cat[hat.part_id]
            worst, at = _match([(mm(u), mm(v)) for u, v in hp.holes], want)
            drift(f"{b.node}: {hp.id}'s holes vs {board.id}'s (the HAT spacers stand on the board's holes)", worst, at,
                  (hat.name, b.name), b.node, fix="a HAT made for this board's hole pattern")
    for d in lay.parts_of("drive"):
        drive = cat[d.part_id]
        got = [_to_local(x, y, d.pos, d.rot) for (pn, x, y, _, info) in holes if pn == "base" and info.get("kind") == "drive"]
        worst, at = _match(got, [(mm(u), mm(v)) for u, v in drive.bottom_holes])
        drift(f"base: holes for {drive.id} vs its SFF-8201 bottom-hole pattern", worst, at, ("base", d.name))
    for c in lay.columns:
        pts = {pn: (x, y) for (pn, x, y, _, info) in holes if info.get("kind") == "column" and info.get("column") == c.name}
        missing = [p.name for p in lay.plates if p.name not in pts]
        if missing:
            out.append(Finding("error", "HOLE_DRIFT", f"column {c.name}: no hole in {', '.join(missing)}",
                               fix="every plate needs the column's hole", parts=tuple(missing)))
        worst = max((math.dist(xy, (c.x, c.y)) for xy in pts.values()), default=0.0)
        drift(f"column {c.name}: its holes on {len(pts)} plates do not line up", worst, (c.x, c.y), tuple(pts))
    sup = next((p for p in lay.parts if p.kind == "support"), None)
    if sup is not None and lay.support is not None:
        foot = lay.support.foot
        want = [(sup.pos[0] + foot - x, sup.pos[1] + y) for x, y, _ in lay.support.holes]
        got = [(x, y) for (pn, x, y, _, info) in holes if pn == "base" and info.get("kind") == "support"]
        worst, at = _match(got, want)
        drift("base: holes for the switch support vs the support's own holes", worst, at, ("base", sup.name))
    out.append(Finding("info", "HOLE_DRIFT", f"{checked} board patterns, {len(lay.columns)} columns and the drive/support "
                       f"holes checked against the catalog within {TOL:g} mm", value=TOL, unit="mm"))
    return [f for f in out if f.severity != "info" or not any(g.severity == "error" for g in out)]
