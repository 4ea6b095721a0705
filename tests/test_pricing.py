"""The acrylic's price model (rackdesign.pricing): its formula recomputed here by hand from the
profile's figures, the seed's cut list against the seed's 7,370 yen, the range shown until a
quote is entered, and `rack bom --explain`."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from pirack.catalog import load_catalog
from pirack.money import Money
from rackdesign.geometry2d import Circle, Contour, Line, Part2D, rounded_rect
from rackdesign.pricing import estimate

CAT = load_catalog()
SEED_QUOTE = 7370


def yen(x: float) -> int:
    return int(Decimal(repr(x)).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def priced(parts, pid="anymany-pdf", quote=None, **update):
    prof = CAT[pid]
    if update:
        prof = prof.model_copy(update={"pricing": prof.pricing.model_copy(update=update)})
    rate = Decimal(repr(prof.pricing.material_per_cm2["3 mm"])).quantize(Decimal("0.0001"))
    return prof, estimate(parts, prof, "acrylic-cast-3mm", "3 mm", rate, quote)


def plate(name, w, h, holes=(), score=()):
    return Part2D(name, rounded_rect(0, 0, w, h, 0), [Circle(c, r) for c, r in holes],
                  score=[Contour((Line(a, b),)) for a, b in score], thickness=3.0, material="acrylic-cast-3mm")


def test_the_formula_by_hand_per_part_basis():
    """Material per part rectangle, cut and score per metre, per-part and per-order minimums, tax."""
    parts = [plate("a", 100, 50, holes=[((20, 20), 1.7)]), plate("b", 30, 20, score=[((0, 10), (30, 10))])]
    prof, a = priced(parts, material_basis="parts", per_order_min=0, per_part_min=500, bend_each=300, shipping=800)
    pm = prof.pricing
    cut_a = (300 + 2 * math.pi * 1.7) / 1000
    part_a = max(500, yen(50.0 * 0.8496) + yen(round(cut_a, 3) * pm.cut_per_m))
    part_b = max(500, yen(6.0 * 0.8496) + yen(0.1 * pm.cut_per_m) + yen(0.03 * pm.score_per_m))
    subtotal = part_a + part_b + 300  # one bend (the scored line)
    assert int(a.subtotal.amount) == subtotal
    assert int(a.estimate.amount) == subtotal + yen(subtotal * 0.1) + 800
    assert a.unpriced == ()


def test_the_artboard_basis_bills_the_rectangle_around_the_nested_parts():
    parts = [plate("a", 100, 50), plate("b", 100, 50)]
    _, per_part = priced(parts, material_basis="parts", per_order_min=0, per_part_min=0)
    _, artboard = priced(parts, material_basis="artboard", per_order_min=0, per_part_min=0)
    _, sheets = priced(parts, material_basis="sheets", per_order_min=0, per_part_min=0)
    assert per_part.billed_area_cm2 == Decimal("100.00")
    ((w, h),) = artboard.billed  # one sheet: the parts side by side with 3 mm spacing all round
    assert sorted([w, h]) in ([Decimal("56.00"), Decimal("209.00")], [Decimal("106.00"), Decimal("109.00")])
    assert artboard.billed_area_cm2 == (w * h / 100).quantize(Decimal("0.01"))
    assert sheets.billed_area_cm2 == Decimal("2400.00")  # the whole 600 x 400 mm sheet
    assert per_part.material.amount < artboard.material.amount < sheets.material.amount


def test_what_is_not_priced_is_said():
    parts = [plate("s", 60, 40, score=[((0, 20), (60, 20))])]
    _, a = priced(parts)
    assert a.unpriced == ("bends", "shipping") and a.bend_count == 1
    _, b = priced(parts, bend_each=1000, shipping=700)
    assert b.unpriced == () and int(b.bends.amount) == 1000


@pytest.fixture(scope="module")
def seed_parts():
    from pirack.load import load_cluster
    from rackdesign.pipeline import flat_parts_for
    from rackdesign.layout import build_layout

    lc = load_cluster(None)
    return lc, flat_parts_for(lc, build_layout(lc), None)


def test_the_seed_cut_list_priced_from_the_published_tariff(seed_parts):
    """The default design is the seed's cut list (3 mm). Recomputed here from Pololu's
    published 'starts at' tariff (pololu.com/docs/0J24/3: $0.15/inch cut, $0.10/inch score,
    $1/sq in engraved, $5/sq ft 3 mm acrylic, $3 per part, $25 per order) at 157.86 JPY/USD,
    plus 10 % tax. It lands well under the seed's 7,370 yen (measured: 4,342, -41 %): the
    tariff is a floor, and bending and shipping are not priced. The quote lies in the range."""
    from rackdesign.pricing import acrylic_estimate

    lc, parts = seed_parts
    a = acrylic_estimate(lc, CAT["anymany-pdf"], parts)
    usd = 157.86
    per_m, per_in2 = 1000 / 25.4, (10 / 25.4) ** 2
    part_sum = 0
    for p, pp in zip(parts, a.parts):
        cut = yen(float(pp.cut_m) * round(0.15 * per_m * usd, 2))
        score = yen(float(pp.score_m) * round(0.10 * per_m * usd, 2))
        eng = yen(float(pp.engrave_cm2) * round(1.0 / per_in2 * usd, 2))
        part_sum += max(yen(3 * usd), cut + score + eng)
        assert pp.score_m == round(Decimal(repr(sum(c.length() for c in p.score) / 1000)), 3)
    material = yen(float(a.billed_area_cm2) * round(5 / 929.0304 * usd, 4))
    before_tax = max(yen(25 * usd), part_sum + material)
    assert int(a.estimate.amount) == before_tax + yen(before_tax * 0.10)
    assert a.unpriced == ("bends", "shipping")
    assert a.estimate.amount < SEED_QUOTE  # a floor: what the tariff cannot see is missing
    assert a.low.amount <= SEED_QUOTE <= a.high.amount


def test_a_keyboard_plate_the_other_known_quote(seed_parts):
    """The other figure from the same service: one 2 mm keyboard plate quoted about 4,000 yen.
    Its geometry is not known; assumed here: a 60 % plate, 285 x 95 mm, 61 switch holes of
    14 x 14 mm and 4 screw holes. The model gives 4,494 yen (+12 %)."""
    holes = [Contour(tuple(Line(a, b) for a, b in zip(sq, sq[1:] + sq[:1])))
             for sq in ([(x, y), (x + 14, y), (x + 14, y + 14), (x, y + 14)]
                        for x in [8 + 19.05 * i for i in range(14)] for y in [4.5 + 19.05 * j for j in range(5)])][:61]
    holes += [Circle((4, 4), 1.1), Circle((281, 4), 1.1), Circle((4, 91), 1.1), Circle((281, 91), 1.1)]
    kb = Part2D("plate", rounded_rect(0, 0, 285, 95, 0), holes, thickness=2.0, material="acrylic-cast-2mm")
    prof = CAT["anymany-pdf"]
    rate = Decimal(repr(prof.pricing.material_per_cm2["2 mm"]))
    a = estimate([kb], prof, "acrylic-cast-2mm", "2 mm", rate, None)
    assert abs(int(a.estimate.amount) - 4000) / 4000 < 0.15, a.estimate


def test_the_range_is_shown_until_a_quote_is_entered(tmp_path):
    from overlay import overlay_text
    from pirack.load import load_cluster
    from rackdesign import bom_render as R
    from rackdesign.bom import build_bom
    from rackdesign.layout import build_layout

    f = tmp_path / "c.toml"
    f.write_text(overlay_text({}, delete=["purchases.acrylic_quote"]))
    lc = load_cluster(f)
    b = build_bom(lc, build_layout(lc))
    a = b.acrylic
    assert a.quote is None and a.low.amount < a.high.amount
    rng = f"{int(a.low.amount):,}–{int(a.high.amount):,}"
    md = R.render_md(b, "en")
    assert f"|{rng}|" in md  # the acrylic line
    lo = int(b.total.amount - a.estimate.amount + a.low.amount)
    assert f"**{lo:,}–" in md  # the total it is part of
    quoted = R.render_md(build_bom(load_cluster(None), build_layout(load_cluster(None))), "en")
    assert "|7,370|" in quoted and "–" not in quoted.split("## Acrylic")[0]


def test_rack_bom_explain_prints_the_formula_with_the_numbers(rack, in_tmp, seed_parts):
    from rackdesign.pricing import acrylic_estimate

    lc, parts = seed_parts
    a = acrylic_estimate(lc, CAT["anymany-pdf"], parts)
    support = next(p for p in a.parts if p.bends)
    pct = (a.estimate.amount - SEED_QUOTE) / SEED_QUOTE * 100
    code, out, err = rack("bom", "--explain", "--lang", "en")
    assert code == 0, err
    assert "estimate = max(order minimum, order fee + material + Σ part + bends × bend fee) × (1 + tax) + shipping" in out
    for figure in ("932.24 yen/m", "0.8496 yen/cm²", "tax 10 %", "Pololu", "1 bend(s)", f"{SEED_QUOTE:,} yen",
                   f"{support.name}: {support.cut_m} m × 932.24 = {int(support.cut.amount):,}",
                   f"estimate: {int(a.estimate.amount):,} yen", f"{pct:+.1f} %"):
        assert figure in out, figure
    code, ja, _ = rack("bom", "--explain", "--lang", "ja")
    assert code == 0 and "推定 = max(注文の最低額" in ja and f"見積: {SEED_QUOTE:,} 円" in ja


def test_money_stays_decimal(seed_parts):
    from rackdesign.pricing import acrylic_estimate

    lc, parts = seed_parts
    a = acrylic_estimate(lc, CAT["anymany-pdf"], parts)
    for m in (a.material, a.subtotal, a.tax, a.estimate, a.low, a.high, *(p.price for p in a.parts)):
        assert isinstance(m, Money) and type(m.amount) is Decimal and m.amount == int(m.amount)
