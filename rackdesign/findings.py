"""Findings: what the layout and the design checks say about a design, as typed values.

A finding is (severity, code, where, message) plus what to do and the measured number; a
warning that only holds until someone measures a figure says what to measure (`measure`). The
layout records one where it had to settle for a part that breaks a rule (a screw that
engages too little, threads that differ); `rack check` adds its measurements; the CLI, --json
and the front plan's notes render the same objects. Nothing downstream reads a message to
learn what it means: the code says that.

`LayoutError` is the layout's "cannot be built as asked": the work failed (exit 1), with the
check code `rack check` reports it under.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from pirack.errors import WorkFailed

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
    "SKIPPED": "a family of checks that did not run",
    "MEASURE": "a figure of a part no source gives: measure it before cutting (what and how in `measure`)",
    "STABILITY": "the rack's tip angle: how far it leans before it falls over (degrees)",
    "SUPPORT_BONDED": "the switch support is not screwed (no allowed screw can): bond it to the base",
}


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning | info
    code: str  # one of CODES
    message: str  # what, with the number
    fix: str = ""  # what to do
    parts: tuple[str, ...] = ()  # instance names (part_id#n), plate names or catalog ids
    value: float | None = None  # the measured number
    unit: str | None = None  # "mm³", "mm", "W", "A"
    limit: float | None = None  # what it is measured against, same unit
    node: str | None = None
    count: int = 1  # identical findings folded into one (e.g. four screws of one board)
    where: str = ""  # the plate, column, node or fastener group it is about, when not in the message
    # A warning that hangs on a figure to measure (a part's unsourced size, the sheet's real
    # thickness, how the switch allocates PoE): what to measure and how. Empty: the warning is
    # about the design itself.
    measure: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES or self.code not in CODES:
            raise ValueError(f"not a finding: severity {self.severity!r}, code {self.code!r}")

    @property
    def sentence(self) -> str:
        """For people: 'where: message'."""
        return f"{self.where}: {self.message}" if self.where else self.message

    def to_dict(self) -> dict:
        d = asdict(self)
        d["parts"] = list(self.parts)
        return d


def fold(findings: list[Finding]) -> list[Finding]:
    """Identical findings (same severity, code, where, message) become one with a count."""
    out: dict[tuple, Finding] = {}
    for f in findings:
        k = (f.severity, f.code, f.where, f.message)
        g = out.get(k)
        if g is None:
            out[k] = f
            continue
        out[k] = replace(g, count=g.count + f.count, parts=tuple(dict.fromkeys(g.parts + f.parts)),
                         node=g.node if g.node == f.node else None)  # folded across nodes: no one node
    return list(out.values())


class LayoutError(WorkFailed):
    """The rack cannot be laid out as asked. `code` is the design check's code for it
    (STACK_HEIGHT, NO_SPACER, NO_SCREW, LAYOUT); the message says what, where (plate, column,
    node) and what to do: `rack check` reports it as a finding, `rack export` and `rack bom`
    print it and exit 1."""

    def __init__(self, code: str, message: str, fix: str = ""):
        super().__init__(f"{message}; {fix}" if fix else message, data={"code": code})
        self.code, self.message, self.fix = code, message, fix

    def finding(self) -> Finding:
        return Finding("error", self.code, f"the rack cannot be laid out: {self.message}", fix=self.fix)
