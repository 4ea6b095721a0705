"""The bill of materials and the cost table, counted from the rack layout.

Pure: no CAD stack (the layout is plain Python), no I/O. Every board, HAT, drive, switch, cable
and fastener comes from `Layout.parts` (one `Placed` per solid); what the model cannot know (the
cluster file's `purchases`) is added on top: extra lines, owned and bought quantities, price
overrides and the fabricator's quote.

Money is integer yen through Decimal (pirack.money.Money) from end to end; the acrylic's price
model (areas and lengths into yen) is rackdesign.pricing.

Quantities per line:
  needed    pieces the rack uses (the model's count, plus spares: purchases.spare_percent)
  owned     pieces already owned (nodes[].owned for boards, purchases.owned): listed, not charged
  included  pieces that come in a HAT's box (Hat.included): not charged
  buy       pieces to buy: the rest rounded up to whole packs, or purchases.bought when larger
  quantity  pieces you end up with: owned + included + buy (the seed's "個数")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from pirack.catalog import Catalog, Fabricator, PartBase
from pirack.errors import InputError
from pirack.load import LoadedCluster
from pirack.money import ZERO, Money
from pirack.spec import Purchases
from pirack.units import mm

from . import pipeline, pricing
from .geometry2d import Part2D
from .layout.placed import Layout
from .pricing import AcrylicEstimate
from .threads import thread_diameter

# Groups in the order the table shows them (extra lines may add their own before "acrylic").
GROUPS = ("computers", "network", "storage", "software", "acrylic", "fasteners", "other")
GROUP_OF_KIND = {"board": "computers", "hat": "computers", "switch": "network", "drive": "storage",
                 "spacer": "fasteners", "screw": "fasteners", "nut": "fasteners", "foot": "fasteners"}
SPARE_KINDS = ("spacer", "screw", "nut", "foot")  # small fasteners: purchases.spare_percent applies
UNIT_JA = {"board": "台", "hat": "枚", "switch": "台", "drive": "台"}  # counter words for notes
KIND_ORDER = {"spacer": 0, "screw": 1, "nut": 2, "foot": 3}


@dataclass(frozen=True)
class BomLine:
    """One line of the bill of materials (not a drawn line: rackdesign.geometry2d.Line)."""

    group: str
    part_id: str | None  # catalog id; None for extra lines and the acrylic
    kind: str  # catalog kind, "acrylic" or "extra"
    name: str
    name_ja: str | None
    needed: int
    owned: int = 0
    included: int = 0
    spare: int = 0  # of `needed`, how many are spares (spare_percent)
    buy: int = 0
    pack_size: int = 1
    packs: int = 0
    pack_price: Money | None = None  # None: no price known
    amount: Money | None = None  # what is charged; None when unknown
    price_source: str = "catalog"  # catalog | override | quote | estimate | extra | none
    note_ja: str = ""
    note_en: str = ""

    @property
    def quantity(self) -> int:
        return self.owned + self.included + self.buy

    @property
    def display_name(self) -> str:
        return self.name_ja or self.name

    @property
    def used(self) -> int:
        """Pieces the rack itself uses (needed without the spares)."""
        return self.needed - self.spare


@dataclass(frozen=True)
class Bom:
    cluster: str
    source: str  # the cluster file (or the default's name)
    lines: tuple[BomLine, ...]
    acrylic: AcrylicEstimate | None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def groups(self) -> list[str]:
        seen: list[str] = []
        for ln in self.lines:
            if ln.group not in seen:
                seen.append(ln.group)
        return seen

    def subtotal(self, group: str) -> dict[str, Money]:
        return _sum(ln.amount for ln in self.lines if ln.group == group)

    def totals(self) -> dict[str, Money]:
        """Total per currency (prices carry their currency; different currencies never add)."""
        return _sum(ln.amount for ln in self.lines)

    @property
    def total(self) -> Money:
        """The total in yen (every price the catalog and the cluster file accept is JPY)."""
        t = self.totals()
        if len(t) > 1:
            raise ValueError(f"the BOM mixes currencies ({', '.join(t)}): no single total")
        return next(iter(t.values()), ZERO)

    def line(self, part_id: str) -> BomLine:
        return next(ln for ln in self.lines if ln.part_id == part_id)


def _sum(amounts: Iterable[Money | None]) -> dict[str, Money]:
    out: dict[str, Money] = {}
    for a in amounts:
        if a is None:
            continue
        out[a.currency] = out[a.currency] + a if a.currency in out else a
    return out


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# ---------------------------------------------------------------------------------------------


def needed_counts(lc: LoadedCluster, layout: Layout) -> dict[str, int]:
    """Catalog id -> pieces the rack needs: every placed part, one LAN cable per node on the
    switch (a PoE node takes its power and its network over that one cable), and the drive's
    SATA-USB cable."""
    counts = dict(layout.counts())
    spec = lc.spec
    lan = next((p for p in lc.catalog.of_kind("cable") if _is_lan(p)), None)
    if spec.rack.switch and lan is not None:
        counts[lan.id] = counts.get(lan.id, 0) + len(spec.nodes)
    if spec.storage is not None:
        if spec.storage.drive not in counts:  # drive_placement = "none": still bought
            counts[spec.storage.drive] = 1
        if spec.storage.cable:
            counts[spec.storage.cable] = counts.get(spec.storage.cable, 0) + 1
    return counts


def build_bom(lc: LoadedCluster, layout: Layout, parts2d: list[Part2D] | None = None,
              profile: Fabricator | None = None) -> Bom:
    """The BOM of a loaded cluster and its layout. `parts2d`: the flat parts with engraving (as
    `rack export` cuts them); computed here when not given. `profile`: the fabricator profile
    that prices the acrylic (default: the cluster file's rack.fabricator)."""
    spec, cat, file = lc.spec, lc.catalog, lc.display
    pur = spec.purchases
    counts = needed_counts(lc, layout)
    owned = _owned(lc, counts)
    included, included_by = _in_hat_boxes(cat, counts)
    lines = [_part_line(cat[pid], need, owned.get(pid, 0), included.get(pid, 0), included_by.get(pid, []), pur, file)
             for pid, need in counts.items()]
    # bought but not used by this rack (spares, or a part the model does not choose): still charged
    lines += [_part_line(cat[pid], 0, 0, 0, [], pur, file) for pid, k in pur.bought.items() if pid not in counts and k > 0]
    lines += [BomLine(group=ex.group, part_id=None, kind="extra", name=ex.name, name_ja=ex.name_ja,
                      needed=ex.quantity, buy=ex.quantity, packs=1, pack_price=ex.price,
                      amount=ex.price, price_source="extra", note_ja=ex.note, note_en=ex.note) for ex in pur.extra]
    prof = profile or pipeline.profile_for(lc, None)
    if parts2d is None:
        parts2d = pipeline.flat_parts_for(lc, layout, None, prof)
    acrylic = acrylic_estimate(lc, layout, prof, parts2d)
    if acrylic is not None:
        lines.append(_acrylic_line(acrylic))
    warnings = _price_warnings(lines)
    lines.sort(key=_order_key(cat, [ex.group for ex in pur.extra]))
    return Bom(spec.cluster.name, file, tuple(lines), acrylic, tuple(warnings))


def _owned(lc: LoadedCluster, counts: dict[str, int]) -> dict[str, int]:
    """The boards of nodes marked owned, plus purchases.owned (never more than the rack needs)."""
    pur, file = lc.spec.purchases, lc.display
    owned: dict[str, int] = {}
    for n in lc.spec.nodes:
        if n.owned:
            owned[n.board] = owned.get(n.board, 0) + 1
    for pid, k in pur.owned.items():
        if k == 0:
            continue
        have = owned.get(pid, 0) + k
        need = counts.get(pid, 0)
        if have > need:
            extra = f" (with {owned[pid]} from nodes[].owned)" if pid in owned else ""
            raise InputError(file, f"purchases.owned.{pid}", f"owned {have}{extra} but the rack needs {need}")
        owned[pid] = have
    return owned


def _in_hat_boxes(cat: Catalog, counts: dict[str, int]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """What the HATs' boxes hold, per HAT used: part id -> pieces, and -> the HATs' names."""
    included: dict[str, int] = {}
    included_by: dict[str, list[str]] = {}
    for pid, n in counts.items():
        part = cat.get(pid)
        if part is not None and part.kind == "hat":
            for inc, per in part.included.items():
                included[inc] = included.get(inc, 0) + per * n
                included_by.setdefault(inc, []).append(part.name_ja or part.name)
    return included, included_by


def _acrylic_line(acrylic: AcrylicEstimate) -> BomLine:
    est = acrylic.estimate
    if acrylic.quote is not None:
        note_ja, note_en = f"見積額 (推定 {int(est.amount):,}円)", f"quoted price (estimate {est})"
    else:
        note_ja, note_en = "推定 (見積ではない)", "estimate from the fabricator profile, not a quote"
    return BomLine(group="acrylic", part_id=None, kind="acrylic",
                   name=f"Acrylic {acrylic.thickness} (cutting included)", name_ja="アクリル(加工費込み)",
                   needed=1, buy=1, packs=1, pack_price=acrylic.charged, amount=acrylic.charged,
                   price_source="quote" if acrylic.quote is not None else "estimate",
                   note_ja=note_ja, note_en=note_en)


def _price_warnings(lines: list[BomLine]) -> list[str]:
    warnings = []
    for ln in lines:
        if ln.buy and ln.pack_price is not None and ln.pack_price.amount == 0 and ln.kind != "extra":
            warnings.append(f"{ln.part_id}: {ln.buy} to buy at a {ln.price_source} price of 0: "
                            "check the price (or the HAT box contents, Hat.included)")
        if ln.amount is None:
            warnings.append(f"{ln.part_id}: no price in the catalog or purchases.price_overrides: "
                            "left out of the total")
    return warnings


def _part_line(part: PartBase, need: int, owned: int, included: int, hats: list[str], pur: Purchases,
               file: str) -> BomLine:
    spare = 0
    if part.kind in SPARE_KINDS and pur.spare_percent and need:
        spare = _ceil_div(need * pur.spare_percent, 100)
    inc_used = min(included, max(0, need + spare - owned))
    buy, packs = _to_buy(part, need, spare, owned, inc_used, pur, file)
    price, source = _pack_price(part, pur)
    amount = price * packs if price is not None else (ZERO if packs == 0 else None)
    notes_ja, notes_en = _line_notes(part, need, owned, inc_used, hats, pur.bought.get(part.id), packs, price)
    group = GROUP_OF_KIND.get(part.kind) or (("network" if _is_lan(part) else "storage")
                                             if part.kind == "cable" else "other")
    return BomLine(group=group,
                part_id=part.id, kind=part.kind, name=part.name, name_ja=part.name_ja, needed=need + spare,
                owned=owned, included=inc_used, spare=spare, buy=buy, pack_size=part.pack_size, packs=packs,
                pack_price=price, amount=amount, price_source=source,
                note_ja="、".join(notes_ja), note_en="; ".join(notes_en))


def _to_buy(part: PartBase, need: int, spare: int, owned: int, inc_used: int, pur: Purchases,
            file: str) -> tuple[int, int]:
    """(pieces to buy, packs): what owned and boxed parts leave, in whole packs; or what the user
    says was bought (`purchases.bought`), refused when it is not enough."""
    rest = need + spare - min(need + spare, owned + inc_used)
    bought = pur.bought.get(part.id)
    if bought is None:
        packs = _ceil_div(rest, part.pack_size)
        return packs * part.pack_size, packs
    if bought < rest:
        raise InputError(file, f"purchases.bought.{part.id}",
                         f"bought {bought} but the rack needs {rest} more (needs {need}"
                         f"{f' + {spare} spare' if spare else ''}, owned {owned}, in boxes {inc_used})")
    return bought, _ceil_div(bought, part.pack_size)


def _pack_price(part: PartBase, pur: Purchases) -> tuple[Money | None, str]:
    """The price of one pack and where it comes from (catalog, override, none)."""
    if part.id in pur.price_overrides:
        return pur.price_overrides[part.id], "override"
    return (part.price, "catalog") if part.price is not None else (None, "none")


def _line_notes(part: PartBase, need: int, owned: int, inc_used: int, hats: list[str], bought: int | None,
                packs: int, price: Money | None) -> tuple[list[str], list[str]]:
    """The line's notes in Japanese (the seed's wording) and in English."""
    notes_ja, notes_en = [], []
    if owned:
        unit = UNIT_JA.get(part.kind, "個")
        notes_ja.append(f"うち{owned}{unit}は所有済みのため価格に計上せず")
        notes_en.append(f"{owned} already owned: not charged")
    if inc_used:
        who = "・".join(dict.fromkeys(h.removeprefix("Raspberry Pi ") for h in hats))
        notes_ja.append(f"{who}に付属していたものを流用")
        notes_en.append(f"{inc_used} come in the box of the {', '.join(dict.fromkeys(hats))}: not charged")
    if need == 0:
        notes_ja.append("このラックでは使わない")
        notes_en.append("not used by this rack")
    if bought is not None and packs * part.pack_size != bought:
        notes_en.append(f"bought {bought}, not a whole number of packs of {part.pack_size}")
    if price is None and packs:
        notes_ja.append("価格不明")
        notes_en.append("no price known")
    return notes_ja, notes_en


def _is_lan(part: PartBase) -> bool:
    return getattr(part, "cable", None) == "lan"


def _order_key(cat: Catalog, extra_groups: list[str]) -> Callable[[BomLine], tuple]:
    groups = list(GROUPS[:3]) + [g for g in dict.fromkeys(extra_groups) if g not in GROUPS] + list(GROUPS[3:])
    kind_first = {"board": 0, "hat": 1, "switch": 0, "cable": 1, "drive": 0, "extra": 5}

    def key(ln: BomLine) -> tuple:
        g = groups.index(ln.group) if ln.group in groups else len(groups)
        if ln.group == "fasteners":
            part = cat[ln.part_id]
            thread = getattr(part, "thread", "M0")
            length = mm(part.length) if hasattr(part, "length") else 0.0
            return (g, ln.kind == "foot", -thread_diameter(thread), KIND_ORDER.get(ln.kind, 9), -length, ln.part_id)
        return (g, kind_first.get(ln.kind, 2), ln.part_id or "", 0, 0, ln.name)

    return key


# --- the acrylic ----------------------------------------------------------------------------------


def acrylic_estimate(lc: LoadedCluster, layout: Layout, prof: Fabricator,
                     parts2d: list[Part2D] | None = None) -> AcrylicEstimate | None:
    """The price model (rackdesign.pricing) over the flat parts (computed when not given)."""
    return pricing.acrylic_estimate(lc, prof, parts2d if parts2d is not None else pipeline.flat_parts_for(lc, layout, None, prof))


def fastener_counts(bom: Bom) -> dict[str, int]:
    """Catalog id -> pieces the rack uses, for the fastener kinds (what the model places)."""
    return {ln.part_id: ln.used for ln in bom.lines if ln.kind in SPARE_KINDS and ln.used}
