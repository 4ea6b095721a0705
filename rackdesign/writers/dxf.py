"""DXF cut sheets with ezdxf: millimetres ($INSUNITS = 4), one layer per operation (the
profile's CUT / ENGRAVE / SCORE), circles as CIRCLE, other contours as LWPOLYLINEs whose arcs
are bulges (true arcs, no flattening), closed by the entity's flag when the contour is closed.
Engrave regions also get a solid HATCH when the profile fills engraving.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from ..geometry2d import Arc, Circle, Contour
from . import Pen, pens, rgb
from .cut import drawn, render_sheet, split_full_turns

if TYPE_CHECKING:
    from pirack.catalog import Fabricator

    from ..nesting import CutSheet


def _aci(colour: str) -> int:
    """The AutoCAD colour index nearest to a hex colour (7 = black/white)."""
    from ezdxf.colors import aci2rgb

    target = rgb(colour)
    if target in ((0, 0, 0), (255, 255, 255)):
        return 7
    return min(range(1, 256), key=lambda i: sum((a - b) ** 2 for a, b in zip(aci2rgb(i), target)))


def polyline_points(c: Contour, closed: bool | None = None) -> list[tuple[float, float, float]]:
    """(x, y, bulge) per vertex; the bulge belongs to the segment leaving that vertex. A closed
    contour lists each vertex once (the entity's closed flag draws the last side); an open one
    ends with its end point, or its last side would be lost."""
    c = split_full_turns(drawn(c))
    closed = c.is_closed() if closed is None else closed
    pts = []
    for s in c.segments:
        bulge = math.tan(math.radians(s.sweep) / 4) if isinstance(s, Arc) else 0.0
        pts.append((s.start[0], s.start[1], bulge))
    if not closed:
        end = c.segments[-1].end
        pts.append((end[0], end[1], 0.0))
    return pts


class DxfSheet:
    """Cut-file back end (writers.cut): one layer per purpose (the profile's layer names and
    colours), CIRCLE for circles, LWPOLYLINE (closed flag set when closed) for contours, and a
    solid HATCH over a part's engrave regions when the profile fills engraving."""

    def __init__(self, sheet: CutSheet, profile: Fabricator):
        import ezdxf

        self.doc = ezdxf.new("R2010", setup=False)
        self.doc.header["$INSUNITS"] = 4  # millimetres
        self.doc.header["$MEASUREMENT"] = 1  # metric
        self.doc.header["$EXTMIN"] = (0, 0, 0)
        self.doc.header["$EXTMAX"] = (sheet.width, sheet.height, 0)
        for pen in pens(profile).values():  # every operation's layer, used or not: a stable file
            if pen.layer not in self.doc.layers:
                layer = self.doc.layers.add(pen.layer, color=_aci(pen.colour))
                layer.rgb = rgb(pen.colour)
        self.msp = self.doc.modelspace()
        self.pen: Pen | None = None

    def begin_layer(self, purpose: str, pen: Pen) -> None:
        self.pen = pen

    def contour(self, contour: Contour, closed: bool) -> None:
        self.msp.add_lwpolyline(polyline_points(contour, closed), format="xyb", close=closed,
                                dxfattribs={"layer": self.pen.layer})

    def circle(self, c: Circle) -> None:
        self.msp.add_circle(c.center, c.radius, dxfattribs={"layer": self.pen.layer})

    def fill(self, paths: list) -> None:
        for path in paths:  # the outlines, for services that engrave by layer
            if isinstance(path, Circle):
                self.circle(path)
            else:
                self.contour(drawn(path), True)
        hatch = self.msp.add_hatch(dxfattribs={"layer": self.pen.layer})
        hatch.set_solid_fill(color=_aci(self.pen.colour))
        hatch.dxf.hatch_style = 0  # normal: nested boundaries alternate (letter counters stay clear)
        for path in paths:
            if isinstance(path, Circle):
                hatch.paths.add_edge_path().add_arc(path.center, path.radius, 0, 360)
            else:
                hatch.paths.add_polyline_path(polyline_points(path, True), is_closed=True)

    def end_layer(self) -> None:
        self.pen = None

    def finish(self) -> bytes:
        import ezdxf

        # Same design, same bytes (the cache and reviewers' diffs rely on it): ezdxf's fixed
        # metadata switch replaces the timestamps and GUIDs it would otherwise write.
        fixed = ezdxf.options.write_fixed_meta_data_for_testing
        ezdxf.options.write_fixed_meta_data_for_testing = True
        try:
            buf = io.StringIO()
            self.doc.write(buf)
        finally:
            ezdxf.options.write_fixed_meta_data_for_testing = fixed
        return buf.getvalue().encode("utf-8")


def sheet_dxf(sheet: CutSheet, profile: Fabricator) -> bytes:
    """One cut sheet as DXF R2010 in millimetres, entities in the order the laser runs them."""
    return render_sheet(sheet, profile, DxfSheet(sheet, profile))
