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


def flat_parts_for(lc: LoadedCluster, layout: Layout, warn: Callable[[str], None] | None,
                   prof: Fabricator | None = None) -> list[Part2D]:
    """The plates and the support as cut, with their engraving (labels, logo). For a
    fabricator that does not bend (`bends = false`), the bent support becomes two plates joined
    by tabs and slots (layout.switch_support.unbent_support)."""
    from .layout.switch_support import no_bend_web

    parts = flat_parts(layout)
    if layout.support is not None:
        web = no_bend_web(prof, mm(lc.catalog[lc.spec.rack.sheet].thickness))
        if web != layout.support.web:  # the support's form is the layout's: cut what was laid out
            raise ValueError(f"flat_parts_for: the layout was made for a service that "
                             f"{'bends' if layout.support.bent else 'does not bend'}, the parts asked for "
                             f"{prof.id if prof is not None else 'no service'}")
        if not layout.support.bent:
            parts = _unbent(parts, layout, lc)
    return add_engraving(parts, lc, warn=warn)


def _unbent(parts: list[Part2D], layout: Layout, lc: LoadedCluster) -> list[Part2D]:
    from .layout.switch_support import unbent_support

    sheet = lc.catalog[lc.spec.rack.sheet]
    t = mm(sheet.thickness)
    # the foot's web beyond the slots: the layout's, made for this profile
    pair = unbent_support(layout.support, t, sheet.thickness_range_mm()[1], layout.support.web, layout.sheet)
    return [p for p in parts if p.name != "switch-support"] + pair


def sheets_for(parts: list[Part2D], prof: Fabricator, kerf: float | None = None) -> list[CutSheet]:
    """The parts kerf-compensated (--kerf in mm, else the profile's default) and laid out on the
    fabricator's sheets."""
    parts = compensated(parts, kerf_for(prof, kerf))
    return nest(parts, mm(prof.sheet_width), mm(prof.sheet_height), mm(prof.spacing))
