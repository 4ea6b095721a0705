"""What the layout works from: the cluster file's rack settings and every catalog part the
rack places, read once into millimetres (rackdesign.partspec)."""

from __future__ import annotations

from dataclasses import dataclass

from pirack.catalog import Catalog, Fabricator
from pirack.load import LoadedCluster
from pirack.units import mm

from ..geometry3d import Mm
from ..partspec import (BoardSpec, DriveSpec, FootSpec, HatSpec, SheetSpec, SwitchSpec, board_spec, drive_spec,
                        foot_spec, hat_spec, sheet_spec, switch_spec)
from ..threads import plate_hole
from .allowed import AllowedFasteners
from .switch_support import no_bend_web


@dataclass(frozen=True)
class NodeParts:
    name: str
    plate: str  # its tier plate: "tier-<n>-<name>"
    board: BoardSpec
    hat: HatSpec | None


@dataclass(frozen=True)
class RackInput:
    name: str  # the cluster's
    sheet: SheetSpec
    nodes: tuple[NodeParts, ...]  # the master first, then the slaves: bottom tier up
    drive: DriveSpec | None  # on the base (rack.drive_placement = "base")
    switch: SwitchSpec | None
    switch_orientation: str  # "side" | "flat"
    feet: FootSpec | None
    fasteners: AllowedFasteners
    margin: Mm  # plate edge to anything on or in it
    corner_radius: Mm
    min_clearance: Mm  # the least gap above a tier's tallest part, and around the columns
    cable_cutouts: bool
    airflow_cutouts: bool
    min_hole: Mm = 0.0  # the fabricator's smallest hole in this sheet (threads.plate_hole widens to it)
    support_web: Mm | None = None  # the fabricator does not bend: the two-plate support's web (switch_support)

    def hole(self, thread: str) -> Mm:
        """The hole a plate gets for `thread` (rackdesign.threads.plate_hole)."""
        return plate_hole(thread, self.min_hole)

    @property
    def plate_names(self) -> list[str]:
        """Bottom to top."""
        return ["base"] + [n.plate for n in self.nodes] + ["top"]


def read_input(lc: LoadedCluster, fabricator: str | None = None) -> RackInput:
    """`fabricator`: the export's --fabricator, over the file's rack.fabricator (its minimum
    hole sizes the plates' small holes)."""
    spec, cat = lc.spec, lc.catalog
    rack = spec.rack
    sheet = sheet_spec(cat[rack.sheet])
    nodes = [spec.master] + spec.slaves
    hats = [cat[n.hat] for n in spec.nodes if n.hat]
    drive = drive_spec(cat[spec.storage.drive]) if (spec.storage and rack.drive_placement == "base") else None
    return RackInput(
        name=spec.cluster.name,
        sheet=sheet,
        nodes=tuple(NodeParts(n.name, f"tier-{i + 1}-{n.name}", board_spec(cat[n.board]),
                              hat_spec(cat[n.hat]) if n.hat else None) for i, n in enumerate(nodes)),
        drive=drive,
        switch=switch_spec(cat[rack.switch]) if rack.switch else None,
        switch_orientation=rack.switch_orientation,
        feet=foot_spec(cat[rack.feet]) if rack.feet else None,
        fasteners=AllowedFasteners(cat, rack.fasteners, hats),
        margin=mm(rack.margin),
        corner_radius=mm(rack.corner_radius),
        min_clearance=mm(rack.min_clearance),
        cable_cutouts=bool(rack.cable_cutouts),
        airflow_cutouts=bool(rack.airflow_cutouts),
        min_hole=_min_hole(cat, fabricator or rack.fabricator, sheet.thickness),
        support_web=no_bend_web(cat.get(fabricator or rack.fabricator, Fabricator), sheet.thickness),
    )


def _min_hole(cat: Catalog, fabricator: str, thickness: Mm) -> Mm:
    prof = cat.get(fabricator, Fabricator)
    return prof.min_hole.at(thickness) if prof is not None else 0.0
