"""The lab for real: namespaces, the real daemons, the checks, and nothing left behind.

Needs root and network namespaces; skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import netns_unavailable, sh
from pirack.init_template import init_text

pytestmark = pytest.mark.root


_why = netns_unavailable()
if _why:
    pytest.skip(_why, allow_module_level=True)


def netns_list() -> list[str]:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def procs_mentioning(text: str) -> list[str]:
    """Live processes whose command line names `text` (the lab's folder)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and pid_alive(int(d)):
            try:
                with open(f"/proc/{d}/cmdline", "rb") as fh:
                    cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmd:
                out.append(f"{d}: {cmd}")
    return out


def assert_nothing_left(info: dict) -> None:
    lab = info["lab_id"]
    assert not procs_mentioning(f"/run/pirack-lab/{lab}/")
    assert not [n for n in netns_list() if n.startswith(f"pirl-{lab}-")]
    assert not [name for name, pid in info["processes"].items() if pid_alive(pid)]
    assert not os.path.exists(info["dir"])
    # The lab's links only ever lived in its namespaces: the host has none of them.
    host_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "poe" not in host_links.split() and "up0" not in host_links


def _netboot_cluster(tmp_path):
    text = init_text(4)
    i = text.index('name = "slave2"')
    j = text.index('boot = "sd"', i)
    text = text[:j] + 'boot = "net"\nserial = "1234abcd"' + text[j + len('boot = "sd"'):]
    text = text.replace('name = "mycluster"', 'name = "labtest4"')
    p = tmp_path / "cluster.toml"
    p.write_text(text)
    return p


def _up(*args, cwd):
    r = sh("bringup", "lab", "up", *args, "--json", cwd=cwd, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    return json.loads(r.stdout)


def _verify(*args, cwd):
    r = sh("bringup", "lab", "verify", *args, "--json", cwd=cwd, timeout=120)
    return r.returncode, json.loads(r.stdout)


def ns_read(ns: str, path: str) -> str:
    """A file as a process in namespace `ns` reads it (for /proc/sys: that namespace's setting)."""
    return subprocess.run(["ip", "netns", "exec", ns, "cat", path], capture_output=True, text=True).stdout.strip()


def assert_checks_ran(res: dict, source: str, names) -> None:
    """`verify` ran each named check from `source`."""
    ran = {c["check"] for c in res["checks"] if c["from"] == source}
    assert not [n for n in names if n not in ran], (source, sorted(ran))


def checks_by(res: dict) -> dict:
    """`verify`'s checks by (check, from)."""
    return {(c["check"], c["from"]): c for c in res["checks"]}


def check_detail(res: dict, check: str, source: str) -> str:
    """The detail of the first `check` run from `source`."""
    return next(c["detail"] for c in res["checks"] if (c["check"], c["from"]) == (check, source))


SLAVE_CHECKS = ("DHCP", "DNS", "NFS", "NTP", "SNAT", "SNMP")
UPLINK_CHECKS = ("no DHCP from uplink", "no TFTP from uplink", "no SNMP from uplink", "no NFS from uplink",
                 "no connection into slave1", "uplink isolated", "only SSH from uplink")


def test_default_cluster_up_verify_down(tmp_path):
    info = _up(cwd=tmp_path)
    try:
        assert set(info["nodes"]) == {"master", "slave1"}
        assert info["uplink"].startswith(f"pirl-{info['lab_id']}-")
        assert set(netns_list()) >= {info["uplink"], *info["nodes"].values()}
        # The master forwards; the host's setting is untouched by it.
        assert ns_read(info["nodes"]["master"], "/proc/sys/net/ipv4/ip_forward") == "1"
        code, res = _verify(cwd=tmp_path)
        failed = [c for c in res["checks"] if not c["ok"]]
        assert code == 0 and res["ok"] and not failed, failed
        assert_checks_ran(res, "slave1", SLAVE_CHECKS)
        assert_checks_ran(res, "uplink", UPLINK_CHECKS)
        assert "192.168.11.211" in check_detail(res, "SNAT", "slave1")
    finally:
        r = sh("bringup", "lab", "down", cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    assert_nothing_left(info)


def assert_only_slave2_boots_from_the_net(by: dict) -> None:
    """Only the net-booting slave asks for its boot files; its root export is its own: slave2
    writes it, the others are refused; every slave still gets its lease and its SNAT."""
    assert "start4.elf" in by[("TFTP", "slave2")]["detail"]
    assert ("TFTP", "slave1") not in by
    assert "/mnt/ssd/nfsroot/slave2 rw" in by[("NFS", "slave2")]["detail"]
    assert "/mnt/ssd/nfsroot/slave2 refused" in by[("NFS", "slave1")]["detail"]
    assert "/mnt/ssd/nfsroot/slave2 refused" in by[("NFS", "slave3")]["detail"]
    for s in ("slave1", "slave2", "slave3"):
        assert by[("DHCP", s)]["ok"] and by[("SNAT", s)]["ok"]


def test_four_nodes_with_netboot_and_a_broken_snat(tmp_path):
    cluster = _netboot_cluster(tmp_path)
    info = _up(str(cluster), cwd=tmp_path)
    try:
        code, res = _verify(str(cluster), cwd=tmp_path)
        failed = [c for c in res["checks"] if not c["ok"]]
        assert code == 0 and not failed, failed
        assert_only_slave2_boots_from_the_net(checks_by(res))

        # Break the SNAT rule inside the master's namespace: verify must see it and fail.
        subprocess.run(["ip", "netns", "exec", info["nodes"]["master"], "nft", "flush", "chain",
                        "inet", "pirack", "postrouting"], check=True)
        code, res = _verify(str(cluster), cwd=tmp_path)
        assert code == 1 and not res["ok"]
        failed = {(c["check"], c["from"]) for c in res["checks"] if not c["ok"]}
        assert failed == {("SNAT", "slave1"), ("SNAT", "slave2"), ("SNAT", "slave3")}
        assert "192.168.50.11" in check_detail(res, "SNAT", "slave1")
    finally:
        r = sh("bringup", "lab", "down", str(cluster), cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    assert_nothing_left(info)


def test_a_second_up_sweeps_the_first_and_stopped_dnsmasq_fails(tmp_path):
    first = _up(cwd=tmp_path)
    second = _up(cwd=tmp_path)
    try:
        assert first["lab_id"] == second["lab_id"]
        assert not [n for n, pid in first["processes"].items() if pid_alive(pid)]
        # Stop dnsmasq (by its PID): DHCP must fail, and the slave's other checks with it.
        os.kill(second["processes"]["dnsmasq"], 15)
        code, res = _verify(cwd=tmp_path)
        assert code == 1
        failed = {c["check"] for c in res["checks"] if not c["ok"]}
        assert "DHCP" in failed
    finally:
        r = sh("bringup", "lab", "down", cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    assert_nothing_left(second)


def test_an_interrupted_up_leaves_nothing(tmp_path):
    """SIGTERM in the middle of `up` (after the state file exists): the lab cleans up after itself."""
    import signal
    import time

    (tmp_path / "cluster.toml").write_text(init_text(3).replace('name = "mycluster"', 'name = "labintr"'))
    p = subprocess.Popen([sys.executable, "-m", "bringup.cli", "lab", "up", "--json"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import hashlib

    lab = hashlib.sha1(b"labintr").hexdigest()[:6]
    state = f"/run/pirack-lab/{lab}/state.json"
    deadline = time.monotonic() + 20
    while not os.path.exists(state) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    if p.returncode == 0:  # it finished before the signal landed: clean up and say so
        sh("bringup", "lab", "down", cwd=tmp_path, timeout=120)
        pytest.skip("`up` finished before the signal [skip allowed in CI]")
    assert p.returncode != 0
    assert not [n for n in netns_list() if n.startswith(f"pirl-{lab}-")]
    assert not os.path.exists(f"/run/pirack-lab/{lab}")
    assert not procs_mentioning(f"/run/pirack-lab/{lab}/")


LISTENER = """
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
time.sleep(600)
"""


def _listener(ns: str, port: int) -> subprocess.Popen:
    """A TCP listener the test starts in namespace `ns` (stopped by its PID at the end)."""
    import time

    from bringup.lab.netns import listening

    p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", LISTENER, str(port)])
    deadline = time.monotonic() + 10
    while not listening(p.pid, "tcp", port):
        assert p.poll() is None and time.monotonic() < deadline, "the test's listener did not start"
        time.sleep(0.02)
    return p


def _ip(ns: str, *lines: str) -> None:
    subprocess.run(["ip", "-n", ns, "-batch", "-"], input="".join(ln + "\n" for ln in lines), text=True, check=True)


def test_from_the_uplink_only_ssh_answers_and_nothing_else_is_routed(tmp_path):
    """The master's firewall in the lab. From the uplink: a listener the test starts on the master
    (8080) is not reachable, one on SSH's port is; a slave is not. With a third interface on the
    master (a second LAN, namespace x3): nothing is routed between it and the uplink, either way.
    The control at the end (the forward chain flushed) shows the probes do see routing."""
    from bringup.lab.checks import tcp_connect
    from bringup.lab.topology import build_topology
    from pirack.load import load_cluster

    info = _up(cwd=tmp_path)
    t = build_topology(load_cluster(None).spec, info["lab_id"])
    m, up, x3 = t.master.ns, t.uplink_ns, f"pirl-{info['lab_id']}-x3"  # the lab's prefix: `down` sweeps it
    procs = []
    try:
        subprocess.run(["ip", "netns", "add", x3], check=True)
        subprocess.run(["ip", "link", "add", "eth9", "netns", m, "type", "veth", "peer", "name", "x0", "netns", x3],
                       check=True)
        _ip(m, "addr add 10.99.0.1/24 dev eth9", "link set eth9 up")
        _ip(x3, "link set lo up", "addr add 10.99.0.2/24 dev x0", "link set x0 up", "route add default via 10.99.0.1")
        _ip(up, f"route add 10.99.0.0/24 via {t.master_uplink_address.ip}")  # the uplink knows the way
        procs = [_listener(m, 8080), _listener(m, 22), _listener(x3, 8080)]
        master_up = str(t.master_uplink_address.ip)
        assert tcp_connect(m, "127.0.0.1", 8080) == "open"  # the listener works (from the master itself)
        assert tcp_connect(up, master_up, 8080) == "timeout"
        assert tcp_connect(up, str(t.master.address), 8080) == "timeout"
        assert tcp_connect(up, master_up, 22) == "open"
        assert tcp_connect(up, str(t.slaves[0].address), 22) == "timeout"
        # the third interface: no routing to or from the uplink
        assert tcp_connect(x3, str(t.router), 7) == "timeout"  # the uplink's echo service
        assert tcp_connect(up, "10.99.0.2", 8080) == "timeout"
        # control: without the forward chain the same probes get through
        subprocess.run(["ip", "netns", "exec", m, "nft", "flush", "chain", "inet", "pirack", "forward"], check=True)
        assert tcp_connect(x3, str(t.router), 7) == "open"
        assert tcp_connect(up, "10.99.0.2", 8080) == "open"
    finally:
        for p in procs:
            p.kill()
            p.wait()
        r = sh("bringup", "lab", "down", cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    assert_nothing_left(info)
    assert x3 not in netns_list()
