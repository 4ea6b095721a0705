"""`rack bom`: the BOM counted from the model, its money, its files and its bad input."""

import csv
import io
import json
import re
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from overlay import load_cases, overlay_text
from pirack.load import load_cluster
from pirack.money import Money
from rackdesign.bom import Bom, build_bom, fastener_counts
from rackdesign.layout import build_layout

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed.toml"
BAD = {c["name"]: c for c in load_cases(ROOT / "tests" / "bom" / "cases.toml")}

# The seed's cost table ("かかった総額", seed/000_16bb28d5d4464fe6.txt), line by line:
# (the seed's item, our line's name, the seed's 個数, the seed's 価格, a note it must carry).
# Where our name differs, the model names the part precisely: the seed's M3 and M2.6 spacers
# take male threads (cap nuts on top; joints through the middle plates), so they are male-female.
SEED_TABLE = [
    ("Raspberry Pi 4B 8GB", "Raspberry Pi 4B 8GB", 2, 13160, "うち1台"),
    ("Raspberry Pi PoE+ HAT", "Raspberry Pi PoE+ HAT", 2, 8560, ""),  # the seed's "8.560" is 8,560
    ("PoE対応ハブ", "PoE対応ハブ", 1, 5400, ""),
    ("LANケーブル", "LANケーブル", 2, 944, ""),
    ("SATA SSD 500GB", "SATA SSD 500GB", 1, 5152, ""),
    ("SATA-USBCケーブル", "SATA-USBCケーブル", 1, 999, ""),
    ("Adobe Illustrator", "Adobe Illustrator", 1, 0, "無償期間"),
    ("アクリル(加工費込み)", "アクリル(加工費込み)", 1, 7370, ""),
    ("M3 スペーサー(ステンレス) 28mm", "M3 オスメススペーサー(ステンレス) 28mm", 20, 4580, ""),
    ("M3 スペーサー(ステンレス) 10mm", "M3 オスメススペーサー(ステンレス) 10mm", 10, 1890, ""),
    ("M3 ナベ小ネジ(ステンレス) 6mm", "M3 ナベ小ネジ(ステンレス) 6mm", 25, 409, ""),
    ("M3 袋ナット(ステンレス)", "M3 袋ナット(ステンレス)", 10, 429, ""),
    ("M2.6 スペーサー(黄銅) 5mm", "M2.6 オスメススペーサー(黄銅) 5mm", 50, 1590, ""),
    # the seed lists the 8 it took from the HAT boxes; the model also screws each board spacer
    # to its plate with one (16 in all), and the catalog's box holds only 4 per HAT
    ("M2.6 ナベ小ネジ(黄銅) 4mm", "M2.6 ナベ小ネジ(黄銅) 4mm", 16, 0, "PoE+ HATに付属していたものを流用"),
    ("ゴム足 TK型", "ゴム足 TK型", 6, 108, ""),
]
SEED_TOTAL = 50591


@pytest.fixture(scope="module")
def seed_bom() -> Bom:
    lc = load_cluster(SEED)
    return build_bom(lc, build_layout(lc))


@pytest.fixture(scope="module")
def default_bom():
    lc = load_cluster(None)
    lay = build_layout(lc)
    return lc, lay, build_bom(lc, lay)


def test_seed_lines_and_total(seed_bom):
    by_name = {ln.display_name: ln for ln in seed_bom.lines}
    assert sum(p for *_, p, _ in SEED_TABLE) == SEED_TOTAL  # the seed's own lines add up
    for seed_name, ours, qty, price, note in SEED_TABLE:
        ln = by_name.get(ours)
        assert ln is not None, f"no line for the seed's '{seed_name}'"
        assert (ln.quantity, int(ln.amount.amount)) == (qty, price), seed_name
        assert note in ln.note_ja, seed_name
    # the seed's lines in the seed's order; our only other line is the HAT standoffs, in the box
    names = [ln.display_name for ln in seed_bom.lines]
    assert [n for n in names if n in {o for _, o, *_ in SEED_TABLE}] == [o for _, o, *_ in SEED_TABLE]
    others = [ln for ln in seed_bom.lines if ln.display_name not in {o for _, o, *_ in SEED_TABLE}]
    # the PoE+ HAT's standoffs: 9 mm, as the original PoE HAT's (geerlingguy/raspberry-pi-dramble#135;
    # parts/hats/rpi-poe-plus-hat.toml flags it to measure), not the 11 mm once derived
    assert [(ln.part_id, ln.included, int(ln.amount.amount)) for ln in others] == [("spacer-m2.5-ff-9", 8, 0)]
    assert seed_bom.total == Money(amount=Decimal(SEED_TOTAL))
    # the one Pi already owned is listed, not charged
    pi = seed_bom.line("rpi4b-8gb")
    assert (pi.needed, pi.owned, pi.buy) == (2, 1, 1)


def test_seed_acrylic_quote_wins_but_estimate_shown(seed_bom):
    """The quote is charged; the estimate (rackdesign.pricing, tested in test_pricing) is still shown."""
    a = seed_bom.acrylic
    assert a.quote == Money(amount=Decimal(7370)) and a.charged == a.quote
    assert a.estimate.amount > 0 and a.estimate != a.quote
    assert a.low.amount <= a.estimate.amount <= a.high.amount
    assert [p.name for p in a.parts][:1] == ["base"] and a.cut_m > 1


def test_seed_model_chooses_the_seeds_fasteners():
    lc = load_cluster(SEED)
    lay = build_layout(lc)
    c = lay.counts()
    assert c["spacer-m3-mf-10"] == 4 and c["spacer-m3-mf-28"] == 8  # base->tier 1, then the tiers
    assert Counter(p.role for p in lay.parts if p.part_id == "nut-m3-cap")["column-top"] == 4
    assert not any(pid.startswith(("spacer-m3-ff", "nut-m3-hex", "screw-m3-pan-4")) for pid in c)
    # where the seed's parts break a thread rule, the model says so
    assert any("nut" in f.message or "cap" in f.message or "spacer-m3-mf-28" in f.message for f in lay.findings)
    assert any(f.where == "drive screws" for f in lay.findings)


def test_pack_rounding_owned_spares_and_boxes(default_bom, tmp_path):
    lc, lay, b = default_bom
    feet = b.line("foot-rubber-tk")  # 4 needed, packs of 6
    assert (feet.needed, feet.packs, feet.buy, int(feet.amount.amount)) == (4, 1, 6, 108)
    # the box's M2.6 screws (the seed's word) do not match its M2.5 spacers: the default buys M2.5 screws
    hat_screw = b.line("screw-m2.5-pan-5")
    assert (hat_screw.needed, hat_screw.included) == (8, 0) and hat_screw.buy >= 8
    pi = b.line("rpi4b-8gb")
    assert (pi.owned, pi.buy, pi.amount.amount) == (1, 1, 13160)

    # 10 % spares on small fasteners, before pack rounding; owned parts not charged
    text = (ROOT / "pirack" / "default_cluster.toml").read_text() + (
        '\n[purchases.owned]\n"spacer-m3-ff-28" = 3\n"rpi-poe-plus-hat" = 2\n')
    text = text.replace("acrylic_quote = 7370", "acrylic_quote = 7370\nspare_percent = 10")
    f = tmp_path / "c.toml"
    f.write_text(text)
    lc2 = load_cluster(f)
    b2 = build_bom(lc2, build_layout(lc2))
    sp = b2.line("spacer-m3-ff-28")  # 4 + ceil(0.4) spare = 5, 3 owned -> buy 2 at 229
    assert (sp.needed, sp.spare, sp.owned, sp.buy, int(sp.amount.amount)) == (5, 1, 3, 2, 458)
    feet2 = b2.line("foot-rubber-tk")  # 4 + 1 spare: still one pack of 6
    assert (feet2.needed, feet2.packs) == (5, 1)
    hat = b2.line("rpi-poe-plus-hat")  # spares never apply to boards/HATs; owned: 0 yen
    assert (hat.spare, hat.buy, int(hat.amount.amount)) == (0, 0, 0) and "計上せず" in hat.note_ja
    screws6 = b2.line("screw-m3-pan-6")  # 8 + 1 spare -> one pack of 25
    assert (screws6.needed, screws6.packs, screws6.buy) == (9, 1, 25)
    standoff = b2.line("spacer-m2.5-ff-9")  # (9 mm: see test_seed_lines_and_total) 8 + 1 spare, 8 in the HAT boxes -> a pack of 10 for 1
    assert (standoff.needed, standoff.included, standoff.buy, int(standoff.amount.amount)) == (9, 8, 10, 330)
    assert b2.total.amount == sum(ln.amount.amount for ln in b2.lines)


def test_money_never_float(seed_bom):
    for ln in seed_bom.lines:
        for m in (ln.amount, ln.pack_price):
            assert isinstance(m, Money) and type(m.amount) is Decimal and m.amount == int(m.amount)
    for p in seed_bom.acrylic.parts:
        for m in (p.material, p.cut, p.engrave, p.price):
            assert type(m.amount) is Decimal
    for name in ("bom.py", "bom_render.py"):
        src = (ROOT / "rackdesign" / name).read_text()
        assert not re.search(r"\bfloat\(", src), f"{name} converts to float"
    with pytest.raises(ValueError):
        Money(amount=1.5)


def test_csv_sums_to_the_printed_total(rack, in_tmp):
    code, out, _ = rack("bom", str(SEED), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    items = [r for r in rows if r["row"] == "item"]
    total = next(r for r in rows if r["row"] == "total")
    assert sum(int(r["amount"]) for r in items) == int(total["amount"]) == SEED_TOTAL
    code, table, _ = rack("bom", str(SEED))
    assert code == 0 and "50,591" in table and "袋ナット" in table


def test_json_total_is_a_number(rack, in_tmp):
    code, out, _ = rack("bom", str(SEED), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["total"] == SEED_TOTAL and type(data["total"]) is int
    assert sum(ln["amount"]["amount"] for ln in data["lines"]) == SEED_TOTAL
    assert data["acrylic"]["quote"]["amount"] == 7370 and data["acrylic"]["estimate"]["amount"] > 0
    assert data["acrylic"]["area_cm2"] > 100


def test_md_has_the_seed_rows(rack, in_tmp):
    code, out, _ = rack("bom", str(SEED), "--format", "md")
    assert code == 0
    # needed 4 (the column tops; its support, which its parts cannot screw, is bonded), bought 10
    assert "|M3 袋ナット(ステンレス)|4|10|429||" in out and "**50,591**" in out


def test_pdf_has_japanese_names(rack, in_tmp):
    from pypdf import PdfReader

    code, _, err = rack("bom", str(SEED), "--format", "pdf")
    assert code == 0, err
    pdf = in_tmp / "exports" / "seed" / "bom" / "bom.pdf"
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    for s in ("袋ナット", "ゴム足", "アクリル(加工費込み)", "50,591", "流用"):
        assert s in text, s
    code, _, _ = rack("bom", str(SEED), "--format", "pdf", "--out", "x/y.pdf")
    assert code == 0 and (in_tmp / "x" / "y.pdf").read_bytes()[:5] == b"%PDF-"


def test_the_largest_prices_a_file_may_give_still_total(rack, in_tmp):
    """MAX_YEN bounds one price a person writes, not a total: boards at the largest price
    and a quote at it gave a pydantic traceback (exit 1) where the file had been accepted."""
    from pirack.money import MAX_YEN

    (in_tmp / "c.toml").write_text(overlay_text({"purchases.acrylic_quote": MAX_YEN,
                                                 "purchases.price_overrides": {"rpi4b-8gb": MAX_YEN}}))
    code, out, err = rack("bom", "c.toml", "--format", "json")
    assert code == 0 and "Traceback" not in err, err
    data = json.loads(out)
    boards = next(ln for ln in data["lines"] if ln["part_id"] == "rpi4b-8gb")
    assert boards["amount"]["amount"] == boards["packs"] * MAX_YEN and boards["packs"] >= 1
    assert data["total"] == sum(ln["amount"]["amount"] for ln in data["lines"]) > 2 * MAX_YEN


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_exits_2_naming_the_key(rack, in_tmp, name):
    case = BAD[name]
    (in_tmp / "c.toml").write_text(overlay_text(case.get("patch"), case.get("delete")))
    code, out, err = rack("bom", "c.toml", "--format", "pdf")
    assert code == 2, err
    assert f"c.toml: {case['expect']['key']}" in err and err.count("error:") == 1 and "Traceback" not in err
    assert all(w in err for w in case["expect"].get("message_has", [])), err
    assert not (in_tmp / "exports").exists()  # nothing written


def test_zero_pack_size_in_catalog_exits_2(rack, in_tmp):
    cat = in_tmp / "parts"
    shutil.copytree(ROOT / "parts", cat)
    f = cat / "fasteners" / "nut-m3-cap.toml"
    f.write_text(f.read_text().replace("pack_size = 10", "pack_size = 0"))
    code, _, err = rack("bom", "--catalog", str(cat))
    assert code == 2
    assert "nut-m3-cap.toml" in err and "pack_size" in err


def _fasteners_from_cli(rack, *args) -> dict[str, int]:
    code, out, err = rack("bom", *args, "--format", "json")
    assert code == 0, err
    return {ln["part_id"]: ln["needed"] - ln["spare"] for ln in json.loads(out)["lines"]
            if ln["kind"] in ("spacer", "screw", "nut", "foot") and ln["needed"]}


def _fasteners_from_layout(lay) -> dict[str, int]:
    return dict(Counter(p.part_id for p in lay.parts if p.kind in ("spacer", "screw", "nut", "foot")))


def test_default_and_init4_fasteners_match_the_model(rack, in_tmp):
    assert _fasteners_from_cli(rack) == _fasteners_from_layout(build_layout(load_cluster(None)))
    code, _, _ = rack("init", "--nodes", "4", "c4.toml")
    assert code == 0
    got = _fasteners_from_cli(rack, "c4.toml")
    lay = build_layout(load_cluster(in_tmp / "c4.toml"))
    assert got == _fasteners_from_layout(lay)
    # 4 nodes: 4 HATs' screws, 4 boards' spacers; 4 LAN cables
    assert got["spacer-m2.5-mf-5"] == 16  # the board holes' own M2.5 thread (the seed's M2.6 only in examples/seed.toml)
    lc = load_cluster(in_tmp / "c4.toml")
    assert build_bom(lc, lay).line("lan-cat6-0.5m").needed == 4


@pytest.mark.cad
def test_bom_matches_the_assembly_solids(default_rack):
    lc, lay, assy = default_rack
    solids = Counter(ch.name.split("#")[0] for ch in assy.children if "#" in ch.name)
    b = build_bom(lc, lay)
    got = fastener_counts(b)
    assert got and got == {pid: n for pid, n in solids.items() if pid in got}
    kinds = {pid for pid in solids if lc.catalog.get(pid) is not None
             and lc.catalog[pid].kind in ("spacer", "screw", "nut", "foot")}
    assert kinds == set(got)


def test_export_all_renders_the_bom(default_bom):
    from rackdesign.export import bom_files
    from rackdesign.pipeline import flat_parts_for, profile_for

    lc, lay, _ = default_bom
    files = bom_files(lc, lay, flat_parts_for(lc, lay, None), profile_for(lc, None))
    assert set(files) >= {"bom/bom.csv", "bom/bom.md", "bom/bom.json", "bom/bom.pdf"}
    assert json.loads(files["bom/bom.json"])["total"] == int(build_bom(lc, lay).total.amount)
