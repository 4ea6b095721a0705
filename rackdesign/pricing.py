"""The acrylic's price: the fabricator profile's price model over the flat parts.

    part      = max(part minimum, cut m x cut rate + score m x score rate
                                  + engraved cm² x engrave rate [+ its rectangle x material rate])
    material  = billed area x material rate (thickness)           (artboard or sheets basis)
    subtotal  = order fee + material + Σ part + bends x bend fee
    estimate  = max(order minimum, subtotal) x (1 + tax) + shipping
    range     = estimate x [range_low, range_high]

What is billed as material area is the profile's `material_basis`: each part's rectangle
("parts"), the rectangle around the nested parts plus the spacing — the artboard a person
would draw — ("artboard"), or whole sheets ("sheets"). A term the profile does not price
(bend fee or shipping left out) is listed in `unpriced`, never silently zero.

Money is integer yen through Decimal: each term is rounded to whole yen once; measurements
(float mm) enter through `_dec` at a stated precision. The profile's rates are data (floats
in TOML) and enter the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from pirack.errors import InputError
from pirack.money import Money
from pirack.units import mm

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pirack.catalog import Fabricator, PriceModel, Sheet
    from pirack.load import LoadedCluster

    from .geometry2d import Part2D


@dataclass(frozen=True)
class PartPrice:
    name: str
    width_mm: Decimal
    height_mm: Decimal
    area_cm2: Decimal  # its rectangle: the material it takes from the sheet
    cut_m: Decimal  # outline + holes
    score_m: Decimal
    engrave_cm2: Decimal
    bends: int
    material: Money  # zero unless the material is billed per part
    cut: Money
    score: Money
    engrave: Money
    price: Money  # at least the per-part minimum


@dataclass(frozen=True)
class AcrylicEstimate:
    fabricator: str
    fabricator_name: str
    sheet: str
    thickness: str  # "3 mm": the key of the price model's material table
    basis: str  # parts | artboard | sheets
    billed: tuple[tuple[Decimal, Decimal], ...]  # the billed rectangles (mm) when not per part
    billed_area_cm2: Decimal
    yen_per_cm2: Decimal
    cut_per_m: Decimal
    score_per_m: Decimal
    engrave_per_cm2: Decimal
    bend_each: Money | None
    per_part_min: Money
    per_order_fee: Money
    per_order_min: Money
    tax_rate: Decimal
    shipping: Money | None
    parts: tuple[PartPrice, ...]
    material: Money  # billed area x rate (all of it, whatever the basis)
    bends: Money
    subtotal: Money  # before the order minimum
    tax: Money
    estimate: Money
    low: Money
    high: Money
    unpriced: tuple[str, ...]  # "bends", "shipping": terms the profile does not price
    quote: Money | None  # purchases.acrylic_quote: wins over the estimate
    source: str
    calibrated_on: tuple = ()  # catalog Calibration: the quotes the coefficients were solved from

    @property
    def charged(self) -> Money:
        return self.quote if self.quote is not None else self.estimate

    @property
    def area_cm2(self) -> Decimal:
        return sum((p.area_cm2 for p in self.parts), Decimal(0))

    @property
    def cut_m(self) -> Decimal:
        return sum((p.cut_m for p in self.parts), Decimal(0))

    @property
    def engrave_cm2(self) -> Decimal:
        return sum((p.engrave_cm2 for p in self.parts), Decimal(0))

    @property
    def bend_count(self) -> int:
        return sum(p.bends for p in self.parts)

    @property
    def before_tax(self) -> Money:
        return self.subtotal if self.subtotal.amount >= self.per_order_min.amount else self.per_order_min


def _dec(x: float, places: int) -> Decimal:
    """A measurement or a rate (float) into the money path, rounded to `places` decimals."""
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _yen(d: Decimal) -> Money:
    """A computed amount, rounded to whole yen (computed: not held to the input's MAX_YEN)."""
    return Money.model_construct(amount=d.quantize(Decimal(1), rounding=ROUND_HALF_UP), currency="JPY")


def _max(a: Money, b: Money) -> Money:
    return a if a.amount >= b.amount else b


# ---------------------------------------------------------------------------------------------


def acrylic_estimate(lc: LoadedCluster, prof: Fabricator, parts2d: Sequence[Part2D]) -> AcrylicEstimate | None:
    """The fabricator profile `prof`'s price model over the flat parts (as `rack export` cuts them)."""
    if not parts2d:
        return None
    sheet = lc.catalog[lc.spec.rack.sheet]
    tkey = f"{mm(sheet.thickness):g} mm"
    rate = _material_rate(lc, prof, sheet, tkey)
    return estimate(parts2d, prof, sheet.id, tkey, rate, lc.spec.purchases.acrylic_quote)


def _material_rate(lc: LoadedCluster, prof: Fabricator, sheet: Sheet, tkey: str) -> Decimal:
    rate = prof.pricing.material_per_cm2.get(tkey)
    if rate is None:
        known = ", ".join(prof.pricing.material_per_cm2) or "none"
        raise InputError(str(lc.catalog.root / "fabricators" / f"{prof.id}.toml"), "pricing.material_per_cm2",
                         f"no price for {tkey} sheets (the rack uses {sheet.id}; priced: {known})")
    return _dec(rate, 4)


def estimate(parts2d: Sequence[Part2D], prof: Fabricator, sheet_id: str, tkey: str, yen_per_cm2: Decimal, quote: Money | None) -> AcrylicEstimate:
    """The price model's terms, step by step (see the module's formula)."""
    pm = prof.pricing
    rates = {k: _dec(getattr(pm, k), 4) for k in ("cut_per_m", "score_per_m", "engrave_per_cm2")}
    part_min = _yen(_dec(pm.per_part_min, 4))
    parts = tuple(_part_price(p, pm.material_basis, yen_per_cm2, rates, part_min) for p in parts2d)
    billed = _billed(parts2d, parts, prof)
    billed_area = sum((w * h / 100 for w, h in billed), Decimal(0)).quantize(Decimal("0.01"))
    material = _yen(billed_area * yen_per_cm2)
    bend_each = None if pm.bend_each is None else _yen(_dec(pm.bend_each, 4))
    bend_count = sum(p.bends for p in parts)
    bends = (bend_each or _yen(Decimal(0))) * bend_count
    order_fee, order_min = _yen(_dec(pm.per_order_fee, 4)), _yen(_dec(pm.per_order_min, 4))
    subtotal = order_fee + bends + (material if pm.material_basis != "parts" else _yen(Decimal(0)))
    for p in parts:
        subtotal = subtotal + p.price
    tax_rate = _dec(pm.tax_rate, 4)
    tax = _yen(_max(subtotal, order_min).amount * tax_rate)
    shipping = None if pm.shipping is None else _yen(_dec(pm.shipping, 4))
    total = _max(subtotal, order_min) + tax + (shipping or _yen(Decimal(0)))
    return AcrylicEstimate(
        prof.id, prof.name, sheet_id, tkey, pm.material_basis, billed if pm.material_basis != "parts" else (),
        billed_area, yen_per_cm2, rates["cut_per_m"], rates["score_per_m"], rates["engrave_per_cm2"], bend_each,
        part_min, order_fee, order_min, tax_rate, shipping, parts, material, bends, subtotal, tax, total,
        _yen(total.amount * _dec(pm.range_low, 4)), _yen(total.amount * _dec(pm.range_high, 4)),
        _unpriced(pm, bend_count), quote, pm.source, tuple(pm.calibrated_on))


def _part_price(p: Part2D, basis: str, yen_per_cm2: Decimal, rates: dict, part_min: Money) -> PartPrice:
    w, h = p.size
    area = _dec(w * h / 100.0, 2)
    cut = _dec(p.cut_length() / 1000.0, 3)
    score = _dec(sum(s.length() for s in p.score) / 1000.0, 3)
    # glyph counters run the other way round: the signed sum is the filled area (even-odd)
    eng = _dec(abs(sum(e.area() for e in p.engrave if hasattr(e, "segments"))) / 100.0, 2)
    material = _yen(area * yen_per_cm2) if basis == "parts" else _yen(Decimal(0))
    c, s, e = _yen(cut * rates["cut_per_m"]), _yen(score * rates["score_per_m"]), _yen(eng * rates["engrave_per_cm2"])
    bends = len(p.bend)  # the switch support's bend, made by the service on a hot line
    return PartPrice(p.name, _dec(w, 2), _dec(h, 2), area, cut, score, eng, bends, material, c, s, e,
                     _max(material + c + s + e, part_min))


def _billed(parts2d: Sequence[Part2D], parts: tuple[PartPrice, ...], prof: Fabricator) -> tuple[tuple[Decimal, Decimal], ...]:
    """The rectangles billed as material: per part, the artboard per sheet, or whole sheets."""
    basis = prof.pricing.material_basis
    if basis == "parts":
        return tuple((p.width_mm, p.height_mm) for p in parts)
    from .nesting import nest

    gap = mm(prof.spacing)
    sheets = nest(list(parts2d), mm(prof.sheet_width), mm(prof.sheet_height), gap)
    if basis == "sheets":
        return tuple((_dec(s.width, 2), _dec(s.height, 2)) for s in sheets)
    out = []
    for s in sheets:  # the rectangle around what is on the sheet, the spacing all round
        x0, y0, x1, y1 = s.used_bbox()
        out.append((_dec(x1 - x0 + 2 * gap, 2), _dec(y1 - y0 + 2 * gap, 2)))
    return tuple(out)


def _unpriced(pm: PriceModel, bends: int) -> tuple[str, ...]:
    """What the estimate leaves out for want of a price: "bends" (there are bends and no bend
    fee), "shipping" (no shipping in the profile)."""
    out = []
    if bends and pm.bend_each is None:
        out.append("bends")
    if pm.shipping is None:
        out.append("shipping")
    return tuple(out)
