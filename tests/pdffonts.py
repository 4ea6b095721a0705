"""Every character a PDF shows, and whether the font it is shown in has its glyph.

The content streams are parsed with pypdf (Tf, Tj, TJ, ', "); each shown code is looked up in
the character map of the font file embedded in the PDF, read with fontTools. A character is
covered when its font is embedded and maps the code to a real glyph (not .notdef). A font
that is not embedded covers nothing: the viewer would substitute it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Shown:
    font: str  # the font's BaseFont
    code: int
    char: str  # from the font's ToUnicode map ("?" when it has none)
    covered: bool
    why: str = ""


def _descriptor(font):
    if "/DescendantFonts" in font:
        return font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
    return font.get("/FontDescriptor")


def _font_file(font):
    d = _descriptor(font)
    if d is None:
        return None
    d = d.get_object()
    for key in ("/FontFile2", "/FontFile3", "/FontFile"):
        if key in d:
            return d[key].get_object().get_data()
    return None


def _glyph_lookup(data: bytes):
    """code -> glyph name, from the embedded font's cmap subtables (a symbol cmap's codes at 0xF000 too)."""
    from fontTools.ttLib import TTFont

    tt = TTFont(io.BytesIO(data))
    maps = [t.cmap for t in tt["cmap"].tables]

    def glyph(code: int) -> str | None:
        for m in maps:
            for c in (code, 0xF000 + code):
                if c in m:
                    return m[c]
        return None

    return glyph


def _to_unicode(font) -> dict[int, str]:
    """The font's ToUnicode bfchar/bfrange entries (what reportlab writes)."""
    import re

    if "/ToUnicode" not in font:
        return {}
    text = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    out: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for i, c in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[c] = chr(int(dst, 16) + i)
    return out


def _strings(args, op: str):
    if op == "TJ":
        return [a for a in args[0] if isinstance(a, (str, bytes))]
    if op in ("Tj", "'"):
        return [args[0]]
    if op == '"':
        return [args[2]]
    return []


def shown(data: bytes) -> list[Shown]:
    """Every code shown on every page, with its font and whether that font has its glyph."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(data))
    out: list[Shown] = []
    for page in reader.pages:
        fonts = {k: v.get_object() for k, v in page["/Resources"].get("/Font", {}).items()}
        cache: dict[str, tuple] = {}
        current = None
        for args, op in ContentStream(page.get_contents(), reader).operations:
            op = op.decode()
            if op == "Tf":
                current = str(args[0])
                continue
            for s in _strings(args, op):
                raw = s.original_bytes if hasattr(s, "original_bytes") else bytes(s)
                out += _codes(fonts[current], raw, cache.setdefault(current, _font_info(fonts[current])))
    return out


def _font_info(font):
    raw = _font_file(font)
    wide = "/DescendantFonts" in font
    return str(font.get("/BaseFont")), (None if raw is None else _glyph_lookup(raw)), _to_unicode(font), wide


def _codes(font, raw: bytes, info) -> list[Shown]:
    name, glyph, uni, wide = info
    codes = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)] if wide else list(raw)
    out = []
    for code in codes:
        ch = uni.get(code, "?")
        if glyph is None:
            out.append(Shown(name, code, ch, False, "font not embedded"))
            continue
        g = glyph(code)
        ok = g is not None and g != ".notdef"
        out.append(Shown(name, code, ch, ok, "" if ok else f"no glyph ({g})"))
    return out
