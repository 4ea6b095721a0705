"""The BOM's words: --lang switches every heading, label and total of the table, Markdown and
PDF (CSV columns and JSON keys stay the same); packs are shown only when packs are bought."""

from __future__ import annotations

import io
import json

import pytest

JA = ("もの", "必要", "個数", "価格(円)", "備考", "小計", "総額")
EN = ("Item", "Needed", "Qty", "Price (yen)", "Note", "subtotal", "Total")


def test_table_in_english_has_no_japanese_headings(rack, in_tmp):
    code, out, err = rack("bom", "--lang", "en")
    assert code == 0, err
    for w in EN:
        assert w in out, w
    for w in JA:
        assert w not in out, w
    code, ja, _ = rack("bom", "--lang", "ja")
    assert code == 0 and all(w in ja for w in JA) and "Total" not in ja


@pytest.mark.parametrize("lang, words, other", [("en", EN, JA), ("ja", JA, EN)])
def test_markdown_and_pdf_follow_the_language(rack, in_tmp, lang, words, other):
    from pypdf import PdfReader

    code, md, _ = rack("bom", "--lang", lang, "--format", "md")
    assert code == 0
    header = md.splitlines()[4]
    assert all(w in header for w in words[:5]) and not any(w in header for w in other[:5])
    assert f"|{words[-1]} (JPY)|" in md
    code, _, err = rack("bom", "--lang", lang, "--format", "pdf", "--out", f"b-{lang}.pdf")
    assert code == 0, err
    text = "".join(p.extract_text() for p in PdfReader(in_tmp / f"b-{lang}.pdf").pages)
    assert words[-1] in text and other[-1] not in text


def test_csv_columns_and_json_keys_do_not_change_with_the_language(rack, in_tmp):
    _, csv_ja, _ = rack("bom", "--lang", "ja", "--format", "csv")
    _, csv_en, _ = rack("bom", "--lang", "en", "--format", "csv")
    assert csv_ja == csv_en
    _, j_ja, _ = rack("bom", "--lang", "ja", "--format", "json")
    _, j_en, _ = rack("bom", "--lang", "en", "--format", "json")
    assert json.loads(j_ja) == json.loads(j_en)


def test_no_pack_shown_when_none_is_bought(rack, in_tmp):
    """Boxed parts (the HAT's standoffs) and owned parts buy no pack: nothing like '0×10'."""
    from pirack.load import load_cluster
    from rackdesign.bom import build_bom
    from rackdesign.bom_render import render_table
    from rackdesign.layout import build_layout
    from rich.console import Console

    lc = load_cluster(None)
    b = build_bom(lc, build_layout(lc))
    boxed = [ln for ln in b.lines if ln.pack_size > 1 and ln.packs == 0]
    assert boxed  # the seed has some (spacer-m2.5-ff-11 comes with the HATs)
    c = Console(record=True, width=160, file=io.StringIO())
    c.print(render_table(b, "en"))
    text = c.export_text()
    assert "0×" not in text
    assert "1×25" in text  # a bought pack is still shown
