"""MEASURE: the figures of the parts this design uses that no source gives (the part files flag
them `measure_before_cutting`, pirack.catalog.Catalog.to_measure). Each is a warning that
says what to measure and how, so a maker knows exactly which numbers to check with calipers
before paying for the cut."""

from __future__ import annotations

from ..findings import Finding
from .design import Design


def used_parts(design: Design) -> list[str]:
    """Every catalog id the design places or names: the placed parts, the nodes' boards and
    HATs, the drive and its cable, the switch, the sheet."""
    spec = design.spec
    ids = {p.part_id for p in design.lay.parts if p.part_id in design.cat}
    ids |= {n.board for n in spec.nodes} | {n.hat for n in spec.nodes if n.hat}
    if spec.storage is not None:
        ids |= {spec.storage.drive} | ({spec.storage.cable} if spec.storage.cable else set())
    ids |= {x for x in (spec.rack.switch, spec.rack.sheet) if x}
    return sorted(ids)


def _applies(design: Design, figures: tuple[str, ...]) -> bool:
    """A switch's flat mount matters only when it lies flat."""
    return not (set(figures) == {"flat_mount"} and design.spec.rack.switch_orientation != "flat")


def check(design: Design) -> list[Finding]:
    out = []
    for m in design.cat.to_measure(used_parts(design)):
        if not _applies(design, m.figures):
            continue
        out.append(Finding("warning", "MEASURE", f"{', '.join(m.figures)}: no source gives these ({m.document})",
                           parts=(m.part_id,), where=m.part_id, measure=m.measure))
    return out
