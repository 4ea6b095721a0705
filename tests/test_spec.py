"""The cluster description: loading, the defaults, and every cross-field rule."""

from pathlib import Path

import pytest
from overlay import load_cases, overlay_text

from pirack.errors import InputError
from pirack.init_template import init_text
from pirack.load import default_text, load_cluster, parse_cluster
from pirack.units import mm

BROKEN_DIR = Path(__file__).parent / "broken"
BROKEN_CASES = load_cases(BROKEN_DIR / "cases.toml")
# what cannot be an overlay on the default: not UTF-8, a TOML syntax error
BROKEN_RAW = sorted(p for p in BROKEN_DIR.glob("*.toml") if p.name != "cases.toml")


def header(path: Path) -> dict:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return {"key": None, "word": "UTF-8"}
    meta = dict(l[2:].split(": ", 1) for l in lines[:3] if l.startswith("# ") and ": " in l)
    return {"key": meta.get("expect-key"), "word": meta.get("expect-word", "")}


def assert_names_key(path: Path, key: str | None, word: str):
    with pytest.raises(InputError) as err:
        load_cluster(path)
    e = err.value
    assert e.file == str(path)
    msg = e.render()
    if key:
        assert e.key is not None and e.key.startswith(key) or key in msg, msg
    assert word.lower() in msg.lower(), msg


def test_default_is_the_seed_cluster(in_tmp):
    lc = load_cluster(None)
    s = lc.spec
    assert lc.path is None
    assert [n.role for n in s.nodes] == ["master", "slave"]
    assert {n.board for n in s.nodes} == {"rpi4b-8gb"} and {n.hat for n in s.nodes} == {"rpi-poe-plus-hat"}
    assert str(s.network.subnet) == "192.168.50.0/24" and str(s.master.address) == "192.168.50.1"
    assert s.network.uplink_interface == "wlan0" and str(s.network.uplink_snat_address.ip) == "192.168.11.211"
    assert [str(a) for a in s.network.upstream_dns] == ["192.168.11.1"]
    assert s.network.ntp_source == "ntp.nict.jp" and s.network.ntp_source_type == "pool"
    assert s.storage.drive == "ssd-sata-2.5-500gb" and s.storage.cable == "sata-usb-c"
    assert s.rack.switch == "tl-sg1005p" and s.rack.switch_orientation == "side"
    assert mm(lc.catalog[s.rack.sheet].thickness) == 3.0


def test_cluster_toml_in_cwd_wins_over_default(in_tmp):
    (in_tmp / "cluster.toml").write_text(init_text(3, name="here"))
    lc = load_cluster(None)
    assert lc.spec.cluster.name == "here" and len(lc.spec.nodes) == 3


@pytest.mark.parametrize("n", [1, 2, 4, 16, 64])
def test_init_template_round_trip(n):
    text = init_text(n)
    spec = parse_cluster(text, "init")
    assert len(spec.nodes) == n and len(spec.slaves) == n - 1
    for node in spec.nodes:
        assert node.mac.startswith("02:")  # locally administered placeholders
    assert text.count("REPLACE") >= n  # every placeholder MAC is marked


def test_lengths_read_with_units():
    text = default_text().replace('margin = "5 mm"', 'margin = "0.25 in"')
    spec = parse_cluster(text, "x")
    assert mm(spec.rack.margin) == pytest.approx(6.35)


@pytest.mark.parametrize("case", BROKEN_CASES, ids=[c["name"] for c in BROKEN_CASES])
def test_broken_file_names_its_key(case, tmp_path):
    path = tmp_path / f"{case['name']}.toml"
    path.write_text(overlay_text(case.get("patch"), case.get("delete")), encoding="utf-8")
    assert_names_key(path, case["key"], case["word"])


@pytest.mark.parametrize("path", BROKEN_RAW, ids=[p.stem for p in BROKEN_RAW])
def test_broken_raw_file_names_its_problem(path):
    meta = header(path)
    assert_names_key(path, meta["key"], meta["word"])


def test_corpus_is_large_enough():
    assert len(BROKEN_CASES) + len(BROKEN_RAW) >= 25


def test_valid_variants_pass():
    """The passing side of the cross-field rules: what is near a rule but legal."""
    base = default_text()
    ok = [
        base.replace('address = "192.168.50.11"', 'address = "192.168.50.99"'),  # just below the DHCP range
        base.replace('address = "192.168.50.11"', 'address = "192.168.50.200"'),  # just above it
        base.replace('mac = "02:00:00:50:00:11"', 'mac = "DC-A6-32-00-00-11"'),  # other MAC spelling
        base.replace('boot = "sd"                    # the seed gave', 'serial = "10000000ABCDEF01"\nboot = "net" # x'),
        base.replace('label = "pirack-ssd"', 'uuid = "0b1c2d3e-1111-2222-3333-444455556666"'),
        base.replace('margin = "5 mm"', 'margin = "1.2 cm"'),
    ]
    for text in ok:
        spec = parse_cluster(text, "x")
        from pirack.catalog import load_catalog
        from pirack.load import check_cluster

        check_cluster(spec, load_catalog(), "x")
    spec = parse_cluster(ok[2], "x")
    assert spec.nodes[1].mac == "dc:a6:32:00:00:11"
    spec = parse_cluster(ok[3], "x")
    assert spec.nodes[1].short_serial == "abcdef01"


def test_schema_covers_the_file():
    from pirack.spec import Cluster

    schema = Cluster.model_json_schema()
    assert set(schema["properties"]) == {"cluster", "network", "nodes", "storage", "rack", "purchases"}
    margin = schema["$defs"]["Rack"]["properties"]["margin"]
    assert margin["type"] == "string" and "mm" in margin["examples"][0]


def test_loader_imports_without_cad_stack():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'cadquery','OCP','svgwrite','reportlab','ezdxf','shapely'}:\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from pirack.load import load_cluster\n"
        "import bringup.cli\n"
        "lc = load_cluster(None)\n"
        "print(len(lc.spec.nodes))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "2"
