"""The BOM as a terminal table (rich), CSV, Markdown, JSON and a PDF cost table (reportlab),
and the acrylic's price model explained (`rack bom --explain`).

Each renderer is a pure function of a `Bom` returning text or bytes; `export_files` gives the
files `rack export all` writes under bom/. `lang` ("ja" or "en") switches every heading,
label and total of the table, Markdown and PDF; CSV columns and JSON keys are data and stay
the same in both. An acrylic price that is still an estimate (no purchases.acrylic_quote) is
shown as its range, and so is the total it is part of.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import TYPE_CHECKING

from .bom import Bom, BomLine

if TYPE_CHECKING:
    from collections.abc import Callable

    from reportlab.platypus import Paragraph

    from pirack.money import Money

    from .pricing import AcrylicEstimate, PartPrice

FORMATS = ("table", "csv", "md", "json", "pdf")
GROUPS = {"computers": ("本体", "Computers"), "network": ("ネットワーク", "Network"),
          "storage": ("ストレージ", "Storage"), "software": ("ソフトウェア", "Software"),
          "acrylic": ("アクリル", "Acrylic"), "fasteners": ("ネジ類", "Fasteners"), "other": ("その他", "Other")}
WORDS = {  # key: (ja, en)
    "item": ("もの", "Item"), "needed": ("必要", "Needed"), "quantity": ("個数", "Qty"),
    "packs": ("パック", "Packs"), "price": ("価格(円)", "Price (yen)"), "note": ("備考", "Note"),
    "subtotal": ("小計", "subtotal"), "total": ("総額", "Total"), "group": ("グループ", "Group"),
    "title": ("部品表・費用", "Bill of materials and cost"), "counted": ("ラックのモデルから数えた部品と費用",
                                                                    "counted from the rack model"),
    "warnings": ("警告", "Warnings"), "warning": ("警告", "warning"), "acrylic": ("アクリル", "Acrylic"),
}


def word(key: str, lang: str) -> str:
    ja, en = WORDS[key]
    return ja if lang == "ja" else en


def group_name(g: str, lang: str) -> str:
    ja, en = GROUPS.get(g, (g, g))
    return ja if lang == "ja" else en


def _yen(m: Money | None) -> str:
    return "" if m is None else f"{int(m.amount):,}"


def _int(m: Money | None) -> int | None:
    # amounts are integral Decimals (pirack.money refuses anything else)
    return None if m is None else int(m.amount)


def _note(ln: BomLine, lang: str) -> str:
    return ln.note_ja if lang == "ja" else ln.note_en


def _name(ln: BomLine, lang: str) -> str:
    return ln.display_name if lang == "ja" else ln.name


def _pack(ln: BomLine) -> str:
    """"2×25" when bought in packs; nothing when none are bought (owned, or in a HAT's box)."""
    return "" if ln.pack_size == 1 or ln.packs == 0 else f"{ln.packs}×{ln.pack_size}"


def _estimating(bom: Bom) -> bool:
    return bom.acrylic is not None and bom.acrylic.quote is None


def price_cell(bom: Bom, ln: BomLine) -> str:
    """A line's price: the range while the acrylic is only estimated, '?' when unknown."""
    if ln.kind == "acrylic" and _estimating(bom):
        return f"{_yen(bom.acrylic.low)}–{_yen(bom.acrylic.high)}"
    return _yen(ln.amount) if ln.amount is not None else "?"


def _range(bom: Bom, amounts: dict) -> str:
    """A sum of money, as a range when it includes the acrylic estimate."""
    text = " + ".join(_yen(m) for m in amounts.values()) or "0"
    if not _estimating(bom) or len(amounts) != 1:
        return text
    (m,) = amounts.values()
    a = bom.acrylic
    return f"{int(m.amount - a.estimate.amount + a.low.amount):,}–{int(m.amount - a.estimate.amount + a.high.amount):,}"


def subtotal_cell(bom: Bom, g: str) -> str:
    return _range(bom, bom.subtotal(g)) if g == "acrylic" else _range_free(bom.subtotal(g))


def _range_free(amounts: dict) -> str:
    return " + ".join(_yen(m) for m in amounts.values()) or "0"


def total_cell(bom: Bom) -> str:
    return _range(bom, bom.totals())


def total_str(bom: Bom) -> str:
    return " + ".join(str(m) for m in bom.totals().values()) or "0 JPY"


# --- table ---------------------------------------------------------------------------------------

def render_table(bom: Bom, lang: str = "ja"):
    """A rich Table: one row per line, a subtotal per group, the total."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"BOM — {escape(bom.cluster)}  ({bom.source})", show_edge=False, show_lines=False)
    for key, just in (("item", "left"), ("needed", "right"), ("quantity", "right"), ("packs", "right"),
                      ("price", "right"), ("note", "left")):
        t.add_column(word(key, lang), justify=just)
    for g in bom.groups():
        for ln in (x for x in bom.lines if x.group == g):
            # names and notes are data (a part of your own may be "Fan [40 mm]"), not rich markup
            t.add_row(escape(_name(ln, lang)), str(ln.needed), str(ln.quantity), _pack(ln), price_cell(bom, ln),
                      escape(_note(ln, lang)))
        t.add_row(f"[dim]  {group_name(g, lang)} {word('subtotal', lang)}[/]", "", "", "",
                  f"[dim]{subtotal_cell(bom, g)}[/]", "", end_section=True)
    t.add_row(f"[bold]{word('total', lang)}[/]", "", "", "", f"[bold]{total_cell(bom)}[/]", "JPY")
    return t


def acrylic_summary(bom: Bom, lang: str = "ja") -> list[str]:
    """Two lines under the table: what the acrylic estimate counts, and how to see the formula."""
    a = bom.acrylic
    if a is None:
        return []
    rng = f"{_yen(a.low)}–{_yen(a.high)}"
    if lang == "ja":
        head = (f"アクリル ({a.sheet}, {a.fabricator}): {len(a.parts)} 枚, 切断 {a.cut_m} m, 彫刻 {a.engrave_cm2} cm²; "
                f"推定 {_yen(a.estimate)} 円 (幅 {rng} 円)")
        head += f", 見積 {_yen(a.quote)} 円 (計上)" if a.quote is not None else " (見積なし: 推定を計上)"
        return [head, "  計算式と係数の出典: rack bom --explain"]
    head = (f"acrylic ({a.sheet}, {a.fabricator}): {len(a.parts)} parts, cut {a.cut_m} m, engraved "
            f"{a.engrave_cm2} cm²; estimate {_yen(a.estimate)} yen (range {rng})")
    head += f", quote {_yen(a.quote)} yen (charged)" if a.quote is not None else " (no quote: the estimate is charged)"
    return [head, "  the formula and where each number comes from: rack bom --explain"]


# --- CSV -----------------------------------------------------------------------------------------

CSV_COLUMNS = ("row", "group", "part_id", "kind", "name", "name_ja", "needed", "spare", "owned", "included",
               "buy", "quantity", "pack_size", "packs", "pack_price", "amount", "currency", "price_source",
               "note_ja", "note_en")


def render_csv(bom: Bom) -> str:
    """One row per line (row = item), then one per currency total (row = total). Columns are
    data: the same in both languages (names and notes are there in both)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for ln in bom.lines:
        w.writerow(("item", ln.group, ln.part_id or "", ln.kind, ln.name, ln.name_ja or "", ln.needed, ln.spare,
                    ln.owned, ln.included, ln.buy, ln.quantity, ln.pack_size, ln.packs,
                    _int(ln.pack_price) if ln.pack_price is not None else "",
                    _int(ln.amount) if ln.amount is not None else "",
                    (ln.amount or ln.pack_price).currency if (ln.amount or ln.pack_price) else "",
                    ln.price_source, ln.note_ja, ln.note_en))
    for cur, m in bom.totals().items():
        w.writerow(("total", "", "", "", "total", "総額", "", "", "", "", "", "", "", "", "", _int(m), cur, "", "", ""))
    return buf.getvalue()


# --- Markdown ------------------------------------------------------------------------------------

def render_md(bom: Bom, lang: str = "ja") -> str:
    """The seed's table layout: item | needed | qty | price | note, then the total in bold."""
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    w = {k: word(k, lang) for k in WORDS}
    out = [f"# BOM — {bom.cluster}", "", f"`{bom.source}`: {w['counted']}.", "",
           f"|{w['item']}|{w['needed']}|{w['quantity']}|{w['price']}|{w['note']}|", "|---|---:|---:|---:|---|"]
    for ln in bom.lines:
        out.append(f"|{cell(_name(ln, lang))}|{ln.needed}|{ln.quantity}|{price_cell(bom, ln)}|{cell(_note(ln, lang))}|")
    for cur in bom.totals():
        out.append(f"|{w['total']} ({cur})|||**{total_cell(bom)}**||")
    out += ["", f"|{w['group']}|{w['subtotal']} ({w['price']})|", "|---|---:|"]
    for g in bom.groups():
        out.append(f"|{group_name(g, lang)} ({g})|{subtotal_cell(bom, g)}|")
    acr = acrylic_summary(bom, lang)
    if acr:
        out += ["", f"## {w['acrylic']}", ""] + [f"- {s.strip()}" for s in acr]
    if bom.warnings:
        out += ["", f"## {w['warnings']}", ""] + [f"- {x}" for x in bom.warnings]
    return "\n".join(out) + "\n"


# --- JSON ----------------------------------------------------------------------------------------

def _num(d: Decimal):
    """A measurement as a JSON number: a Decimal written without passing through float."""
    return int(d) if d == d.to_integral_value() else _Raw(d)


class _Raw(str):
    """A Decimal's digits that the JSON writer emits as a number (see render_json)."""


def _money(m: Money | None):
    return None if m is None else {"amount": int(m.amount), "currency": m.currency}


def to_data(bom: Bom) -> dict:
    totals = bom.totals()
    data = {
        "cluster": bom.cluster,
        "source": bom.source,
        "currency": next(iter(totals), "JPY"),
        "total": int(bom.total.amount),
        "totals": {c: int(m.amount) for c, m in totals.items()},
        "subtotals": {g: {c: int(m.amount) for c, m in bom.subtotal(g).items()} for g in bom.groups()},
        "lines": [
            {"group": ln.group, "part_id": ln.part_id, "kind": ln.kind, "name": ln.name, "name_ja": ln.name_ja,
             "needed": ln.needed, "spare": ln.spare, "owned": ln.owned, "included": ln.included, "buy": ln.buy,
             "quantity": ln.quantity, "pack_size": ln.pack_size, "packs": ln.packs,
             "pack_price": _money(ln.pack_price), "amount": _money(ln.amount), "price_source": ln.price_source,
             "note_ja": ln.note_ja, "note_en": ln.note_en}
            for ln in bom.lines
        ],
        "warnings": list(bom.warnings),
    }
    if bom.acrylic is not None:
        data["acrylic"] = acrylic_data(bom.acrylic)
    return data


def acrylic_data(a: AcrylicEstimate) -> dict:
    """The price model's terms as data (the same keys whatever the language)."""
    return {
        "fabricator": a.fabricator, "sheet": a.sheet, "thickness": a.thickness, "basis": a.basis,
        "area_cm2": _num(a.area_cm2), "billed_area_cm2": _num(a.billed_area_cm2), "cut_m": _num(a.cut_m),
        "engrave_cm2": _num(a.engrave_cm2), "bends": a.bend_count,
        "material": _money(a.material), "subtotal": _money(a.subtotal), "tax": _money(a.tax),
        "shipping": _money(a.shipping), "estimate": _money(a.estimate), "low": _money(a.low),
        "high": _money(a.high), "quote": _money(a.quote), "charged": _money(a.charged),
        "unpriced": list(a.unpriced),
        "parts": [{"name": p.name, "width_mm": _num(p.width_mm), "height_mm": _num(p.height_mm),
                   "area_cm2": _num(p.area_cm2), "cut_m": _num(p.cut_m), "score_m": _num(p.score_m),
                   "engrave_cm2": _num(p.engrave_cm2), "bends": p.bends, "material": int(p.material.amount),
                   "cut": int(p.cut.amount), "score": int(p.score.amount), "engrave": int(p.engrave.amount),
                   "price": int(p.price.amount)} for p in a.parts],
        "source": a.source,
        "calibrated_on": [{"quote": c.quote, "what": c.what, "source": c.source} for c in a.calibrated_on],
    }


def render_json(bom: Bom) -> str:
    # measurements with decimals go out as numbers, digit for digit: marked, then unquoted
    def mark(o: object):
        if isinstance(o, _Raw):
            return f"\u0000{o}\u0000"
        if isinstance(o, dict):
            return {k: mark(v) for k, v in o.items()}
        if isinstance(o, list):
            return [mark(v) for v in o]
        return o

    text = json.dumps(mark(to_data(bom)), ensure_ascii=False, indent=2)
    return text.replace('"\\u0000', "").replace('\\u0000"', "") + "\n"


# --- PDF -----------------------------------------------------------------------------------------

def _pdf_rows(bom: Bom, lang: str, P: Callable[[str], Paragraph], R: Callable[[str], Paragraph]) -> tuple[list, list]:
    """The cost table's rows (Paragraphs: P left, R right-aligned) and its row styles."""
    from reportlab.lib import colors

    rows = [[P(word(k, lang)) for k in ("item", "needed", "quantity", "price", "note")]]
    style = []
    for g in bom.groups():
        for ln in (x for x in bom.lines if x.group == g):
            rows.append([P(_name(ln, lang)), R(str(ln.needed)), R(str(ln.quantity)), R(price_cell(bom, ln)),
                         P(_note(ln, lang))])
        rows.append([P(f"{group_name(g, lang)} {word('subtotal', lang)}"), "", "", R(subtotal_cell(bom, g)), ""])
        style.append(("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1), colors.whitesmoke))
    for cur in bom.totals():
        rows.append([P(f"{word('total', lang)} ({cur})"), "", "", R(total_cell(bom)), ""])
        style += [("LINEABOVE", (0, len(rows) - 1), (-1, len(rows) - 1), 1.0, colors.black)]
    return rows, style


def render_pdf(bom: Bom, lang: str = "ja") -> bytes:
    """An A4 cost table: the lines, group subtotals, the total, the acrylic estimate. Every
    string is set in runs of fonts that have its glyphs (writers.fonts), embedded."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm as MM
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from .writers import fonts

    base = fonts.base()
    small = ParagraphStyle("small", fontName=base, fontSize=7.5, leading=9.5)
    right = ParagraphStyle("right", parent=small, alignment=TA_RIGHT)
    head = ParagraphStyle("head", fontName=base, fontSize=14, leading=18)
    body = ParagraphStyle("body", fontName=base, fontSize=8, leading=10.5)

    def P(s: str, st: ParagraphStyle = small):
        return Paragraph(fonts.markup(s), st)

    rows, row_style = _pdf_rows(bom, lang, P, lambda s: P(s, right))
    style = [("FONTNAME", (0, 0), (-1, -1), base), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
             ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
             ("ALIGN", (1, 1), (3, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")] + row_style
    table = Table(rows, colWidths=[60 * MM, 14 * MM, 11 * MM, 26 * MM, 71 * MM], repeatRows=1)
    table.setStyle(TableStyle(style))
    story = [P(f"{word('title', lang)} — {bom.cluster}", head), P(f"{bom.source}: {word('counted', lang)}", body),
             Spacer(1, 4 * MM), table]
    if bom.acrylic is not None:
        story += [Spacer(1, 4 * MM)] + [P(s, small) for s in explain(bom.acrylic, lang)]
    story += [P(f"{word('warning', lang)}: {w}", small) for w in bom.warnings]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=14 * MM, rightMargin=14 * MM, topMargin=14 * MM,
                            bottomMargin=14 * MM, title=f"BOM {bom.cluster}", author="pirack",
                            invariant=1, initialFontName=base)  # invariant: same input, same bytes
    doc.build(story)
    return buf.getvalue()


def render(bom: Bom, fmt: str, lang: str = "ja"):
    """The BOM in one of FORMATS: text, or bytes for the PDF (the table as plain text, 140 wide)."""
    if fmt == "table":
        from rich.console import Console

        c = Console(record=True, width=140, file=io.StringIO())
        c.print(render_table(bom, lang))
        return c.export_text()
    return {"csv": lambda: render_csv(bom), "md": lambda: render_md(bom, lang), "json": lambda: render_json(bom),
            "pdf": lambda: render_pdf(bom, lang)}[fmt]()


def export_files(bom: Bom, lang: str = "ja") -> dict[str, bytes]:
    """What `rack export all` writes: bom/bom.{csv,md,json,pdf}."""
    return {"bom/bom.csv": render_csv(bom).encode(), "bom/bom.md": render_md(bom, lang).encode(),
            "bom/bom.json": render_json(bom).encode(), "bom/bom.pdf": render_pdf(bom, lang)}


# --- the acrylic's price model, explained --------------------------------------------------------

EXPLAIN = {
    "en": {
        "head": "Acrylic price model — {fab} ({name}), {t} {sheet}",
        "formula": ["  estimate = max(order minimum, order fee + material + Σ part + bends × bend fee) × (1 + tax) + shipping",
                    "  part     = max(part minimum, cut m × cut rate + score m × score rate + engraved cm² × engrave rate{pm})",
                    "  material = billed area × material rate ({t}); billed: {basis}"],
        "basis": {"parts": "each part's rectangle (in the part's price)",
                  "artboard": "the artboard: the rectangle around the nested parts, spacing included",
                  "sheets": "whole sheets"},
        "rates": "rates: material {mat} yen/cm² ({t}), cut {cut} yen/m, score {score} yen/m, engraving {eng} yen/cm², "
                 "bend {bend}, part minimum {pmin}, order fee {ofee}, order minimum {omin}, tax {tax} %, shipping {ship}",
        "none": "not priced", "parts": "parts:", "part_min": "→ part minimum {v}",
        "material": "material: {what} = {area} cm² × {rate} = {yen}",
        "subtotal": "subtotal: order fee {ofee} + material {mat} + parts {parts} + bends {bends} = {sub}",
        "order_min": " → order minimum {v}",
        "tax": "tax: {base} × {tax} % = {v}",
        "total": "estimate: {v} yen; range {lo}–{hi} yen (× {rlo}–{rhi})",
        "unpriced": "not priced: {v}",
        "bends": "{n} bend(s): no bend fee in the profile (pricing.bend_each)",
        "shipping": "shipping: not in the profile (pricing.shipping)",
        "quote": "quote: {q} yen (purchases.acrylic_quote) is charged; the estimate is {pct:+.1f} % of it",
        "noquote": "no quote: the estimate is charged; enter the service's quote as purchases.acrylic_quote",
        "source": "source: {v}",
        "calibrated": "CALIBRATED, not a published tariff: the coefficients were solved from these {n} quotes",
        "yen": "yen",
    },
    "ja": {
        "head": "アクリルの価格モデル — {fab} ({name}), {t} {sheet}",
        "formula": ["  推定 = max(注文の最低額, 注文手数料 + 材料 + Σ 部品 + 曲げ × 曲げ単価) × (1 + 消費税) + 送料",
                    "  部品 = max(部品の最低額, 切断 m × 切断単価 + 罫書き m × 罫書き単価 + 彫刻 cm² × 彫刻単価{pm})",
                    "  材料 = 課金面積 × 材料単価 ({t}); 課金面積: {basis}"],
        "basis": {"parts": "部品ごとの外接矩形 (部品の価格に含む)",
                  "artboard": "アートボード: 配置した部品を囲む矩形 (間隔を含む)",
                  "sheets": "板ごと"},
        "rates": "単価: 材料 {mat} 円/cm² ({t}), 切断 {cut} 円/m, 罫書き {score} 円/m, 彫刻 {eng} 円/cm², 曲げ {bend}, "
                 "部品の最低額 {pmin}, 注文手数料 {ofee}, 注文の最低額 {omin}, 消費税 {tax} %, 送料 {ship}",
        "none": "価格なし", "parts": "部品:", "part_min": "→ 部品の最低額 {v}",
        "material": "材料: {what} = {area} cm² × {rate} = {yen}",
        "subtotal": "小計: 注文手数料 {ofee} + 材料 {mat} + 部品 {parts} + 曲げ {bends} = {sub}",
        "order_min": " → 注文の最低額 {v}",
        "tax": "消費税: {base} × {tax} % = {v}",
        "total": "推定: {v} 円; 幅 {lo}–{hi} 円 (× {rlo}–{rhi})",
        "unpriced": "価格に含まないもの: {v}",
        "bends": "曲げ {n} 箇所: プロファイルに曲げ単価なし (pricing.bend_each)",
        "shipping": "送料: プロファイルになし (pricing.shipping)",
        "quote": "見積: {q} 円 (purchases.acrylic_quote) を計上; 推定は見積の {pct:+.1f} %",
        "noquote": "見積なし: 推定を計上。業者の見積を purchases.acrylic_quote に入れてください",
        "source": "出典: {v}",
        "calibrated": "公表された料金表ではなく、次の {n} 件の見積から係数を求めた較正モデル",
        "yen": "円",
    },
}


def _num_str(d: Decimal) -> str:
    return f"{d.normalize():f}"


def explain(a: AcrylicEstimate, lang: str = "en") -> list[str]:
    """The formula with every number filled in, term by term, and where the numbers come from."""
    E = EXPLAIN["ja" if lang == "ja" else "en"]
    out = [E["head"].format(fab=a.fabricator, name=a.fabricator_name, t=a.thickness, sheet=a.sheet)]
    pm = " + 外接矩形 cm² × 材料単価" if lang == "ja" else " + rectangle cm² × material rate"
    out += [f.format(pm=pm if a.basis == "parts" else "", t=a.thickness, basis=E["basis"][a.basis]) for f in E["formula"]]
    none = E["none"]
    out.append(E["rates"].format(
        mat=_num_str(a.yen_per_cm2), t=a.thickness, cut=_num_str(a.cut_per_m), score=_num_str(a.score_per_m),
        eng=_num_str(a.engrave_per_cm2), bend=_yen(a.bend_each) if a.bend_each is not None else none,
        pmin=_yen(a.per_part_min), ofee=_yen(a.per_order_fee), omin=_yen(a.per_order_min),
        tax=_num_str(a.tax_rate * 100), ship=_yen(a.shipping) if a.shipping is not None else none))
    out.append(E["parts"])
    out += [_explain_part(a, p, E) for p in a.parts]
    out += _explain_order(a, E)
    return out


def _explain_part(a: AcrylicEstimate, p: PartPrice, E: dict) -> str:
    terms = [f"{p.cut_m} m × {_num_str(a.cut_per_m)} = {_yen(p.cut)}"]
    if p.score_m:
        terms.append(f"{p.score_m} m × {_num_str(a.score_per_m)} = {_yen(p.score)}")
    terms.append(f"{p.engrave_cm2} cm² × {_num_str(a.engrave_per_cm2)} = {_yen(p.engrave)}")
    if a.basis == "parts":
        terms.append(f"{p.width_mm} × {p.height_mm} mm = {p.area_cm2} cm² × {_num_str(a.yen_per_cm2)} = {_yen(p.material)}")
    raw = p.material.amount + p.cut.amount + p.score.amount + p.engrave.amount
    line = f"  {p.name}: " + " + ".join(terms) + f" = {int(raw):,}"
    return line + (" " + E["part_min"].format(v=_yen(p.price)) if p.price.amount != raw else "")


def _explain_order(a: AcrylicEstimate, E: dict) -> list[str]:
    out = []
    if a.basis != "parts":
        what = " + ".join(f"{w} × {h} mm" for w, h in a.billed)
        out.append(E["material"].format(what=what, area=a.billed_area_cm2, rate=_num_str(a.yen_per_cm2),
                                        yen=_yen(a.material)))
    parts = sum(int(p.price.amount) for p in a.parts)
    line = E["subtotal"].format(ofee=_yen(a.per_order_fee), mat=_yen(a.material) if a.basis != "parts" else "0",
                                parts=f"{parts:,}", bends=_yen(a.bends), sub=_yen(a.subtotal))
    if a.before_tax != a.subtotal:
        line += E["order_min"].format(v=_yen(a.before_tax))
    out.append(line)
    out.append(E["tax"].format(base=_yen(a.before_tax), tax=_num_str(a.tax_rate * 100), v=_yen(a.tax)))
    rlo = (a.low.amount / a.estimate.amount).quantize(Decimal("0.01")) if a.estimate.amount else Decimal(1)
    rhi = (a.high.amount / a.estimate.amount).quantize(Decimal("0.01")) if a.estimate.amount else Decimal(1)
    out.append(E["total"].format(v=_yen(a.estimate), lo=_yen(a.low), hi=_yen(a.high), rlo=rlo, rhi=rhi))
    if a.unpriced:
        out.append(E["unpriced"].format(v="; ".join(E[k].format(n=a.bend_count) for k in a.unpriced)))
    if a.quote is not None:
        pct = (a.estimate.amount - a.quote.amount) / a.quote.amount * 100 if a.quote.amount else Decimal(0)
        out.append(E["quote"].format(q=_yen(a.quote), pct=pct))
    else:
        out.append(E["noquote"])
    out.append(E["source"].format(v=a.source))
    if a.calibrated_on:  # not a published tariff: say on what, plainly
        out.append(E["calibrated"].format(n=len(a.calibrated_on)))
        out += [f"  {c.quote:,} {E['yen']}: {c.what} ({c.source})" for c in a.calibrated_on]
    return out
