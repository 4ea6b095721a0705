"""Design checks (`rack check`): what made the seed redraw its rack three times, found before
anyone cuts acrylic.

Each family of checks is one module that takes a `Context` (the loaded cluster, its layout,
the flat parts as cut) and returns `Finding`s:

- collisions.py   COLLISION, KEEPOUT           exact OCC booleans after a bounding-box sweep
- clearance.py    CLEARANCE                    tallest part of a tier vs the plate above
- fasteners.py    STACK_HEIGHT, SCREW_DEPTH, SCREW_ENGAGEMENT, THREAD_MISMATCH, HOLE_SIZE
                  (and the layout's notes, with codes)
- compat.py       HAT_FIT
- power.py        POE_PORTS, POE_BUDGET, NODE_POWER, USB_CURRENT
- holes.py        HOLE_DRIFT                   what is cut vs the catalog patterns

Everything reads the one Layout (rackdesign.layout.build_layout): the model, the cut files, the
front plan and the BOM are drawn from it too, so what is checked is what is built.
Pure Python except collisions.py (CadQuery), which is imported only when geometry is checked.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

SEVERITIES = ("error", "warning", "info")

# every code a finding can carry, with what it means (for --json consumers and the docs)
CODES = {
    "COLLISION": "two solids of the assembly overlap (volume in mm³)",
    "KEEPOUT": "a solid inside a port's keep-out zone (plugs need that room)",
    "CLEARANCE": "gap between a tier's tallest part and the plate above (mm) vs rack.min_clearance",
    "STACK_HEIGHT": "a spacer column segment vs the height it must bridge (mm)",
    "SCREW_DEPTH": "a screw or male thread going deeper than the female thread there is (mm)",
    "SCREW_ENGAGEMENT": "too little thread engaged (mm)",
    "THREAD_MISMATCH": "a male thread in a female thread of another size",
    "HOLE_SIZE": "a hole vs the thread or head passing it (mm)",
    "HAT_FIT": "a HAT on a board it does not fit",
    "POE_PORTS": "PoE-powered nodes vs the switch's PoE ports",
    "POE_BUDGET": "the nodes' PoE draw vs the switch's budget (W)",
    "NODE_POWER": "a node's draw (board + USB devices) vs its supply (W)",
    "USB_CURRENT": "bus-powered USB devices vs the board's USB current limit (A)",
    "HOLE_DRIFT": "holes as cut vs the catalog's pattern (mm)",
    "NO_SPACER": "no allowed spacer to hold a board or a HAT (the catalog, rack.fasteners)",
    "NO_SCREW": "no allowed screw of a thread the layout needs (the catalog, rack.fasteners)",
    "LAYOUT": "the layout could not be built as asked",
    "LAYOUT_NOTE": "a design note of the layout with no more specific code",
    "SKIPPED": "a family of checks that did not run",
}


@dataclass
class Finding:
    severity: str  # error | warning | info
    code: str
    message: str  # what, where, with the number
    fix: str = ""  # what to do
    parts: tuple[str, ...] = ()  # instance names (part_id#n), plate names or catalog ids
    value: float | None = None  # the measured number
    unit: str | None = None  # "mm³", "mm", "W", "A"
    limit: float | None = None  # what it is measured against, same unit
    node: str | None = None
    count: int = 1  # identical findings folded into one (e.g. four screws of one board)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["parts"] = list(self.parts)
        return d


@dataclass
class Report:
    file: str
    findings: list[Finding]
    heights: dict[str, float] = field(default_factory=dict)  # plate -> z of its bottom face
    stats: dict = field(default_factory=dict)  # timings and counts

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    @property
    def exit_code(self) -> int:
        return 1 if any(f.severity == "error" for f in self.findings) else 0

    def codes(self, severity: str | None = None) -> set[str]:
        return {f.code for f in self.findings if severity is None or f.severity == severity}

    def to_dict(self) -> dict:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        fs = sorted(self.findings, key=lambda f: order[f.severity])
        return {"file": self.file, "findings": [f.to_dict() for f in fs],
                "summary": {**self.counts(), "exit": self.exit_code}, "heights": self.heights, "stats": self.stats}


@dataclass
class Context:
    """What every check reads. `parts2d` are the plates and the support as cut (plates.py)."""

    lc: object  # pirack.load.LoadedCluster
    lay: object  # rackdesign.layout.Layout
    parts2d: list = field(default_factory=list)

    @property
    def spec(self):
        return self.lc.spec

    @property
    def cat(self):
        return self.lc.catalog


def fold(findings: list[Finding]) -> list[Finding]:
    """Identical findings (same severity, code, message) become one with a count."""
    out: dict[tuple, Finding] = {}
    for f in findings:
        k = (f.severity, f.code, f.message)
        if k in out:
            g = out[k]
            g.count += f.count
            g.parts = tuple(dict.fromkeys(g.parts + f.parts))
            if g.node != f.node:
                g.node = None  # folded across nodes
        else:
            out[k] = f
    return list(out.values())


def run_checks(lc, lay=None, geometry: bool = True) -> Report:
    """Every check on a loaded cluster. `lay` may be given (tests mutate one); `geometry=False`
    skips the CadQuery checks (collisions and keep-outs)."""
    from . import clearance, compat, fasteners, holes, power

    t0 = time.perf_counter()
    stats: dict = {}
    findings: list[Finding] = []
    findings += compat.check(lc)
    findings += power.check(lc)
    if lay is None:
        from rackdesign.layout import LayoutError, build_layout

        try:
            lay = build_layout(lc)
        except LayoutError as exc:  # no stack for a column, or the allowed parts lack a spacer or screw
            findings.append(Finding("error", exc.code, f"the rack cannot be laid out: {exc.message}", fix=exc.fix))
            stats["seconds"] = {"total": round(time.perf_counter() - t0, 3)}
            return Report(lc.display, fold(findings), {}, stats)
    t1 = time.perf_counter()
    from rackdesign.plates import flat_parts

    ctx = Context(lc, lay, flat_parts(lay))
    findings += fasteners.check(ctx)
    findings += clearance.check(ctx)
    findings += holes.check(ctx)
    t2 = time.perf_counter()
    stats["seconds"] = {"layout": round(t1 - t0, 3), "pure_checks": round(t2 - t1, 3)}
    if geometry:
        try:
            from . import collisions
        except ImportError as exc:  # the CAD stack is an extra
            findings.append(Finding("warning", "SKIPPED", f"collision and keep-out checks skipped: {exc}",
                                    fix="pip install 'pirack[rack]'"))
        else:
            found, cstats = collisions.check(ctx)
            findings += found
            stats["collisions"] = cstats
            stats["seconds"]["collisions"] = round(time.perf_counter() - t2, 3)
    stats["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    stats["parts"] = len(lay.parts)
    heights = {p.name: round(p.z, 3) for p in lay.plates}
    return Report(lc.display, fold(findings), heights, stats)
