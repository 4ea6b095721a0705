"""`rack export` as a user meets it: the tree, re-reading every format, preflight, atomicity,
the cache. CAD-heavy exports run once per session (two `rack export all` runs in total)."""

import io
import os
import re
import sys
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from cutfiles import dxf_entity_keys, pattern_spans
from helpers import once, run_main_in, sh, stl_extent

SVGNS = "{http://www.w3.org/2000/svg}"


def tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def snapshot(root):
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


# --- without the CAD stack: DXF only -----------------------------------------------------------

@pytest.fixture
def default_dxf(tmp_path_factory):
    """`rack export dxf --no-cache` of the default cluster, run once (in the first test that
    asks: CAD-free, as the tests are) for the tests below: stderr, the exports folder, the files
    in it, the DXF's modelspace, the layout."""
    return once("test_export.default_dxf", lambda: _export_default_dxf(tmp_path_factory))


def _export_default_dxf(tmp_path_factory):
    import ezdxf

    from pirack.load import load_cluster
    from rackdesign.cli import main
    from rackdesign.layout import build_layout

    d = tmp_path_factory.mktemp("export-dxf")
    code, _, err = run_main_in(d, main, ["rack", "export", "dxf", "--no-cache"])
    assert code == 0, err
    exports = d / "exports"
    files = tree(exports)
    msp = ezdxf.readfile(exports / files[0]).modelspace()
    return SimpleNamespace(err=err, exports=exports, files=files, msp=msp, layout=build_layout(load_cluster(None)))


def test_export_dxf_default_writes_the_sheet_and_the_note(default_dxf):
    assert "does not take DXF" in default_dxf.err  # anymany-pdf takes PDF/AI: written with a warning
    files = default_dxf.files
    assert files == ["seed/cut/cut-acrylic-cast-3mm-sheet-1.dxf", "seed/cut/order-note.txt"]
    assert (default_dxf.exports / files[0]).stat().st_mode & 0o777 == 0o644  # for the person who sends it on


def test_export_dxf_default_is_mm_with_the_layers_and_no_text(default_dxf):
    import ezdxf

    doc = ezdxf.readfile(default_dxf.exports / default_dxf.files[0])
    assert doc.header["$INSUNITS"] == 4
    assert {"CUT", "ENGRAVE", "SCORE"} <= {la.dxf.name for la in doc.layers}
    assert not list(default_dxf.msp.query("TEXT MTEXT"))


def test_export_dxf_default_cuts_every_hole_of_the_layout(default_dxf):
    lay = default_dxf.layout
    circles = default_dxf.msp.query('CIRCLE[layer=="CUT"]')
    expected = sorted(round(h.diameter, 3) for p in lay.plates for h in p.holes)
    expected += sorted(round(d, 3) for _, _, d in (lay.support.holes if lay.support else ()))
    assert sorted(round(2 * c.dxf.radius, 3) for c in circles) == sorted(expected)


def _cut_boxes(msp) -> list[tuple]:
    """The bounding box of every cut outline and polyline hole."""
    boxes = []
    for e in msp.query('LWPOLYLINE[layer=="CUT"]'):
        xs, ys = zip(*((p[0], p[1]) for p in e.get_points("xy")))
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return boxes


def _by_plate(centres, boxes) -> list[list]:
    """Centres grouped by the plate they are on: the smallest cut outline whose box holds them."""
    by_plate = {}
    for c in centres:
        inside = [b for b in boxes if b[0] < c.x < b[2] and b[1] < c.y < b[3]]
        by_plate.setdefault(min(inside, key=lambda b: (b[2] - b[0]) * (b[3] - b[1])), []).append(c)
    return list(by_plate.values())


def test_export_dxf_default_board_holes_are_the_pi4_pattern_per_tier(default_dxf):
    """Per tier, four circles 58.0 x 49.0 mm apart (the Pi 4's pattern)."""
    lay, msp = default_dxf.layout, default_dxf.msp
    (bd,) = {h.diameter for p in lay.plates for h in p.holes if h.kind == "board"}
    board = [c.dxf.center for c in msp.query('CIRCLE[layer=="CUT"]') if abs(2 * c.dxf.radius - bd) < 1e-6]
    groups = _by_plate(board, _cut_boxes(msp))
    assert len(groups) == 2  # master and slave1
    assert all(len(g) == 4 for g in groups)
    for g in groups:
        short, long = pattern_spans([(p.x, p.y) for p in g])
        assert short == pytest.approx(49.0, abs=0.01)
        assert long == pytest.approx(58.0, abs=0.01)


def test_export_dxf_default_outlines_closed_nothing_drawn_twice(default_dxf):
    msp = default_dxf.msp
    assert all(e.closed for e in msp.query('LWPOLYLINE[layer=="CUT"]'))
    keys = dxf_entity_keys(msp)
    assert len(keys) == len(set(keys))


def test_export_dxf_default_bend_line_on_its_own_layer(default_dxf):
    """The switch support's bend line: on its own layer, never cut or scored."""
    msp = default_dxf.msp
    assert list(msp.query('LWPOLYLINE[layer=="BEND"]'))
    assert not list(msp.query('LWPOLYLINE[layer=="SCORE"]'))


def test_unknown_fabricator_exit_2(rack, in_tmp):
    code, out, err = rack("export", "dxf", "--fabricator", "nope")
    assert code == 2 and "--fabricator" in err and "nope" in err
    assert not (in_tmp / "exports").exists()


def test_unknown_format_exit_2(rack, in_tmp):
    code, out, err = rack("export", "png")
    assert code == 2 and "FORMAT" in err
    assert not (in_tmp / "exports").exists()


def test_unwritable_out_is_one_line_naming_the_path(rack, in_tmp):
    code, out, err = rack("export", "dxf", "--out", "/proc/forbidden", "--no-cache")
    assert code == 1 and "Traceback" not in err
    assert err.splitlines()[-1].startswith("error: /proc/forbidden") and err.count("error:") == 1


@pytest.mark.parametrize("link", ["seed", "seed/cut"])
@pytest.mark.parametrize("cached", [False, True])
def test_a_link_below_out_is_not_followed(rack, in_tmp, link, cached):
    """`out/seed` (or its cut/) a link to a folder elsewhere: the export wrote its files there,
    and removed that folder's stale cut-*.dxf. Now it refuses, one line naming the link, exit 1,
    and nothing outside OUT is written or removed, from a fresh render or from the cache."""
    if cached:
        assert rack("export", "dxf", "--out", "warm")[0] == 0  # fills the cache for this file
    elsewhere = in_tmp / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "cut-acrylic-cast-3mm-sheet-9.dxf").write_text("someone else's")
    (in_tmp / "out" / link).parent.mkdir(parents=True, exist_ok=True)
    (in_tmp / "out" / link).symlink_to(elsewhere)
    code, out, err = rack("export", "dxf", "--out", "out", *([] if cached else ["--no-cache"]))
    assert code == 1 and f"out/{link}: is a symbolic link" in err and "Traceback" not in err, err
    assert [p.name for p in elsewhere.iterdir()] == ["cut-acrylic-cast-3mm-sheet-9.dxf"]


@pytest.mark.cad
def test_cad_worker_failure_comes_back_as_it_was(monkeypatch):
    """An OSError in the CAD worker crosses the pipe as it was, its path with it (run_app then
    prints it as one line, exit 1); an exception that cannot cross comes back as WorkFailed."""
    import multiprocessing

    import rackdesign.export as ex
    from pirack.catalog import load_catalog

    def fails(front, layout, models, catalog):
        raise PermissionError(13, "Permission denied", "/proc/forbidden/rack.step")
        yield  # a generator, as the real one

    monkeypatch.setattr(ex, "_cad_work", fails)
    parent, child = multiprocessing.Pipe()
    worker = ex.CadWorker()
    worker.conn = parent
    parent.send((False, None, ["step"], load_catalog().root, None))  # no user parts/ folder
    ex._cad_worker_main(child)  # what the forked process runs
    with pytest.raises(PermissionError) as ei:
        worker.result("step")
    assert (ei.value.filename, ei.value.strerror) == ("/proc/forbidden/rack.step", "Permission denied")

    class Unpicklable(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a} {b}")

    from pirack.errors import WorkFailed

    got = ex._portable(Unpicklable("x", "y"))
    assert isinstance(got, WorkFailed) and str(got) == "CAD worker: Unpicklable: x y"
    lost = FileNotFoundError(2, "No such file", "/x")
    assert ex._portable(lost) is lost  # an OSError crosses as it is, its path with it


def test_fabricator_override(rack, in_tmp):
    code, out, err = rack("export", "dxf", "--fabricator", "generic-dxf", "--no-cache")
    assert code == 0 and "does not take" not in err


@pytest.fixture
def bad_plate(monkeypatch):
    """Make the design produce one plate with a given problem (see test_writers.bad_parts)."""
    import rackdesign.pipeline as pipeline

    def use(part):
        monkeypatch.setattr(pipeline, "flat_parts_for", lambda lc, layout, warn, prof=None: [part])

    return use


@pytest.mark.parametrize("case", range(7))
def test_preflight_exit_1_writes_nothing(rack, in_tmp, bad_plate, case):
    from test_writers import bad_parts

    part, words = bad_parts()[case]
    bad_plate(part)
    code, out, err = rack("export", "dxf", "--no-cache")
    assert code == 1, err
    assert f"plate '{part.name}'" in err
    for w in words:
        assert w in err.replace("\n", " ") or w in " ".join(err.split()), err
    assert not (in_tmp / "exports").exists()


def test_failed_export_leaves_earlier_files_untouched(rack, in_tmp, monkeypatch):
    import rackdesign.export as ex
    import rackdesign.pipeline as pipeline
    import rackdesign.writers.dxf as wdxf
    from test_writers import pi_plate

    plates = [pi_plate(f"p{i}", 180, 180, d=3.0) for i in range(7)]  # six fit a 600 x 400 sheet: two sheets
    monkeypatch.setattr(pipeline, "flat_parts_for", lambda lc, layout, warn, prof=None: plates)
    code, out, err = rack("export", "dxf", "--no-cache")
    assert code == 0, err
    root = in_tmp / "exports" / "seed"
    before = snapshot(root)
    assert len(before) == 3  # two sheets and the order note

    real, calls = wdxf.sheet_dxf, []

    def flaky(sheet, prof):
        calls.append(sheet.name)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(sheet, prof) + b"999\nchanged\n"

    monkeypatch.setattr(wdxf, "sheet_dxf", flaky)
    with pytest.raises(RuntimeError):
        ex.export("dxf", None, in_tmp / "exports", use_cache=False)
    assert len(calls) == 2
    assert snapshot(root) == before
    assert [p.name for p in (in_tmp / "exports").iterdir()] == ["seed"]  # no temporary folder left


# --- with the CAD stack: two `rack export all` runs shared by the tests below ------------------

@pytest.fixture(scope="session")
def default_all(tmp_path_factory):
    d = tmp_path_factory.mktemp("export-default")
    env = {"XDG_CACHE_HOME": str(d / "cache"), "SOURCE_DATE_EPOCH": "1725062400"}
    r = sh("rack", "export", "all", cwd=d, env=env)
    assert r.returncode == 0, r.stderr + r.stdout
    return d, env, r.stderr


@pytest.fixture(scope="session")
def init4_all(tmp_path_factory):
    d = tmp_path_factory.mktemp("export-init4")
    r = sh("rack", "init", "--nodes", "4", "--name", "four", "c4.toml", cwd=d)
    assert r.returncode == 0, r.stderr
    # another fabricator than the file's (anymany-pdf): the BOM must price its acrylic by this one
    r = sh("rack", "export", "all", "c4.toml", "--fabricator", "generic-svg", cwd=d,
           env={"XDG_CACHE_HOME": str(d / "cache")})
    assert r.returncode == 0, r.stderr + r.stdout
    return d


@pytest.mark.cad
def test_export_all_tree(default_all):
    d, _, _ = default_all
    root = d / "exports" / "seed"
    files = tree(root)
    for f in ("cut/cut-acrylic-cast-3mm-sheet-1.pdf", "cut/cut-acrylic-cast-3mm-sheet-1.svg",
              "cut/cut-acrylic-cast-3mm-sheet-1.dxf", "drawings/front-plan.pdf", "drawings/front-plan.svg",
              "drawings/front-plan.png", "drawings/floor-plan-base.pdf", "drawings/floor-plan-top.svg",
              "model/rack.step", "model/rack.stl"):
        assert f in files, files
    assert not list(root.rglob(".*"))  # nothing hidden or temporary among the files for the fabricator


CUT_SHEET = "cut-acrylic-cast-3mm-sheet-1"


@pytest.mark.cad
def test_cut_pdf_is_the_sheet_at_1_to_1_cut_in_red(default_all):
    from pypdf import PdfReader

    d, _, _ = default_all
    page = PdfReader(d / "exports" / "seed" / "cut" / f"{CUT_SHEET}.pdf").pages[0]
    assert float(page.mediabox.width) / 72 * 25.4 == pytest.approx(600, abs=0.1)
    assert float(page.mediabox.height) / 72 * 25.4 == pytest.approx(400, abs=0.1)
    assert re.search(r"\b1 0 0 RG\b", page.get_contents().get_data().decode("latin-1"))


@pytest.mark.cad
def test_cut_svg_is_the_sheet_in_mm_cut_in_red_no_text(default_all):
    d, _, _ = default_all
    root = ET.parse(d / "exports" / "seed" / "cut" / f"{CUT_SHEET}.svg").getroot()
    assert (root.get("width"), root.get("height")) == ("600mm", "400mm")
    assert [float(v) for v in re.split(r"[ ,]+", root.get("viewBox"))] == [0, 0, 600, 400]
    assert not list(root.iter(SVGNS + "text"))
    assert {el.get("stroke") for el in root.find(f"{SVGNS}g[@id='CUT']")} == {"#ff0000"}


def _red_columns_and_rows(img) -> tuple[list[int], list[int]]:
    """The pixel columns and rows of an RGB image that hold a red (cut) pixel."""
    px = img.load()
    cols = [x for x in range(img.width) if any(_red(px[x, y]) for y in range(img.height))]
    rows = [y for y in range(img.height) if any(_red(px[x, y]) for x in range(img.width))]
    return cols, rows


@pytest.mark.cad
def test_cut_pdf_pixels_span_the_plates_from_the_profile_spacing(default_all):
    """Pixels: the red cut paths span the plates' sizes at 72 dpi (± 2 px)."""
    from PIL import Image

    from pirack.load import load_cluster
    from rackdesign.layout import build_layout
    from rackdesign.writers.pdf import pdf_to_png

    d, _, _ = default_all
    pdf = (d / "exports" / "seed" / "cut" / f"{CUT_SHEET}.pdf").read_bytes()
    lay = build_layout(load_cluster(None))
    cols, rows = _red_columns_and_rows(Image.open(io.BytesIO(pdf_to_png(pdf, 72))).convert("RGB"))
    used_w, used_h = (max(cols) - min(cols)) / 72 * 25.4, (max(rows) - min(rows)) / 72 * 25.4
    biggest = max(max(p.width, p.depth) for p in lay.plates)
    assert max(used_w, used_h) >= biggest - 2 * 25.4 / 72
    assert min(cols) == pytest.approx(3 / 25.4 * 72, abs=2)  # the profile's 3 mm spacing from the edge


def _red(p):
    return p[0] > 200 and p[0] - p[1] > 40 and p[0] - p[2] > 40


DARK = bytes(1 if v < 160 else 0 for v in range(256))


def _longest_dark_runs(img) -> list[int]:
    """Per pixel row of a grey image, its longest run of dark pixels."""
    rows = img.tobytes().translate(DARK)
    return [max(map(len, re.findall(b"\x01+", rows[y * img.width:(y + 1) * img.width])), default=0)
            for y in range(img.height)]


@pytest.mark.cad
def test_front_plan_png_shows_the_rack_to_scale(default_all):
    """The PNG preview is the front plan at its printed scale: the lowest line as wide as the base
    is the base's bottom edge, and every line as wide as the stack plates lies at one of their
    faces' heights above it, the top plate's top face highest."""
    from PIL import Image
    from pypdf import PdfReader

    from pirack.load import load_cluster
    from rackdesign.layout import build_layout

    d, _, _ = default_all
    dr = d / "exports" / "seed" / "drawings"
    text = PdfReader(dr / "front-plan.pdf").pages[0].extract_text()
    assert "seed" in text and "2024-08-31" in text
    scale = int(re.search(r"scale 1:(\d+)", text).group(1))
    px_per_mm = 100 / 25.4 / scale  # the PNG is the PDF at 100 dpi
    img = Image.open(dr / "front-plan.png").convert("L")
    runs = [n / px_per_mm for n in _longest_dark_runs(img)]  # in model mm
    lay = build_layout(load_cluster(None))
    base, top = lay.plate("base"), lay.plate("top")
    bottom = max(y for y, r in enumerate(runs) if abs(r - base.width) < 1.0)
    heights = {(bottom - y) / px_per_mm for y, r in enumerate(runs) if abs(r - top.width) < 1.0}
    faces = [z for p in lay.plates if p.role != "base" for z in (p.z, p.top)]
    assert len(heights) >= 3 and max(heights) == pytest.approx(top.top, abs=0.6)
    assert all(min(abs(h - z) for z in faces) < 0.6 for h in heights), (sorted(heights), faces)


@pytest.mark.cad
def test_step_reimports_to_the_layout_size(default_all):
    import cadquery as cq

    from pirack.load import load_cluster
    from rackdesign.layout import build_layout

    d, _, _ = default_all
    shape = cq.importers.importStep(str(d / "exports" / "seed" / "model" / "rack.step"))
    bb = shape.val().BoundingBox()
    w, dp, h = build_layout(load_cluster(None)).size
    assert (bb.xlen, bb.ylen, bb.zlen) == (pytest.approx(w, abs=0.5), pytest.approx(dp, abs=0.5), pytest.approx(h, abs=0.5))
    # the STL holds the same rack
    extent = stl_extent((d / "exports" / "seed" / "model" / "rack.stl").read_bytes())
    assert extent == [pytest.approx(w, abs=0.1), pytest.approx(dp, abs=0.1), pytest.approx(h, abs=0.1)]


@pytest.mark.cad
def test_cache_hit_is_light(default_all):
    """A re-export of an unchanged file comes from the cache without loading the CAD stack or even
    the cluster loader, and writes the same bytes (how fast: bench/bench_export.py)."""
    d, env, _ = default_all
    before = snapshot(d / "exports")
    probe = (
        "import sys\n"
        "sys.argv = ['rack', 'export', 'all']\n"
        "from rackdesign.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = [m for m in ('cadquery', 'OCP', 'ezdxf', 'reportlab', 'shapely', 'matplotlib', 'pirack.load') if m in sys.modules]\n"
        "print('PROBE', ','.join(heavy))\n"
    )
    r = sh(sys.executable, "-c", probe, cwd=d, env=env)
    assert r.returncode == 0, r.stderr
    line = next(l for l in r.stdout.splitlines() if l.startswith("PROBE"))
    heavy = line.split(" ", 1)[1] if " " in line else ""
    assert heavy == "", f"the cache path imported {heavy}"
    assert "from cache" in r.stdout
    assert snapshot(d / "exports") == before


@pytest.mark.cad
def test_export_all_for_init_4_nodes(init4_all):
    import ezdxf

    root = init4_all / "exports" / "four"
    files = tree(root)
    assert "model/rack.step" in files and "drawings/front-plan.pdf" in files
    floor = [f for f in files if f.startswith("drawings/floor-plan-") and f.endswith(".pdf")]
    assert len(floor) >= 6  # base, four tiers, top (and the switch support)
    cuts = [f for f in files if f.startswith("cut/") and f.endswith(".dxf")]
    board = 0
    for f in cuts:
        msp = ezdxf.readfile(root / f).modelspace()
        board += sum(1 for c in msp.query("CIRCLE") if abs(2 * c.dxf.radius - 3.0) < 1e-6)
    assert board == 16  # four Pis, four holes each


@pytest.mark.cad
def test_export_all_prices_the_acrylic_by_the_chosen_fabricator(init4_all):
    import json

    from pirack.load import load_cluster
    from rackdesign.bom import acrylic_estimate
    from rackdesign.pipeline import flat_parts_for
    from rackdesign.layout import build_layout

    data = json.loads((init4_all / "exports" / "four" / "bom" / "bom.json").read_text())
    acr = data["acrylic"]
    assert acr["fabricator"] == "generic-svg"
    lc = load_cluster(init4_all / "c4.toml")
    assert lc.spec.rack.fabricator == "anymany-pdf"
    lay = build_layout(lc)
    parts = flat_parts_for(lc, lay, None)
    # generic-svg does not bend: its parts have the support as two plates (tabs and slots)
    svg_lay = build_layout(lc, "generic-svg")  # laid out for the fabricator it is cut for, as the export does
    svg = acrylic_estimate(lc, svg_lay, lc.catalog["generic-svg"], flat_parts_for(lc, svg_lay, None, lc.catalog["generic-svg"]))
    anymany = acrylic_estimate(lc, lay, lc.catalog["anymany-pdf"], parts)
    assert svg.estimate != anymany.estimate
    assert acr["estimate"]["amount"] == int(svg.estimate.amount)
    assert [p["price"] for p in acr["parts"]] == [int(p.price.amount) for p in svg.parts]
    line = next(ln for ln in data["lines"] if ln["kind"] == "acrylic")
    assert line["amount"]["amount"] == int(svg.estimate.amount)


LOGO = """<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10">
<circle cx="5" cy="5" r="5" fill="black"/></svg>"""


@pytest.mark.parametrize("width, ok", [("25 mm", True), ("300 mm", False)])
def test_logo_from_the_cluster_file(rack, in_tmp, width, ok):
    import ezdxf

    from pirack.load import default_text

    (in_tmp / "logo.svg").write_text(LOGO)
    text = default_text().replace("[rack.engraving]\nlabels = true",
                                  f'[rack.engraving]\nlabels = true\nlogo = "logo.svg"\nlogo_width = "{width}"')
    assert "logo.svg" in text
    (in_tmp / "cluster.toml").write_text(text)
    code, out, err = rack("export", "dxf", "--no-cache")
    if not ok:
        assert code == 2 and "rack.engraving.logo" in err and "does not fit" in err
        assert not (in_tmp / "exports").exists()
        return
    assert code == 0, err
    msp = ezdxf.readfile(next((in_tmp / "exports").rglob("*.dxf"))).modelspace()
    eng = list(msp.query('LWPOLYLINE[layer=="ENGRAVE"]'))
    widths = []
    for e in eng:
        xs = [p[0] for p in e.get_points("xy")]
        widths.append(max(xs) - min(xs))
    assert max(widths) == pytest.approx(25.0, abs=0.3)  # the logo's disc, 25 mm across


SQUARE = """<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10">
<rect x="0" y="0" width="10" height="5" fill="black"/></svg>"""


def test_changed_logo_is_not_served_from_the_cache(rack, in_tmp, monkeypatch):
    """The logo set with dotted keys and single quotes (no `logo = "..."` line): a new logo
    file must still miss the cache."""
    import ezdxf

    from pirack.load import default_text

    monkeypatch.setenv("XDG_CACHE_HOME", str(in_tmp / "cache"))
    text = default_text().replace("[rack.engraving]\nlabels = true",
                                  "engraving.labels = true\nengraving.logo = 'logo.svg'\nengraving.logo_width = '25 mm'")
    assert "[rack.engraving]" not in text and "engraving.logo = 'logo.svg'" in text
    (in_tmp / "cluster.toml").write_text(text)

    def logo_size():
        """(short side, long side) of the largest engraved outline: the logo (it may be turned)."""
        msp = ezdxf.readfile(next((in_tmp / "exports").rglob("*.dxf"))).modelspace()
        sizes = []
        for e in msp.query('LWPOLYLINE[layer=="ENGRAVE"]'):
            xs, ys = zip(*((p[0], p[1]) for p in e.get_points("xy")))
            sizes.append(sorted((max(xs) - min(xs), max(ys) - min(ys))))
        return max(sizes, key=lambda s: s[1])

    (in_tmp / "logo.svg").write_text(LOGO)
    code, out, err = rack("export", "dxf")
    assert code == 0, err
    assert "from cache" not in out
    assert logo_size() == pytest.approx([25.0, 25.0], abs=0.3)  # the disc, 25 mm across
    code, out, err = rack("export", "dxf")
    assert code == 0 and "from cache" in out  # the same inputs: the cache answers
    (in_tmp / "logo.svg").write_text(SQUARE)
    code, out, err = rack("export", "dxf")
    assert code == 0, err
    assert "from cache" not in out
    assert logo_size() == pytest.approx([12.5, 25.0], abs=0.3)  # the 2:1 rectangle, 25 mm wide


@pytest.mark.parametrize("argv", [["init", "/proc/x.toml"], ["bom", "--format", "csv", "--out", "/proc/x/bom.csv"]])
def test_an_unwritable_file_is_named_not_its_temp(rack, in_tmp, argv):
    """The atomic write's temp file (.x.toml.1a2b3c4d.tmp) is ours: the message names the file
    the person asked for."""
    code, out, err = rack(*argv)
    assert code == 1 and "Traceback" not in err and ".tmp" not in err, err
    assert err.splitlines()[-1].startswith("error: /proc/x"), err  # the file, or the folder it needs


def _logo_cases(d):
    (d / "big.svg").write_bytes(b"<svg" + b" " * 3_000_000 + b"/>")
    (d / "folder.svg").mkdir()
    os.mkfifo(d / "fifo.svg")
    (d / "zero.svg").symlink_to("/dev/zero")
    (d / "text.svg").write_text("not an svg")
    return ["missing.svg", "big.svg", "folder.svg", "fifo.svg", "zero.svg", "text.svg"]


@pytest.mark.parametrize("command", ["validate", "check"])
def test_a_bad_logo_is_bad_input_at_validate_and_check(rack, in_tmp, command):
    """`rack validate` and `rack check` said "ok" for a logo that is missing, a folder, a FIFO,
    /dev/zero or 3 MB; only bom and export refused it. Each is exit 2 naming the key now (and a
    good logo stays ok)."""
    from pirack.load import default_text

    (in_tmp / "good.svg").write_text(LOGO)
    for logo in [*_logo_cases(in_tmp), "good.svg"]:
        text = default_text().replace("[rack.engraving]\nlabels = true", f'[rack.engraving]\nlabels = true\nlogo = "{logo}"')
        (in_tmp / "cluster.toml").write_text(text)
        code, out, err = rack(command, "--no-geometry") if command == "check" else rack(command)
        if logo == "good.svg":
            assert code == 0, err
        else:
            assert code == 2 and "cluster.toml: rack.engraving.logo" in err and "Traceback" not in err, (logo, err)
