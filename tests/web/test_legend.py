"""The plates' legend and labels name each colour as the cut files do: the switch support's bend
line is a bend line (its own BEND pen, never cut or scored), not a score; and a fabricator that
does not bend gets the two-plate support on the plates, with no bend line to name."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.cad

WEB = Path(__file__).resolve().parents[2] / "rackdesign" / "web"


def _strokes(svg: str) -> set[str]:
    return {c.lower() for c in re.findall(r'stroke="(#[0-9a-fA-F]{6})"', svg)}


def test_the_legend_names_the_bend_line_in_the_fabricators_pen(client, live):
    from pirack.load import load_cluster
    from rackdesign.writers import pens

    lc = load_cluster(live.path)
    pen = pens(lc.catalog[lc.spec.rack.fabricator])
    d = client.get("/api/state").json()["design"]
    legend = {e["purpose"]: e for e in d["legend"]}
    assert legend["bend"]["label"] == "bend line" and "not cut or scored" in legend["bend"]["meaning"]
    assert (legend["bend"]["colour"], legend["bend"]["layer"]) == (pen["bend"].colour, pen["bend"].layer) == \
        ("#00ff00", "BEND")
    assert legend["cut"]["colour"] == pen["cut"].colour
    assert "score" not in legend  # no plate has a score line: the word does not appear
    assert all(e["label"] != "score" or e["purpose"] == "score" for e in d["legend"])
    # each colour named is drawn on the plates; the bend line's on the support, the only bent plate
    svgs = {p["name"]: client.get(p["url"]).text for p in d["plates"]}
    drawn = set().union(*(_strokes(s) for s in svgs.values()))
    assert {e["colour"] for e in d["legend"] if e["purpose"] != "engrave"} <= drawn
    assert [p["name"] for p in d["plates"] if p["bend"]] == ["switch-support"]
    assert pen["bend"].colour in _strokes(svgs["switch-support"])
    assert not any(pen["bend"].colour in _strokes(s) for n, s in svgs.items() if n != "switch-support")


def test_no_word_of_the_page_calls_the_bend_a_score(client):
    html = client.get("/").text
    legend = re.search(r'<span id="legend" class="legend">(.*?)</span>', html).group(1)
    assert re.sub(r"<[^>]+>", "", legend).split() == ["cut", "engrave", "bend", "line", "selected"]
    for path in [WEB / "templates" / "index.html", *(WEB / "static").glob("*.js"), WEB / "static" / "app.css"]:
        assert not re.search(r"\bscore\b", path.read_text(), re.IGNORECASE), path.name


def test_a_fabricator_that_does_not_bend_shows_the_two_plates(cluster_file):
    pytest.importorskip("starlette")
    from rackdesign.web import names
    from rackdesign.web.live import Live

    text = cluster_file.read_text(encoding="utf-8")
    cluster_file.write_text(text.replace('fabricator = "anymany-pdf"', 'fabricator = "generic-dxf"'), encoding="utf-8")
    lv = Live(cluster_file, slow_lane=False)
    lv.step(time.perf_counter())
    d = lv.design
    assert d is not None, lv.error
    support = [p for p in d.plates if p.role == "support"]
    assert [p.name for p in support] == ["switch-support-foot", "switch-support-wall"]
    assert not any(p.bend for p in d.plates) and "bend" not in {e.purpose for e in d.legend}
    part = next(p for p in d.parts if p.kind == "support")
    assert part.label == "switch support (two acrylic plates, tabs in slots)"
    # picking the support in 3D marks both of its plates
    assert sorted(names.plate_marks([part.name], d.parts, d.plates)) == ["switch-support-foot", "switch-support-wall"]
