"""Metric threads: their sizes, the holes they pass, and how much of them must engage.

The one place for these rules; the layout's choosers (rackdesign.stack, rackdesign.mounts) and
the checks (rackdesign.checks.fasteners) all read them from here.

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

import re

from .geometry3d import Mm

MIN_ENGAGEMENT_D = 0.75
MAX_FEMALE_DEPTH_D = 2.5

# ISO 261 coarse pitches (JIS B 0205 for M2.6), mm.
PITCH = {"M2": 0.4, "M2.2": 0.45, "M2.5": 0.45, "M2.6": 0.45, "M3": 0.5, "M3.5": 0.6, "M4": 0.7, "M5": 0.8}

# Through-hole clearances for metric screws, ISO 273 (JIS B 1001, which adds M2.6), in mm.
# Plates are cut to the medium (2級) series: a laser's hole walls taper a little and four holes
# must line up with four spacers on another plate. The checks hold holes to the fine (1級)
# series: under it a thread may bind. Threads outside the tables: ×1.07 (fine; ISO 273's M6 is
# 6.4) and ×1.12 (medium; a little over its M6's 6.6, for the taper), ×1.2 (coarse; its M6 is 7.0).
# A plate hole may widen to the fabricator's minimum hole up to the coarse (3級) series (plate_hole).
CLEARANCE_FINE = {"M2": 2.2, "M2.5": 2.7, "M2.6": 2.8, "M3": 3.2, "M4": 4.3, "M5": 5.3}
CLEARANCE_MEDIUM = {"M2": 2.4, "M2.5": 2.9, "M2.6": 3.0, "M3": 3.4, "M4": 4.5, "M5": 5.5}
CLEARANCE_COARSE = {"M2": 2.6, "M2.5": 3.1, "M2.6": 3.2, "M3": 3.6, "M4": 4.8, "M5": 5.8}
_CLEARANCE = {"fine": (CLEARANCE_FINE, 1.07), "medium": (CLEARANCE_MEDIUM, 1.12), "coarse": (CLEARANCE_COARSE, 1.2)}


def thread_diameter(thread: str) -> Mm:
    """'M3' -> 3.0, 'M2.6' -> 2.6."""
    m = re.fullmatch(r"M(\d+(?:\.\d+)?)", thread.strip())
    if not m:
        raise ValueError(f"not a metric thread: {thread!r}")
    return float(m.group(1))


def pitch(thread: str) -> Mm:
    return PITCH.get(thread, round(0.15 * thread_diameter(thread) + 0.05, 2))


def clearance_hole(thread: str, series: str = "medium") -> Mm:
    """The ISO 273 through-hole diameter for `thread` in the `series` ("fine" | "medium" | "coarse")."""
    if series not in _CLEARANCE:
        raise ValueError(f"no ISO 273 series {series!r}: fine, medium or coarse")
    table, ratio = _CLEARANCE[series]
    if thread in table:
        return table[thread]
    return round(thread_diameter(thread) * ratio, 1)


def plate_hole(thread: str, min_hole: Mm = 0.0) -> Mm:
    """The hole cut for `thread` in a plate whose fabricator cuts no hole under `min_hole`: the
    medium clearance, widened to the fabricator's minimum while that stays within the coarse
    (3級) series — the hole still locates the part to ISO 273's loosest fit, and the service can
    cut it (M2.5 in 3 mm acrylic: Ø3.0 rather than Ø2.9). Past the coarse series the medium
    hole stays: widening further would let boards wander, and preflight says the service
    cannot cut it (a thinner sheet, or a service that cuts smaller holes)."""
    medium = clearance_hole(thread, "medium")
    widened = max(medium, round(min_hole, 2))
    return widened if widened <= clearance_hole(thread, "coarse") + 1e-9 else medium


def min_engagement(thread: str) -> Mm:
    return MIN_ENGAGEMENT_D * thread_diameter(thread)


def female_depth(thread: str, body: Mm, style: str) -> Mm:
    """Usable female thread depth at one end of a spacer (see the module's rule)."""
    usable = body / 2 if style == "female-female" else body - 0.5
    return max(0.0, min(usable, MAX_FEMALE_DEPTH_D * thread_diameter(thread)))


def same_family(a: str, b: str) -> bool:
    """Same pitch and at most 0.1 mm apart (M2.6 into M2.5): it goes in, tight."""
    return pitch(a) == pitch(b) and abs(thread_diameter(a) - thread_diameter(b)) <= 0.1 + 1e-9
