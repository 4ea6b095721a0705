"""The stages a cut job shares, for every caller (`rack export`, `rack bom`, the checks):
the fabricator profile that takes it, the flat parts as they are cut (with their engraving),
and their places on the fabricator's sheets.

    cluster.toml → layout (rackdesign.layout) → flat parts (plates, engrave) → cut sheets (nesting)
"""

from __future__ import annotations

from typing import Callable

from pirack.catalog import Fabricator
from pirack.errors import InputError
from pirack.load import LoadedCluster
from pirack.units import mm

from .engrave import add_engraving
from .geometry2d import Part2D
from .kerf import compensated, kerf_for
from .layout.placed import Layout
from .nesting import CutSheet, nest
from .plates import flat_parts


def profile_for(lc: LoadedCluster, fabricator: str | None) -> Fabricator:
    """The fabricator profile: `fabricator` (the --fabricator option) or the file's rack.fabricator."""
    name = fabricator or lc.spec.rack.fabricator
    prof = lc.catalog.get(name, "fabricator")
    if prof is None:
        known = ", ".join(lc.catalog.ids("fabricator"))
        if fabricator:
            raise InputError(None, "--fabricator", f"'{fabricator}' is not a fabricator profile in the catalog (known: {known})")
        raise InputError(lc.display, "rack.fabricator", f"'{name}' is not a fabricator profile in the catalog (known: {known})")
    return prof


def flat_parts_for(lc: LoadedCluster, layout: Layout, warn: Callable[[str], None] | None) -> list[Part2D]:
    """The plates and the support as cut, with their engraving (labels, logo)."""
    return add_engraving(flat_parts(layout), lc, warn=warn)


def sheets_for(parts: list[Part2D], prof: Fabricator, kerf: float | None = None) -> list[CutSheet]:
    """The parts kerf-compensated (--kerf in mm, else the profile's default) and laid out on the
    fabricator's sheets."""
    parts = compensated(parts, kerf_for(prof, kerf))
    return nest(parts, mm(prof.sheet_width), mm(prof.sheet_height), mm(prof.spacing))
