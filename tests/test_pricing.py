"""The acrylic's price model (rackdesign.pricing): its formula recomputed here by hand from
stated rates, the seed's service's calibrated model against both quotes it was calibrated on
(the seed's 7,370 yen, a ~4,000 yen keyboard plate), the range shown until a quote is entered,
and `rack bom --explain`."""

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


# rates for the formula tests, whatever the profile holds (a per-length, per-area tariff)
RATES = dict(material_per_cm2={"3 mm": 0.8496}, cut_per_m=932.24, score_per_m=621.5, engrave_per_cm2=24.47,
             per_part_min=474, per_order_fee=0, per_order_min=3947, tax_rate=0.10, bend_each=None, shipping=None,
             calibrated_on=[])


def priced(parts, pid="anymany-pdf", quote=None, **update):
    prof = CAT[pid]
    prof = prof.model_copy(update={"pricing": prof.pricing.model_copy(update={**RATES, **update})})
    rate = Decimal(repr(prof.pricing.material_per_cm2["3 mm"])).quantize(Decimal("0.0001"))
    return prof, estimate(parts, prof, "acrylic-cast-3mm", "3 mm", rate, quote)


def plate(name, w, h, holes=(), score=(), bend=()):
    return Part2D(name, rounded_rect(0, 0, w, h, 0), [Circle(c, r) for c, r in holes],
                  score=[Contour((Line(a, b),)) for a, b in score], bend=[Contour((Line(a, b),)) for a, b in bend],
                  thickness=3.0, material="acrylic-cast-3mm")


def test_the_formula_by_hand_per_part_basis():
    """Material per part rectangle, cut and score per metre, per-part and per-order minimums, tax."""
    parts = [plate("a", 100, 50, holes=[((20, 20), 1.7)]),
             plate("b", 30, 20, score=[((0, 10), (30, 10))], bend=[((0, 5), (30, 5))])]
    prof, a = priced(parts, material_basis="parts", per_order_min=0, per_part_min=500, bend_each=300, shipping=800)
    pm = prof.pricing
    cut_a = (300 + 2 * math.pi * 1.7) / 1000
    part_a = max(500, yen(50.0 * 0.8496) + yen(round(cut_a, 3) * pm.cut_per_m))
    part_b = max(500, yen(6.0 * 0.8496) + yen(0.1 * pm.cut_per_m) + yen(0.03 * pm.score_per_m))
    subtotal = part_a + part_b + 300  # one bend (the bend line; the score line is a laser pass, not a bend)
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
    parts = [plate("s", 60, 40, bend=[((0, 20), (60, 20))])]
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


def test_the_seed_cut_list_within_10_percent_of_the_seed_quote(seed_parts):
    """Done-when of issue 14: the seed's service's model (calibrated on its two known quotes,
    see the profile) prices the default design's cut list -- the seed's -- within 10 % of the
    7,370 yen the seed paid. Recomputed here by hand: (order fee + artboard cm² x 3 mm rate)
    x 1.10, the artboard being the rectangle around the nested parts with 3 mm spacing."""
    from rackdesign.pricing import acrylic_estimate

    lc, parts = seed_parts
    prof = CAT["anymany-pdf"]
    pm = prof.pricing
    a = acrylic_estimate(lc, prof, parts)
    ((w, h),) = a.billed
    before_tax = yen(pm.per_order_fee) + yen(float(w * h / 100) * pm.material_per_cm2["3 mm"])
    assert int(a.estimate.amount) == before_tax + yen(before_tax * pm.tax_rate)
    assert abs(int(a.estimate.amount) - SEED_QUOTE) / SEED_QUOTE <= 0.10, a.estimate
    assert a.low.amount <= SEED_QUOTE <= a.high.amount
    assert a.bend_count == 1 and "bends" not in a.unpriced  # the seed's bend is inside the calibration


def _calibration_part(c):
    """A single plate of the size a calibration quote gives (no holes: the model bills area)."""
    from pirack.units import mm

    t = mm(c.thickness)
    return Part2D("plate", rounded_rect(0, 0, mm(c.width), mm(c.height), 0), thickness=t,
                  material=f"acrylic-cast-{t:g}mm"), f"{t:g} mm"


def test_the_model_reproduces_every_quote_it_was_calibrated_on(seed_parts):
    """A calibrated model must at least give back its calibration points: each quote listed in
    the profile's pricing.calibrated_on, priced again by the model (the seed's order from the
    default cut list, the keyboard plate from its stated size), within 10 %. Both are named
    there, and the profile says it is calibrated, not a published tariff."""
    from rackdesign.pricing import acrylic_estimate

    lc, parts = seed_parts
    prof = CAT["anymany-pdf"]
    cal = prof.pricing.calibrated_on
    assert [c.quote for c in cal] == [SEED_QUOTE, 4000]
    assert prof.pricing.source.startswith("CALIBRATED") and "not a published tariff" in prof.pricing.source
    for c in cal:
        if c.width is None:  # the seed's order: the default design's cut list
            got = acrylic_estimate(lc, prof, parts).estimate
        else:
            part, tkey = _calibration_part(c)
            rate = Decimal(repr(prof.pricing.material_per_cm2[tkey]))
            got = estimate([part], prof, part.material, tkey, rate, None).estimate
        assert abs(int(got.amount) - c.quote) / c.quote <= 0.10, (c.what, got)


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
    pct = (a.estimate.amount - SEED_QUOTE) / SEED_QUOTE * 100
    code, out, err = rack("bom", "--explain", "--lang", "en")
    assert code == 0, err
    assert "estimate = max(order minimum, order fee + material + Σ part + bends × bend fee) × (1 + tax) + shipping" in out
    ((w, h),) = a.billed
    for figure in ("5.5634 yen/cm²", "order fee 2,546", "tax 10 %", f"{SEED_QUOTE:,} yen",
                   f"material: {w} × {h} mm = {a.billed_area_cm2} cm² × 5.5634 = {int(a.material.amount):,}",
                   f"estimate: {int(a.estimate.amount):,} yen", f"{pct:+.1f} %",
                   "CALIBRATED, not a published tariff: the coefficients were solved from these 2 quotes",
                   "  7,370 yen: the seed's order", "  4,000 yen: one 2 mm keyboard plate"):
        assert figure in out, figure
    code, ja, _ = rack("bom", "--explain", "--lang", "ja")
    assert code == 0 and "推定 = max(注文の最低額" in ja and f"見積: {SEED_QUOTE:,} 円" in ja
    assert "公表された料金表ではなく" in ja


def test_money_stays_decimal(seed_parts):
    from rackdesign.pricing import acrylic_estimate

    lc, parts = seed_parts
    a = acrylic_estimate(lc, CAT["anymany-pdf"], parts)
    for m in (a.material, a.subtotal, a.tax, a.estimate, a.low, a.high, *(p.price for p in a.parts)):
        assert isinstance(m, Money) and type(m.amount) is Decimal and m.amount == int(m.amount)


def test_the_seed_s_literal_parts_are_within_10_percent_too():
    """examples/seed.toml holds the seed's literal parts (its own plate sizes differ a little
    from the default's, on which the model was calibrated): still within 10 % of 7,370 yen."""
    from pirack.load import load_cluster
    from pathlib import Path

    from rackdesign.layout import build_layout
    from rackdesign.pipeline import flat_parts_for
    from rackdesign.pricing import acrylic_estimate

    lc = load_cluster(Path(__file__).resolve().parent.parent / "examples" / "seed.toml")
    a = acrylic_estimate(lc, CAT["anymany-pdf"], flat_parts_for(lc, build_layout(lc), None))
    assert abs(int(a.estimate.amount) - SEED_QUOTE) / SEED_QUOTE <= 0.10, a.estimate
