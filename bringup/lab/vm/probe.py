"""The lab's checks from inside a slave VM: `python3 -m bringup.lab.vm.probe` on the slave, with
a JSON job on stdin, prints a JSON list of checks. It runs pirack's own installed copy (the
image carries the same wheel), with the real clients of a node: the kernel's NFS client, busybox
udhcpc, tftp-hpa, snmpget, and the namespace lab's own DNS, NTP and echo probes on plain sockets.

Job: {"master": "192.168.50.1", "domain": ..., "names": {"name": "address", ...},
      "upstream": ["www.upstream.test", "192.0.2.53"], "router": ..., "echo_port": 7,
      "snat": ..., "community": ..., "master_fqdn": ..., "exports": [[path, squash], ...],
      "address": this slave's, "tftp_folder": [relative folder, local copy] or null}
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..checks import Check, tftp_rrq

UDHCPC_SCRIPT = Path(__file__).resolve().parents[1] / "udhcpc.sh"
SYSNAME_OID = ".1.3.6.1.2.1.1.5.0"


def _sh(argv: list[str], timeout: float = 20, env: dict | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env=None if env is None else {**os.environ, **env})
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"no answer in {timeout:.0f} s")


def _udp(addr: str, port: int, payload: bytes, timeout: float = 2.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(payload, (addr, port))
            return s.recvfrom(65535)[0]
        except OSError:
            return None


def dhcp(job: dict) -> tuple[bool, str]:
    """A DHCP exchange on eth0 with udhcpc, configuring nothing (the lab's script only writes
    what it was offered): the static lease, router, DNS, NTP and domain."""
    out = Path(tempfile.mkdtemp()) / "lease.env"
    cp = _sh(["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-s", str(UDHCPC_SCRIPT), "-t", "5", "-T", "1",
              "-O", "ntpsrv", "-O", "search"], env={"PIRACK_DHCP_OUT": str(out), "PIRACK_DHCP_PROBE": "1"})  # records, never reconfigures
    if cp.returncode != 0 or not out.exists():
        return False, f"no lease (udhcpc exit {cp.returncode}: {cp.stderr.strip()[-120:]})"
    got = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    m = job["master"]
    want = {"ip": job["address"], "router": m, "dns": m, "ntpsrv": m, "domain": job["domain"]}
    wrong = [f"{k}={got.get(k, '')!r} (want {v})" for k, v in want.items() if got.get(k, "").split(" ")[0] != v]
    if wrong:
        return False, "; ".join(wrong)
    return True, f"{got['ip']} router {got['router']} dns {got['dns']} ntp {got['ntpsrv']} domain {got['domain']}"


def _dns_a(server: str, name: str) -> list[str] | None:
    import dns.exception
    import dns.message
    import dns.query
    import dns.rdatatype

    q = dns.message.make_query(name, dns.rdatatype.A)
    try:
        r = dns.query.udp(q, server, timeout=3)
    except dns.exception.Timeout:
        return None
    return sorted(str(rr) for rrset in r.answer if rrset.rdtype == dns.rdatatype.A for rr in rrset)


def dns(job: dict) -> tuple[bool, str]:
    bad = [f"{name} -> {got} (want {addr})" for name, addr in job["names"].items()
           if (got := _dns_a(job["master"], name + ".")) != [addr]]
    up_name, up_addr = job["upstream"]
    got = _dns_a(job["master"], up_name + ".")
    if got != [up_addr]:
        bad.append(f"{up_name} -> {got} (want {up_addr}, forwarded upstream)")
    return (not bad), ("; ".join(bad) if bad else f"{len(job['names'])} node names resolve; {up_name} forwarded -> {up_addr}")


def ntp(job: dict) -> tuple[bool, str]:
    data = _udp(job["master"], 123, b"\x23" + b"\0" * 47)
    if not data or len(data) < 48:
        return False, "no answer from the master on UDP 123"
    leap, mode, stratum = data[0] >> 6, data[0] & 7, data[1]
    if mode != 4 or not 1 <= stratum <= 15 or leap == 3:
        return False, f"unusable answer: mode {mode}, stratum {stratum}, leap {leap}"
    return True, f"stratum {stratum}, reference {socket.inet_ntoa(data[12:16])}"


def snat(job: dict) -> tuple[bool, str]:
    try:
        with socket.create_connection((job["router"], job["echo_port"]), timeout=5) as s:
            peer = s.recv(100).decode().strip()
    except OSError as exc:
        return False, f"no connection to the uplink's echo service: {exc}"
    return peer == job["snat"], f"the uplink sees {peer}" + ("" if peer == job["snat"] else f" (want {job['snat']})")


def snmp(job: dict) -> tuple[bool, str]:
    cp = _sh(["snmpget", "-m", "", "-v2c", "-c", job["community"], "-t", "3", "-r", "1", job["master"], SYSNAME_OID],
             env={"MIBS": ""})
    ok = cp.returncode == 0 and f'"{job["master_fqdn"]}"' in cp.stdout
    return ok, (f"sysName = {job['master_fqdn']}" if ok else (cp.stdout or cp.stderr).strip()[:200])


def nfs(job: dict) -> tuple[bool, str]:
    """Each export mounted with the kernel's client (the default version: 4.2), listed, and a
    write as root: refused on a root-squashed export (root is nobody there), owned by root on a
    no_root_squash one."""
    done, bad = [], []
    for path, squash in job["exports"]:
        mp = Path(tempfile.mkdtemp(prefix="pirack-nfs-"))
        cp = _sh(["mount", "-t", "nfs", f"{job['master']}:{path}", str(mp)], timeout=60)
        if cp.returncode != 0:
            bad.append(f"{path}: mount failed ({cp.stderr.strip()[-160:]})")
            continue
        try:
            vers = _mount_option(mp, "vers")
            probe = mp / f"lab-{socket.gethostname()}-{time.time_ns()}"
            try:
                probe.write_text("root writes\n")
                owner = probe.stat().st_uid
                probe.unlink()
                wrote = f"root wrote as uid {owner}"
                ok = squash == "no_root_squash" and owner == 0
            except PermissionError:
                wrote, ok = "root's write refused (squashed)", squash == "root_squash"
            (done if ok else bad).append(f"{path} v{vers} {squash}: {wrote}")
        finally:
            _sh(["umount", str(mp)], timeout=60)
            with contextlib.suppress(OSError):
                mp.rmdir()
    return (not bad), "; ".join(bad or done) or "no exports"


def _mount_option(mp: Path, key: str) -> str:
    for line in Path("/proc/mounts").read_text().splitlines():
        f = line.split()
        if f[1] == str(mp):
            opts = dict(o.split("=", 1) if "=" in o else (o, "") for o in f[3].split(","))
            return opts.get(key, "?")
    return "?"


def tftp(job: dict) -> tuple[bool, str]:
    """The boot files over TFTP equal the slave's /boot/firmware (the NFS mount of that folder)."""
    rel, local = job["tftp_folder"]
    got = []
    for f in ("cmdline.txt", "kernel8.img"):
        dest = Path(tempfile.mkdtemp()) / f
        cp = _sh(["tftp", "-m", "binary", job["master"], "-c", "get", f"{rel}/{f}", str(dest)], timeout=120)
        mine = Path(local) / f
        if not dest.exists() or not mine.exists() or dest.read_bytes() != mine.read_bytes():
            return False, f"{rel}/{f}: not fetched or differs from {mine} ({(cp.stderr or cp.stdout).strip()[:120]})"
        got.append(f"{f} ({dest.stat().st_size} B)")
    raw = _udp(job["master"], 69, tftp_rrq(f"{rel}/cmdline.txt"))
    return raw is not None, f"from {rel}/: " + ", ".join(got) + " = /boot/firmware"


CHECKS = {"DHCP": dhcp, "DNS": dns, "NFS": nfs, "NTP": ntp, "SNAT": snat, "SNMP": snmp, "TFTP": tftp}


def main() -> None:
    job = json.loads(sys.stdin.read())
    where = socket.gethostname()
    out = []
    for name in job["checks"]:
        t0 = time.monotonic()
        try:
            ok, detail = CHECKS[name](job)
        except Exception as exc:  # a check that crashes is a failed check, with its reason
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        out.append(Check(name, where, ok, detail, time.monotonic() - t0).as_dict())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
