"""The lab's pure parts: topology from the cluster file, the exports -> ganesha translation,
the DHCP hook. No root needed."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from bringup.lab import ganesha
from bringup.lab.topology import PREFIX, build_topology, ip_batches
from pirack.errors import InputError
from pirack.init_template import init_text
from pirack.load import load_cluster, parse_cluster


def _four_with_netboot():
    text = init_text(4)
    i = text.index('name = "slave2"')
    j = text.index('boot = "sd"', i)
    return text[:j] + 'boot = "net"\nserial = "1234abcd"' + text[j + len('boot = "sd"'):]


def test_topology_of_the_seed():
    t = build_topology(load_cluster(None).spec)
    assert all(ns.startswith(f"{PREFIX}{t.lab_id}-") for ns in t.namespaces)
    assert len(set(t.namespaces)) == len(t.namespaces) == 4  # uplink, switch, master, slave1
    # The file's names: the master's eth0 (cluster) and wlan0 (uplink); slaves keep their MAC.
    names = {(ln.ns, ln.name) for ln in t.links}
    assert (t.master.ns, "eth0") in names and (t.master.ns, "wlan0") in names
    slave_link = next(ln for ln in t.links if ln.ns == t.slaves[0].ns)
    assert slave_link.mac == "02:00:00:50:00:11"
    assert all(len(ln.name) <= 15 and len(ln.peer) <= 15 for ln in t.links)
    # The home router is the seed's upstream DNS; the master's uplink address is a free one.
    assert str(t.router) == "192.168.11.1" and t.ntp_override  # ntp.nict.jp is a name
    assert t.master_uplink_address.ip not in {t.router, t.snat_address.ip}
    assert t.master_uplink_address.ip in t.uplink_net


def test_uplink_has_no_way_out():
    t = build_topology(load_cluster(None).spec)
    host, per = ip_batches(t)
    up = per[t.uplink_ns]
    routes = [ln for ln in up if ln.startswith("route")]
    assert routes == [f"route add {t.subnet} via {t.master_uplink_address.ip} dev up0"]
    assert not any("default" in ln for ln in up)
    # Every veth is created inside lab namespaces: none ever exists in the host's namespace.
    for ln in host:
        if ln.startswith("link add"):
            m = re.match(r"link add (\S+) netns (\S+) .* peer name (\S+) netns (\S+)$", ln)
            assert m and m[2].startswith(PREFIX) and m[4].startswith(PREFIX), ln
    # Only the master forwards; its default route is the home router.
    assert f"route add default via {t.router} dev wlan0" in per[t.master.ns]


def test_ntp_source_address_is_served_by_the_uplink():
    text = init_text(3).replace('ntp_source = "ntp.nict.jp"', 'ntp_source = "192.168.11.5"')
    t = build_topology(parse_cluster(text, "x.toml"))
    assert not t.ntp_override and str(t.ntp_source) == "192.168.11.5"
    host, per = ip_batches(t)
    assert "addr add 192.168.11.5/24 dev up0" in per[t.uplink_ns]


EXPORTS = """# header
/mnt/ssd/nfsroot/slave2\t192.168.50.12(rw,sync,no_subtree_check,no_root_squash)
/mnt/ssd/data\t192.168.50.0/24(rw,sync,no_subtree_check,root_squash)
/mnt/ssd/media\t192.168.50.0/24(ro,sync,no_subtree_check,root_squash) 192.168.50.11(rw,no_root_squash)
"""


def _blocks(conf: str) -> list[str]:
    return re.findall(r"EXPORT \{.*?\n\}\n", conf, flags=re.S)


def test_exports_translate_line_by_line():
    lines = ganesha.parse_exports(EXPORTS)
    conf = ganesha.ganesha_config(lines, "/run/lab/master", "192.168.50.1", "/run/lab/rec")
    blocks = _blocks(conf)
    assert len(blocks) == 3
    root, data, media = blocks
    assert 'Path = "/run/lab/master/mnt/ssd/nfsroot/slave2"' in root and 'Pseudo = "/mnt/ssd/nfsroot/slave2"' in root
    assert re.search(r"Clients = 192\.168\.50\.12;\s+Access_Type = RW;\s+Squash = no_root_squash;", root)
    assert re.search(r"Clients = 192\.168\.50\.0/24;\s+Access_Type = RW;\s+Squash = root_squash;", data)
    assert re.search(r"Clients = 192\.168\.50\.0/24;\s+Access_Type = RO;", media)
    assert re.search(r"Clients = 192\.168\.50\.11;\s+Access_Type = RW;\s+Squash = no_root_squash;", media)
    # Nobody else: the export itself grants nothing.
    assert all("\tAccess_Type = None;" in b for b in blocks)
    assert "Protocols = 4;" in conf and "Bind_addr = 192.168.50.1;" in conf and "Graceless = true;" in conf


def test_exports_of_the_bringup_render_translate():
    from bringup.render import Secrets, render_node

    spec = parse_cluster(_four_with_netboot(), "c.toml")
    plan = render_node(spec, "master", secrets=Secrets(snmp_community="x"))
    text = plan.file("/etc/exports.d/pirack.exports").content
    lines = ganesha.parse_exports(text)
    by_path = {e.path: e for e in lines}
    root = by_path["/mnt/ssd/nfsroot/slave2"]
    assert [c.clients for c in root.clients] == ["192.168.50.12"]
    assert root.clients[0].squash == "no_root_squash"
    # the data export: each slave by its address (the lab's clients then prove who gets in)
    assert [ipaddress.ip_address(c.clients) for c in by_path["/mnt/ssd/data"].clients] == [n.address for n in spec.slaves]


def test_unknown_export_option_is_named():
    with pytest.raises(InputError, match="line 1.*'fsid=0'"):
        ganesha.parse_exports("/x 10.0.0.1(rw,fsid=0)\n", "exports")


def test_dhcp_hook_never_touches_resolv_conf():
    script = (Path(ganesha.__file__).with_name("udhcpc.sh")).read_text()
    code = [ln for ln in script.splitlines() if not ln.lstrip().startswith("#")]
    assert code and not any("/etc" in ln or "resolv" in ln for ln in code)
    assert "PIRACK_DHCP_PROBE" in script  # the uplink probe changes no address


def test_a_child_that_ended_is_reaped_not_left_a_zombie():
    """The VM lab waits for QEMU to end with its guest (-no-reboot), then `reap`s it: an ended
    child is collected at once, not left a zombie until the test process exits."""
    import subprocess
    import time

    from bringup.lab import netns

    p = subprocess.Popen(["true"])
    netns._children[p.pid] = p
    stat = Path(f"/proc/{p.pid}/stat")
    deadline = time.monotonic() + 10
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"  # ended, not collected yet
    netns.reap()
    assert not stat.exists() and p.pid not in netns._children
