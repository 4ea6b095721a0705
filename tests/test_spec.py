"""The cluster description: loading, the defaults, and every cross-field rule."""

from pathlib import Path

import pytest
from overlay import load_cases, overlay_text

from pirack.errors import InputError
from pirack.init_template import init_text
from pirack.load import default_text, load_cluster, load_text, parse_cluster
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
    meta = dict(ln[2:].split(": ", 1) for ln in lines[:3] if ln.startswith("# ") and ": " in ln)
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


# --- grammars, ranges, files: what the hostile corpus (tests/test_hostile.py) does not show ----

@pytest.mark.parametrize("key, value, normal", [
    ("storage.tftp_root", "boot//tftp/", "boot/tftp"), ("storage.tftp_root", "./tftp", "tftp"),
    ("storage.mount_point", "/srv/ssd/", "/srv/ssd"), ("storage.mount_point", "/mnt//ssd", "/mnt/ssd"),
    ("network.domain", "Cluster.LAN.", "cluster.lan"), ("nodes[1].mac", "DC-A6-32-00-00-11", "dc:a6:32:00:00:11"),
    ("storage.uuid", "0B1C2D3E-1111-2222-3333-444455556666", "0b1c2d3e-1111-2222-3333-444455556666"),
    ("network.lease_time", "2m", "2m"), ("network.lease_time", "365d", "365d"), ("network.lease_time", "infinite", "infinite"),
    ("cluster.description", "ラズパイ・クラスタ (Pi cluster) #1; \"quoted\"", None),
])
def test_legal_values_are_taken_and_normalised(key, value, normal):
    spec = parse_cluster(overlay_text({key: value}), "x")
    got = spec
    for step in key.replace("[", ".").replace("]", "").split("."):
        got = got[int(step)] if step.isdigit() else getattr(got, step)
    assert got == (value if normal is None else normal)


@pytest.mark.parametrize("value", ["/", "/etc", "/etc/pirack", "/proc/x", "/boot/firmware", "/usr/local/ssd", "/home",
                                   "/var", "/run/media/ssd", "/mnt", "/tmp", "/tmp/ssd", "/var/lib", "/var/log",
                                   "/var/lib/misc", "/var/lib/pirack", "/var//lib/misc/", "/root", "/root/x"])
def test_system_folders_are_no_mount_point(value):
    """/var too, and everything inside it (/var/lib/misc holds dnsmasq's leases, /var/lib/pirack
    bringup's runs): /var was a system folder but not a system tree, so all of it was taken."""
    with pytest.raises(InputError) as err:
        parse_cluster(overlay_text({"storage.mount_point": value}), "x")
    assert err.value.key == "storage.mount_point" and "system folder" in err.value.message
    assert "use a folder of its own, like /mnt/ssd" in err.value.message


@pytest.mark.parametrize("value", ["/home/pi", "/home/admin/", "//home/pi"])
def test_a_users_home_is_no_mount_point(value):
    with pytest.raises(InputError) as err:
        parse_cluster(overlay_text({"storage.mount_point": value}), "x")
    home = "/" + "/".join(p for p in value.split("/") if p)
    assert err.value.key == "storage.mount_point" and f"{home} is a user's home folder" in err.value.message
    assert f"like {home}/ssd" in err.value.message and "/mnt/ssd" in err.value.message


@pytest.mark.parametrize("value", ["/mnt/ssd", "/srv/nfs", "/home/pi/ssd", "/media/ssd", "/mnt/usb/data", "/opt/ssd",
                                   "/data", "/variable/ssd", "/rooted"])
def test_own_folders_are_mount_points(value):
    assert parse_cluster(overlay_text({"storage.mount_point": value}), "x").storage.mount_point == value


# --- values of the right shape that mean nothing usable (the hostile corpus's "meaning-" cases
# check the key and exit code; these check that the message says what is wrong) ----------------

@pytest.mark.parametrize("key, value, said", [
    ("network.uplink_snat_address", "224.0.0.1/24", "multicast"),
    ("network.uplink_snat_address", "255.255.255.255/32", "broadcast address"),
    ("network.uplink_snat_address", "127.0.0.5/8", "loopback"),
    ("network.uplink_snat_address", "0.0.0.0/24", "unspecified"),
    ("network.uplink_snat_address", "192.168.11.0/24", "the network address of its own prefix 192.168.11.0/24"),
    ("network.uplink_snat_address", "192.168.11.255/24", "the broadcast address of its own prefix 192.168.11.0/24"),
    ("network.subnet", "224.0.0.0/24", "multicast"),
    ("network.subnet", "127.0.0.0/24", "loopback"),
    ("network.subnet", "169.254.0.0/16", "link-local"),
    ("network.subnet", "168.0.0.0/6", "takes in the link-local range"),
    ("network.subnet", "240.0.0.0/24", "reserved"),
    ("network.upstream_dns[0]", "127.0.0.1", "loopback"),
    ("network.upstream_dns[0]", "0.0.0.0", "unspecified"),
    ("network.upstream_dns[0]", "224.0.0.251", "multicast"),
    ("network.upstream_dns[0]", "192.168.50.1", "the master's own cluster address"),
    ("network.upstream_dns[0]", "192.168.11.211", "the master's own address on the uplink"),
    ("network.upstream_dns[0]", "192.168.11.255", "the broadcast address of 192.168.11.0/24"),
    ("network.ntp_source", "192.168.50.1", "chronyd would ask itself"),
    ("network.ntp_source", "127.0.0.1", "loopback"),
    ("network.ntp_source", "localhost", "the master itself"),
    ("nodes[1].mac", "00:00:00:00:00:00", "all zeros"),
    ("nodes[1].mac", "FF-FF-FF-FF-FF-FF", "the broadcast address"),
    ("nodes[1].mac", "01:00:5e:00:00:01", "multicast"),
    ("rack.margin", "\u0665 mm", "digits 0-9"),
    ("rack.margin", "\uff15 mm", "digits 0-9"),
    ("rack.min_clearance", "\uff13 mm", "digits 0-9"),
])
def test_meaningless_values_say_what_is_wrong(key, value, said):
    if key == "network.upstream_dns[0]":
        patch = {"network.upstream_dns": [value]}
    else:
        patch = {key: value}
    with pytest.raises(InputError) as err:
        load_text(overlay_text(patch, base=init_text(4)), "cluster.toml")
    assert err.value.key == key and said in err.value.message, err.value.render()
    assert err.value.render().startswith(f"cluster.toml: {key}: ")


def test_one_folder_exported_twice_is_refused():
    """Two exports of one folder (root_squash on one, off on the other) once validated and rendered
    two lines that exportfs refuses ("incompatible duplicated export entries")."""
    for path in ("data", "data/", "./data", "data//"):
        patch = {"storage.exports[1]": {"name": "data2", "path": path, "root_squash": False}}
        with pytest.raises(InputError) as err:
            load_text(overlay_text(patch, base=init_text(4)), "cluster.toml")
        assert err.value.render().startswith('cluster.toml: storage.exports[1].path: "data" is already exported '
                                             'by storage.exports[0] ("data")'), err.value.render()
    # one folder inside another is a second export of its own, and legal
    load_text(overlay_text({"storage.exports[1]": {"name": "sub", "path": "data/sub"}}, base=init_text(4)), "c")


@pytest.mark.parametrize("key, value", [
    ("network.upstream_dns", ["192.168.11.1", "192.168.50.12", "1.1.1.1", "169.254.169.254"]),
    ("network.ntp_source", "192.168.11.1"), ("network.ntp_source", "10.0.0.5"),
    ("network.uplink_snat_address", "192.168.11.211"), ("network.uplink_snat_address", "10.1.2.3/8"),
    ("network.uplink_snat_address", "192.168.11.254/24"), ("nodes[1].mac", "dc:a6:32:00:00:11"),
    ("rack.margin", "5.5 mm"), ("rack.margin", ".5 cm"),
])
def test_meaningful_neighbours_are_taken(key, value):
    load_text(overlay_text({key: value}, base=init_text(4)), "cluster.toml")


def test_shipped_and_generated_files_still_load():
    root = Path(__file__).resolve().parents[1]
    load_cluster(None)
    for f in ("examples/seed.toml", "examples/own-part/cluster.toml"):
        load_cluster(root / f)
    for n in range(1, 9):
        load_text(init_text(n), f"init --nodes {n}")


def test_messages_escape_what_the_user_wrote():
    """A newline or an RTL mark in a value cannot start a new line or turn the message around."""
    for bad in ("slave1\nerror: all is well", "\u202eslave1", "slave1\x1b[2K"):
        with pytest.raises(InputError) as err:
            parse_cluster(overlay_text({"nodes[1].name": bad}), "x")
        text = err.value.render()
        assert "\n" not in text and "\u202e" not in text and "\x1b" not in text
        assert text.startswith("x: nodes[1].name: expected a host name")


def test_library_texts_become_what_the_key_expects():
    cases = {
        "nodes[1].owned": ("yes", "expected true or false, like owned = false; got the text \"yes\""),
        "nodes[1].role": ("worker", "expected one of \"master\" | \"slave\", like role = \"slave\"; got the text \"worker\""),
        "network.upstream_dns": ("192.168.11.1", "expected a list in brackets, like upstream_dns = [\"192.168.11.1\"]"),
        "purchases.spare_percent": (101, "expected a number ≤ 100"),
        "network.subnet": ("192.168.50.0/33",
                           "expected an IPv4 network with its prefix length, like subnet = \"192.168.50.0/24\""),
    }
    for key, (value, said) in cases.items():
        with pytest.raises(InputError) as err:
            parse_cluster(overlay_text({key: value}), "x")
        assert said in err.value.message, err.value.message
        for raw in ("Input should be", "String should match", "valid boolean"):
            assert raw not in err.value.render()


def test_unknown_key_lists_the_keys_there():
    with pytest.raises(InputError) as err:
        parse_cluster(overlay_text({"nodes[1].bot": "sd"}, delete=["nodes[1].boot"]), "x")
    assert err.value.key == "nodes[1].bot" and "boot" in err.value.message and "mac" in err.value.message


def test_root_squash_off_is_a_warning(rack, bringup_cli, in_tmp):
    from pirack.load import cluster_warnings

    (in_tmp / "c.toml").write_text(overlay_text({"storage.exports[0].root_squash": False}))
    ws = cluster_warnings(load_cluster(in_tmp / "c.toml").spec)
    assert [w.key for w in ws] == ["storage.exports[0].root_squash"] and "root on every node" in ws[0].message
    assert not cluster_warnings(load_cluster(None).spec)
    code, _, err = rack("validate", "c.toml")
    assert code == 0 and "storage.exports[0].root_squash" in err and "root on every node" in err
    (in_tmp / "root").mkdir()
    code, out, err = bringup_cli("plan", "c.toml", "--root", "root", "--node", "master")
    assert code == 0 and "warning: storage.exports[0].root_squash" in err


def test_node_count_is_capped_at_what_is_tested():
    from pirack.spec import MAX_NODES

    assert MAX_NODES == 64
    parse_cluster(init_text(MAX_NODES), "x")
    doc_nodes = parse_cluster(init_text(MAX_NODES), "x").model_dump(mode="json", exclude_none=True)["nodes"]
    extra = {**doc_nodes[-1], "name": "one-more", "mac": "02:00:00:51:00:01", "address": "192.168.50.250"}
    with pytest.raises(InputError) as err:
        parse_cluster(overlay_text({"nodes": doc_nodes + [extra]}, base=init_text(2)), "x")
    assert err.value.key == "nodes" and "at most 64" in err.value.message


@pytest.mark.parametrize("make, said", [
    (lambda p: p.write_bytes(b"\xff\xfe bad"), "not UTF-8"),
    (lambda p: p.write_text(default_text() + "# \x00\n"), "NUL"),
    (lambda p: p.write_text(default_text() + "#" * (1 << 20)), "limit"),
    (lambda p: p.mkdir(), "folder"),
    (lambda p: p.symlink_to("/dev/zero"), "limit"),  # a stream is read up to the limit, never further
    (lambda p: __import__("socket").socket(__import__("socket").AF_UNIX).bind(str(p)), "not a regular file"),
    (lambda p: p.write_text(default_text() + "\nx = " + "[" * 2000 + "]" * 2000 + "\n"), "levels deep"),
    (lambda p: p.write_text(default_text() + "\n" + "x." * 50000 + "y = 1\n"), "levels deep"),
])
def test_a_file_that_is_no_cluster_file_is_refused_at_once(tmp_path, make, said):
    path = tmp_path / "c.toml"
    make(path)
    with pytest.raises(InputError) as err:
        load_cluster(path)
    assert err.value.file == str(path) and said in err.value.message


def test_a_cluster_file_may_come_through_a_pipe(tmp_path):
    """`bringup plan /dev/stdin < cluster.toml` (the fleet's check mode does this)."""
    import os

    r, w = os.pipe()
    os.write(w, init_text(3).encode())
    os.close(w)
    try:
        assert len(load_cluster(f"/dev/fd/{r}").spec.nodes) == 3
    finally:
        os.close(r)


def test_a_bom_at_the_start_of_the_file_is_dropped(tmp_path):
    (tmp_path / "c.toml").write_text("\ufeff" + default_text(), encoding="utf-8")
    assert load_cluster(tmp_path / "c.toml").spec.cluster.name == "seed"


# The edges of each length's range (pirack/spec.py): inside them nothing crashes. A margin of
# 50 mm once crashed OCP and 10000 mm made the engraving raster ask for GiB; the ranges keep
# such values out, and these values show the commands stay whole at both ends (exit 0, 1 for
# a design that fails its checks, 2 for a logo that fits no plate; never an exception).
EDGES = {"rack.margin": ("1 mm", "25 mm"), "rack.corner_radius": ("0 mm", "15 mm"),
         "rack.min_clearance": ("1 mm", "200 mm"), "rack.engraving.logo_width": ("5 mm", "600 mm")}
LOGO = """<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10">
<circle cx="5" cy="5" r="5" fill="black"/></svg>"""


@pytest.mark.parametrize("key, value", [(k, v) for k, vs in EDGES.items() for v in vs])
def test_range_edges_never_crash(rack, in_tmp, key, value):
    pytest.importorskip("shapely")
    (in_tmp / "logo.svg").write_text(LOGO)
    (in_tmp / "c.toml").write_text(overlay_text({key: value, "rack.engraving.logo": "logo.svg"}))
    for args in (("check", "c.toml", "--no-geometry"), ("bom", "c.toml"), ("export", "dxf", "c.toml", "--no-cache")):
        code, out, err = rack(*args)
        assert code in (0, 1, 2), (args, code, err)
        assert code != 2 or "does not fit" in err, (args, err)


@pytest.mark.cad
def test_largest_lengths_pass_the_geometry_checks(rack, in_tmp):
    """The solids at the top of every range (a 50 mm margin once crashed OCP here)."""
    pytest.importorskip("cadquery")
    (in_tmp / "c.toml").write_text(overlay_text({"rack.margin": "25 mm", "rack.corner_radius": "15 mm",
                                                 "rack.min_clearance": "20 mm"}))
    code, out, err = rack("check", "c.toml", "--json")
    assert code == 0, err
