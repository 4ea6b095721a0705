"""The order note: what the service must do besides cutting, as a text written beside the cut
files (cut/order-note.txt), never in the cut layer.

The cut files carry geometry only (services cut every path of the cut colour); anything else —
which colour means what, the material, and above all the switch support's bend (where, which
way, how far, what inside radius) — goes to the service in words. Japanese first (the seed's
service is Japanese), then English. Figures come from the parts' notes (plates.support_part)
and the fabricator profile; nothing here computes geometry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..geometry2d import Part2D
from . import pens
from .plot import fmt_mm

if TYPE_CHECKING:
    from pirack.catalog import Fabricator

    from ..nesting import CutSheet

NAME = "order-note.txt"


def order_note(sheets: list[CutSheet], prof: Fabricator, files: list[str]) -> bytes:
    """The note for one cut job: `sheets` as nested (rackdesign.nesting.CutSheet), `files` the
    cut files it goes with (names relative to the note)."""
    parts = [p for sh in sheets for p in sh.parts]
    lines = _head(sheets, prof, files) + _colours(prof, parts) + _parts(parts) + _bends(parts) + _joints(parts)
    return ("\n".join(lines).rstrip() + "\n").encode()


def _head(sheets: list[CutSheet], prof: Fabricator, files: list[str]) -> list[str]:
    kinds = sorted({(sh.material, sh.thickness) for sh in sheets})
    material = ", ".join(f"{m} ({fmt_mm(t)} mm)" for m, t in kinds)
    return [f"ご注文メモ / Order note — {prof.name}", "",
            f"材料 / material: {material}",
            f"データ / files (1:1, mm): {', '.join(files)}",
            "データには加工線だけがあります。寸法・文字・このメモの内容はデータに入っていません。",
            "The files hold geometry only; dimensions and these instructions are not in them.", ""]


def _colours(prof: Fabricator, parts: list[Part2D]) -> list[str]:
    pen = pens(prof)
    used = {purpose for p in parts for purpose, _ in p.paths()}
    what = {"cut": ("切断 (閉じた線: 外形と穴)", "cut through (closed paths: outlines and holes)"),
            "engrave": ("彫刻 (塗り)", "engrave (filled)"),
            "score": ("けがき (切らない)", "score, do not cut through"),
            "bend": ("曲げ位置の線: 切らない・けがかない (下の曲げ加工の指示を参照)",
                     "bend line: do NOT cut or score; bend there (see the bending instruction below)")}
    out = ["色の意味 / colours:"]
    for purpose in ("cut", "engrave", "score", "bend"):
        if purpose in used:
            p = pen[purpose]
            ja, en = what[purpose]
            out.append(f"  {p.colour} (layer {p.layer}): {ja} / {en}")
    return out + [""]


def _parts(parts: list[Part2D]) -> list[str]:
    out = [f"部品 / parts ({len(parts)}):"]
    for p in parts:
        w, h = p.size
        extra = " — 曲げ加工 1 箇所 / one bend" if p.bend else ""
        out.append(f"  {p.name}: {fmt_mm(w)} x {fmt_mm(h)} mm, 穴 / holes {len(p.holes)}{extra}")
    return out + [""]


def _bends(parts: list[Part2D]) -> list[str]:
    out = []
    for p in parts:
        b = p.notes.get("bend") if p.bend else None
        if not b:
            continue
        w, h = p.size
        (x0, _), (x1, _) = p.bend[0].segments[0].start, p.bend[0].segments[-1].end
        edge = fmt_mm(h if abs(x1 - x0) < 1e-6 else w)  # the edge the bend line runs along
        at, angle, r = fmt_mm(b["at"]), fmt_mm(b["angle"]), fmt_mm(b["inner_radius"])
        out += [f"曲げ加工 / bending: {p.name}",
                f"  緑の線 ({edge} mm の辺に平行) で {angle}° 曲げてください。"
                f"線の位置: 足側の端から {at} mm (曲げ部の中心)。",
                f"  内側の曲げ半径 R {r} mm、板厚 {fmt_mm(p.thickness)} mm、ヒーターによる線曲げ。",
                f"  曲げ後の外寸: 足 {fmt_mm(b['foot'])} mm、壁 {fmt_mm(b['wall'])} mm (外側から)。",
                f"  Bend {angle}° on the green line (parallel to the {edge} mm edge), "
                f"{at} mm from the foot's end (the middle of the bend).",
                f"  Inside radius R {r} mm, sheet {fmt_mm(p.thickness)} mm, hot-line (strip heater) bending.",
                f"  After bending, outside legs: foot {fmt_mm(b['foot'])} mm, wall {fmt_mm(b['wall'])} mm.",
                f"  Flat length {fmt_mm(max(w, h))} mm = foot + wall - 2 x setback + bend allowance "
                f"{fmt_mm(b['allowance'])} mm (K = {b['k_factor']:g}).", ""]
    return out


def _joints(parts: list[Part2D]) -> list[str]:
    """The no-bend support (a service that does not bend): nothing for the service to do but cut;
    said so that nobody asks for a bend."""
    joined = [p.name for p in parts if p.notes.get("joint")]
    if not joined:
        return []
    return [f"曲げ加工なし / no bending: {', '.join(joined)}",
            "  スイッチの支えは2枚の板 (タブとスロット) です。切断のみで、組立・接着は注文者が行います。",
            "  The switch support is two plates joined by tabs and slots: cut only; the maker glues them.", ""]
