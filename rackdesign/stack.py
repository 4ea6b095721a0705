"""The stack solver: which catalog spacers make a spacer column's segment, and which screw
length keeps thread engagement within limits. Pure Python and cached: the design checks call
it for racks of 64 tiers.

A spacer column runs from the base plate to the top plate. Between two plates it is a
*segment*: hex spacers stacked on each other, their body lengths adding up to the gap between
the plates (male threads are not counted: they sit inside the part above). Rules:

- the bottom of a segment is always a female end (it takes the screw from under the base, or
  the male thread of the segment below, through the plate);
- male-female (M-F) spacers stack male end up, each into the next one's female end;
- a segment that continues through a plate ("through") ends in an M-F whose male thread goes
  through the plate into the next segment's bottom spacer;
- the top segment ends either in an M-F whose male thread takes a cap nut above the top plate
  (the seed's look), or in a female-female (F-F) spacer and a pan screw from above.

Thread engagement rule (our choice, stated once here):
- at least MIN_ENGAGEMENT_D · d of thread inside the female part at the thickest sheet
  (0.75·d: ≈ 4.5 turns of the M3 coarse pitch; a standard nut is 0.8·d, and a rack's loads
  are a few newtons, so three quarters of a nut's length is ample);
- never deeper than the female thread there is at the thinnest sheet: a spacer's female end is
  taken as min(usable length, MAX_FEMALE_DEPTH_D · d), where the usable length is half the body
  of an F-F (screws come from both ends) and the body minus 0.5 mm of an M-F (the end of its
  tapped hole); a drive's is its catalog `thread_depth_bottom` (a hard limit: a deeper screw
  presses on the drive's board); a cap nut's is its catalog `thread_depth`.
- plate thickness is never nominal: cast acrylic comes within `Sheet.thickness_range_mm()`.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass, field

from pirack.errors import WorkFailed

MIN_ENGAGEMENT_D = 0.75
MAX_FEMALE_DEPTH_D = 2.5
DEFAULT_SLACK_MM = 2.0  # how much taller than needed a segment may grow to save parts
MAX_PARTS = 4  # spacers per segment


class LayoutError(WorkFailed):
    """The rack cannot be laid out as asked. `code` is the design check's code for it
    (STACK_HEIGHT, NO_SPACER, NO_SCREW, LAYOUT); the message says what, where (plate, column,
    node) and what to do: `rack check` reports it as a finding, `rack export` and `rack bom`
    print it and exit 1."""

    def __init__(self, code: str, message: str, fix: str = ""):
        super().__init__(f"{message}; {fix}" if fix else message, data={"code": code})
        self.code, self.message, self.fix = code, message, fix


def thread_diameter(thread: str) -> float:
    """'M3' -> 3.0, 'M2.6' -> 2.6."""
    m = re.fullmatch(r"M(\d+(?:\.\d+)?)", thread.strip())
    if not m:
        raise ValueError(f"not a metric thread: {thread!r}")
    return float(m.group(1))


# Through-hole clearances for metric screws, ISO 273 (JIS B 1001, which adds M2.6), in mm.
# Plates are cut to the medium (2級) series: a laser's hole walls taper a little and four holes
# must line up with four spacers on another plate. The checks hold holes to the fine (1級)
# series: under it a thread may bind. Threads outside the tables: ×1.07 (fine; ISO 273's M6 is
# 6.4) and ×1.12 (medium; a little over its M6's 6.6, for the taper).
CLEARANCE_FINE = {"M2": 2.2, "M2.5": 2.7, "M2.6": 2.8, "M3": 3.2, "M4": 4.3, "M5": 5.3}
CLEARANCE_MEDIUM = {"M2": 2.4, "M2.5": 2.9, "M2.6": 3.0, "M3": 3.4, "M4": 4.5, "M5": 5.5}
_CLEARANCE = {"fine": (CLEARANCE_FINE, 1.07), "medium": (CLEARANCE_MEDIUM, 1.12)}


def clearance_hole(thread: str, series: str = "medium") -> float:
    """The ISO 273 through-hole diameter for `thread` in the `series` ("fine" | "medium")."""
    if series not in _CLEARANCE:
        raise ValueError(f"no ISO 273 series {series!r}: fine or medium")
    table, ratio = _CLEARANCE[series]
    if thread in table:
        return table[thread]
    return round(thread_diameter(thread) * ratio, 1)


def min_engagement(thread: str) -> float:
    return MIN_ENGAGEMENT_D * thread_diameter(thread)


@dataclass(frozen=True)
class SpacerSpec:
    id: str
    thread: str
    length: float
    style: str  # "female-female" | "male-female"
    male: float = 0.0  # male thread length (M-F)
    across_flats: float = 5.5

    @property
    def female_depth(self) -> float:
        """Usable female thread depth at one end (see the module's rule)."""
        usable = self.length / 2 if self.style == "female-female" else self.length - 0.5
        return max(0.0, min(usable, MAX_FEMALE_DEPTH_D * thread_diameter(self.thread)))


@dataclass(frozen=True)
class ScrewSpec:
    id: str
    thread: str
    length: float
    head_diameter: float
    head_height: float


@dataclass(frozen=True)
class Stack:
    """One segment of a spacer column, bottom to top."""

    spacers: tuple[SpacerSpec, ...]
    end: str  # "through" | "screw" | "cap-nut"

    @property
    def height(self) -> float:
        return round(sum(s.length for s in self.spacers), 6)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.spacers)

    @property
    def distinct(self) -> int:
        return len(set(self.ids))

    def describe(self) -> str:
        return " + ".join(f"{'M-F' if s.style == 'male-female' else 'F-F'} {s.length:g}" for s in self.spacers)


@dataclass(frozen=True)
class ScrewChoice:
    """A screw (or male thread) length choice and the engagement it gives over the sheet's range."""

    part_id: str | None
    length: float
    engagement: tuple[float, float]  # (at the thickest sheet, at the thinnest)
    ok: bool
    note: str = ""


def _as_tuple(specs) -> tuple:
    return tuple(sorted(specs, key=lambda s: (s.style, s.length, s.id)))


@functools.lru_cache(maxsize=256)
def _stacks(spacers: tuple[SpacerSpec, ...], end: str, max_parts: int) -> tuple[Stack, ...]:
    mf = [s for s in spacers if s.style == "male-female"]
    ff = [s for s in spacers if s.style == "female-female"]
    out: list[Stack] = []
    for k in range(0, max_parts + 1):
        for chain in itertools.combinations_with_replacement(mf, k):
            # longest at the bottom: the order does not change the height
            chain = tuple(sorted(chain, key=lambda s: -s.length))
            if end in ("through", "cap-nut") and k >= 1:
                out.append(Stack(chain, end))
            if end == "screw" and k < max_parts:
                for f in ff:
                    out.append(Stack(chain + (f,), end))
    return tuple(out)


def stacks(spacers, end: str, max_parts: int = MAX_PARTS) -> tuple[Stack, ...]:
    """Every stack the catalog spacers can make for a segment ending in `end`."""
    return _stacks(_as_tuple(spacers), end, max_parts)


def solve(target: float, spacers, end: str, tol: float = 0.05, max_parts: int = MAX_PARTS) -> Stack | None:
    """The stack of height target ± tol with the fewest parts, then the fewest distinct sizes."""
    cands = [s for s in stacks(spacers, end, max_parts) if abs(s.height - target) <= tol]
    if not cands:
        return None
    return min(cands, key=lambda s: (len(s.spacers), s.distinct, s.ids))


@functools.lru_cache(maxsize=256)
def _by_height(spacers: tuple[SpacerSpec, ...], end: str, max_parts: int):
    st = sorted(_stacks(spacers, end, max_parts), key=lambda s: s.height)
    return [s.height for s in st], st


def round_up(required: float, spacers, end: str, slack: float = DEFAULT_SLACK_MM,
             max_parts: int = MAX_PARTS) -> Stack | None:
    """The stack for a gap of at least `required` mm: within `slack` above it the fewest parts
    win (then the lower height, then the fewest distinct sizes); past the slack, the lowest."""
    heights, st = _by_height(_as_tuple(spacers), end, max_parts)
    i = bisect.bisect_left(heights, required - 1e-6)
    if i == len(st):
        return None
    j = bisect.bisect_right(heights, required + slack + 1e-6)
    near = st[i:j]
    if near:
        return min(near, key=lambda s: (len(s.spacers), s.height, s.distinct, s.ids))
    lowest = [s for s in st[i:] if s.height <= heights[i] + 1e-6]
    return min(lowest, key=lambda s: (len(s.spacers), s.distinct, s.ids))


def choose_screw(screws, thread: str, grip: tuple[float, float], max_depth: float,
                 min_engage: float | None = None, what: str = "screw") -> ScrewChoice:
    """The shortest screw of `thread` that, through a grip of (thinnest, thickest) mm, engages at
    least `min_engage` at the thickest and no more than `max_depth` at the thinnest.
    If none does, the longest that still never goes deeper than `max_depth` (ok=False); if even
    the shortest goes too deep, the shortest (ok=False)."""
    gmin, gmax = grip
    need = min_engagement(thread) if min_engage is None else min_engage
    cands = sorted((s for s in screws if s.thread == thread), key=lambda s: (s.length, s.id))
    if not cands:
        return ScrewChoice(None, 0.0, (0.0, 0.0), False, f"no {thread} {what} in the catalog")

    def eng(s):
        return (round(s.length - gmax, 3), round(s.length - gmin, 3))

    for s in cands:
        lo, hi = eng(s)
        if lo >= need - 1e-6 and hi <= max_depth + 1e-6:
            return ScrewChoice(s.id, s.length, (lo, hi), True)
    shallow = [s for s in cands if eng(s)[1] <= max_depth + 1e-6]
    pick = shallow[-1] if shallow else cands[0]
    lo, hi = eng(pick)
    if shallow:
        note = (f"{pick.id}: engages only {max(lo, 0):.1f} mm at the thickest sheet (want {need:.2f}); "
                f"a longer screw would go deeper than {max_depth:g} mm at the thinnest. Measure the sheet")
    else:
        note = f"{pick.id}: goes {hi:.1f} mm deep at the thinnest sheet, past the {max_depth:g} mm of thread there"
    return ScrewChoice(pick.id, pick.length, (lo, hi), False, note)


def check_male(spacer: SpacerSpec, grip: tuple[float, float], max_depth: float,
               min_engage: float | None = None) -> ScrewChoice:
    """The engagement of an M-F spacer's male thread through a plate into the part above."""
    gmin, gmax = grip
    need = min_engagement(spacer.thread) if min_engage is None else min_engage
    lo, hi = round(spacer.male - gmax, 3), round(spacer.male - gmin, 3)
    ok = lo >= need - 1e-6 and hi <= max_depth + 1e-6
    note = "" if ok else (f"{spacer.id}: its {spacer.male:g} mm male thread engages {lo:.1f}..{hi:.1f} mm "
                          f"through the sheet; wanted {need:.2f}..{max_depth:g}")
    return ScrewChoice(spacer.id, spacer.male, (lo, hi), ok, note)


@dataclass(frozen=True)
class Segment:
    """One segment of a column with what closes it."""

    lower: str  # plate name below
    upper: str  # plate name above
    required: float  # the least gap the parts between the plates need
    stack: Stack
    joint: ScrewChoice  # what engages the bottom spacer's female end from below
    top: ScrewChoice | None = None  # top segment: the screw from above or the cap nut's thread
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def height(self) -> float:
        return self.stack.height


def solve_column(gaps: list[tuple[str, str, float]], spacers, screws, sheet_range: tuple[float, float],
                 cap_nut=None, slack: float = DEFAULT_SLACK_MM) -> list[Segment]:
    """Segments for one spacer column: `gaps` are (lower plate, upper plate, required gap) from
    the base up. `cap_nut` is (part id, thread depth) or None. A screw from under the base goes
    into the first spacer; each segment but the last ends in an M-F through the plate above;
    the last ends in a cap nut if the male thread fits it over the sheet's whole thickness
    range, else in an F-F and a screw from above."""
    if not gaps:
        return []
    thread = spacers[0].thread if spacers else "M3"
    chosen: list[Stack] = []
    for i, (lo, up, req) in enumerate(gaps):
        last = i == len(gaps) - 1
        st = capped = None
        if last and cap_nut is not None:
            st = capped = round_up(req, spacers, "cap-nut", slack)
            if st is not None and not check_male(st.spacers[-1], sheet_range, cap_nut[1]).ok:
                st = None
        if st is None:
            st = round_up(req, spacers, "screw" if last else "through", slack)
        if st is None and capped is not None:
            # no F-F allowed (rack.fasteners): keep the cap nut; its engagement note says the risk
            st = capped
        if st is None:
            tallest = max((x.height for x in stacks(spacers, "screw" if last else "through")), default=0.0)
            raise LayoutError("STACK_HEIGHT", f"no stack of up to {MAX_PARTS} {thread} spacers reaches the "
                              f"{req:.1f} mm between {lo} and {up} (the tallest is {tallest:g} mm)")
        chosen.append(st)
    out: list[Segment] = []
    for i, ((lo, up, req), st) in enumerate(zip(gaps, chosen)):
        bottom = st.spacers[0]
        if i == 0:
            joint = choose_screw(screws, thread, sheet_range, bottom.female_depth, what="column screw")
        else:
            joint = check_male(chosen[i - 1].spacers[-1], sheet_range, bottom.female_depth)
        top = None
        if st.end == "cap-nut":
            top = check_male(st.spacers[-1], sheet_range, cap_nut[1])
            top = ScrewChoice(cap_nut[0], top.length, top.engagement, top.ok, top.note)
        elif st.end == "screw":
            top = choose_screw(screws, thread, sheet_range, st.spacers[-1].female_depth, what="column screw")
        notes = tuple(c.note for c in (joint, top) if c is not None and not c.ok)
        out.append(Segment(lo, up, req, st, joint, top, notes))
    return out
