"""`rack serve` in a real browser: Debian's chromium, headless, driven by Playwright (never
`playwright install`). Heavy: select with `-m browser` and run under the lock:

    flock /tmp/pirack-heavy.lock python3 -m pytest -m browser tests/web

PIRACK_SCREENSHOTS=docs/img writes the README's pictures (serve-*.png) there; else they go to
the test's temporary folder. No timing is asserted here: bench/bench_web.py measures it.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from pirack.init_template import init_text

pytestmark = [pytest.mark.browser, pytest.mark.cad]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1440, "height": 1000}
BACKGROUND = (0xEE, 0xF2, 0xF5)  # the 3D view's clear colour (viewer.js)
HANG = 300_000  # ms: a guard against a hung page, not a speed claim


class Server:
    """`rack serve FILE --port 0` as a user starts it, in its own process; stopped by its pid."""

    def __init__(self, cwd: Path, *args: str, env: dict | None = None):
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "rackdesign.cli", "serve", *args, "--port", "0"],
                                     cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "COLUMNS": "300", **(env or {})})
        self.url_ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()
        if not self.url_ready.wait(120):
            self.stop()
            raise AssertionError("rack serve did not start:\n" + "".join(self.lines))

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            m = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            if m and not self.url:
                self.url = m.group(1)
                self.url_ready.set()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (bash tools/install.sh --test)")
    with sync_api.sync_playwright() as p, tempfile.TemporaryDirectory(prefix="pirack-chromium-") as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                   viewport=VIEWPORT)
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    (folder / "cluster.toml").write_text(init_text(2), encoding="utf-8")
    srv = Server(folder, "cluster.toml")
    try:
        yield srv, folder / "cluster.toml"
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def page(chromium, served):
    srv, _ = served
    pg = chromium.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(srv.url)
    pg.wait_for_function("document.body.dataset.version !== ''", timeout=HANG)
    yield pg
    assert not errors, errors
    pg.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    d = os.environ.get("PIRACK_SCREENSHOTS")
    return Path(d) if d else tmp_path_factory.mktemp("screenshots")


def pixels(png: bytes):
    """The screenshot as an (n, 3) array of signed ints (room for differences)."""
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int32).reshape(-1, 3)


def drawn(px) -> float:
    """Share of pixels that are not the background (grid lines are within 40 of it)."""
    import numpy as np

    return float((np.abs(px - np.array(BACKGROUND)).max(axis=1) > 40).mean())


def green(px) -> float:  # share of a board's PCB green
    r, g, b = px.T
    return float(((g > r + 40) & (g > b + 30)).mean())


def amber(px) -> float:  # share of the highlight colour (viewer.js MARK)
    r, g, b = px.T
    return float(((r > 190) & (g > 90) & (g < 200) & (b < 110) & (r - b > 110)).mean())


def save(png: bytes, path: Path) -> None:
    """A screenshot for the README: 256 colours keep the file small."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(io.BytesIO(png)).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)


def design(page) -> dict:
    return page.evaluate("window.pirack.state.design")


def wait_checks(page) -> None:
    page.wait_for_function("window.pirack.state.design && window.pirack.state.design.checks.status === 'ready'"
                           " && document.querySelector('.finding')", timeout=HANG)


def test_the_3d_canvas_draws_the_rack(page, shots):
    time.sleep(1)  # let the compositor show the last frame
    px = pixels(page.locator("#viewer canvas").screenshot())
    assert drawn(px) > 0.05, f"only {drawn(px):.1%} of the canvas differs from the background"
    assert green(px) > 0.005, "no board green in the 3D view"
    wait_checks(page)
    save(page.locator(".plates-card").screenshot(), shots / "serve-plates.png")


def test_the_scene_has_every_part_of_the_assembly(page, served):
    from pirack.load import load_cluster
    from rackdesign.layout import build_layout
    from rackdesign.model import build_assembly

    lc = load_cluster(served[1])
    assy = build_assembly(build_layout(lc), lc.catalog)
    in_scene = page.evaluate("window.pirack.viewer.partCount()")
    assert in_scene == len(assy.children) == design(page)["model"]["count"]
    names = page.evaluate("[...window.pirack.viewer.parts.keys()]")
    assert sorted(names) == sorted(ch.name for ch in assy.children)


def test_clicking_a_finding_lights_its_parts_in_3d_and_on_the_plates(page, shots):
    wait_checks(page)
    findings = design(page)["checks"]["report"]["findings"]
    codes = Counter(f["code"] for f in findings)

    def shows(f) -> bool:  # a few parts, one of them large and in view (a board, a HAT, the drive),
        scene = f["targets"]["scene"]  # and the only finding of its code (the click takes the first)
        return (0 < len(scene) <= 12 and f["targets"]["plates"] and codes[f["code"]] == 1
                and any(t.startswith(("rpi", "ssd")) for t in scene))

    pick = next(f for f in findings if shows(f))
    before = pixels(page.locator("#viewer canvas").screenshot())
    page.locator(f'.finding[data-code="{pick["code"]}"]').first.click()
    page.wait_for_function("document.querySelector('.finding.selected')", timeout=HANG)
    lit = page.evaluate("[...window.pirack.viewer.highlighted]")
    assert sorted(lit) == sorted(pick["targets"]["scene"])
    marked = page.evaluate("[...document.querySelectorAll('.plate-card.marked')].map(c => c.dataset.plate)")
    assert sorted(marked) == sorted(pick["targets"]["plates"])
    assert page.locator(".plate-card.marked .marks > *").count() > 0
    time.sleep(1)
    after = pixels(page.locator("#viewer canvas").screenshot())
    assert amber(after) > amber(before) + 0.001, "the highlighted parts do not show in 3D"
    save(page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": 1250}),
         shots / "serve-finding.png")
    page.locator(".finding.selected").click()  # unselect: the next tests start clean
    page.wait_for_function("!document.querySelector('.finding.selected')", timeout=HANG)


def test_saving_the_file_updates_the_page(page, served):
    _, path = served
    assert page.locator(".plate-card").count() == 5
    version = page.evaluate("document.body.dataset.version")
    t0 = time.perf_counter()
    path.write_text(init_text(4), encoding="utf-8")  # what `rack init --nodes 4` writes
    page.wait_for_function(f"document.body.dataset.version !== '{version}'", timeout=HANG)
    took = time.perf_counter() - t0
    assert page.locator(".plate-card").count() == 7
    assert page.evaluate("window.pirack.viewer.partCount()") == design(page)["model"]["count"]
    print(f"\nsave -> page shows 7 plates: {took:.2f} s (server: {design(page)['update_seconds']:.2f} s)")
    version = page.evaluate("document.body.dataset.version")
    path.write_text(init_text(2), encoding="utf-8")
    page.wait_for_function(f"document.body.dataset.version !== '{version}'", timeout=HANG)
    assert page.locator(".plate-card").count() == 5


def test_a_broken_file_shows_its_key_and_keeps_the_design(page, served, shots):
    _, path = served
    good = path.read_text()
    path.write_text(good.replace('margin = "5 mm"', 'margin = "5 kg"'), encoding="utf-8")
    page.wait_for_selector("#error", state="visible", timeout=HANG)
    text = page.inner_text("#error")
    assert "rack.margin" in text and "cluster.toml" in text
    assert page.locator(".plate-card").count() == 5  # the last good design stays
    save(page.locator("#error").screenshot(), shots / "serve-error.png")
    path.write_text(good, encoding="utf-8")
    page.wait_for_selector("#error", state="hidden", timeout=HANG)


def test_open_shows_the_default_rack(chromium, tmp_path, shots):
    """`rack serve --open` in a folder without cluster.toml: the browser it opens ($BROWSER
    here, a script that notes the address) gets the built-in default rack."""
    opened = tmp_path / "opened.txt"
    opener = tmp_path / "opener.py"
    opener.write_text(f"import sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    srv = Server(tmp_path, "--open", env={"BROWSER": f"{sys.executable} {opener} %s"})
    try:
        end = time.monotonic() + 60
        while not opened.exists() and time.monotonic() < end:
            time.sleep(0.1)
        assert opened.read_text().strip() == srv.url
        pg = chromium.new_page()
        pg.goto(srv.url)
        pg.wait_for_function("document.body.dataset.version !== ''", timeout=HANG)
        assert pg.inner_text("#cluster-name") == "seed"
        assert pg.locator(".plate-card").count() == 5
        time.sleep(1)
        assert drawn(pixels(pg.locator("#viewer canvas").screenshot())) > 0.05
        pg.wait_for_function("window.pirack.state.design.checks.status === 'ready'", timeout=HANG)
        save(pg.screenshot(), shots / "serve-default.png")
        pg.close()
    finally:
        srv.stop()


def test_the_legend_names_each_colour_as_the_cut_files_do(page):
    """The legend the page draws: the fabricator's pens, the switch support's bend line named a
    bend line in its own colour (never "score"); only the bent plate says it is bent."""
    page.wait_for_function("document.querySelector('#legend i.bend[title]')", timeout=HANG)
    legend = design(page)["legend"]
    assert " ".join(page.inner_text("#legend").split()) == " ".join([e["label"] for e in legend] + ["selected"])
    assert "bend line" in page.inner_text("#legend") and "score" not in page.inner_text("#legend")
    swatches = page.evaluate("[...document.querySelectorAll('#legend i:not(.mark)')]"
                             ".map(i => [i.className, getComputedStyle(i).borderTopColor])")

    def rgb(hex_colour: str) -> str:
        return "rgb({}, {}, {})".format(*(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)))

    assert swatches == [[e["purpose"], rgb(e["colour"])] for e in legend]
    feet = page.evaluate("Object.fromEntries([...document.querySelectorAll('.plate-card')]"
                         ".map(c => [c.dataset.plate, c.querySelector('footer').textContent]))")
    assert [n for n, f in feet.items() if "bent on its bend line" in f] == ["switch-support"]


def test_a_typed_node_count_is_written_by_a_click_on_write(page, served, tmp_path):
    """Type a count, then click Write with the mouse (no Enter): the click writes it. The click
    used to blur the field, whose rows were rebuilt between mousedown and mouseup: Write moved
    away from under the pointer, and nothing was posted."""
    import tomllib

    _, path = served
    page.click("#tab-settings")
    page.wait_for_selector("#set-nodes:not([disabled])", timeout=HANG)
    version = page.evaluate("document.body.dataset.version")
    page.click("#set-nodes")
    page.keyboard.press("Control+A")
    page.keyboard.type("6")
    with page.expect_request(lambda r: r.url.endswith("/api/settings") and r.method == "POST", timeout=10_000) as req:
        page.click("#settings-write")
    assert req.value.post_data_json["settings"]["nodes"] == 6
    assert len(req.value.post_data_json["settings"]["node_parts"]) == 6
    page.wait_for_selector("#settings-result.ok", timeout=HANG)
    page.wait_for_function(f"document.body.dataset.version !== '{version}' && window.pirack.state.design.nodes === 6",
                           timeout=HANG)
    assert len(tomllib.loads(path.read_text())["nodes"]) == 6
    assert page.locator("#set-node-parts .node").count() == 6
    # the "updating…" of the write is gone once the page shows the new file (it used to stay)
    page.wait_for_function("!document.getElementById('settings-result').textContent.includes('updating')",
                           timeout=HANG)
    assert "the page shows it" in page.text_content("#settings-result")
    save(page.locator(".side").screenshot(), tmp_path / "settings-6-nodes.png")
    version = page.evaluate("document.body.dataset.version")
    path.write_text(init_text(2), encoding="utf-8")  # as the other tests expect it
    page.wait_for_function(f"document.body.dataset.version !== '{version}'", timeout=HANG)
    assert page.locator(".plate-card").count() == 5
    page.click("#tab-checks")


def test_the_form_offers_the_schemas_limits(page):
    """The page's inputs stop where the schema does (pirack.spec): the + button at the most nodes a
    file may have stays there, and the margin's range is the one the schema accepts."""
    from pydantic import TypeAdapter, ValidationError

    from pirack import spec

    def margin_ok(mm: float) -> bool:
        try:
            TypeAdapter(spec.Margin).validate_python(f"{mm:g} mm")
            return True
        except ValidationError:
            return False

    page.click("#tab-settings")
    page.wait_for_selector("#set-nodes:not([disabled])", timeout=HANG)
    nodes, (lo, hi) = page.evaluate("['set-nodes', 'set-margin'].map((id) => document.getElementById(id))"
                                    ".map((e) => [Number(e.min), Number(e.max)])")
    assert nodes == [1, spec.MAX_NODES]
    assert margin_ok(lo) and margin_ok(hi) and not margin_ok(lo - 0.1) and not margin_ok(hi + 0.1), (lo, hi)
    page.fill("#set-nodes", str(spec.MAX_NODES))
    page.click('.stepper [data-step="1"]')
    assert page.input_value("#set-nodes") == str(spec.MAX_NODES)
    assert page.locator("#set-node-parts .node").count() == spec.MAX_NODES
    page.click("#settings-reset")
    assert page.input_value("#set-nodes") == "2"
    # Undo puts back the file's board too (the rows used to keep what had been chosen in them)
    board = page.input_value('[name="board-0"]')
    other = page.evaluate("[...document.querySelector('[name=\"board-0\"]').options].map((o) => o.value)"
                          f".find((v) => v && v !== '{board}')")
    page.select_option('[name="board-0"]', other)
    assert page.input_value('[name="board-0"]') == other
    page.click("#settings-reset")
    assert page.input_value('[name="board-0"]') == board
    page.click("#tab-checks")


def test_the_default_rack_says_it_has_no_file(chromium, tmp_path):
    """Served without a cluster file, the page says it shows the built-in default and how to get a
    file of one's own; it does not claim to watch a file."""
    srv = Server(tmp_path)
    try:
        pg = chromium.new_page()
        pg.goto(srv.url)
        pg.wait_for_function("document.body.dataset.version !== ''", timeout=HANG)
        live = pg.inner_text("#live-text")
        foot = " ".join(pg.inner_text("footer.foot").split())
        save(pg.screenshot(full_page=True), tmp_path / "default.png")
        pg.close()
    finally:
        srv.stop()
    assert "built-in default" in live and "no file" in live and "watching" not in live
    assert "no file to save" in foot and "rack init" in foot and "rack serve cluster.toml" in foot
    assert "save it in any editor" not in foot


def test_a_real_file_is_said_to_be_followed(page):
    assert "save it in any editor and it updates here" in page.inner_text("footer.foot")


def test_download_names_are_whole_with_the_path_on_hover(page, tmp_path):
    """The cut files differ only at the end of their names (sheet, number, PDF | SVG | DXF): each
    name shows whole, and its title is the file's path in the export."""
    page.click("#render-exports")
    page.wait_for_selector("#downloads a", timeout=HANG)
    links = page.evaluate("[...document.querySelectorAll('#downloads a')].map((a) => ({href: a.getAttribute('href'),"
                          " title: a.title, text: a.textContent, clipped: a.scrollWidth > a.clientWidth,"
                          " right: a.getBoundingClientRect().right, li: a.parentElement.getBoundingClientRect().right}))")
    cut = [ln for ln in links if ln["text"].startswith("cut-")]
    assert {ln["text"].rsplit(".", 1)[1] for ln in cut} >= {"pdf", "svg", "dxf"}
    for ln in links:
        assert ln["title"] == ln["href"].removeprefix("/exports/") and ln["title"].endswith(ln["text"]), ln
        assert not ln["clipped"] and ln["right"] <= ln["li"] + 0.5, ln
    save(page.locator(".downloads-card").screenshot(), tmp_path / "downloads.png")
