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

Thread engagement and clearance rules: rackdesign.threads. A choice that breaks one of them
still returns the closest part (ok=False) with the check code of what is wrong, and the
layout records it as a finding.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from dataclasses import dataclass, replace
from typing import Callable

from .findings import Finding, LayoutError
from .geometry3d import Mm
from .partspec import NutSpec, ScrewSpec, SpacerSpec
from .threads import min_engagement

DEFAULT_SLACK_MM = 2.0  # how much taller than needed a segment may grow to save parts
MAX_PARTS = 4  # spacers per segment
# what a layout finding about a fastener choice tells the user to do
CHOSEN_CLOSEST = "see the note; the layout chose the closest parts the catalog has"


@dataclass(frozen=True)
class Stack:
    """One segment of a spacer column, bottom to top."""

    spacers: tuple[SpacerSpec, ...]
    end: str  # "through" | "screw" | "cap-nut"

    @property
    def height(self) -> Mm:
        return round(sum(s.length for s in self.spacers), 6)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.spacers)

    @property
    def distinct(self) -> int:
        return len(set(self.ids))

    def describe(self) -> str:
        return " + ".join(f"{s.kind_label} {s.length:g}" for s in self.spacers)


@dataclass(frozen=True)
class ScrewChoice:
    """A screw (or male thread) length choice and the engagement it gives over the sheet's range."""

    part_id: str | None
    length: Mm
    engagement: tuple[Mm, Mm]  # (at the thickest sheet, at the thinnest)
    ok: bool
    note: str = ""
    code: str | None = None  # when not ok: SCREW_ENGAGEMENT, SCREW_DEPTH or NO_SCREW

    def finding(self, where: str, node: str | None = None) -> Finding:
        """The layout's warning that it settled for this choice."""
        return Finding("warning", self.code or "SCREW_ENGAGEMENT", self.note, fix=CHOSEN_CLOSEST, node=node,
                       where=where)


def _as_tuple(specs: list[SpacerSpec] | tuple[SpacerSpec, ...]) -> tuple[SpacerSpec, ...]:
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


def stacks(spacers: list[SpacerSpec], end: str, max_parts: int = MAX_PARTS) -> tuple[Stack, ...]:
    """Every stack the catalog spacers can make for a segment ending in `end`."""
    return _stacks(_as_tuple(spacers), end, max_parts)


def solve(target: Mm, spacers: list[SpacerSpec], end: str, tol: Mm = 0.05,
          max_parts: int = MAX_PARTS) -> Stack | None:
    """The stack of height target ± tol with the fewest parts, then the fewest distinct sizes."""
    cands = [s for s in stacks(spacers, end, max_parts) if abs(s.height - target) <= tol]
    if not cands:
        return None
    return min(cands, key=lambda s: (len(s.spacers), s.distinct, s.ids))


@functools.lru_cache(maxsize=256)
def _by_height(spacers: tuple[SpacerSpec, ...], end: str, max_parts: int) -> tuple[list[Mm], list[Stack]]:
    st = sorted(_stacks(spacers, end, max_parts), key=lambda s: s.height)
    return [s.height for s in st], st


def round_up(required: Mm, spacers: list[SpacerSpec], end: str, slack: Mm = DEFAULT_SLACK_MM,
             max_parts: int = MAX_PARTS, usable: Callable[[Stack], bool] | None = None) -> Stack | None:
    """The stack for a gap of at least `required` mm: within `slack` above it the fewest parts
    win (then the lower height, then the fewest distinct sizes); past the slack, the lowest.
    `usable` leaves out stacks whose threaded ends cannot take what goes into them."""
    heights, st = _by_height(_as_tuple(spacers), end, max_parts)
    i = bisect.bisect_left(heights, required - 1e-6)
    j = bisect.bisect_right(heights, required + slack + 1e-6)
    ok = usable or (lambda s: True)
    near = [s for s in st[i:j] if ok(s)]
    if near:
        return min(near, key=lambda s: (len(s.spacers), s.height, s.distinct, s.ids))
    rest = [s for s in st[i:] if ok(s)]
    if not rest:
        return None
    lowest = [s for s in rest if s.height <= rest[0].height + 1e-6]
    return min(lowest, key=lambda s: (len(s.spacers), s.distinct, s.ids))


def _takes(female: Mm, male: Mm | None, grip: tuple[Mm, Mm], need: Mm) -> bool:
    """A female end `female` mm deep takes a male thread of `male` mm (a screw of any length:
    None) through a grip of (thinnest, thickest): at least `need` engaged at the thickest,
    no deeper than the thread at the thinnest."""
    if male is None:  # some screw length fits when the window is as wide as the sheet's range
        return female - need >= grip[1] - grip[0] - 1e-6
    return male - grip[1] >= need - 1e-6 and male - grip[0] <= female + 1e-6


def choose_screw(screws: list[ScrewSpec], thread: str, grip: tuple[Mm, Mm], max_depth: Mm,
                 min_engage: Mm | None = None, what: str = "screw") -> ScrewChoice:
    """The shortest screw of `thread` that, through a grip of (thinnest, thickest) mm, engages at
    least `min_engage` at the thickest and no more than `max_depth` at the thinnest.
    If none does, the longest that still never goes deeper than `max_depth` (ok=False); if even
    the shortest goes too deep, the shortest (ok=False)."""
    gmin, gmax = grip
    need = min_engagement(thread) if min_engage is None else min_engage
    cands = sorted((s for s in screws if s.thread == thread), key=lambda s: (s.length, s.id))
    if not cands:
        return ScrewChoice(None, 0.0, (0.0, 0.0), False, f"no {thread} {what} in the catalog", "NO_SCREW")

    def eng(s: ScrewSpec) -> tuple[Mm, Mm]:
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
        return ScrewChoice(pick.id, pick.length, (lo, hi), False, note, "SCREW_ENGAGEMENT")
    note = f"{pick.id}: goes {hi:.1f} mm deep at the thinnest sheet, past the {max_depth:g} mm of thread there"
    return ScrewChoice(pick.id, pick.length, (lo, hi), False, note, "SCREW_DEPTH")


def check_male(spacer: SpacerSpec, grip: tuple[Mm, Mm], max_depth: Mm,
               min_engage: Mm | None = None) -> ScrewChoice:
    """The engagement of an M-F spacer's male thread through a plate into the part above."""
    gmin, gmax = grip
    need = min_engagement(spacer.thread) if min_engage is None else min_engage
    lo, hi = round(spacer.male - gmax, 3), round(spacer.male - gmin, 3)
    if lo >= need - 1e-6 and hi <= max_depth + 1e-6:
        return ScrewChoice(spacer.id, spacer.male, (lo, hi), True)
    note = (f"{spacer.id}: its {spacer.male:g} mm male thread engages {lo:.1f}..{hi:.1f} mm "
            f"through the sheet; wanted {need:.2f}..{max_depth:g}")
    code = "SCREW_ENGAGEMENT" if lo < need - 1e-6 else "SCREW_DEPTH"
    return ScrewChoice(spacer.id, spacer.male, (lo, hi), False, note, code)


Gap = tuple[str, str, Mm]  # (lower plate, upper plate, the least gap the parts between them need)


@dataclass(frozen=True)
class Segment:
    """One segment of a column with what closes it."""

    lower: str  # plate name below
    upper: str  # plate name above
    required: Mm  # the least gap the parts between the plates need
    stack: Stack
    joint: ScrewChoice  # what engages the bottom spacer's female end from below
    top: ScrewChoice | None = None  # top segment: the screw from above or the cap nut's thread

    @property
    def height(self) -> Mm:
        return self.stack.height

    @property
    def problems(self) -> tuple[ScrewChoice, ...]:
        """The joint and top choices that break a thread rule."""
        return tuple(c for c in (self.joint, self.top) if c is not None and not c.ok)


def solve_column(gaps: list[Gap], spacers: list[SpacerSpec], screws: list[ScrewSpec],
                 sheet_range: tuple[Mm, Mm], cap_nut: NutSpec | None = None,
                 slack: Mm = DEFAULT_SLACK_MM) -> list[Segment]:
    """Segments for one spacer column, from the base up. A screw from under the base goes into
    the first spacer; each segment but the last ends in an M-F through the plate above; the
    last ends in `cap_nut` if the male thread fits it over the sheet's whole thickness range,
    else in an F-F and a screw from above."""
    if not gaps:
        return []
    thread = spacers[0].thread if spacers else "M3"
    chosen: list[Stack] = []
    for i, gap in enumerate(gaps):
        below = chosen[-1].spacers[-1].male if chosen else None  # the male thread coming up into it
        chosen.append(_segment_stack(gap, spacers, sheet_range, cap_nut, slack, last=i == len(gaps) - 1,
                                     thread=thread, below=below))
    out: list[Segment] = []
    for i, ((lo, up, req), st) in enumerate(zip(gaps, chosen)):
        bottom = st.spacers[0]
        if i == 0:
            joint = choose_screw(screws, thread, sheet_range, bottom.female_depth, what="column screw")
        else:
            joint = check_male(chosen[i - 1].spacers[-1], sheet_range, bottom.female_depth)
        top = None
        if st.end == "cap-nut":
            top = replace(check_male(st.spacers[-1], sheet_range, cap_nut.thread_depth), part_id=cap_nut.id)
        elif st.end == "screw":
            top = choose_screw(screws, thread, sheet_range, st.spacers[-1].female_depth, what="column screw")
        out.append(Segment(lo, up, req, st, joint, top))
    return out


def _segment_stack(gap: Gap, spacers: list[SpacerSpec], sheet_range: tuple[Mm, Mm], cap_nut: NutSpec | None,
                   slack: Mm, last: bool, thread: str, below: Mm | None = None) -> Stack:
    """The stack for one gap: the top one capped by the nut when its male thread fits it. Its
    bottom spacer must take what comes up into it (the screw from under the base, or `below`,
    the male thread of the segment underneath), and an F-F at the top the screw from above;
    failing that, the closest stack (its joint finding says what is wrong)."""
    lo, up, req = gap
    need = min_engagement(thread)

    def usable(s: Stack) -> bool:
        top = s.spacers[-1]
        return (_takes(s.spacers[0].female_depth, below, sheet_range, need)
                and (s.end != "screw" or _takes(top.female_depth, None, sheet_range, need)))

    st = capped = None
    if last and cap_nut is not None:
        st = capped = round_up(req, spacers, "cap-nut", slack, usable=usable) or round_up(req, spacers, "cap-nut", slack)
        if st is not None and not check_male(st.spacers[-1], sheet_range, cap_nut.thread_depth).ok:
            st = None
    if st is None:
        end = "screw" if last else "through"
        st = round_up(req, spacers, end, slack, usable=usable) or round_up(req, spacers, end, slack)
    if st is None and capped is not None:
        # no F-F allowed (rack.fasteners): keep the cap nut; its engagement finding says the risk
        st = capped
    if st is None:
        tallest = max((x.height for x in stacks(spacers, "screw" if last else "through")), default=0.0)
        raise LayoutError("STACK_HEIGHT", f"no stack of up to {MAX_PARTS} {thread} spacers reaches the "
                          f"{req:.1f} mm between {lo} and {up} (the tallest is {tallest:g} mm)")
    return st
