"""The coupon: a small test piece to cut before the whole order.

Two parts from the rack's own sheet:

    coupon-square   a 50.00 x 50.00 mm square with sharp corners ("50.00 mm" and the kerf
                    engraved): calipers across it check the service's scale and its kerf;
    coupon-fit      every hole size the design uses, drawn at nominal and ±0.1 mm (a screw
                    tells which one fits), and a slot as wide as the sheet is thick (does a
                    piece of the same sheet slide in?), each labelled with what it was drawn as.

Variants under the service's minimum hole are left out (and reported). Every hole the
coupon carries is listed in `Coupon.holes` with its drawn size and its place on the part
(mm from the part's lower-left corner), so a reader of the cut files can check each one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .geometry2d import Circle, Part2D, rounded_rect, slot

if TYPE_CHECKING:
    from pirack.catalog import Fabricator, Sheet
    from pirack.load import LoadedCluster

    from .engrave import Ring

SQUARE = 50.0  # mm: the reference square's side
VARIANTS = (-0.1, 0.0, 0.1)  # mm on the diameter
HEADERS = ("-0.1", "0", "+0.1")
TEXT = 2.2  # mm cap height of the labels
EDGE = 4.0  # mm from the plate edge to holes and labels
GAP = 2.0  # mm between a label and any cut (engrave.MARGIN)
SLOT_LENGTH = 15.0


@dataclass(frozen=True)
class CouponHole:
    nominal: float  # the design's diameter
    drawn: float  # nominal + variant
    center: tuple[float, float]  # on coupon-fit, from its lower-left corner


@dataclass
class Coupon:
    parts: list[Part2D]
    holes: list[CouponHole]
    slot_width: float
    kerf: float = 0.0  # mm compensated in the files
    skipped: list[str] = field(default_factory=list)  # variants left out, and why


def design_hole_sizes(parts: list[Part2D]) -> list[float]:
    """The round hole diameters the design cuts, to 0.01 mm, smallest first."""
    return sorted({round(h.diameter, 2) for p in parts for h in p.holes if isinstance(h, Circle)})


def build_coupon(parts: list[Part2D], sheet: Sheet, min_hole: float, kerf: float) -> Coupon:
    """The coupon for these flat parts, cut from `sheet` (a catalog Sheet)."""
    from pirack.units import mm

    thickness = mm(sheet.thickness)
    sizes = design_hole_sizes(parts)
    fit, holes, skipped = _fit_part(sizes, thickness, min_hole)
    square = Part2D("coupon-square", rounded_rect(0, 0, SQUARE, SQUARE, 0), thickness=thickness, material=sheet.id,
                    notes={"role": "coupon"})
    square.engrave = _centred([f"{SQUARE:.2f} mm", f"kerf {kerf:.2f}"], SQUARE / 2, SQUARE / 2)
    for p in (square, fit):
        p.thickness, p.material = thickness, sheet.id
    return Coupon([square, fit], holes, thickness, kerf, skipped)


def coupon_for(lc: LoadedCluster, parts: list[Part2D], profile: Fabricator, kerf: float | None,
               warn: Callable[[str], None] | None = None) -> Coupon:
    """The coupon of a loaded cluster's flat parts, for this fabricator and kerf option."""
    from pirack.units import mm

    from .kerf import kerf_for

    sheet = lc.catalog[lc.spec.rack.sheet]
    coupon = build_coupon(parts, sheet, profile.min_hole.at(mm(sheet.thickness)), kerf_for(profile, kerf))
    for why in coupon.skipped:
        if warn:
            warn(f"coupon: {why}: left out")
    return coupon


def coupon_files(coupon: Coupon, profile: Fabricator) -> dict[str, bytes]:
    """coupon/coupon-<material>.{pdf,svg,dxf}: the same sheet in every cut format."""
    from pirack.units import mm

    from .nesting import material_slug
    from .writers.dxf import sheet_dxf
    from .writers.pdf import sheet_pdf
    from .writers.svg import sheet_svg

    sheet = coupon_sheet(coupon, mm(profile.spacing), coupon.kerf)
    stem = f"coupon/coupon-{material_slug(sheet.material, sheet.thickness)}"
    return {f"{stem}.{ext}": write(sheet, profile) for ext, write in
            (("pdf", sheet_pdf), ("svg", sheet_svg), ("dxf", sheet_dxf))}


def _fit_part(sizes: list[float], thickness: float, min_hole: float):
    from .engrave import polygon_contour, text_polygons

    row_labels = [f"{d:.2f}" for d in sizes] + [f"t {thickness:.2f}"]
    label_w = max(_width(text_polygons(t, TEXT)) for t in row_labels + list(HEADERS))
    biggest = max(sizes, default=thickness) + max(VARIANTS)
    pitch = max(biggest + GAP * 2, label_w + 1.0)  # a column holds its header label
    x0 = EDGE + _width(text_polygons(max(row_labels, key=len), TEXT)) + GAP + biggest / 2
    row_h = max(biggest + 2.0, TEXT + 2 * GAP)
    width = max(SQUARE, x0 + pitch * (len(VARIANTS) - 1) + biggest / 2 + EDGE)
    height = EDGE + thickness + GAP + row_h * len(sizes) + TEXT + GAP + EDGE
    holes, cuts, skipped, engrave = [], [], [], []
    for h, x in zip(HEADERS, _columns(x0, pitch)):
        engrave += _at(text_polygons(h, TEXT), x - _width(text_polygons(h, TEXT)) / 2, height - EDGE - TEXT)
    for r, d in enumerate(reversed(sizes)):  # smallest at the bottom, next to the slot
        y = height - EDGE - TEXT - GAP - row_h * (r + 0.5)
        engrave += _at(text_polygons(f"{d:.2f}", TEXT), EDGE, y - TEXT / 2)
        for v, x in zip(VARIANTS, _columns(x0, pitch)):
            drawn = round(d + v, 3)
            if drawn < min_hole - 1e-9:
                skipped.append(f"Ø{drawn:.2f} (the {d:.2f} hole {v:+.1f}) is under the service's minimum hole {min_hole:.2f} mm")
                continue
            holes.append(CouponHole(d, drawn, (x, y)))
            cuts.append(Circle((x, y), drawn / 2))
    sy = EDGE + thickness / 2
    cuts.append(slot(_columns(x0, pitch)[1], sy, SLOT_LENGTH, thickness))
    engrave += _at(text_polygons(f"t {thickness:.2f}", TEXT), EDGE, sy - TEXT / 2)
    part = Part2D("coupon-fit", rounded_rect(0, 0, width, height, 0), cuts,
                  engrave=[polygon_contour(p) for p in engrave], notes={"role": "coupon"})
    return part, holes, skipped


def _columns(x0: float, pitch: float) -> list[float]:
    return [x0 + pitch * i for i in range(len(VARIANTS))]


def _width(polys: list[Ring]) -> float:
    return max((x for p in polys for x, _ in p), default=0.0)


def _at(polys: list[Ring], dx: float, dy: float):
    return [[(x + dx, y + dy) for x, y in p] for p in polys]


def _centred(lines: list[str], cx: float, cy: float):
    """Lines of text centred on (cx, cy), one under the other."""
    from .engrave import polygon_contour, text_polygons

    out = []
    step = TEXT * 2.2
    top = cy + step * (len(lines) - 1) / 2
    for i, line in enumerate(lines):
        polys = text_polygons(line, TEXT * 1.4 if i == 0 else TEXT)
        w = _width(polys)
        out += [polygon_contour(p) for p in _at(polys, cx - w / 2, top - i * step - TEXT / 2)]
    return out


def coupon_sheet(coupon: Coupon, spacing: float, kerf: float):
    """Both parts side by side on a sheet just large enough (an artboard that costs no more
    than the coupon), kerf-compensated when kerf > 0."""
    from .kerf import compensated
    from .nesting import CutSheet

    square, fit = compensated(coupon.parts, kerf)
    square = square.moved(spacing, spacing)
    fit = fit.moved(spacing * 2 + SQUARE, spacing)
    w = max(p.bbox()[2] for p in (square, fit)) + spacing
    h = max(p.bbox()[3] for p in (square, fit)) + spacing
    return CutSheet(square.material, square.thickness, 1, w, h, [square, fit], {})
