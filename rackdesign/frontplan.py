"""The front elevation (正面図): the assembly seen from the front, to scale, hidden lines dashed,
with every plate's height and every spacer column's length and parts written on it — what the
seed drew by hand to learn its spacer and screw lengths.

Hidden lines are removed by OCCT's exact HLR (HLRBRep_Algo, as CadQuery's own SVG exporter
uses it) on the whole assembly at once: occlusion between parts needs the whole scene, and for
the default rack it takes ~0.4 s. Projected edges come back as lines, circles or B-splines;
B-splines (circles seen edge-on, mostly) become one line when straight, else short lines.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .drawing import Drawing
from .geometry2d import Arc, Line, P, Segment
from .layout.placed import Layout
from .stack import ScrewChoice
from .stack import Segment as ColumnSegment

if TYPE_CHECKING:  # the CAD stack is imported where it is used (the CAD worker)
    import cadquery as cq

DIM_GAP = 7.0  # between stacked dimension lines, model mm
STRAIGHT_TOL = 0.005  # mm: a B-spline this close to its chord is drawn as a line
CHORD = 0.05  # mm: deflection allowed when a curved B-spline becomes short lines
TEXT_COLS = 64  # wrap notes: the plot back end sizes a page by its longest text line


def _wrap(line: str, cols: int) -> list[str]:
    import textwrap

    indent = line[: len(line) - len(line.lstrip())]
    return textwrap.wrap(line, cols, subsequent_indent=indent + "    ") or [line]


def project_front(shape: cq.Shape) -> tuple[list[Segment], list[Segment]]:
    """(visible, hidden) 2D segments of a CadQuery shape seen from the front (from −y):
    drawing x = rack x, drawing y = rack z."""
    import cadquery as cq
    from OCP.BRepLib import BRepLib
    from OCP.gp import gp_Ax2, gp_Dir, gp_Pnt
    from OCP.HLRAlgo import HLRAlgo_Projector
    from OCP.HLRBRep import HLRBRep_Algo, HLRBRep_HLRToShape

    hlr = HLRBRep_Algo()
    hlr.Add(shape.wrapped)
    # the view direction points at the viewer; x stays x, so the projection's y is z
    hlr.Projector(HLRAlgo_Projector(gp_Ax2(gp_Pnt(0, 0, 0), gp_Dir(0, -1, 0), gp_Dir(1, 0, 0))))
    hlr.Update()
    hlr.Hide()
    out = HLRBRep_HLRToShape(hlr)
    groups = {
        "visible": [out.VCompound(), out.Rg1LineVCompound(), out.OutLineVCompound()],
        "hidden": [out.HCompound(), out.OutLineHCompound()],
    }
    result = {}
    for style, comps in groups.items():
        segs, seen = [], set()
        for c in comps:
            if c.IsNull():
                continue
            BRepLib.BuildCurves3d_s(c, 1e-6)  # HLR edges carry 2D curves only
            for e in cq.Shape(c).Edges():
                for s in _segments(e):
                    key = _key(s)
                    if key not in seen:
                        seen.add(key)
                        segs.append(s)
        result[style] = segs
    return result["visible"], result["hidden"]


def _key(s: Segment) -> tuple:
    if isinstance(s, Line):
        a, b = sorted((tuple(round(v, 3) for v in s.start), tuple(round(v, 3) for v in s.end)))
        return ("L", a, b)
    return ("A", round(s.center[0], 3), round(s.center[1], 3), round(s.radius, 3),
            round(s.start_angle, 2), round(s.end_angle, 2))


def _segments(e: cq.Edge) -> list[Segment]:
    """One projected edge as Lines/Arcs. Read through BRepAdaptor_Curve by parameter: cq's
    positionAt measures arc length on every call, which tripled the time of a big rack."""
    from OCP.BRepAdaptor import BRepAdaptor_Curve
    from OCP.GeomAbs import GeomAbs_Circle, GeomAbs_Line

    ad = BRepAdaptor_Curve(e.wrapped)
    u0, u1 = ad.FirstParameter(), ad.LastParameter()

    def at(u: float) -> P:
        p = ad.Value(u)
        return (p.X(), p.Y())

    a, b = at(u0), at(u1)
    kind = ad.GetType()
    if kind == GeomAbs_Line:
        return [Line(a, b)] if math.dist(a, b) > 1e-6 else []
    if kind == GeomAbs_Circle:
        circ = ad.Circle()
        c, r = circ.Location(), circ.Radius()
        m = at((u0 + u1) / 2)
        if math.dist(a, b) < 1e-6:
            return [Arc((c.X(), c.Y()), r, 0.0, 360.0)]
        s0, sm, s1 = (math.degrees(math.atan2(p[1] - c.Y(), p[0] - c.X())) % 360 for p in (a, m, b))
        ccw = (sm - s0) % 360 < (s1 - s0) % 360
        return [Arc((c.X(), c.Y()), r, s0, s1) if ccw else Arc((c.X(), c.Y()), r, s1, s0)]
    # B-spline and the rest: straight ones (circles seen edge-on) become one line
    n = 8
    pts = [at(u0 + (u1 - u0) * i / n) for i in range(n + 1)]
    if _max_dev(pts, pts[0], pts[-1]) <= STRAIGHT_TOL:
        return [Line(pts[0], pts[-1])] if math.dist(pts[0], pts[-1]) > 1e-6 else []
    length = sum(math.dist(p, q) for p, q in zip(pts, pts[1:]))
    k = max(4, min(256, int(math.ceil(length / math.sqrt(8 * CHORD * max(e_radius_guess(pts), 0.5))))))
    pts = [at(u0 + (u1 - u0) * i / k) for i in range(k + 1)]
    return [Line(p, q) for p, q in zip(pts, pts[1:]) if math.dist(p, q) > 1e-6]


def e_radius_guess(pts: list[P]) -> float:
    """A rough radius of curvature from three sample points (for the chord count)."""
    a, b, c = pts[0], pts[len(pts) // 2], pts[-1]
    ab, bc, ca = math.dist(a, b), math.dist(b, c), math.dist(c, a)
    area2 = abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]))
    return (ab * bc * ca) / (2 * area2) if area2 > 1e-12 else 1e6


def _max_dev(pts: list[P], a: P, b: P) -> float:
    L = math.dist(a, b)
    if L < 1e-9:
        return max(math.dist(p, a) for p in pts)
    return max(abs((b[0] - a[0]) * (a[1] - p[1]) - (a[0] - p[0]) * (b[1] - a[1])) / L for p in pts)


def tier_heights(lay: Layout) -> list[tuple[str, float]]:
    """(plate name, z of its bottom face above the base's bottom face), bottom up, base excluded."""
    return [(p.name, p.z) for p in lay.plates if p.role != "base"]


def column_lines(lay: Layout) -> list[str]:
    """Each distinct spacer column: its length and, per segment, the stack and its screws."""
    out = []
    alike = _alike_columns(lay)
    for c in lay.columns:
        names = alike.get(c.name)
        if names is None:
            continue
        out.append(f"spacer column{'s' if len(names) > 1 else ''} {', '.join(names)}: "
                   f"{c.length:.1f} mm of spacers (base top face to top plate)")
        out += [_segment_line(k, s) for k, s in enumerate(c.segments)]
    return out


def _alike_columns(lay: Layout) -> dict[str, list[str]]:
    """The first column of each group built alike (same stacks and screws) -> the group's names."""
    groups: dict[tuple, list[str]] = {}
    for c in lay.columns:
        key = tuple((s.stack.ids, s.joint.part_id, s.top.part_id if s.top else None) for s in c.segments)
        groups.setdefault(key, []).append(c.name)
    firsts: dict[str, list[str]] = {}
    for names in groups.values():
        firsts.setdefault(names[0], names)
    return firsts


def _segment_line(k: int, s: ColumnSegment) -> str:
    """One segment of a column (k from the base up): its stack, and the screws at its ends."""
    line = f"  {s.lower} → {s.upper}: {s.height:.1f} mm = {s.stack.describe()} ({', '.join(s.stack.ids)})"
    if k == 0 and s.joint.part_id:
        line += f"; under the base {s.joint.part_id} (engages {_eng(s.joint)})"
    elif k > 0:
        line += f"; joined by the male thread below (engages {_eng(s.joint)})"
    if s.top is not None:
        line += f"; on top {s.top.part_id} (engages {_eng(s.top)})"
    return line


def column_counts(lay: Layout) -> list[str]:
    """What each spacer column takes, counted: spacers, screws and nuts per column, and for all
    columns (the same numbers the BOM counts from the layout)."""
    out = []
    for c in lay.columns:
        per: dict[str, int] = {}
        for p in lay.parts:
            if p.column == c.name:
                per[p.part_id] = per.get(p.part_id, 0) + 1
        out.append(f"column {c.name}: " + ", ".join(f"{n}x {pid}" for pid, n in sorted(per.items())))
    return out


def _eng(c: ScrewChoice) -> str:
    lo, hi = c.engagement
    return f"{lo:.1f}–{hi:.1f} mm" + ("" if c.ok else " CHECK")


def _mount_lines(lay: Layout) -> list[str]:
    seen, out = set(), []
    for role, what in (("board-mount", "board spacers"), ("board-screw", "board screws (from below)"),
                       ("hat-mount", "HAT spacers"), ("hat-screw", "HAT screws"), ("drive-screw", "drive screws"),
                       ("support-screw", "support screws"), ("support-nut", "support nuts")):
        ids = sorted({p.part_id for p in lay.parts if p.role == role})
        n = sum(1 for p in lay.parts if p.role == role)
        if ids and role not in seen:
            seen.add(role)
            out.append(f"{what}: {n}x {', '.join(ids)}")
    return out


def front_plan(lay: Layout, assy: cq.Assembly) -> Drawing:
    """The front elevation of the assembled rack as a Drawing in model mm (writers.plot chooses
    the paper and the scale). Dimension lines are stacked DIM_GAP mm apart on paper: the
    drawing is made once at 1:1 spacing, and again with the spacing of the scale it got."""
    from .writers.plot import SCALES, page_for

    visible, hidden = project_front(assy.toCompound())
    for scale in SCALES:  # the largest scale whose spacing (DIM_GAP on paper) still fits at that scale
        d = _front_drawing(lay, visible, hidden, DIM_GAP / scale)
        if page_for(d).scale >= scale - 1e-9:
            return d
    return d


def _front_drawing(lay: Layout, visible: list[Segment], hidden: list[Segment], gap: float) -> Drawing:
    d = Drawing(title=f"front plan (正面図): rack '{lay.name}'")
    for s in hidden:
        d.add_path(s, "hidden")
    for s in visible:
        d.add_path(s, "visible")
    x0, y0, z0, x1, y1, z1 = lay.bbox()

    # plate heights from the base's bottom face, stacked on the left
    heights = tier_heights(lay)
    for k, (name, z) in enumerate(heights, start=1):
        d.dim((x0, 0.0), (x0, z), -gap * k, text=f"{z:.1f}", direction="vertical")
        d.text((x0 - gap * (len(heights) + 2), z), f"{name} {z:.1f}", 2.5, "end")
    d.dim((x0, z0), (x0, z1), -gap * (len(heights) + 1), text=f"{z1 - z0:.1f}", direction="vertical")

    # spacer segments of the front-left column, on the right beyond everything
    col = lay.columns[0]
    z = lay.thickness
    for s in col.segments:
        d.dim((col.x, z), (col.x, z + s.height), (x1 - col.x) + gap, text=f"{s.height:g}", direction="vertical")
        d.line((col.x, z + s.height / 2), (x1 + gap - 1.0, z + s.height / 2), "thin")
        z += s.height + lay.thickness
    d.dim((col.x, lay.thickness), (col.x, lay.thickness + col.length + lay.thickness * (len(col.segments) - 1)),
          (x1 - col.x) + 2 * gap, text=f"column {col.length:.1f} + plates", direction="vertical")

    # the parts list of the columns and mounts: a legend at a fixed paper size under the view
    # (writers.plot), so lines never crowd each other whatever the scale
    d.legend.extend(w for line in column_lines(lay) + column_counts(lay) + _mount_lines(lay)
                    for w in _wrap(line, TEXT_COLS))
    d.notes.append(f"size {x1 - x0:.1f} x {y1 - y0:.1f} x {z1 - z0:.1f} mm (w x d x h); heights from the base's bottom face")
    d.notes.extend(f.sentence for f in lay.findings)
    return d
