"""The BOM as a terminal table (rich), CSV, Markdown, JSON and a PDF cost table (reportlab).

Each renderer is a pure function of a `Bom` returning text or bytes; `export_files` gives the
files `rack export all` writes under bom/.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from .bom import Bom, Line

FORMATS = ("table", "csv", "md", "json", "pdf")
GROUP_JA = {"computers": "本体", "network": "ネットワーク", "storage": "ストレージ", "software": "ソフトウェア",
            "acrylic": "アクリル", "fasteners": "ネジ類", "other": "その他"}


def _yen(m) -> str:
    return "" if m is None else f"{int(m.amount):,}"


def _int(m) -> int | None:
    # amounts are integral Decimals (pirack.money refuses anything else)
    return None if m is None else int(m.amount)


def _note(ln: Line, lang: str) -> str:
    return ln.note_ja if lang == "ja" else ln.note_en


def _name(ln: Line, lang: str) -> str:
    return ln.display_name if lang == "ja" else ln.name


def total_str(bom: Bom) -> str:
    return " + ".join(str(m) for m in bom.totals().values()) or "0 JPY"


# --- table ---------------------------------------------------------------------------------------

def render_table(bom: Bom, lang: str = "ja"):
    """A rich Table: one row per line, a subtotal per group, the total."""
    from rich.table import Table

    t = Table(title=f"BOM — {bom.cluster}  ({bom.source})", show_edge=False, show_lines=False)
    for col, just in (("もの / item", "left"), ("必要", "right"), ("個数", "right"), ("パック", "right"),
                      ("価格(円)", "right"), ("備考 / note", "left")):
        t.add_column(col, justify=just)
    for g in bom.groups():
        rows = [ln for ln in bom.lines if ln.group == g]
        for ln in rows:
            pack = "" if ln.pack_size == 1 else f"{ln.packs}×{ln.pack_size}"
            t.add_row(_name(ln, lang), str(ln.needed), str(ln.quantity), pack,
                      _yen(ln.amount) if ln.amount is not None else "?", _note(ln, lang))
        sub = bom.subtotal(g)
        t.add_row(f"[dim]  {GROUP_JA.get(g, g)} 小計 / subtotal[/]", "", "", "",
                  f"[dim]{' + '.join(_yen(m) for m in sub.values()) or '0'}[/]", "", end_section=True)
    t.add_row("[bold]総額 / total[/]", "", "", "", f"[bold]{' + '.join(_yen(m) for m in bom.totals().values())}[/]",
              "JPY")
    return t


def acrylic_summary(bom: Bom) -> list[str]:
    a = bom.acrylic
    if a is None:
        return []
    out = [f"acrylic ({a.sheet}, {a.fabricator}): {len(a.parts)} parts, {a.area_cm2} cm², cut {a.cut_m} m, "
           f"engraved {a.engrave_cm2} cm²; estimate {a.estimate}"
           + (f", quote {a.quote} (charged)" if a.quote is not None else " (charged: no quote given)")]
    for p in a.parts:
        out.append(f"  {p.name}: {p.width_mm} × {p.height_mm} mm = {p.area_cm2} cm², cut {p.cut_m} m, "
                   f"engraved {p.engrave_cm2} cm² -> material {_yen(p.material)} + cut {_yen(p.cut)} + "
                   f"engraving {_yen(p.engrave)} = {_yen(p.price)} yen")
    out.append(f"  price model: {a.yen_per_cm2} yen/cm² ({a.thickness}), {a.cut_per_m} yen/m cut, "
               f"{a.engrave_per_cm2} yen/cm² engraved, per part ≥ {_yen(a.per_part_min)}, "
               f"per order ≥ {_yen(a.per_order_min)} yen")
    return out


# --- CSV -----------------------------------------------------------------------------------------

CSV_COLUMNS = ("row", "group", "part_id", "kind", "name", "name_ja", "needed", "spare", "owned", "included",
               "buy", "quantity", "pack_size", "packs", "pack_price", "amount", "currency", "price_source",
               "note_ja", "note_en")


def render_csv(bom: Bom) -> str:
    """One row per line (row = item), then one per currency total (row = total)."""
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
    """The seed's table layout: もの | 個数 | 価格(円) | 備考, then the total in bold."""
    out = [f"# BOM — {bom.cluster}", "", f"From `{bom.source}`, counted from the rack model.", "",
           "|もの|必要|個数|価格(円)|備考|", "|---|---:|---:|---:|---|"]

    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    for ln in bom.lines:
        out.append(f"|{cell(_name(ln, lang))}|{ln.needed}|{ln.quantity}|"
                   f"{_yen(ln.amount) if ln.amount is not None else '?'}|{cell(_note(ln, lang))}|")
    for cur, m in bom.totals().items():
        out.append(f"|総額 ({cur})|||**{_yen(m)}**||")
    out.append("")
    out.append("|グループ|小計(円)|")
    out.append("|---|---:|")
    for g in bom.groups():
        out.append(f"|{GROUP_JA.get(g, g)} ({g})|{' + '.join(_yen(m) for m in bom.subtotal(g).values()) or '0'}|")
    acr = acrylic_summary(bom)
    if acr:
        out += ["", "## Acrylic", ""] + [f"- {acr[0]}"] + [f"  - {s.strip()}" for s in acr[1:]]
    if bom.warnings:
        out += ["", "## Warnings", ""] + [f"- {w}" for w in bom.warnings]
    return "\n".join(out) + "\n"


# --- JSON ----------------------------------------------------------------------------------------

def _num(d: Decimal):
    """A measurement as a JSON number: a Decimal written without passing through float."""
    return int(d) if d == d.to_integral_value() else _Raw(d)


class _Raw(str):
    """A Decimal's digits that the JSON writer emits as a number (see render_json)."""


def to_data(bom: Bom) -> dict:
    def money(m):
        return None if m is None else {"amount": int(m.amount), "currency": m.currency}

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
             "pack_price": money(ln.pack_price), "amount": money(ln.amount), "price_source": ln.price_source,
             "note_ja": ln.note_ja, "note_en": ln.note_en}
            for ln in bom.lines
        ],
        "warnings": list(bom.warnings),
    }
    a = bom.acrylic
    if a is not None:
        data["acrylic"] = {
            "fabricator": a.fabricator, "sheet": a.sheet, "thickness": a.thickness,
            "area_cm2": _num(a.area_cm2), "cut_m": _num(a.cut_m), "engrave_cm2": _num(a.engrave_cm2),
            "estimate": money(a.estimate), "quote": money(a.quote), "charged": money(a.charged),
            "parts": [{"name": p.name, "width_mm": _num(p.width_mm), "height_mm": _num(p.height_mm),
                       "area_cm2": _num(p.area_cm2), "cut_m": _num(p.cut_m), "engrave_cm2": _num(p.engrave_cm2),
                       "material": int(p.material.amount), "cut": int(p.cut.amount),
                       "engrave": int(p.engrave.amount), "price": int(p.price.amount)} for p in a.parts],
            "source": a.source,
        }
    return data


def render_json(bom: Bom) -> str:
    # measurements with decimals go out as numbers, digit for digit: marked, then unquoted
    def mark(o):
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

def render_pdf(bom: Bom, lang: str = "ja") -> bytes:
    """An A4 cost table: the lines, group subtotals, the total, the acrylic estimate."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm as MM
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from .writers import fonts

    font = fonts.chain()[-1]
    small = ParagraphStyle("small", fontName=font, fontSize=7.5, leading=9.5)
    head = ParagraphStyle("head", fontName=font, fontSize=14, leading=18)
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=10.5)

    def P(s: str, st=small):
        return Paragraph(s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), st)

    rows = [[P("もの / item"), P("必要"), P("個数"), P("価格(円)"), P("備考 / note")]]
    style = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
             ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
             ("ALIGN", (1, 1), (3, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    for g in bom.groups():
        for ln in (x for x in bom.lines if x.group == g):
            rows.append([P(_name(ln, lang)), str(ln.needed), str(ln.quantity),
                         _yen(ln.amount) if ln.amount is not None else "?", P(_note(ln, lang))])
        rows.append([P(f"{GROUP_JA.get(g, g)} 小計 / subtotal"), "", "",
                     " + ".join(_yen(m) for m in bom.subtotal(g).values()) or "0", ""])
        style.append(("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1), colors.whitesmoke))
    for cur, m in bom.totals().items():
        rows.append([P(f"総額 / total ({cur})"), "", "", _yen(m), ""])
        style += [("FONTSIZE", (0, len(rows) - 1), (-1, len(rows) - 1), 9),
                  ("LINEABOVE", (0, len(rows) - 1), (-1, len(rows) - 1), 1.0, colors.black)]
    table = Table(rows, colWidths=[62 * MM, 12 * MM, 12 * MM, 20 * MM, 74 * MM], repeatRows=1)
    table.setStyle(TableStyle(style))
    story = [P(f"部品表・費用 / Bill of materials — {bom.cluster}", head),
             P(f"{bom.source} — counted from the rack model", body), Spacer(1, 4 * MM), table]
    acr = acrylic_summary(bom)
    if acr:
        story += [Spacer(1, 4 * MM), P(acr[0], body)] + [P(s.strip(), small) for s in acr[1:]]
    for w in bom.warnings:
        story.append(P(f"warning: {w}", small))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=14 * MM, rightMargin=14 * MM, topMargin=14 * MM,
                            bottomMargin=14 * MM, title=f"BOM {bom.cluster}", author="pirack",
                            invariant=1)  # invariant: same input, same bytes
    doc.build(story)
    return buf.getvalue()


def export_files(bom: Bom) -> dict[str, bytes]:
    """What `rack export all` writes: bom/bom.{csv,md,json,pdf}."""
    return {"bom/bom.csv": render_csv(bom).encode(), "bom/bom.md": render_md(bom).encode(),
            "bom/bom.json": render_json(bom).encode(), "bom/bom.pdf": render_pdf(bom)}
