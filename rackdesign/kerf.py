"""Which kerf an export compensates, and compensating it.

The laser burns about half its kerf on each side of a path. `rack export --kerf MM` offsets
outlines out and holes in by half of it (arcs stay arcs: nesting.offset_contour); without
the option the fabricator profile decides: its `kerf` when `kerf_compensation = "ours"`,
nothing when the service compensates itself ("service").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pirack.errors import InputError

if TYPE_CHECKING:
    from pirack.catalog import Fabricator

MAX_KERF = 1.0  # mm: wider than any CO2 laser cut in acrylic; a typo, not a kerf


def kerf_for(profile: Fabricator, option: float | None) -> float:
    """The kerf (mm) to compensate: the option when given, else the profile's default."""
    if option is not None:
        if not 0.0 <= option <= MAX_KERF:
            raise InputError(None, "--kerf", f"{option:g} mm: must be between 0 and {MAX_KERF:g} mm")
        return float(option)
    if profile.kerf_compensation == "ours":
        from pirack.units import mm

        return mm(profile.kerf)
    return 0.0


def compensated(parts: list, kerf: float) -> list:
    """The parts with outlines grown and holes shrunk by kerf/2 (unchanged for kerf 0)."""
    from .nesting import compensate_kerf

    try:
        return [compensate_kerf(p, kerf) for p in parts] if kerf > 0 else list(parts)
    except ValueError as exc:  # a hole or an inner corner smaller than half the kerf
        raise InputError(None, "--kerf", f"{kerf:g} mm is too wide for this design: {exc}") from None
