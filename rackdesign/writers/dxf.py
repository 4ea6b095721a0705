"""DXF cut sheets with ezdxf: millimetres ($INSUNITS = 4), one layer per operation (the
profile's CUT / ENGRAVE / SCORE), circles as CIRCLE, other contours as closed LWPOLYLINEs
whose arcs are bulges (true arcs, no flattening). Engrave regions also get a solid HATCH
when the profile fills engraving.
"""

from __future__ import annotations

import io
import math

from ..geometry2d import Arc, Circle, Contour
from . import pens, rgb


def _aci(colour: str) -> int:
    """The AutoCAD colour index nearest to a hex colour (7 = black/white)."""
    from ezdxf.colors import aci2rgb

    target = rgb(colour)
    if target in ((0, 0, 0), (255, 255, 255)):
        return 7
    return min(range(1, 256), key=lambda i: sum((a - b) ** 2 for a, b in zip(aci2rgb(i), target)))


def polyline_points(c: Contour) -> list[tuple[float, float, float]]:
    """(x, y, bulge) per vertex; the bulge belongs to the segment leaving that vertex."""
    pts = []
    for s in c.segments:
        if isinstance(s, Arc):
            if s.sweep >= 359.999:  # a full turn: two half arcs, bulge 1 each
                mid = Arc(s.center, s.radius, s.start_angle, s.start_angle + 180)
                pts.append((s.start[0], s.start[1], 1.0))
                pts.append((mid.end[0], mid.end[1], 1.0))
                continue
            pts.append((s.start[0], s.start[1], math.tan(math.radians(s.sweep) / 4)))
        elif s.length() > 1e-9:  # skip the degenerate sides slot() leaves
            pts.append((s.start[0], s.start[1], 0.0))
    return pts


def sheet_dxf(sheet, profile) -> bytes:
    import ezdxf

    doc = ezdxf.new("R2010", setup=False)
    doc.header["$INSUNITS"] = 4  # millimetres
    doc.header["$MEASUREMENT"] = 1  # metric
    doc.header["$EXTMIN"] = (0, 0, 0)
    doc.header["$EXTMAX"] = (sheet.width, sheet.height, 0)
    pen = pens(profile)
    for purpose in ("cut", "engrave", "score"):
        p = pen[purpose]
        layer = doc.layers.add(p.layer, color=_aci(p.colour))
        r, g, b = rgb(p.colour)
        layer.rgb = (r, g, b)
    msp = doc.modelspace()
    for part in sheet.parts:
        for purpose, path in part.paths():
            attrs = {"layer": pen[purpose].layer}
            if isinstance(path, Circle):
                msp.add_circle(path.center, path.radius, dxfattribs=attrs)
            else:
                msp.add_lwpolyline(polyline_points(path), format="xyb", close=path.is_closed(), dxfattribs=attrs)
        if part.engrave and pen["engrave"].fill:
            hatch = msp.add_hatch(dxfattribs={"layer": pen["engrave"].layer})
            hatch.set_solid_fill(color=_aci(pen["engrave"].colour))
            hatch.dxf.hatch_style = 0  # normal: nested boundaries alternate (letter counters stay clear)
            for path in part.engrave:
                if isinstance(path, Circle):
                    ep = hatch.paths.add_edge_path()
                    ep.add_arc(path.center, path.radius, 0, 360)
                else:
                    hatch.paths.add_polyline_path(polyline_points(path), is_closed=True)
    # Same design, same bytes (the cache and reviewers' diffs rely on it): ezdxf's fixed
    # metadata switch replaces the timestamps and GUIDs it would otherwise write.
    fixed = ezdxf.options.write_fixed_meta_data_for_testing
    ezdxf.options.write_fixed_meta_data_for_testing = True
    try:
        buf = io.StringIO()
        doc.write(buf)
    finally:
        ezdxf.options.write_fixed_meta_data_for_testing = fixed
    return buf.getvalue().encode("utf-8")
