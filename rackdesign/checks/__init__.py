"""Design checks (`rack check`): what made the seed redraw its rack three times, found before
anyone cuts acrylic.

Each family of checks is one module that takes the `Design` (design.py: the loaded cluster,
its layout, the flat parts as cut) and returns `Finding`s (rackdesign.findings):

- collisions.py   COLLISION, KEEPOUT           exact OCC booleans after a bounding-box sweep
- clearance.py    CLEARANCE                    tallest part of a tier vs the plate above
- fasteners.py    STACK_HEIGHT, SCREW_DEPTH, SCREW_ENGAGEMENT, THREAD_MISMATCH, HOLE_SIZE
                  (and the layout's own findings, where no measurement covers them)
- compat.py       HAT_FIT
- power.py        POE_PORTS, POE_BUDGET, NODE_POWER, USB_CURRENT
- holes.py        HOLE_DRIFT                   what is cut vs the catalog patterns
- stability.py    STABILITY                    the tip angle (IEC 62368-1's 10° tilt)
- measure.py      MEASURE                      figures of the used parts no source gives
- geometry_cache.py  COLLISION and KEEPOUT findings kept per geometry (a hit skips CadQuery)

Everything reads the one Layout (rackdesign.layout.build_layout): the model, the cut files, the
front plan and the BOM are drawn from it too, so what is checked is what is built.
Pure Python except collisions.py (CadQuery), which is imported only when geometry is checked.
The report and its renderers: report.py.
"""

from __future__ import annotations

import time

from pirack.errors import Interrupt
from pirack.load import LoadedCluster

from ..findings import Finding, LayoutError, fold
from ..layout import build_layout
from ..layout.placed import Layout
from ..plates import flat_parts
from . import (
    clearance,
    compat,
    fasteners,
    geometry_cache,
    holes,
    measure,
    power,
    stability,
)
from .design import Design
from .report import Report


def run_checks(lc: LoadedCluster, lay: Layout | None = None, geometry: bool = True, use_cache: bool = True) -> Report:
    """Every check on a loaded cluster. `lay` may be given (tests mutate one); `geometry=False`
    skips the CadQuery checks (collisions and keep-outs); `use_cache=False` measures them again
    even when the cache folder holds the same geometry's findings (geometry_cache.py)."""
    t0 = time.perf_counter()
    findings: list[Finding] = compat.check(lc) + power.check(lc)
    if lay is None:
        try:
            lay = build_layout(lc)
        except LayoutError as exc:  # no stack for a column, or the allowed parts lack a spacer or screw
            seconds = {"total": round(time.perf_counter() - t0, 3)}
            return Report(lc.display, fold(findings + [exc.finding()]), {}, {"seconds": seconds})
    t1 = time.perf_counter()
    design = Design(lc, lay, flat_parts(lay))
    findings += fasteners.check(design) + clearance.check(design) + holes.check(design)
    findings += stability.check(design) + measure.check(design)
    threads = {frozenset(f.parts) for f in findings if f.code == "SCREW_DEPTH"}
    t2 = time.perf_counter()
    stats: dict = {"seconds": {"layout": round(t1 - t0, 3), "pure_checks": round(t2 - t1, 3)}}
    if geometry:  # a thread past its female's depth is measured by SCREW_DEPTH: not a second finding
        findings += [f for f in _geometry(design, stats, use_cache) if not (f.code == "COLLISION" and frozenset(f.parts) in threads)]
        stats["seconds"]["collisions"] = round(time.perf_counter() - t2, 3)
    stats["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    stats["parts"] = len(lay.parts)
    heights = {p.name: round(p.z, 3) for p in lay.plates}
    return Report(lc.display, fold(findings), heights, stats)


def _geometry(design: Design, stats: dict, use_cache: bool = True) -> list[Finding]:
    """COLLISION and KEEPOUT, when the CAD stack is there; from the cache folder when the same
    solids were measured before (then CadQuery is not even imported)."""
    key = geometry_cache.key(design)
    hit = geometry_cache.read(key) if use_cache else None
    if hit is not None:
        found, stats["collisions"] = hit
        return found
    try:
        from . import collisions
    except ImportError as exc:  # the CAD stack is an extra (or Ctrl-C stopped its import)
        Interrupt.raise_if_seen()
        return [Finding("warning", "SKIPPED", f"collision and keep-out checks skipped: {exc}",
                        fix="pip install 'pirack[rack]'")]
    found, stats["collisions"] = collisions.check(design)
    geometry_cache.write(key, found, stats["collisions"])
    return found
