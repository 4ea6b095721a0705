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


def test_default_cluster_up_verify_down(tmp_path):
    info = _up(cwd=tmp_path)
    try:
        assert set(info["nodes"]) == {"master", "slave1"}
        assert info["uplink"].startswith(f"pirl-{info['lab_id']}-")
        assert set(netns_list()) >= {info["uplink"], *info["nodes"].values()}
        # The master forwards; the host's setting is untouched by it.
        fwd = subprocess.run(["ip", "netns", "exec", info["nodes"]["master"], "cat",
                              "/proc/sys/net/ipv4/ip_forward"], capture_output=True, text=True).stdout
        assert fwd.strip() == "1"
        code, res = _verify(cwd=tmp_path)
        failed = [c for c in res["checks"] if not c["ok"]]
        assert code == 0 and res["ok"] and not failed, failed
        checks = {(c["check"], c["from"]) for c in res["checks"]}
        for name in ("DHCP", "DNS", "NFS", "NTP", "SNAT", "SNMP"):
            assert (name, "slave1") in checks
        for name in ("no DHCP from uplink", "no TFTP from uplink", "no SNMP from uplink",
                     "no NFS from uplink", "no connection into slave1", "uplink isolated"):
            assert (name, "uplink") in checks
        snat = next(c for c in res["checks"] if c["check"] == "SNAT")
        assert "192.168.11.211" in snat["detail"]
    finally:
        r = sh("bringup", "lab", "down", cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    assert_nothing_left(info)


def test_four_nodes_with_netboot_and_a_broken_snat(tmp_path):
    cluster = _netboot_cluster(tmp_path)
    info = _up(str(cluster), cwd=tmp_path)
    try:
        code, res = _verify(str(cluster), cwd=tmp_path)
        failed = [c for c in res["checks"] if not c["ok"]]
        assert code == 0 and not failed, failed
        by = {(c["check"], c["from"]): c for c in res["checks"]}
        assert "start4.elf" in by[("TFTP", "slave2")]["detail"]
        assert ("TFTP", "slave1") not in by  # only the net-booting slave asks
        # Its root export is its own: slave2 writes it, the others are refused.
        assert "/mnt/ssd/nfsroot/slave2 rw" in by[("NFS", "slave2")]["detail"]
        assert "/mnt/ssd/nfsroot/slave2 refused" in by[("NFS", "slave1")]["detail"]
        assert "/mnt/ssd/nfsroot/slave2 refused" in by[("NFS", "slave3")]["detail"]
        for s in ("slave1", "slave2", "slave3"):
            assert by[("DHCP", s)]["ok"] and by[("SNAT", s)]["ok"]

        # Break the SNAT rule inside the master's namespace: verify must see it and fail.
        subprocess.run(["ip", "netns", "exec", info["nodes"]["master"], "nft", "flush", "chain",
                        "inet", "pirack", "postrouting"], check=True)
        code, res = _verify(str(cluster), cwd=tmp_path)
        assert code == 1 and not res["ok"]
        failed = {(c["check"], c["from"]) for c in res["checks"] if not c["ok"]}
        assert failed == {("SNAT", "slave1"), ("SNAT", "slave2"), ("SNAT", "slave3")}
        assert "192.168.50.11" in next(c["detail"] for c in res["checks"]
                                       if (c["check"], c["from"]) == ("SNAT", "slave1"))
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
        pytest.skip("`up` finished before the signal")
    assert p.returncode != 0
    assert not [n for n in netns_list() if n.startswith(f"pirl-{lab}-")]
    assert not os.path.exists(f"/run/pirack-lab/{lab}")
    assert not procs_mentioning(f"/run/pirack-lab/{lab}/")
