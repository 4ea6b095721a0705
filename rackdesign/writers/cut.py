"""One walk over a cut sheet for every cut-file format.

`render_sheet` visits the sheet's paths in the order a laser should run them — bend lines
first (drawn for the service in their own colour, never run), then engraving, then score lines, then every hole, then the outlines (a part must not drop out of
the sheet before its holes are cut) — and hands each to a back end (PDF, SVG, DXF) through
a small protocol. What is open, what is closed and which pen a purpose gets is decided here
once, so an open contour or a layer rule cannot be right in one format and wrong in another.

Back ends only translate: `begin_layer(purpose, pen)`, `contour(contour, closed)`,
`circle(circle)`, `fill(paths)` (one part's engrave regions, filled even-odd), `end_layer()`
and `finish() -> bytes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..geometry2d import Arc, Circle, Contour, Part2D
from . import Pen, pens

if TYPE_CHECKING:
    from pirack.catalog import Fabricator

    from ..geometry2d import Path
    from ..nesting import CutSheet

# (purpose, which paths of a part): the order the laser runs them and the files list them
PASSES = (("bend", "bend"), ("engrave", "engrave"), ("score", "score"), ("cut", "holes"), ("cut", "outline"))


class CutBackend(Protocol):
    def begin_layer(self, purpose: str, pen: Pen) -> None: ...

    def contour(self, contour: Contour, closed: bool) -> None: ...

    def circle(self, circle: Circle) -> None: ...

    def fill(self, paths: list) -> None: ...

    def end_layer(self) -> None: ...

    def finish(self) -> bytes: ...


def drawn(contour: Contour) -> Contour:
    """The contour as it is written: without the zero-length sides slot() leaves (a laser
    would pierce there for nothing)."""
    return Contour(tuple(s for s in contour.segments if s.length() > 1e-9))


def split_full_turns(contour: Contour) -> Contour:
    """Arcs of a full turn as two half arcs: SVG arcs and DXF bulges cannot draw one."""
    out = []
    for s in contour.segments:
        if isinstance(s, Arc) and s.sweep >= 359.999:
            out.append(Arc(s.center, s.radius, s.start_angle, s.start_angle + 180))
            out.append(Arc(s.center, s.radius, s.start_angle + 180, s.start_angle + 360))
        else:
            out.append(s)
    return Contour(tuple(out))


def _paths(part: Part2D, which: str) -> list:
    if which == "outline":
        return [part.outline]
    return list(getattr(part, which))


def render_sheet(sheet: CutSheet, profile: Fabricator, backend: CutBackend) -> bytes:
    """Walk the sheet once, pass by pass, and return the back end's bytes."""
    pen = pens(profile)
    for purpose, which in PASSES:
        found = [(part, _paths(part, which)) for part in sheet.parts]
        if not any(paths for _, paths in found):
            continue
        backend.begin_layer(purpose, pen[purpose])
        for part, paths in found:
            if purpose == "engrave" and pen[purpose].fill:
                if paths:
                    backend.fill(paths)
                continue
            for path in paths:
                _emit(backend, path)
        backend.end_layer()
    return backend.finish()


def _emit(backend: CutBackend, path: Path) -> None:
    if isinstance(path, Circle):
        backend.circle(path)
        return
    c = drawn(path)
    if c.segments:
        backend.contour(c, path.is_closed())
