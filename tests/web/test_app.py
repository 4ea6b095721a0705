"""The app through Starlette's test client: the routes, the JSON they serve, the error payload,
the settings editor's writes. The builder's stages run in the test's thread (live.step)."""

from __future__ import annotations

import json
import re
import struct
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.cad

STATIC = Path(__file__).resolve().parents[2] / "rackdesign" / "web"


def glb_json(data: bytes) -> dict:
    magic, version, length = struct.unpack_from("<III", data, 0)
    assert magic == 0x46546C67 and version == 2 and length == len(data)
    n, kind = struct.unpack_from("<II", data, 12)
    assert kind == 0x4E4F534A  # "JSON"
    return json.loads(data[20:20 + n])


def rebuild(live):
    live.step(time.perf_counter())


def test_page_loads_nothing_from_another_host(client):
    html = client.get("/").text
    assert '"three": "/vendor/three/build/three.module.js"' in html
    sources = [html] + [p.read_text() for p in (STATIC / "static").glob("*.js")]
    for text in sources:  # the page works offline: every URL is this server's
        assert not re.search(r"""(src|href|import|from)\s*[=(]?\s*["'](https?:)?//""", text)


def test_state_describes_the_design_the_layout_builds(client, live):
    from pirack.load import load_cluster
    from rackdesign.layout import build_layout
    from rackdesign.plates import flat_parts

    lay = build_layout(load_cluster(live.path))
    d = client.get("/api/state").json()["design"]
    assert d["model"]["count"] == len(lay.parts)
    assert [p["name"] for p in d["model"]["parts"]] == [p.name for p in lay.parts]
    assert [p["name"] for p in d["plates"]] == [p.name for p in flat_parts(lay)]
    assert len(d["plates"]) == 5  # base, two tiers, top, switch support
    assert d["bom"]["total"] > 0 and d["bom"]["currency"] == "JPY"
    assert d["settings"]["values"]["nodes"] == 2


def test_the_model_is_a_glb_whose_part_nodes_carry_their_names(client, live):
    d = client.get("/api/state").json()["design"]
    res = client.get(d["model"]["url"])
    assert res.headers["content-type"] == "model/gltf-binary"
    doc = glb_json(res.content)
    tagged = {n["extras"]["part"]: n for n in doc["nodes"] if "part" in n.get("extras", {})}
    assert sorted(tagged) == sorted(p["name"] for p in d["model"]["parts"])
    assert all(n["name"] == name for name, n in tagged.items())  # the exporter kept the names
    colours = {tuple(round(c, 3) for c in m["pbrMetallicRoughness"]["baseColorFactor"]) for m in doc["materials"]}
    assert len(colours) >= 5  # boards, plates, switch, drive, metal parts: the assembly's colours


def test_plate_svgs_are_the_plates_at_their_size(client):
    d = client.get("/api/state").json()["design"]
    bundle = client.get(d["plates_url"]).json()["plates"]
    assert [p["name"] for p in bundle] == [p["name"] for p in d["plates"]]
    for view, one in zip(d["plates"], bundle):
        root = ET.fromstring(one["svg"])
        vb = [float(v) for v in re.split(r"[ ,]+", root.get("viewBox"))]
        assert vb[2] == pytest.approx(view["width"], abs=0.01) and vb[3] == pytest.approx(view["height"], abs=0.01)
        circles = root.findall(".//{http://www.w3.org/2000/svg}circle")
        assert len(circles) >= sum(1 for h in view["holes"] if h["round"])
        assert client.get(f"/api/plates/{view['name']}.svg").content == one["svg"].encode()
    assert client.get("/api/plates/no-such-plate.svg").status_code == 404


def test_a_broken_file_is_the_error_and_the_last_good_design_stays(client, live):
    before = client.get("/api/state").json()["design"]["version"]
    text = live.path.read_text()
    live.path.write_text(text.replace('mac = "02:00:00:50:00:0b"', 'mac = "02:00:00:50:00:zz"'))
    rebuild(live)
    s = client.get("/api/state").json()
    assert s["status"] == "error"
    assert s["error"]["file"] == str(live.path) and s["error"]["key"] == "nodes[1].mac"
    assert "MAC" in s["error"]["message"]
    assert s["design"]["version"] == before  # still on screen
    live.path.write_text(text)
    rebuild(live)
    s = client.get("/api/state").json()
    assert s["status"] == "ready" and s["error"] is None


def test_a_file_that_disappears_says_so_and_comes_back(client, live):
    text = live.path.read_text()
    live.path.unlink()
    rebuild(live)
    err = client.get("/api/state").json()["error"]
    assert err["file"] == str(live.path) and "gone" in err["message"]
    live.path.write_text(text)
    rebuild(live)
    assert client.get("/api/state").json()["error"] is None


def test_a_comment_edit_rebuilds_nothing_and_a_network_edit_keeps_the_geometry(live):
    text = live.path.read_text()
    live.path.write_text(text + "\n# a note\n")
    rebuild(live)
    assert {"layout", "flat", "plates", "scene", "bom"} <= set(live.design.reused)
    live.path.write_text(text.replace('ntp_source = "ntp.nict.jp"', 'ntp_source = "pool.ntp.org"'))
    rebuild(live)
    assert "load" not in live.design.reused  # a new spec...
    assert {"flat", "plates", "scene"} <= set(live.design.reused)  # ...but the same rack


def test_settings_write_the_file_keeping_its_comments(client, live):
    s = client.get("/api/settings").json()
    before = live.path.read_text()
    res = client.post("/api/settings", json={"base": s["base"], "settings": {"nodes": 4, "margin_mm": 6}})
    assert res.status_code == 200 and res.json()["written"]
    after = live.path.read_text()
    assert [ln for ln in before.splitlines() if ln.lstrip().startswith("#")] == \
           [ln for ln in after.splitlines() if ln.lstrip().startswith("#")]
    rebuild(live)
    d = client.get("/api/state").json()["design"]
    assert d["nodes"] == 4 and len(d["plates"]) == 7


def test_settings_that_would_not_load_are_refused_and_nothing_is_written(client, live):
    s = client.get("/api/settings").json()
    before = live.path.read_text()
    res = client.post("/api/settings", json={"base": s["base"], "settings": {"sheet": "no-such-sheet"}})
    assert res.status_code == 422
    err = res.json()["error"]
    assert err["key"] == "rack.sheet" and "no-such-sheet" in err["message"]
    res = client.post("/api/settings", json={"base": s["base"], "settings": {"margin_mm": -2}})
    assert res.status_code == 422 and res.json()["error"]["key"] == "rack.margin"
    assert live.path.read_text() == before


def test_settings_against_a_file_changed_meanwhile_are_refused(client, live):
    s = client.get("/api/settings").json()
    live.path.write_text(live.path.read_text() + "\n# edited in another editor\n")
    res = client.post("/api/settings", json={"base": s["base"], "settings": {"nodes": 3}})
    assert res.status_code == 409 and "changed on disk" in res.json()["error"]["message"]


def test_the_builtin_default_has_no_file_to_write():
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from rackdesign.web.app import create_app
    from rackdesign.web.live import Live

    lv = Live(None, slow_lane=False)
    lv.step(time.perf_counter())
    with TestClient(create_app(lv, None)) as c:
        s = c.get("/api/state").json()
        assert s["editable"] is False and s["design"]["name"] == "seed"
        res = c.post("/api/settings", json={"settings": {"nodes": 3}})
        assert res.status_code == 409 and "rack init" in res.json()["error"]["message"]


def test_the_page_offers_the_schemas_limits_and_the_largest_is_written(client, live):
    """The inputs' min and max (in the HTML and in the JSON the page sets them from) are the
    schema's; the largest values they allow load, and one step past them is refused."""
    from pirack import spec
    from pirack.load import load_cluster
    from rackdesign.web import editor

    limits = client.get("/api/settings").json()["limits"]
    assert limits == client.get("/api/state").json()["design"]["settings"]["limits"] == editor.limits()
    assert limits["nodes"] == [1, spec.MAX_NODES]
    html = client.get("/").text
    for name, (lo, hi) in (("set-nodes", limits["nodes"]), ("set-margin", limits["margin_mm"])):
        tag = re.search(rf'<input id="{name}"[^>]*>', html).group(0)
        assert float(re.search(r'min="([^"]+)"', tag).group(1)) == lo, tag
        assert float(re.search(r'max="([^"]+)"', tag).group(1)) == hi, tag
    base = client.get("/api/settings").json()["base"]
    for over, key in (({"nodes": limits["nodes"][1] + 1}, "nodes"), ({"margin_mm": limits["margin_mm"][1] + 0.5},
                                                                      "rack.margin")):
        res = client.post("/api/settings", json={"base": base, "settings": over})
        assert res.status_code == 422 and res.json()["error"]["key"] == key, res.json()
    most = {"nodes": limits["nodes"][1], "margin_mm": limits["margin_mm"][1]}
    res = client.post("/api/settings", json={"base": base, "settings": most})
    assert res.status_code == 200 and res.json()["written"], res.json()
    lc = load_cluster(live.path)
    assert len(lc.spec.nodes) == spec.MAX_NODES and lc.spec.rack.margin.millimetres == limits["margin_mm"][1]


def test_the_footer_tells_the_truth_about_the_file(client):
    """A real file: saving it updates the page. The built-in default: there is no file to save,
    and `rack init` makes one."""
    from starlette.testclient import TestClient

    from rackdesign.web.app import create_app
    from rackdesign.web.live import Live

    def footer(html: str) -> str:
        return " ".join(re.search(r"<footer[^>]*>(.*?)</footer>", html, re.DOTALL).group(1).split())

    assert "save it in any editor and it updates here" in footer(client.get("/").text)
    with TestClient(create_app(Live(None, slow_lane=False), None)) as c:
        text = footer(c.get("/").text)
    assert "built-in default" in text and "no file to save" in text
    assert "rack init" in text and "rack serve cluster.toml" in text and "save it in any editor" not in text


def test_targets_of_a_picked_part(client):
    d = client.get("/api/state").json()["design"]
    spacer = next(p["name"] for p in d["model"]["parts"] if p["kind"] == "spacer" and p["column"])
    t = client.get("/api/targets", params={"part": spacer}).json()
    assert t["scene"] == [spacer]
    assert t["plates"] and all(m["holes"] for m in t["plates"].values())  # its column's holes
    assert client.get("/api/targets", params={"part": "nope#1"}).status_code == 404


def test_bad_requests_get_one_clear_error(client):
    res = client.post("/api/settings", content=b"not json", headers={"content-type": "application/json"})
    assert res.status_code == 400 and "JSON" in res.json()["error"]["message"]
    assert client.get("/exports/cut/nothing.pdf").status_code == 404
    assert client.get("/exports.zip").status_code == 404


def test_another_site_cannot_write_the_file(client, live):
    s = client.get("/api/settings").json()
    before = live.path.read_text()
    body = json.dumps({"base": s["base"], "settings": {"nodes": 3}})
    # a form or a no-preflight fetch from another page sends text/plain
    res = client.post("/api/settings", content=body, headers={"content-type": "text/plain"})
    assert res.status_code == 415
    res = client.post("/api/settings", content=body, headers={"content-type": "application/json",
                                                               "origin": "http://evil.example"})
    assert res.status_code == 403
    assert live.path.read_text() == before


def test_only_the_servers_own_host_names_are_answered(live):
    from starlette.testclient import TestClient

    from rackdesign.web.app import create_app
    from rackdesign.web.server import allowed_hosts

    with TestClient(create_app(live, None, allowed_hosts("127.0.0.1")), base_url="http://127.0.0.1:8350") as c:
        assert c.get("/api/state").status_code == 200
        assert c.get("/api/state", headers={"host": "rebound.example:8350"}).status_code == 400
    assert allowed_hosts("0.0.0.0") is None  # listening everywhere: the person was warned
