"""What every check reads: the design under check."""

from __future__ import annotations

from dataclasses import dataclass, field

from pirack.catalog import Catalog
from pirack.load import LoadedCluster
from pirack.spec import Cluster

from ..geometry2d import Part2D
from ..layout.placed import Layout


@dataclass
class Design:
    """The loaded cluster, its layout, and the plates and the support as cut (plates.py)."""

    lc: LoadedCluster
    lay: Layout
    parts2d: list[Part2D] = field(default_factory=list)

    @property
    def spec(self) -> Cluster:
        return self.lc.spec

    @property
    def cat(self) -> Catalog:
        return self.lc.catalog
