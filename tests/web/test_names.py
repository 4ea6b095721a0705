"""The one mapping: what a finding names -> scene nodes -> marks on plates."""

from __future__ import annotations

from rackdesign.web import names
from rackdesign.web.views import HoleView, PartView, PlateView


def part(name, kind, bbox, node=None, column=None):
    return PartView(name, name.split("#")[0], kind, kind, node, column, name, bbox)


# a base (z 0..3) and a tier (z 20..23), both 100 x 80 at the rack origin
HOLES = (HoleView((3, 3, 6, 6), "column", True, column="front-left"),
         HoleView((40, 30, 43, 33), "board", True, node="master"))
BASE = PlateView("base", "base", None, 100, 80, 0.0, 3.0, (0.0, 0.0), HOLES)
TIER = PlateView("tier-1-master", "tier", "master", 100, 80, 20.0, 3.0, (0.0, 0.0), HOLES)
PLATES = [BASE, TIER]
PARTS = [
    part("base#1", "plate", (0, 0, 0, 100, 80, 3)),
    part("tier-1-master#1", "plate", (0, 0, 20, 100, 80, 23)),
    part("spacer-m3-ff-20#1", "spacer", (1.5, 1.5, 3, 7.5, 7.5, 20), column="front-left"),
    part("rpi4b-8gb#1", "board", (35, 25, 28, 120, 81, 45), node="master"),
    part("rpi4b-8gb#2", "board", (35, 25, 60, 120, 81, 77), node="slave1"),
]


def test_instance_names_pass_through_and_catalog_ids_expand():
    assert names.scene_targets(["spacer-m3-ff-20#1"], None, PARTS) == ["spacer-m3-ff-20#1"]
    assert names.scene_targets(["rpi4b-8gb"], None, PARTS) == ["rpi4b-8gb#1", "rpi4b-8gb#2"]


def test_a_finding_about_a_node_names_only_that_nodes_parts():
    assert names.scene_targets(["rpi4b-8gb"], "slave1", PARTS) == ["rpi4b-8gb#2"]
    assert names.scene_targets([], "master", PARTS) == ["rpi4b-8gb#1"]


def test_a_plate_name_is_its_scene_node_and_its_whole_outline():
    scene = names.scene_targets(["base"], None, PARTS)
    assert scene == ["base#1"]
    marks = names.plate_marks(scene, PARTS, PLATES)
    assert set(marks) == {"base"} and marks["base"].outline


def test_a_spacer_marks_the_plates_it_joins_with_the_hole_under_it():
    marks = names.plate_marks(["spacer-m3-ff-20#1"], PARTS, PLATES)
    assert set(marks) == {"base", "tier-1-master"}
    for m in marks.values():
        assert m.holes == [0] and not m.outline


def test_a_board_marks_the_plate_it_stands_on_clipped_to_nothing_outside():
    marks = names.plate_marks(["rpi4b-8gb#1"], PARTS, PLATES)
    assert set(marks) == {"tier-1-master"}  # it stands on the tier, 5 mm above it; not the base
    assert marks["tier-1-master"].holes == [1]


def test_unknown_references_mark_nothing():
    assert names.finding_targets({"parts": ["nothing-like-it"], "node": None}, PARTS, PLATES) == \
        {"scene": [], "plates": {}}
