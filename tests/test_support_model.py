"""The switch support as the fabricator makes it, in the layout and in the 3D model: the bent
"く" strip when the profile's service bends (anymany-pdf), the two plates joined by tabs and
slots of the cut files when it does not (generic-dxf, generic-svg)."""

import math

import pytest

from rackdesign.layout.switch_support import SLOT_CLEARANCE, SUPPORT_FOOT, support_form

BENDS, FLAT = "anymany-pdf", "generic-dxf"


@pytest.fixture(scope="module")
def cluster():
    from pirack.load import load_cluster

    return load_cluster(None)


def _layout(lc, fabricator):
    from rackdesign.layout import build_layout

    return build_layout(lc, fabricator)


def _support(lay):
    return next(p for p in lay.parts if p.kind == "support")


def _net_area(part) -> float:
    return abs(part.outline.area()) - sum(abs(h.area()) for h in part.holes)


def test_the_layout_places_the_support_the_service_makes(cluster):
    """Not bent: the foot is long enough for its slots, a web and the screws past them; the
    screws' nuts stay clear of the slots the wall stands in; the base reaches past the foot."""
    bent, flat = _layout(cluster, BENDS), _layout(cluster, FLAT)
    prof = cluster.catalog[FLAT]
    t = flat.thickness
    web = max(prof.min_web.at(t), t)
    assert _support(bent).params[4:] == (None, 0.0) and bent.support.foot == SUPPORT_FOOT
    assert _support(flat).params[4] == web
    form = support_form(t, web, flat.thickness_range[1])
    assert form.slot_width == pytest.approx(flat.thickness_range[1] + SLOT_CLEARANCE)
    hole = flat.support.holes[0][2]
    screw_x = flat.support.foot - flat.support.holes[0][0]  # from the wall's end of the foot
    assert screw_x - hole / 2 - (web + form.slot_width) >= web - 1e-9  # a web between slot and hole
    assert flat.support.foot - screw_x - hole / 2 >= web - 1e-9  # and between hole and the foot's end
    nut = next(p for p in flat.parts if p.role == "support-nut")
    sup = _support(flat)
    assert nut.bbox.x0 > sup.pos[0] + web + form.slot_width  # the nut clear of the slots (and the wall)
    # the base's support holes are where the foot's are
    base = flat.plate("base")
    foot_holes = sorted((round(sup.pos[0] + flat.support.foot - x, 3), round(sup.pos[1] + y, 3))
                        for x, y, _ in flat.support.holes)
    assert sorted((round(h.x, 3), round(h.y, 3)) for h in base.holes if h.kind == "support") == foot_holes
    assert base.width >= sup.pos[0] + flat.support.foot - 1e-9
    assert flat.plate("base").width > bent.plate("base").width  # the longer foot needs a wider base


@pytest.fixture(scope="module")
def models(cluster):
    """The default's assembly laid out for a service that bends and for one that does not,
    built once for the tests below: (bent layout, its placed solids, flat layout, its placed
    solids, the flat foot's and wall's cut parts)."""
    from rackdesign.model import build_assembly, placed_solids
    from rackdesign.pipeline import flat_parts_for

    lc = cluster
    bent_lay, flat_lay = _layout(lc, BENDS), _layout(lc, FLAT)
    cut = {p.name: p for p in flat_parts_for(lc, flat_lay, None, lc.catalog[FLAT])}
    return (bent_lay, placed_solids(build_assembly(bent_lay, lc.catalog)),
            flat_lay, placed_solids(build_assembly(flat_lay, lc.catalog)),
            cut["switch-support-foot"], cut["switch-support-wall"])


def _pair(flat) -> list:
    """The two-plate support's solids, the foot (thinner in z) first."""
    return sorted(flat["switch-support#1"].Solids(), key=lambda s: s.BoundingBox().zlen)


@pytest.mark.cad
def test_the_model_shows_the_bent_support_or_the_two_plates(models):
    """The assembly's support: one L-shaped solid when the service bends; when it does not, the
    foot and the wall plates of the cut files, each solid's volume their flat area x thickness
    (the tabs, the slots and nothing touching the nuts: the tests below)."""
    bent_lay, bent, _, flat, foot2d, wall2d = models
    t, sp = bent_lay.thickness, bent_lay.support
    strip = bent["switch-support#1"].Solids()
    assert len(strip) == 1
    holes = sum(math.pi * (d / 2) ** 2 for _, _, d in sp.holes)
    l_shape = (t * sp.wall + (sp.foot - t) * t) * sp.width - holes * t  # sharp-cornered L, less the screw holes
    assert strip[0].Volume() == pytest.approx(l_shape, rel=1e-3)
    pair = _pair(flat)
    assert len(pair) == 2
    for solid, part in zip(pair, (foot2d, wall2d)):
        assert solid.Volume() == pytest.approx(_net_area(part) * part.thickness, rel=2e-3), part.name
    # the two bodies differ as the two parts do: more material, a longer foot, one solid more
    assert flat["switch-support#1"].Volume() != pytest.approx(bent["switch-support#1"].Volume(), rel=1e-3)


@pytest.mark.cad
def test_the_two_plates_wall_stands_in_the_foots_slots(models):
    """The foot and wall plates at their sizes, the wall's tabs reaching down through the foot's
    slots: its x span inside every slot's (the foot's x runs from its free end)."""
    bent_lay, _, flat_lay, flat, foot2d, _ = models
    t, sp = bent_lay.thickness, bent_lay.support
    foot, wall = (s.BoundingBox() for s in _pair(flat))
    x0, _, z0 = _support(flat_lay).pos
    assert (foot.xlen, foot.ylen, foot.zlen) == pytest.approx((flat_lay.support.foot, sp.width, t), abs=1e-6)
    assert (wall.xlen, wall.zlen) == pytest.approx((t, flat_lay.support.wall), abs=1e-6)
    assert wall.zmin == pytest.approx(z0) and foot.zmin == pytest.approx(z0)  # the tabs go through the foot
    slots = [slot for slot, info in zip(foot2d.holes, foot2d.notes["holes"]) if info["kind"] == "tab-slot"]
    for slot in slots:
        sx0, _, sx1, _ = slot.bbox()
        assert x0 + flat_lay.support.foot - sx1 < wall.xmin and wall.xmax < x0 + flat_lay.support.foot - sx0


@pytest.mark.cad
def test_the_two_plates_touch_no_nut(models):
    _, _, _, flat, _, _ = models
    pair = _pair(flat)
    for name, nut in flat.items():
        if name.startswith("nut-"):
            for piece in pair:
                assert piece.intersect(nut).Volume() < 1e-3, name
