"""Drawings for people (floor plans, the front plan): a small vector model in millimetres.

Unlike cut files, drawings carry dimensions, hidden lines and notes. Producers (the floor
plan from a Part2D, the front plan from the CadQuery assembly) build a `Drawing`; renderers
(PDF, SVG, PNG) draw it at true scale with the line style named by purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from .geometry2d import Arc, Circle, Contour, Line, P, Part2D, Path

Style = Literal["visible", "hidden", "center", "dimension", "thin", "engrave", "score", "bend", "ghost"]
Anchor = Literal["start", "middle", "end"]
Direction = Literal["aligned", "horizontal", "vertical"]


@dataclass(frozen=True)
class DSeg:
    """A line or arc drawn with a style."""

    seg: Union[Line, Arc]
    style: Style = "visible"


@dataclass(frozen=True)
class DCircle:
    circle: Circle
    style: Style = "visible"


@dataclass(frozen=True)
class DText:
    pos: P
    text: str
    size: float = 3.0  # cap height in mm on paper at scale 1
    anchor: Anchor = "middle"
    angle: float = 0.0  # degrees, counter-clockwise


@dataclass(frozen=True)
class DDim:
    """A linear dimension between two points, its line offset perpendicular by `offset` mm.
    `text` defaults to the measured distance in mm."""

    a: P
    b: P
    offset: float
    text: str | None = None
    direction: Direction = "aligned"


Item = Union[DSeg, DCircle, DText, DDim]


@dataclass
class Drawing:
    title: str
    items: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # printed in the title block
    # lines printed under the view at a fixed paper size whatever the scale (parts lists)
    legend: list[str] = field(default_factory=list)

    def add_path(self, path: Path | Line | Arc, style: Style = "visible") -> None:
        if isinstance(path, Circle):
            self.items.append(DCircle(path, style))
        elif isinstance(path, Contour):
            self.items.extend(DSeg(s, style) for s in path.segments)
        else:
            self.items.append(DSeg(path, style))

    def add_part(self, part: Part2D) -> None:
        for purpose, path in part.paths():
            self.add_path(path, {"cut": "visible", "engrave": "engrave", "score": "score", "bend": "bend"}[purpose])

    def line(self, a: P, b: P, style: Style = "visible") -> None:
        self.items.append(DSeg(Line(a, b), style))

    def text(self, pos: P, text: str, size: float = 3.0, anchor: Anchor = "middle", angle: float = 0.0) -> None:
        self.items.append(DText(pos, text, size, anchor, angle))

    def dim(self, a: P, b: P, offset: float, text: str | None = None, direction: Direction = "aligned") -> None:
        self.items.append(DDim(a, b, offset, text, direction))
