"""Spacer columns, screws and holes, measured on the placed parts (not re-derived from the
solver's intentions): STACK_HEIGHT, SCREW_DEPTH, SCREW_ENGAGEMENT, THREAD_MISMATCH, HOLE_SIZE,
and the layout's own findings where no measurement covers them.

Every male thread (a screw's shank, an M-F spacer's stud) is followed along its axis from its
bearing face to its tip; the first female thread it enters (a spacer end, a drive's bottom
hole, a nut) is what it engages. Sheets crossed on the way come in a thickness range
(Sheet.thickness_range_mm(): cast acrylic ±(0.4 + 0.1·t)), so the depth is judged at the
thinnest sheet and the engagement at the thickest.

Rules (stated once; the thread figures are rackdesign.threads'):
- min engagement: 0.75·d in a spacer or cap nut (threads.MIN_ENGAGEMENT_D); two pitches in a
  drive's shallow bottom hole; a hex nut's full height.
- max depth: a spacer's usable female depth (partspec.SpacerSpec.female_depth), a cap nut's
  thread_depth, a drive's thread_depth_bottom (SFF-8201; a hard limit — a deeper screw presses
  on the drive's board, so it is an error even if only the thinnest sheet gets there).
- at the nominal sheet: an error; only at the extreme of the sheet's tolerance: a warning
  (measure the sheet, or add a washer); past a female depth the catalog flags to measure (a cap
  nut's), a warning saying what to measure.
- thread mismatch: same pitch and ≤ 0.1 mm apart (M2.6 into M2.5, both 0.45 mm) is a warning,
  anything else an error.
- holes (ISO 273 / JIS B 1001): smaller than the thread — error; under the fine-series
  clearance — warning; not smaller than the screw head bearing on it — error.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Generic, Iterator, NamedTuple, TypeVar

from pirack.catalog import Catalog

from ..findings import Finding
from ..geometry2d import Circle, Part2D
from ..geometry3d import Box, Mm, transform
from ..layout.placed import Layout, Placed, Plate
from ..partspec import board_spec, drive_spec, nut_spec, screw_spec, spacer_spec
from ..stack import DEFAULT_SLACK_MM, Segment
from ..threads import clearance_hole, min_engagement, pitch, same_family, thread_diameter
from .design import Design

EPS = 1e-6
AXIS_TOL = 0.05  # mm: two parts are on one axis when their centres are this close
T = TypeVar("T")


@dataclass
class Male:
    name: str  # instance
    part_id: str
    thread: str
    x: Mm
    y: Mm
    base: Mm  # z of the bearing face (under a head, a spacer's shoulder)
    tip: Mm
    role: str
    node: str | None
    head_d: Mm = 0.0  # 0 for a stud
    up: bool = field(init=False)
    span: tuple[Mm, Mm] = field(init=False)

    def __post_init__(self) -> None:
        self.up = self.tip > self.base
        self.span = (min(self.base, self.tip), max(self.base, self.tip))


@dataclass
class Female:
    name: str
    part_id: str
    thread: str
    x: Mm
    y: Mm
    entry: Mm  # z of the face the male enters
    up: bool  # the male must travel upwards into it
    depth: Mm  # usable thread depth
    min_engage: Mm
    hard: bool = False  # depth is a hard limit (a drive)
    through: bool = False  # a hex nut: the screw may pass through
    what: str = ""
    measure: str = ""  # the depth is a catalog figure no source gives: what to measure


class CutHole(NamedTuple):
    """A round hole as cut, in the rack frame."""

    plate: str
    x: Mm
    y: Mm
    diameter: Mm
    info: dict  # what plates.py says it is for: kind, thread, node, column


def _key(x: Mm, y: Mm) -> tuple[int, int]:
    return (round(x / AXIS_TOL), round(y / AXIS_TOL))


class Axes(Generic[T]):
    """Spatial index of things on a vertical axis (anything with .x and .y), in AXIS_TOL cells."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[T]] = defaultdict(list)

    def add(self, x: Mm, y: Mm, item: T) -> None:
        self.cells[_key(x, y)].append(item)

    def near(self, x: Mm, y: Mm) -> Iterator[T]:
        kx, ky = _key(x, y)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for it in self.cells.get((kx + dx, ky + dy), ()):
                    if math.hypot(it.x - x, it.y - y) <= AXIS_TOL:
                        yield it


def _flipped(p: Placed) -> bool:
    return any(a in ("x", "y") and abs(abs(d) - 180) < 1e-9 for a, d in p.rot)


def _spacer_threads(p: Placed, cat: Catalog, males: list[Male], females: Axes[Female]) -> None:
    s = spacer_spec(cat[p.part_id])
    x, y, z = p.pos
    sgn = -1.0 if _flipped(p) else 1.0
    need = min_engagement(s.thread)
    what = f"{s.kind_label} spacer"
    females.add(x, y, Female(p.name, p.part_id, s.thread, x, y, z, sgn > 0, s.female_depth, need, what=what))
    if s.style == "female-female":
        females.add(x, y, Female(p.name, p.part_id, s.thread, x, y, z + sgn * s.length, sgn < 0, s.female_depth, need,
                                 what=what))
    elif s.male > 0:
        males.append(Male(p.name, p.part_id, s.thread, x, y, z + sgn * s.length, z + sgn * (s.length + s.male),
                          p.role, p.node))


def _to_measure(cat: Catalog, part_id: str, figure: str) -> str:
    """What to measure, when the part's `figure` is one no source gives (else "")."""
    return next((m.measure for m in cat[part_id].to_measure() if figure in m.figures), "")


def collect(lay: Layout, cat: Catalog) -> tuple[list[Male], Axes[Female]]:
    """The male and female threads of the placed parts."""
    males: list[Male] = []
    females: Axes[Female] = Axes()
    for p in lay.parts:
        x, y, z = p.pos
        if p.kind == "screw":
            s = screw_spec(cat[p.part_id])
            tip = z + s.length if _flipped(p) else z - s.length
            males.append(Male(p.name, p.part_id, s.thread, x, y, z, tip, p.role, p.node, s.head_diameter))
        elif p.kind == "spacer":
            _spacer_threads(p, cat, males, females)
        elif p.kind == "nut":
            n = nut_spec(cat[p.part_id])
            cap = n.style == "cap"
            females.add(x, y, Female(p.name, p.part_id, n.thread, x, y, z, not _flipped(p),
                                     n.thread_depth if cap else n.height, min_engagement(n.thread) if cap else n.height,
                                     through=not cap, what=f"{n.style} nut",
                                     measure=_to_measure(cat, p.part_id, "thread_depth") if cap else ""))
        elif p.kind == "drive":
            d = drive_spec(cat[p.part_id])
            for u, v in d.bottom_holes:
                hx, hy, hz = transform((u, v, 0.0), p.pos, p.rot)
                females.add(hx, hy, Female(p.name, p.part_id, d.thread, hx, hy, hz, True, d.thread_depth_bottom,
                                           2 * pitch(d.thread), hard=True, what="drive's bottom hole"))
    return males, females


def _sheets(lay: Layout) -> list[tuple[Box, Plate | None]]:
    """Every acrylic sheet: the plates, and the support's foot."""
    out: list[tuple[Box, Plate | None]] = [(Box(p.x, p.y, p.z, p.x + p.width, p.y + p.depth, p.top), p)
                                           for p in lay.plates]
    for p in lay.parts:
        if p.kind == "support":
            b = p.bbox
            out.append((Box(b.x0, b.y0, b.z0, b.x1, b.y1, b.z0 + lay.thickness), None))
    return out


class _ByZ(Generic[T]):
    """Boxes (each with what it is) sorted by their bottom, for 'which of them lie in z0..z1'."""

    def __init__(self, boxes: list[tuple[Box, T]]):
        self.boxes = sorted(boxes, key=lambda b: b[0].z0)
        self.z0s = [b.z0 for b, _ in self.boxes]
        self.tallest = max((b.height for b, _ in self.boxes), default=0.0)

    def between(self, lo: Mm, hi: Mm) -> list[tuple[Box, T]]:
        """Boxes that may reach into lo..hi (the caller tests exactly)."""
        i = bisect.bisect_left(self.z0s, lo - self.tallest - EPS)
        j = bisect.bisect_right(self.z0s, hi + EPS)
        return self.boxes[i:j]


def _within(x: Mm, y: Mm, s: Box) -> bool:
    return s.x0 - EPS <= x <= s.x1 + EPS and s.y0 - EPS <= y <= s.y1 + EPS


def _engaged(m: Male, females: Axes[Female]) -> Female | None:
    """The first female thread on the male's way from its bearing face to its tip."""
    lo, hi = m.span
    cands = [f for f in females.near(m.x, m.y) if f.name != m.name and f.up == m.up
             and lo - EPS <= f.entry <= hi - EPS and (f.entry - m.base) * (1 if m.up else -1) >= -EPS]
    return min(cands, key=lambda f: abs(f.entry - m.base)) if cands else None


@dataclass(frozen=True)
class _Joint:
    """A male thread in the female it engages, through `sheets` sheets."""

    m: Male
    f: Female
    sheets: int
    depth: Mm  # at the nominal sheet
    deep: Mm  # at the thinnest sheets
    engaged: Mm  # at the thickest
    grip: str  # " through 2 sheets of 2.3–3.7 mm" (for the message)

    @property
    def what(self) -> str:
        return f"{self.m.part_id} ({self.m.role}) in {self.f.part_id} ({self.f.what})"

    @property
    def parts(self) -> tuple[str, str]:
        return (self.m.name, self.f.name)


def check_threads(lay: Layout, cat: Catalog, parts2d: list[Part2D]) -> list[Finding]:
    out: list[Finding] = []
    males, females = collect(lay, cat)
    sheets = _ByZ(_sheets(lay))
    t_lo, t_hi = lay.thickness_range
    t = lay.thickness
    for m in males:
        f = _engaged(m, females)
        if f is None:
            out.append(Finding("error", "SCREW_ENGAGEMENT",
                               f"{m.part_id} ({m.role}) engages no thread: nothing threaded on its axis within its length",
                               fix="a longer screw, or check the layout", parts=(m.name,), value=0.0, unit="mm",
                               node=m.node))
            continue
        z0, z1 = sorted((m.base, f.entry))
        n = sum(1 for s, _ in sheets.between(z0, z1) if s.z0 >= z0 - EPS and s.z1 <= z1 + EPS and _within(m.x, m.y, s))
        depth = abs(m.tip - f.entry)
        grip = f" through {n} sheet{'s' if n != 1 else ''} of {t_lo:g}–{t_hi:g} mm" if n else ""
        j = _Joint(m, f, n, depth, depth + n * (t - t_lo), depth - n * (t_hi - t), grip)
        out += _mismatch(j) + _too_deep(j) + _too_shallow(j)
    out += check_holes(lay, cat, males, parts2d)
    return out


def _mismatch(j: _Joint) -> list[Finding]:
    m, f = j.m, j.f
    if m.thread == f.thread:
        return []
    if same_family(m.thread, f.thread):
        sev = "warning"
        extra = (f": both {pitch(m.thread):g} mm pitch, "
                 f"{abs(thread_diameter(m.thread) - thread_diameter(f.thread)):.1f} mm apart — it goes in tight and "
                 "may strip the brass")
    else:
        sev, extra = "error", ": it will not thread"
    return [Finding(sev, "THREAD_MISMATCH", f"{j.what}: {m.thread} male into {f.thread} female{extra}",
                    fix=f"use {f.thread} parts on both sides (or {m.thread} spacers)", parts=j.parts, node=m.node)]


def _too_deep(j: _Joint) -> list[Finding]:
    f = j.f
    if f.through or j.deep <= f.depth + EPS:
        return []
    sev = "error" if (j.depth > f.depth + EPS or f.hard) else "warning"
    measure = _sheet_to_measure(j) if sev == "warning" else ""
    if sev == "error" and f.measure and not f.hard:
        # past a depth no source gives (the catalog's safe-side guess): a check must not fail a
        # design on an unchecked number, nor stay quiet about it
        sev, measure = "warning", f.measure
    return [Finding(sev, "SCREW_DEPTH", measure=measure,
                    message=f"{j.what}: goes {j.deep:.2f} mm deep{j.grip} at the thinnest ({j.depth:.2f} mm at nominal); "
                    f"the thread there is {f.depth:g} mm deep",
                    fix="a shorter screw" + (" (a deeper one presses on the drive's board)" if f.hard else ""),
                    parts=j.parts, value=round(j.deep, 3), unit="mm", limit=f.depth, node=j.m.node)]


def _sheet_to_measure(j: _Joint) -> str:
    """A joint right at the nominal sheet and wrong only at an end of its tolerance: no screw
    length serves the whole range, so the sheet's real thickness decides."""
    return (f"the sheet's thickness where {j.m.part_id} ({j.m.role}) passes, with calipers: the joint is right at "
            f"the nominal thickness and wrong only at an end of the cast-acrylic tolerance{j.grip}")


def _too_shallow(j: _Joint) -> list[Finding]:
    f = j.f
    effective = min(j.engaged, f.depth) if f.through else j.engaged
    if effective >= f.min_engage - EPS:
        return []
    nominal = min(j.depth, f.depth) if f.through else j.depth
    sev = "error" if nominal < f.min_engage - EPS else "warning"
    why = " at the thickest sheet" if sev == "warning" else ""
    fix = ("measure the sheet; if it is thick, a screw 1 mm longer" + (" only if the thread depth allows it" if f.hard else "")
           if sev == "warning" else "a longer screw or male thread")
    return [Finding(sev, "SCREW_ENGAGEMENT", measure=_sheet_to_measure(j) if sev == "warning" else "",
                    message=f"{j.what}: engages {max(effective, 0):.2f} mm{why}{j.grip} ({nominal:.2f} mm at nominal); "
                    f"wants {f.min_engage:.2f} mm",
                    fix=fix, parts=j.parts, value=round(max(effective, 0), 3), unit="mm", limit=f.min_engage,
                    node=j.m.node)]


def plate_holes(parts2d: list[Part2D]) -> list[CutHole]:
    """Every round hole as cut, from the Part2D (in the rack frame: plus the part's datum)."""
    out = []
    for part in parts2d:
        datum = part.notes.get("datum")
        if datum is None:
            continue
        for h, info in zip(part.holes, part.notes.get("holes", [])):
            if isinstance(h, Circle):
                out.append(CutHole(part.name, h.center[0] + datum[0], h.center[1] + datum[1], h.diameter, info))
    return out


def _hole_rule(thread: str, dia: Mm, where: str, parts: tuple[str, ...], node: str | None,
               head_d: Mm = 0.0) -> Finding | None:
    d = thread_diameter(thread)
    fine = clearance_hole(thread, "fine")
    if dia < d - EPS:
        return Finding("error", "HOLE_SIZE", f"{where}: Ø{dia:g} hole is smaller than the {thread} thread passing it",
                       fix=f"a hole of at least Ø{fine:g} (ISO 273 fine) for {thread}", parts=parts, value=dia,
                       unit="mm", limit=d, node=node)
    if head_d and dia >= head_d - EPS:
        return Finding("error", "HOLE_SIZE", f"{where}: Ø{dia:g} hole lets the Ø{head_d:g} screw head through",
                       fix="a smaller hole or a washer", parts=parts, value=dia, unit="mm", limit=head_d, node=node)
    if dia < fine - EPS:
        return Finding("warning", "HOLE_SIZE",
                       f"{where}: Ø{dia:g} hole for {thread}: {dia - d:.2f} mm of clearance, under the ISO 273 fine "
                       f"series' Ø{fine:g}: a tight fit, the thread may bind",
                       fix=f"Ø{fine:g} or more, or {thread} hardware of the hole's own size",
                       parts=parts, value=dia, unit="mm", limit=fine, node=node)
    return None


def check_holes(lay: Layout, cat: Catalog, males: list[Male], parts2d: list[Part2D]) -> list[Finding]:
    return _plate_holes_for(lay, males, parts2d) + _board_holes_for(lay, cat, males)


def _plate_holes_for(lay: Layout, males: list[Male], parts2d: list[Part2D]) -> list[Finding]:
    """Every male thread crossing a plate has a hole there, of the right size."""
    out = []
    by_plate: dict[str, list[CutHole]] = defaultdict(list)
    for h in plate_holes(parts2d):
        by_plate[h.plate].append(h)
    plates = _ByZ([(Box(p.x, p.y, p.z, p.x + p.width, p.y + p.depth, p.top), p) for p in lay.plates])
    for m in males:
        lo, hi = m.span
        for box, p in plates.between(lo, hi):
            if not (p.z < hi - EPS and p.top > lo + EPS and _within(m.x, m.y, box)):
                continue
            near = [h for h in by_plate[p.name] if math.hypot(h.x - m.x, h.y - m.y) <= AXIS_TOL]
            if not near:
                out.append(Finding("error", "HOLE_SIZE", f"{p.name}: no hole under {m.part_id} ({m.role})",
                                   fix="the plate needs a hole on this axis", parts=(p.name, m.name), node=m.node))
                continue
            bears = abs(m.base - p.z) < 1e-3 or abs(m.base - p.top) < 1e-3
            f = _hole_rule(m.thread, near[0].diameter, f"{p.name} hole for {m.part_id} ({m.role})", (p.name, m.name),
                           m.node, m.head_d if bears else 0.0)
            if f:
                out.append(f)
    return out


def _board_holes_for(lay: Layout, cat: Catalog, males: list[Male]) -> list[Finding]:
    """Boards: their own holes vs the thread through them."""
    out = []
    axes: Axes[Male] = Axes()
    for m in males:
        axes.add(m.x, m.y, m)
    for b in lay.parts_of("board"):
        board = board_spec(cat[b.part_id])
        z0, z1 = b.pos[2], b.pos[2] + board.thickness
        for u, v in board.holes:
            hx, hy, _ = transform((u, v, 0.0), b.pos, b.rot)
            for m in axes.near(hx, hy):
                lo, hi = m.span
                if lo < z1 - EPS and hi > z0 + EPS:
                    f = _hole_rule(m.thread, board.hole_diameter, f"{board.id}'s hole for {m.part_id} ({m.role})",
                                   (b.name, m.name), b.node)
                    if f:
                        out.append(f)
    return out


def check_stack(lay: Layout, male: dict[str, Mm]) -> list[Finding]:
    out = []
    plates = {p.name: p for p in lay.plates}
    seen = set()
    for c in lay.columns:
        for s in c.segments:
            key = (s.lower, s.upper, s.stack.ids)
            out += _segment_height(c.name, s, first=key not in seen)
            seen.add(key)
            out += _segment_as_placed(lay, c.name, s, plates[s.lower], plates[s.upper], male)
    if lay.columns:
        c = lay.columns[0]
        segs = ", ".join(f"{s.lower}→{s.upper} {s.height:g} mm ({s.stack.describe()}; needs {s.required:.1f})"
                         for s in c.segments)
        out.append(Finding("info", "STACK_HEIGHT", f"{len(lay.columns)} spacer columns of {c.length:g} mm: {segs}",
                           value=c.length, unit="mm"))
    return out


def _segment_height(column: str, s: Segment, first: bool) -> list[Finding]:
    """The solver's stack vs the height the segment must bridge."""
    if s.height < s.required - EPS:
        return [Finding("error", "STACK_HEIGHT",
                        f"column {column} {s.lower}→{s.upper}: {s.stack.describe()} = {s.height:g} mm, "
                        f"the parts between need {s.required:.2f} mm",
                        fix="a taller stack (the solver rounds up; was the layout edited?)",
                        parts=s.stack.ids, value=s.height, unit="mm", limit=s.required)]
    if s.height > s.required + DEFAULT_SLACK_MM + 5.0 and first:
        return [Finding("warning", "STACK_HEIGHT",
                        f"{s.lower}→{s.upper}: {s.stack.describe()} = {s.height:g} mm for {s.required:.2f} mm needed "
                        f"({s.height - s.required:.1f} mm taller: no closer catalog stack)",
                        fix="add a spacer length to the catalog (parts/fasteners)", parts=s.stack.ids,
                        value=s.height, unit="mm", limit=s.required)]
    return []


def _segment_as_placed(lay: Layout, column: str, s: Segment, lower: Plate, upper: Plate,
                       male: dict[str, Mm]) -> list[Finding]:
    """The placed spacers of this column between these plates add up to the plate gap."""
    gap = upper.z - lower.top
    placed = [p for p in lay.parts if p.column == column and p.kind == "spacer"
              and p.bbox.z0 >= lower.top - EPS and p.bbox.z0 < upper.z - EPS]
    body = sum(p.bbox.height - male.get(p.part_id, 0.0) for p in placed)  # without the male studs
    if abs(body - gap) <= 0.01 and abs(s.height - gap) <= 0.01:
        return []
    return [Finding("error", "STACK_HEIGHT",
                    f"column {column} {s.lower}→{s.upper}: plates {gap:.2f} mm apart, spacers placed "
                    f"{body:.2f} mm, the solver chose {s.height:.2f} mm",
                    fix="the layout is inconsistent: rebuild it from the solver's segments",
                    parts=tuple(p.name for p in placed), value=round(body, 3), unit="mm", limit=round(gap, 3))]


def layout_findings(lay: Layout, measured: list[Finding]) -> list[Finding]:
    """The layout's own findings, but those already measured above (same code and node): the
    measurement carries the numbers."""
    have = {(f.code, f.node) for f in measured}
    return [f for f in lay.findings if (f.code, f.node) not in have]


def check(design: Design) -> list[Finding]:
    lay, cat = design.lay, design.cat
    male = {p.part_id: spacer_spec(cat[p.part_id]).male for p in lay.parts if p.kind == "spacer"}
    out = check_stack(lay, male) + check_threads(lay, cat, design.parts2d)
    return out + layout_findings(lay, out)
