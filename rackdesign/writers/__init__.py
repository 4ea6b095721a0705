"""Writers: render Part2D sheets (cut files) and Drawings (plans for people) to bytes.

Writers never compute geometry. A cut file maps each path's purpose (cut, engrave, score) to
the fabricator profile's colour, stroke width and layer, and draws lines, arcs and circles as
what they are (no flattening). Drawing renderers draw a `rackdesign.drawing.Drawing` on paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pirack.catalog import Fabricator


@dataclass(frozen=True)
class Pen:
    """What a purpose looks like in a cut file (from the fabricator profile)."""

    colour: str  # "#ff0000"
    width: float  # mm; 0 = hairline
    layer: str
    fill: bool = False


def pens(profile: Fabricator) -> dict[str, Pen]:
    """purpose -> Pen from a `pirack.catalog.Fabricator`."""
    from pirack.units import mm

    out = {}
    for purpose in ("cut", "engrave", "score", "bend"):
        p = getattr(profile, purpose, None)
        if p is None:  # a profile without a [bend] pen: the default, so a bend is never drawn as a cut
            out[purpose] = DEFAULT_BEND
            continue
        out[purpose] = Pen(p.colour.lower(), mm(p.width), p.layer, bool(p.fill))
    return out


# green, its own layer: no service convention makes green a cut or an engraving
DEFAULT_BEND = Pen("#00a000", 0.1, "BEND")


def rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
