"""The coupon (a test piece to cut first) and the kerf option, read back from the files."""

from __future__ import annotations

import math

import pytest

from cutfiles import read_dxf, read_pdf, read_svg
from helpers import once
from pirack.catalog import load_catalog

CAT = load_catalog()


def coupon_and_files(kerf=None, pid="anymany-pdf"):
    from pirack.load import load_cluster
    from rackdesign.coupon import coupon_files, coupon_for
    from rackdesign.pipeline import flat_parts_for
    from rackdesign.layout import build_layout

    lc = load_cluster(None)
    prof = CAT[pid]
    coupon = coupon_for(lc, flat_parts_for(lc, build_layout(lc), None), prof, kerf)
    return coupon, prof, coupon_files(coupon, prof)


def coupon_design_parts():
    from pirack.load import load_cluster
    from rackdesign.pipeline import flat_parts_for
    from rackdesign.layout import build_layout

    lc = load_cluster(None)
    return flat_parts_for(lc, build_layout(lc), None)


def entities(files: dict[str, bytes], ext: str, prof):
    (data,) = [v for k, v in files.items() if k.endswith("." + ext)]
    if ext == "dxf":
        found = [e for e in read_dxf(data) if not e.raw.get("hatch")]
        return [e for e in found if e.style == prof.cut.layer]
    if ext == "svg":
        import svgelements as se

        w = se.SVG.parse(__import__("io").BytesIO(data), reify=True)
        # the sheet's size in mm is the viewBox
        vb = w.viewbox
        return [e for e in read_svg(data, vb.width, vb.height) if e.style.startswith(prof.cut.layer + ":")]
    return [e for e in read_pdf(data) if e.style == prof.cut.colour]


def size(e):
    x0, y0, x1, y1 = e.bbox()
    return x1 - x0, y1 - y0


@pytest.fixture
def coupon0():
    """The default's coupon without kerf, and its files, made once (in the first test that
    asks: CAD-free): (coupon, profile, files)."""
    return once("test_coupon.coupon0", lambda: coupon_and_files(kerf=0))


@pytest.mark.parametrize("ext", ["pdf", "svg", "dxf"])
def test_the_square_is_50_00_mm(ext, coupon0):
    coupon, prof, files = coupon0
    cut = entities(files, ext, prof)
    squares = [e for e in cut if e.closed and e.center is None and all(abs(s - 50.0) < 0.5 for s in size(e))]
    assert len(squares) == 1
    w, h = size(squares[0])
    assert abs(w - 50.0) <= 0.005 and abs(h - 50.0) <= 0.005
    assert abs(squares[0].length - 200.0) <= 0.01  # sharp corners: calipers sit on the full side


def test_the_coupon_holes_are_the_designs_sizes_each_in_three_variants(coupon0):
    from rackdesign.coupon import design_hole_sizes

    coupon, prof, _ = coupon0
    sizes = design_hole_sizes(coupon_design_parts())
    assert sizes and {h.nominal for h in coupon.holes} == {d for d in sizes if d + 0.1 >= prof.min_hole.at(3.0)}
    assert sorted({round(h.drawn - h.nominal, 2) for h in coupon.holes}) == [-0.1, 0.0, 0.1]


def fit_plate(coupon, cut):
    """The coupon's fit plate among the cut paths (its outline, by size)."""
    fit_w, fit_h = coupon.parts[1].size
    (plate,) = [e for e in cut if e.center is None and abs(size(e)[0] - fit_w) < 0.01 and abs(size(e)[1] - fit_h) < 0.01]
    return plate


@pytest.mark.parametrize("ext", ["pdf", "svg", "dxf"])
def test_the_holes_are_where_and_how_big_the_coupon_says(ext, coupon0):
    coupon, prof, files = coupon0
    cut = entities(files, ext, prof)
    x0, y0, _, _ = fit_plate(coupon, cut).bbox()
    circles = [e for e in cut if e.center is not None]
    assert len(circles) == len(coupon.holes)
    for hole in coupon.holes:
        want = (x0 + hole.center[0], y0 + hole.center[1])
        hit = [c for c in circles if math.dist(c.center, want) <= 0.01]
        assert len(hit) == 1, (hole, ext)
        assert abs(2 * hit[0].radius - hole.drawn) <= 0.01


@pytest.mark.parametrize("ext", ["pdf", "svg", "dxf"])
def test_the_slot_is_15_mm_long_and_as_wide_as_the_coupon_says(ext, coupon0):
    coupon, prof, files = coupon0
    cut = entities(files, ext, prof)
    plate = fit_plate(coupon, cut)
    slots = [e for e in cut if e.center is None and e is not plate and abs(size(e)[1] - coupon.slot_width) < 0.01]
    assert len(slots) == 1 and abs(size(slots[0])[0] - 15.0) < 0.01


def test_variants_under_the_minimum_hole_are_reported_not_cut():
    from rackdesign.coupon import build_coupon
    from rackdesign.geometry2d import Circle, Part2D, rounded_rect

    design = [Part2D("p", rounded_rect(0, 0, 50, 50, 0), [Circle((10, 10), 1.5), Circle((30, 10), 1.7)])]
    coupon = build_coupon(design, CAT["acrylic-cast-3mm"], min_hole=3.0, kerf=0.0)
    assert sorted(h.drawn for h in coupon.holes) == [3.0, 3.1, 3.3, 3.4, 3.5]  # 2.9 left out
    assert len(coupon.skipped) == 1 and "2.90" in coupon.skipped[0] and "minimum hole" in coupon.skipped[0]


@pytest.fixture
def coupon_kerf():
    """The default's coupon with a 0.2 mm kerf, and its files, made once (in the first test
    that asks: CAD-free): (coupon, profile, files)."""
    return once("test_coupon.coupon_kerf", lambda: coupon_and_files(kerf=0.2))


def test_kerf_moves_outlines_out_and_holes_in_arcs_kept(coupon_kerf):
    coupon, prof, files = coupon_kerf
    cut = entities(files, "dxf", prof)
    squares = [e for e in cut if e.closed and e.center is None and all(abs(s - 50.0) < 0.5 for s in size(e))]
    assert [round(s, 4) for s in size(squares[0])] == [50.2, 50.2]
    radii = sorted(round(2 * e.radius, 4) for e in cut if e.center is not None)
    assert radii == sorted(round(h.drawn - 0.2, 4) for h in coupon.holes)


def test_kerf_keeps_the_slot_ends_arcs(coupon_kerf):
    import ezdxf

    _, _, files = coupon_kerf
    (data,) = [v for k, v in files.items() if k.endswith(".dxf")]
    doc = ezdxf.read(__import__("io").StringIO(data.decode()))
    slot_bulges = [b for e in doc.modelspace().query('LWPOLYLINE[layer=="CUT"]')
                   for *_, b in e.get_points("xyb") if abs(b) > 1e-9]
    assert slot_bulges  # the slot's ends are still arcs (bulges), not flattened


def test_rack_export_kerf_option_and_profile_default(rack, in_tmp):
    """--kerf on the rack's own cut files (the cache keeps the kerfs apart); without it the
    profile decides: generic-dxf leaves the kerf to the service."""
    import ezdxf

    def outline_and_radii(*args):
        code, out, err = rack("export", "dxf", "--fabricator", "generic-dxf", *args)
        assert code == 0, err
        msp = ezdxf.readfile(next((in_tmp / "exports").rglob("*.dxf"))).modelspace()
        widths = sorted(round(max(p[0] for p in e.get_points("xy")) - min(p[0] for p in e.get_points("xy")), 4)
                        for e in msp.query('LWPOLYLINE[layer=="CUT"]'))
        return widths[-1], sorted({round(c.dxf.radius, 4) for c in msp.query("CIRCLE")})

    w0, r0 = outline_and_radii("--kerf", "0")
    w2, r2 = outline_and_radii("--kerf", "0.2")
    assert round(w2 - w0, 4) == 0.2
    assert r2 == [round(r - 0.1, 4) for r in r0]
    wd, rd = outline_and_radii()  # generic-dxf: kerf_compensation = "service" -> nothing
    assert (wd, rd) == (w0, r0)


def test_bad_kerf_exit_2_nothing_written(rack, in_tmp):
    code, out, err = rack("export", "dxf", "--kerf", "-0.1", "--no-cache")
    assert code == 2 and "--kerf" in err
    assert not (in_tmp / "exports").exists()


def test_rack_export_coupon_writes_three_formats(rack, in_tmp):
    code, out, err = rack("export", "coupon", "--no-cache")
    assert code == 0, err
    files = sorted(str(p.relative_to(in_tmp / "exports")) for p in (in_tmp / "exports").rglob("*") if p.is_file())
    assert files == [f"seed/coupon/coupon-acrylic-cast-3mm.{e}" for e in ("dxf", "pdf", "svg")]


def test_the_profile_default_applies_when_the_option_is_absent():
    from rackdesign.pipeline import sheets_for
    from rackdesign.geometry2d import Circle, Part2D, rounded_rect

    plate = Part2D("p", rounded_rect(0, 0, 40, 30, 3), [Circle((20, 15), 1.7)], thickness=3.0, material="m")
    ours = CAT["generic-dxf"].model_copy(update={"kerf_compensation": "ours"})  # kerf 0.15 mm

    def measured(kerf):
        (sheet,) = sheets_for([plate], ours, kerf)
        (p,) = sheet.parts
        return round(max(p.size), 4), round(p.holes[0].radius, 4)

    assert measured(None) == (40.15, 1.625)  # the profile's 0.15 mm
    assert measured(0.0) == (40.0, 1.7)  # --kerf 0 wins over the profile
    assert measured(0.3) == (40.3, 1.55)


def test_a_kerf_wider_than_a_hole_is_bad_input():
    from pirack.errors import InputError
    from rackdesign.geometry2d import Circle, Part2D, rounded_rect
    from rackdesign.kerf import compensated

    plate = Part2D("p", rounded_rect(0, 0, 40, 30, 3), [Circle((20, 15), 0.4)], thickness=3.0, material="m")
    with pytest.raises(InputError) as exc:
        compensated([plate], 1.0)
    assert exc.value.key == "--kerf" and "smaller than the kerf" in exc.value.message
