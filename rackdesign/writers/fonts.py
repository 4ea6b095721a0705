"""Fonts for the PDFs we write: every character in a font that has its glyph, and that font embedded.

No single installed font covers what our drawings and the BOM print: IPAGothic has the
Japanese but no "≥"; Liberation Sans has Latin and the usual symbols (≥ ± Ø × ²) with
Helvetica's metrics (so text is as wide as the layouts were drawn for); DejaVu Sans has rarer
symbols (⌀). Text is split into runs, each in the first font of the chain that has the
character. All are TrueType fonts that reportlab subsets and embeds. Without them (a machine
without fonts-liberation / fonts-dejavu-core / fonts-ipafont-gothic) the chain falls back to
reportlab's built-in Helvetica (ASCII) and its CID font for the rest, which are not
embedded: the viewer supplies them.
"""

from __future__ import annotations

from pathlib import Path

LIBERATION_SANS = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
IPA_GOTHIC = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")
CID_FONT = "HeiseiKakuGo-W5"


def chain() -> list[str]:
    """Registered font names in order of preference (registered on first use)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    names = []
    for name, path in (("LiberationSans", LIBERATION_SANS), ("DejaVuSans", DEJAVU_SANS), ("IPAGothic", IPA_GOTHIC)):
        if path.exists():
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, str(path)))
            names.append(name)
    if "IPAGothic" not in names:  # no embeddable Japanese font: the viewer's
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        if CID_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
        names = (names or ["Helvetica"]) + [CID_FONT]
    return names


def covers(font: str, ch: str) -> bool:
    """True if the font has a glyph for the character."""
    from reportlab.pdfbase import pdfmetrics

    f = pdfmetrics.getFont(font)
    face = getattr(f, "face", None)
    if hasattr(face, "charToGlyph"):  # TrueType: its character map
        return ord(ch) in face.charToGlyph
    if font == CID_FONT:
        return True  # the viewer's Japanese font: assumed to have it
    return 32 <= ord(ch) < 127  # a built-in Type 1 font: ASCII for sure


def runs(text: str) -> list[tuple[str, str]]:
    """(font, text) runs: each character in the first font of the chain that has it."""
    fonts = chain()
    out: list[tuple[str, str]] = []
    for ch in text:
        font = next((f for f in fonts if covers(f, ch)), fonts[-1])
        if out and out[-1][0] == font:
            out[-1] = (font, out[-1][1] + ch)
        else:
            out.append((font, ch))
    return out


def base() -> str:
    """The first font of the chain: a canvas's initial font (a TrueType font is embedded only
    when text uses it, so a PDF without text lists no font)."""
    return chain()[0]


def width(text: str, size: float) -> float:
    """The width of the text in points at this size, run by run."""
    from reportlab.pdfbase import pdfmetrics

    return sum(pdfmetrics.stringWidth(s, f, size) for f, s in runs(text))


def markup(text: str) -> str:
    """Text for a platypus Paragraph: XML-escaped, each run in its font."""
    from xml.sax.saxutils import escape

    return "".join(f'<font name="{f}">{escape(s)}</font>' for f, s in runs(text))
