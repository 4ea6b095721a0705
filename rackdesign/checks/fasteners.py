"""Spacer columns, screws and holes, measured on the placed parts (not re-derived from the
solver's intentions): STACK_HEIGHT, SCREW_DEPTH, SCREW_ENGAGEMENT, THREAD_MISMATCH, HOLE_SIZE,
and the layout's notes as findings with codes.

Every male thread (a screw's shank, an M-F spacer's stud) is followed along its axis from its
bearing face to its tip; the first female thread it enters (a spacer end, a drive's bottom
hole, a nut) is what it engages. Sheets crossed on the way come in a thickness range
(Sheet.thickness_range_mm(): cast acrylic ±(0.4 + 0.1·t)), so the depth is judged at the
thinnest sheet and the engagement at the thickest.

Rules (stated once):
- min engagement: 0.75·d in a spacer or cap nut (stack.MIN_ENGAGEMENT_D); two pitches in a
  drive's shallow bottom hole; a hex nut's full height.
- max depth: a spacer's usable female depth (stack.SpacerSpec.female_depth), a cap nut's
  thread_depth, a drive's thread_depth_bottom (SFF-8201; a hard limit — a deeper screw presses
  on the drive's board, so it is an error even if only the thinnest sheet gets there).
- at the nominal sheet: an error; only at the extreme of the sheet's tolerance: a warning
  (measure the sheet, or add a washer).
- thread mismatch: same pitch and ≤ 0.1 mm apart (M2.6 into M2.5, both 0.45 mm) is a warning,
  anything else an error.
- holes (ISO 273 / JIS B 1001): smaller than the thread — error; under the fine-series
  clearance — warning; not smaller than the screw head bearing on it — error.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from pirack.units import mm

from rackdesign import stack as stk
from rackdesign.layout import _spacer_spec, transform

from . import Finding

EPS = 1e-6
AXIS_TOL = 0.05  # mm: two parts are on one axis when their centres are this close
PITCH = {"M2": 0.4, "M2.2": 0.45, "M2.5": 0.45, "M2.6": 0.45, "M3": 0.5, "M3.5": 0.6, "M4": 0.7, "M5": 0.8}


def pitch(thread: str) -> float:
    return PITCH.get(thread, round(0.15 * stk.thread_diameter(thread) + 0.05, 2))


@dataclass
class Male:
    name: str  # instance
    part_id: str
    thread: str
    x: float
    y: float
    base: float  # z of the bearing face (under a head, a spacer's shoulder)
    tip: float
    role: str
    node: str | None
    head_d: float = 0.0  # 0 for a stud

    def __post_init__(self):
        self.up = self.tip > self.base
        self.span = (min(self.base, self.tip), max(self.base, self.tip))


@dataclass
class Female:
    name: str
    part_id: str
    thread: str
    x: float
    y: float
    entry: float  # z of the face the male enters
    up: bool  # the male must travel upwards into it
    depth: float  # usable thread depth
    min_engage: float
    hard: bool = False  # depth is a hard limit (a drive)
    through: bool = False  # a hex nut: the screw may pass through
    what: str = ""


def _key(x, y):
    return (round(x / AXIS_TOL), round(y / AXIS_TOL))


class Axes:
    """Spatial index of things on a vertical axis, by (x, y) in AXIS_TOL cells."""

    def __init__(self):
        self.cells: dict = defaultdict(list)

    def add(self, x, y, item):
        self.cells[_key(x, y)].append(item)

    def near(self, x, y):
        kx, ky = _key(x, y)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for it in self.cells.get((kx + dx, ky + dy), ()):
                    if math.hypot(it.x - x, it.y - y) <= AXIS_TOL:
                        yield it


def _flipped(p) -> bool:
    return any(a in ("x", "y") and abs(abs(d) - 180) < 1e-9 for a, d in p.rot)


def collect(lay, cat):
    """The male and female threads of the placed parts."""
    males: list[Male] = []
    females = Axes()
    for p in lay.parts:
        x, y, z = p.pos
        if p.kind == "screw":
            s = cat[p.part_id]
            L = mm(s.length)
            tip = z + L if _flipped(p) else z - L
            males.append(Male(p.name, p.part_id, s.thread, x, y, z, tip, p.role, p.node, mm(s.head_diameter)))
        elif p.kind == "spacer":
            s = cat[p.part_id]
            spec = _spacer_spec(s)
            L = spec.length
            sgn = -1.0 if _flipped(p) else 1.0
            fd = spec.female_depth
            need = stk.min_engagement(s.thread)
            what = f"{'F-F' if s.style == 'female-female' else 'M-F'} spacer"
            females.add(x, y, Female(p.name, p.part_id, s.thread, x, y, z, sgn > 0, fd, need, what=what))
            if s.style == "female-female":
                females.add(x, y, Female(p.name, p.part_id, s.thread, x, y, z + sgn * L, sgn < 0, fd, need, what=what))
            elif spec.male > 0:
                males.append(Male(p.name, p.part_id, s.thread, x, y, z + sgn * L, z + sgn * (L + spec.male), p.role,
                                  p.node))
        elif p.kind == "nut":
            n = cat[p.part_id]
            d = mm(n.thread_depth) if n.style == "cap" else mm(n.height)
            need = stk.min_engagement(n.thread) if n.style == "cap" else mm(n.height)
            females.add(x, y, Female(p.name, p.part_id, n.thread, x, y, z, not _flipped(p), d, need,
                                     through=n.style == "hex", what=f"{n.style} nut"))
        elif p.kind == "drive":
            d = cat[p.part_id]
            for u, v in d.bottom_holes:
                hx, hy, hz = transform((mm(u), mm(v), 0.0), p.pos, p.rot)
                females.add(hx, hy, Female(p.name, p.part_id, d.thread, hx, hy, hz, True, mm(d.thread_depth_bottom),
                                           2 * pitch(d.thread), hard=True, what="drive's bottom hole"))
    return males, females


def _sheets(lay):
    """(x0, y0, x1, y1, z0, z1) of every acrylic sheet: plates and the support's foot."""
    out = []
    for p in lay.plates:
        out.append((p.x, p.y, p.x + p.width, p.y + p.depth, p.z, p.top))
    for p in lay.parts:
        if p.kind == "support":
            b = p.bbox
            out.append((b[0], b[1], b[3], b[4], b[2], b[2] + lay.thickness))
    return out


class _ByZ:
    """Boxes (x0, y0, x1, y1, z0, z1, ...) sorted by z0, for 'which of them lie in z0..z1'."""

    def __init__(self, boxes):
        self.boxes = sorted(boxes, key=lambda b: b[4])
        self.z0s = [b[4] for b in self.boxes]
        self.tallest = max((b[5] - b[4] for b in self.boxes), default=0.0)

    def between(self, lo, hi):
        """Boxes that may reach into lo..hi (the caller tests exactly)."""
        import bisect

        i = bisect.bisect_left(self.z0s, lo - self.tallest - EPS)
        j = bisect.bisect_right(self.z0s, hi + EPS)
        return self.boxes[i:j]


def _within(x, y, s):
    return s[0] - EPS <= x <= s[2] + EPS and s[1] - EPS <= y <= s[3] + EPS


def _same_thread_family(a: str, b: str) -> bool:
    return pitch(a) == pitch(b) and abs(stk.thread_diameter(a) - stk.thread_diameter(b)) <= 0.1 + 1e-9


def check_threads(lay, cat, parts2d) -> list[Finding]:
    out: list[Finding] = []
    males, females = collect(lay, cat)
    sheets = _ByZ(_sheets(lay))
    t_lo, t_hi = lay.thickness_range
    t = lay.thickness
    for m in males:
        lo, hi = m.span
        cands = [f for f in females.near(m.x, m.y) if f.name != m.name and f.up == m.up
                 and lo - EPS <= f.entry <= hi - EPS and (f.entry - m.base) * (1 if m.up else -1) >= -EPS]
        if not cands:
            out.append(Finding("error", "SCREW_ENGAGEMENT",
                               f"{m.part_id} ({m.role}) engages no thread: nothing threaded on its axis within its length",
                               fix="a longer screw, or check the layout", parts=(m.name,), value=0.0, unit="mm",
                               node=m.node))
            continue
        f = min(cands, key=lambda f: abs(f.entry - m.base))
        z0, z1 = sorted((m.base, f.entry))
        n = sum(1 for s in sheets.between(z0, z1) if s[4] >= z0 - EPS and s[5] <= z1 + EPS and _within(m.x, m.y, s))
        depth = abs(m.tip - f.entry)
        deep = depth + n * (t - t_lo)  # at the thinnest sheets
        eng = depth - n * (t_hi - t)  # at the thickest
        what = f"{m.part_id} ({m.role}) in {f.part_id} ({f.what})"
        parts = (m.name, f.name)
        grip = f" through {n} sheet{'s' if n != 1 else ''} of {t_lo:g}–{t_hi:g} mm" if n else ""
        if m.thread != f.thread:
            sev = "warning" if _same_thread_family(m.thread, f.thread) else "error"
            extra = (f": both {pitch(m.thread):g} mm pitch, {abs(stk.thread_diameter(m.thread) - stk.thread_diameter(f.thread)):.1f} mm "
                     "apart — it goes in tight and may strip the brass" if sev == "warning" else ": it will not thread")
            out.append(Finding(sev, "THREAD_MISMATCH", f"{what}: {m.thread} male into {f.thread} female{extra}",
                               fix=f"use {f.thread} parts on both sides (or {m.thread} spacers)", parts=parts,
                               node=m.node))
        effective = min(eng, f.depth) if f.through else eng
        if not f.through and deep > f.depth + EPS:
            sev = "error" if (depth > f.depth + EPS or f.hard) else "warning"
            out.append(Finding(sev, "SCREW_DEPTH",
                               f"{what}: goes {deep:.2f} mm deep{grip} at the thinnest ({depth:.2f} mm at nominal); "
                               f"the thread there is {f.depth:g} mm deep",
                               fix="a shorter screw" + (" (a deeper one presses on the drive's board)" if f.hard else ""),
                               parts=parts, value=round(deep, 3), unit="mm", limit=f.depth, node=m.node))
        if effective < f.min_engage - EPS:
            nominal = min(depth, f.depth) if f.through else depth
            sev = "error" if nominal < f.min_engage - EPS else "warning"
            why = " at the thickest sheet" if sev == "warning" else ""
            out.append(Finding(sev, "SCREW_ENGAGEMENT",
                               f"{what}: engages {max(effective, 0):.2f} mm{why}{grip} ({nominal:.2f} mm at nominal); "
                               f"wants {f.min_engage:.2f} mm",
                               fix=("measure the sheet; if it is thick, a screw 1 mm longer" + (" only if the thread depth allows it" if f.hard else "")
                                    if sev == "warning" else "a longer screw or male thread"),
                               parts=parts, value=round(max(effective, 0), 3), unit="mm", limit=f.min_engage, node=m.node))
    out += check_holes(lay, cat, males, parts2d)
    return out


def plate_holes(parts2d):
    """Every hole as cut: (plate name, x, y in the rack frame, diameter, info) from the Part2D."""
    from rackdesign.geometry2d import Circle

    out = []
    for part in parts2d:
        datum = part.notes.get("datum")
        if datum is None:
            continue
        for h, info in zip(part.holes, part.notes.get("holes", [])):
            if isinstance(h, Circle):
                out.append((part.name, h.center[0] + datum[0], h.center[1] + datum[1], h.diameter, info))
    return out


def _hole_rule(thread: str, dia: float, where: str, parts, node, head_d: float = 0.0) -> Finding | None:
    d = stk.thread_diameter(thread)
    fine = stk.clearance_hole(thread, "fine")
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
                       f"series' Ø{fine:g}: a tight fit, the thread may bind", fix=f"Ø{fine:g} or more, or {thread} hardware of the hole's own size",
                       parts=parts, value=dia, unit="mm", limit=fine, node=node)
    return None


def check_holes(lay, cat, males, parts2d) -> list[Finding]:
    out = []
    # plates: every hole as cut, and every male thread crossing a plate has one
    holes = parts2d
    by_plate: dict[str, list] = defaultdict(list)
    for name, x, y, dia, info in plate_holes(holes):
        by_plate[name].append((x, y, dia, info))
    plates = _ByZ([(p.x, p.y, p.x + p.width, p.y + p.depth, p.z, p.top, p) for p in lay.plates])
    for m in males:
        lo, hi = m.span
        for box in plates.between(lo, hi):
            p = box[6]
            if not (p.z < hi - EPS and p.top > lo + EPS and _within(m.x, m.y, box)):
                continue
            near = [h for h in by_plate[p.name] if math.hypot(h[0] - m.x, h[1] - m.y) <= AXIS_TOL]
            if not near:
                out.append(Finding("error", "HOLE_SIZE", f"{p.name}: no hole under {m.part_id} ({m.role})",
                                   fix="the plate needs a hole on this axis", parts=(p.name, m.name), node=m.node))
                continue
            bears = abs(m.base - p.z) < 1e-3 or abs(m.base - p.top) < 1e-3
            f = _hole_rule(m.thread, near[0][2], f"{p.name} hole for {m.part_id} ({m.role})", (p.name, m.name),
                           m.node, m.head_d if bears else 0.0)
            if f:
                out.append(f)
    # boards: their own holes vs the thread through them
    boards = [p for p in lay.parts if p.kind == "board"]
    axes = Axes()
    for m in males:
        axes.add(m.x, m.y, m)
    for b in boards:
        part = cat[b.part_id]
        z0, z1 = b.pos[2], b.pos[2] + mm(part.thickness)
        for u, v in part.holes:
            hx, hy, _ = transform((mm(u), mm(v), 0.0), b.pos, b.rot)
            for m in axes.near(hx, hy):
                lo, hi = m.span
                if lo < z1 - EPS and hi > z0 + EPS:
                    f = _hole_rule(m.thread, mm(part.hole_diameter), f"{part.id}'s hole for {m.part_id} ({m.role})",
                                   (b.name, m.name), b.node)
                    if f:
                        out.append(f)
    return out


def check_stack(lay, male: dict) -> list[Finding]:
    out = []
    plates = {p.name: p for p in lay.plates}
    seen = set()
    for c in lay.columns:
        for s in c.segments:
            lower, upper = plates[s.lower], plates[s.upper]
            gap = upper.z - lower.top
            key = (s.lower, s.upper, s.stack.ids)
            if s.height < s.required - EPS:
                out.append(Finding("error", "STACK_HEIGHT",
                                   f"column {c.name} {s.lower}→{s.upper}: {s.stack.describe()} = {s.height:g} mm, "
                                   f"the parts between need {s.required:.2f} mm",
                                   fix="a taller stack (the solver rounds up; was the layout edited?)",
                                   parts=s.stack.ids, value=s.height, unit="mm", limit=s.required))
            elif s.height > s.required + stk.DEFAULT_SLACK_MM + 5.0 and key not in seen:
                out.append(Finding("warning", "STACK_HEIGHT",
                                   f"{s.lower}→{s.upper}: {s.stack.describe()} = {s.height:g} mm for {s.required:.2f} mm needed "
                                   f"({s.height - s.required:.1f} mm taller: no closer catalog stack)",
                                   fix="add a spacer length to the catalog (parts/fasteners)", parts=s.stack.ids,
                                   value=s.height, unit="mm", limit=s.required))
            seen.add(key)
            # the placed spacers of this column between these plates add up to the plate gap
            placed = [p for p in lay.parts if p.column == c.name and p.kind == "spacer"
                      and p.bbox[2] >= lower.top - EPS and p.bbox[2] < upper.z - EPS]
            body = sum(_body(p, male) for p in placed)
            if abs(body - gap) > 0.01 or abs(s.height - gap) > 0.01:
                out.append(Finding("error", "STACK_HEIGHT",
                                   f"column {c.name} {s.lower}→{s.upper}: plates {gap:.2f} mm apart, spacers placed "
                                   f"{body:.2f} mm, the solver chose {s.height:.2f} mm",
                                   fix="the layout is inconsistent: rebuild it from the solver's segments",
                                   parts=tuple(p.name for p in placed), value=round(body, 3), unit="mm", limit=round(gap, 3)))
    if lay.columns:
        c = lay.columns[0]
        segs = ", ".join(f"{s.lower}→{s.upper} {s.height:g} mm ({s.stack.describe()}; needs {s.required:.1f})"
                         for s in c.segments)
        out.append(Finding("info", "STACK_HEIGHT", f"{len(lay.columns)} spacer columns of {c.length:g} mm: {segs}",
                           value=c.length, unit="mm"))
    return out


def _body(p, male: dict) -> float:
    """A placed spacer's body length: its height without the male stud."""
    return (p.bbox[5] - p.bbox[2]) - male.get(p.part_id, 0.0)


_NOTE_CODES = [
    (re.compile(r"threads differ"), "THREAD_MISMATCH"),
    (re.compile(r"holes are for"), "HOLE_SIZE"),
    (re.compile(r"engages only|engages .* wanted"), "SCREW_ENGAGEMENT"),
    (re.compile(r"deep"), "SCREW_DEPTH"),
]


def note_findings(lay, node_names, have: set) -> list[Finding]:
    """The layout's notes as findings. A note already measured by the checks above (same code
    and node) is dropped: the measurement carries the numbers."""
    out = []
    for note in lay.notes:
        code = next((c for rx, c in _NOTE_CODES if rx.search(note)), "LAYOUT_NOTE")
        head = note.split(":", 1)[0]
        node = head if head in node_names else None
        if (code, node) in have:
            continue
        out.append(Finding("warning", code, f"layout: {note}", node=node,
                           fix="see the note; the layout chose the closest parts the catalog has"))
    return out


def check(ctx) -> list[Finding]:
    lay, cat = ctx.lay, ctx.cat
    male = {p.part_id: _spacer_spec(cat[p.part_id]).male for p in lay.parts if p.kind == "spacer"}
    out = check_stack(lay, male) + check_threads(lay, cat, ctx.parts2d)
    have = {(f.code, f.node) for f in out}
    out += note_findings(lay, {n.name for n in ctx.spec.nodes}, have)
    return out
