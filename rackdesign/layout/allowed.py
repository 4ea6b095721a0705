"""The fasteners the rack may use: the catalog's spacers, screws and nuts in millimetres,
limited to `rack.fasteners` when the cluster file lists them (the parts in the HATs' boxes
always stay). When no allowed part fits, the message says what to do: list one the catalog
has in rack.fasteners (naming them), or add one to the catalog.
"""

from __future__ import annotations

from typing import Callable, Union

from pirack.catalog import Catalog, Hat

from ..findings import LayoutError
from ..partspec import NutSpec, ScrewSpec, SpacerSpec, nut_spec, screw_spec, spacer_spec
from ..stack import ScrewChoice

FastenerSpec = Union[SpacerSpec, ScrewSpec, NutSpec]
_SPEC = {"spacer": spacer_spec, "screw": screw_spec, "nut": nut_spec}


class AllowedFasteners:
    def __init__(self, catalog: Catalog, allowed: list[str] | None, hats: list[Hat]):
        self._all: dict[str, list[FastenerSpec]] = {kind: [spec(p) for p in catalog.of_kind(kind)]
                                                    for kind, spec in _SPEC.items()}
        self._kind = {s.id: kind for kind, specs in self._all.items() for s in specs}
        self._by_id = {s.id: s for specs in self._all.values() for s in specs}
        self._allowed = None if allowed is None else set(allowed) | {p for h in hats for p in h.included}

    @property
    def restricted(self) -> bool:
        """True when rack.fasteners limits the parts (the user's own stock), not the whole catalog."""
        return self._allowed is not None

    def of_kind(self, kind: str) -> list[FastenerSpec]:
        """The allowed parts of a kind, in id order."""
        return [s for s in self._all[kind] if self._allowed is None or s.id in self._allowed]

    @property
    def spacers(self) -> list[SpacerSpec]:
        return self.of_kind("spacer")

    @property
    def screws(self) -> list[ScrewSpec]:
        return self.of_kind("screw")

    def nut(self, thread: str, style: str) -> NutSpec | None:
        return next((n for n in self.of_kind("nut") if n.thread == thread and n.style == style), None)

    def kind(self, part_id: str) -> str | None:
        """'spacer', 'screw' or 'nut' for a fastener of the catalog, else None."""
        return self._kind.get(part_id)

    def __getitem__(self, part_id: str) -> FastenerSpec:
        """Any of the catalog's fasteners by id (a HAT's boxed part, a part already chosen)."""
        return self._by_id[part_id]

    def where_to_add(self, kind: str, want: str, fits: Callable[[FastenerSpec], bool] = lambda p: True) -> str:
        """What to do when no allowed part fits: list one of the catalog's in rack.fasteners
        (naming them), or add `want` to the catalog."""
        if self._allowed is not None:
            have = [p.id for p in self._all[kind] if fits(p) and p.id not in self._allowed]
            if have:
                more = ", …" if len(have) > 6 else ""
                return f"list one in rack.fasteners (the catalog has {', '.join(have[:6])}{more})"
        return f"add {want} to the catalog (parts/)"

    def chosen_screw(self, choice: ScrewChoice, thread: str, what: str, where: str) -> ScrewSpec:
        """The chosen screw, or a LayoutError when the allowed parts have no screw of `thread`."""
        if choice.part_id is None:
            raise LayoutError("NO_SCREW", f"{where}: no {thread} screw for the {what}",
                              self.where_to_add("screw", f"an {thread} screw", lambda p: p.thread == thread))
        return self._by_id[choice.part_id]
