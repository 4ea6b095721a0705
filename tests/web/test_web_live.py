"""The live server end to end, in-process: the builder thread, the file watcher and the CAD
worker process (front plan, checks, export files), as `rack serve` runs them."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

pytestmark = pytest.mark.cad


def wait(predicate, what: str, timeout: float = 300.0):
    """Poll until predicate() is truthy; the timeout is a hang guard, not a speed claim."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def running(cluster_file):
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from rackdesign.web.app import create_app
    from rackdesign.web.live import Live
    from rackdesign.web.watch import Watcher

    live = Live(cluster_file)
    watcher = Watcher()
    watcher.watch_file(cluster_file, live.changed)
    live.start()
    try:
        with TestClient(create_app(live, None)) as client:
            yield live, client
    finally:
        watcher.stop()
        live.stop()


def test_saving_the_file_updates_the_design_and_the_worker_fills_in_the_rest(running, cluster_file):
    from pirack.init_template import init_text

    live, client = running
    first = wait(lambda: live.design, "the first design")
    wait(lambda: all(s.status != "pending" for s in live.design.slow.values()), "front plan and checks")
    d = client.get("/api/state").json()["design"]
    assert d["front"]["status"] == "ready" and d["checks"]["status"] == "ready", d
    front = client.get(d["front"]["url"])
    assert front.headers["content-type"].startswith("image/svg+xml") and b"<svg" in front.content
    findings = d["checks"]["report"]["findings"]
    assert findings and all("targets" in f for f in findings)
    assert any(f["targets"]["scene"] for f in findings)  # the default rack's findings name parts

    cluster_file.write_text(init_text(4))  # saved by "another editor": the watcher sees it
    wait(lambda: live.design.version != first.version, "the design after the save")
    assert len(live.design.plates) == 7 and live.design.nodes == 4


def test_export_files_render_in_the_worker_and_download(running):
    live, client = running
    wait(lambda: live.design, "the first design")
    assert client.post("/api/exports").status_code == 202
    exp = wait(lambda: (e := client.get("/api/exports").json())["status"] != "pending" and e, "the export files")
    assert exp["status"] == "ready", exp
    paths = {f["path"] for f in exp["files"]}
    for want in ("model/rack.step", "model/rack.stl", "drawings/front-plan.pdf", "bom/bom.csv"):
        assert want in paths
    assert any(p.startswith("cut/") and p.endswith(".dxf") for p in paths)
    pdf = client.get("/exports/drawings/front-plan.pdf")
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    z = zipfile.ZipFile(io.BytesIO(client.get("/exports.zip").content))
    assert sorted(n.split("/", 1)[1] for n in z.namelist()) == sorted(paths)


CIRCLE = """<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10">
<circle cx="5" cy="5" r="5" fill="black"/></svg>"""
SQUARE = CIRCLE.replace('<circle cx="5" cy="5" r="5" fill="black"/>', '<rect width="10" height="6" fill="black"/>')


def test_saving_the_logo_updates_the_plates_and_the_export_files(tmp_path):
    """The logo is input the cluster file only names: `rack serve` watches it too, and the
    plates and the export files follow a save of the logo alone."""
    from overlay import overlay_text
    from rackdesign.web.live import Live
    from rackdesign.web.server import watch
    from rackdesign.web.watch import Watcher

    (tmp_path / "logo.svg").write_text(CIRCLE)
    cluster = tmp_path / "cluster.toml"
    cluster.write_text(overlay_text({"rack.engraving.logo": "logo.svg"}))
    live, watcher = Live(cluster, slow_lane=False), Watcher()
    watch(live, watcher, cluster)
    live.start()
    try:
        first = wait(lambda: live.design, "the first design")
        (tmp_path / "logo.svg").write_text(SQUARE)  # the cluster file is not touched
        second = wait(lambda: live.design.version != first.version and live.design, "the design after the logo's save",
                      timeout=60)
        assert second.text == first.text and second.plates_rev != first.plates_rev
        assert live._slow_key(second, "exports") != live._slow_key(first, "exports")
    finally:
        watcher.stop()
        live.stop()


def test_saving_a_part_of_your_own_updates_the_bill_of_materials(tmp_path):
    """parts/ beside the cluster file is catalog too: a saved price there reaches the BOM."""
    import shutil
    from pathlib import Path

    from rackdesign.web.live import Live
    from rackdesign.web.server import watch
    from rackdesign.web.watch import Watcher

    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "own-part", tmp_path / "ex")
    cluster, part = tmp_path / "ex" / "cluster.toml", tmp_path / "ex" / "parts" / "my-pi4.toml"
    live, watcher = Live(cluster, slow_lane=False), Watcher()
    watch(live, watcher, cluster)
    live.start()
    try:
        first = wait(lambda: live.design, "the first design")
        part.write_text(part.read_text().replace("price = 9000", "price = 9500"))
        second = wait(lambda: live.design.version != first.version and live.design, "the design after the part's save",
                      timeout=60)
        assert second.text == first.text and second.bom != first.bom
    finally:
        watcher.stop()
        live.stop()
