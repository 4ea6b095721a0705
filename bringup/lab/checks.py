"""`bringup lab verify`: each service proven from where it should work, and refused from where
it must not. Every check runs in the namespace of the machine it stands for; the slow ones
(the refusals wait for a timeout) run in parallel threads.

Clients: busybox udhcpc (DHCP), dnspython (DNS), tftp-hpa (TFTP), libnfs-utils (NFS), snmpget
(SNMP), a raw NTP client packet and plain sockets (NTP, SNAT echo, leak probes).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from pirack.load import LoadedCluster

from bringup.render.nfs import MOUNTD_PORT, PATH as EXPORTS_PATH
from bringup.render.nftables import SSH_PORT

from . import ganesha
from .dhcp import lease
from .netns import in_netns, run
from .paths import LabPaths, lab_dir
from .state import LabState
from .topology import ECHO_PORT, UPSTREAM_ANSWER, UPSTREAM_ZONE, NodeNet, Topology, build_topology

PROBE_TIMEOUT = 1.0  # how long a refusal is waited for: the lab's links answer in microseconds
SYSNAME_OID = ".1.3.6.1.2.1.1.5.0"
# TCP ports probed on the master from the uplink: SSH (must answer), the cluster services
# (must not), and a port nothing of ours uses (a web UI someone starts later: must not).
UPLINK_PROBES = (SSH_PORT, 53, 111, 2049, MOUNTD_PORT, 8080)


@dataclass
class Check:
    name: str
    where: str  # the namespace's machine the check ran from
    ok: bool
    detail: str
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"check": self.name, "from": self.where, "ok": self.ok, "detail": self.detail,
                "seconds": round(self.seconds, 3)}


# --- probes from inside a namespace (this thread only) ---------------------------------------

def tcp_connect(ns: str, addr: str, port: int, timeout: float = PROBE_TIMEOUT) -> str:
    """'open', 'refused' (a RST came back: the packet got there), 'timeout' or 'unreachable'."""
    with in_netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except (TimeoutError, socket.timeout):
        return "timeout"
    except OSError as exc:
        return f"unreachable ({exc.strerror})"
    finally:
        s.close()


@contextlib.contextmanager
def listeners(ns: str, ports: tuple[int, ...]):
    """A TCP listener on every address of namespace `ns` for each port (those a daemon holds
    already stay the daemon's), for the time of a probe: a port then answers if and only if the
    firewall lets the connection through."""
    socks = []
    try:
        for port in ports:
            with in_netns(ns):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            try:
                s.bind(("0.0.0.0", port))
                s.listen(8)
            except OSError:
                pass
        yield
    finally:
        for s in socks:
            s.close()


def udp_exchange(ns: str, addr: str, port: int, payload: bytes, timeout: float = PROBE_TIMEOUT) -> bytes | None:
    with in_netns(ns):  # a socket belongs to the namespace it was created in
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(payload, (addr, port))
        data, _ = s.recvfrom(2048)
        return data
    except (TimeoutError, socket.timeout):
        return None
    except OSError:  # ICMP unreachable surfaces as ECONNREFUSED on the next call
        return None
    finally:
        s.close()


def echo_peer(ns: str, addr: str, port: int) -> str:
    with in_netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((addr, port))
        return s.recv(100).decode().strip()
    finally:
        s.close()


def ntp_query(ns: str, server: str) -> tuple[int, int, int, bytes] | None:
    """(leap, mode, stratum, refid) of the server's answer to one client packet (RFC 5905)."""
    data = udp_exchange(ns, server, 123, b"\x23" + b"\0" * 47, timeout=2)  # LI 0, VN 4, mode 3
    if not data or len(data) < 48:
        return None
    return data[0] >> 6, data[0] & 7, data[1], data[12:16]


def tftp_rrq(filename: str) -> bytes:
    return struct.pack("!H", 1) + filename.encode() + b"\0octet\0"


def dns_a(ns: str, server: str, name: str, timeout: float = 2.0) -> list[str] | None:
    import dns.message
    import dns.query
    import dns.rdatatype

    q = dns.message.make_query(name, dns.rdatatype.A)
    with in_netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        r = dns.query.udp(q, server, timeout=timeout, sock=s)
    except dns.exception.Timeout:
        return None
    finally:
        s.close()
    return sorted(str(rr) for rrset in r.answer if rrset.rdtype == dns.rdatatype.A for rr in rrset)


# --- the checks --------------------------------------------------------------------------------

class Verifier:
    def __init__(self, lc: LoadedCluster, st: LabState):
        self.lc = lc
        self.spec = lc.spec
        self.st = st
        self.t: Topology = build_topology(lc.spec, st.lab_id)
        self.base = lab_dir(st.lab_id)
        self.work = LabPaths(self.base).verify
        self.work.mkdir(parents=True, exist_ok=True)
        self.master = str(self.t.master.address)
        self.mroot = self.base / self.t.master.name
        self.client_env = {"MIBS": "", "SNMPCONFPATH": str(self.work), "HOME": str(self.work)}
        exports_file = self.mroot / EXPORTS_PATH.lstrip("/")
        self.exports = ganesha.parse_exports(exports_file.read_text(), EXPORTS_PATH) if exports_file.exists() else []

    def _timed(self, name: str, where: str, fn: Callable[[], tuple[bool, str]]) -> Check:
        t0 = time.monotonic()
        try:
            ok, detail = fn()
        except Exception as exc:  # a check that crashes is a failed check, with its reason
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        return Check(name, where, ok, detail, time.monotonic() - t0)

    # DHCP -------------------------------------------------------------------------------------
    def dhcp(self, s: NodeNet) -> tuple[bool, str]:
        got, said = lease(s.ns, s.interface, self.work / f"dhcp-{s.name}.env", options=("ntpsrv", "search"),
                          timeout=10)
        if got is None:
            return False, f"no lease ({said})"
        want = {"ip": str(s.address), "router": self.master, "dns": self.master, "ntpsrv": self.master,
                "domain": self.spec.network.domain}
        wrong = [f"{k}={got.get(k, '')!r} (want {v})" for k, v in want.items() if got.get(k, "").split(" ")[0] != v]
        if wrong:
            return False, "; ".join(wrong)
        return True, f"{got['ip']}/{got['mask']} router {got['router']} dns {got['dns']} ntp {got['ntpsrv']} domain {got['domain']}"

    # DNS --------------------------------------------------------------------------------------
    def dns(self, s: NodeNet) -> tuple[bool, str]:
        bad = []
        names = 0
        for n in self.spec.nodes:
            for name in (self.spec.fqdn(n), n.name):
                names += 1
                got = dns_a(s.ns, self.master, name + ".")
                if got != [str(n.address)]:
                    bad.append(f"{name} -> {got} (want {n.address})")
        up = f"www.{UPSTREAM_ZONE}."
        got = dns_a(s.ns, self.master, up)
        if got != [str(UPSTREAM_ANSWER)]:
            bad.append(f"{up} -> {got} (want {UPSTREAM_ANSWER}, forwarded upstream)")
        if bad:
            return False, "; ".join(bad)
        return True, f"{names} node names resolve; {up} forwarded -> {UPSTREAM_ANSWER}"

    # TFTP -------------------------------------------------------------------------------------
    def tftp(self, s: NodeNet) -> tuple[bool, str]:
        from bringup.render.netboot import tftp_folder

        folder = tftp_folder(self.spec, self.spec.node(s.name))
        tftp_root = self.spec.storage.mount_point + "/" + self.spec.storage.tftp_root.strip("/")
        rel = folder[len(tftp_root):].strip("/")
        got = []
        for fname in ("start4.elf", "cmdline.txt"):
            local = self.work / f"tftp-{s.name}-{fname}"
            local.unlink(missing_ok=True)
            cp = run(["tftp", "-m", "binary", self.master, "-c", "get", f"{rel}/{fname}", str(local)],
                     ns=s.ns, check=False, timeout=5)
            server_copy = self.mroot / folder.lstrip("/") / fname
            if not local.exists() or local.read_bytes() != server_copy.read_bytes():
                why = (cp.stderr or cp.stdout).strip()[:160]
                if server_copy.exists() and not server_copy.stat().st_mode & 0o004:
                    why += (f"; on the master it is mode {server_copy.stat().st_mode & 0o777:04o}: "
                            "dnsmasq serves TFTP as nobody, the file must be world-readable")
                return False, f"{rel}/{fname}: not fetched or differs ({why})"
            got.append(f"{fname} ({local.stat().st_size} B)")
        return True, f"from {rel}/: " + ", ".join(got)

    # NFS --------------------------------------------------------------------------------------
    def _allowed(self, e: ganesha.ExportLine, addr: IPv4Address) -> ganesha.ExportClient | None:
        for c in e.clients:
            if c.clients == "*" or addr in ipaddress.ip_network(c.clients, strict=False):
                return c
        return None

    def _nfs_url(self, path: str, uid: int | None = None) -> str:
        ids = f"&uid={uid}&gid={uid}" if uid is not None else ""
        return f"nfs://{self.master}{path}?version=4{ids}"

    def nfs(self, s: NodeNet) -> tuple[bool, str]:
        if not self.exports:
            return True, "no exports in the cluster file"
        done, bad = [], []
        for e in self.exports:
            ok, note = self._nfs_export(s, e)
            (done if ok else bad).append(note)
        return (not bad), "; ".join(bad or done)

    def _nfs_export(self, s: NodeNet, e: ganesha.ExportLine) -> tuple[bool, str]:
        """One export from slave `s`: refused if it is not for the slave, else a file written,
        read back, and root squashed (or not) as the export says."""
        c = self._allowed(e, s.address)
        if c is None:
            return self._nfs_refused(s, e)
        # Root-squashed exports are written as the cluster's user (uid 1000).
        uid = 1000 if c.squash == "root_squash" else None
        stamp = time.time_ns()  # nfs-cp never overwrites: a fresh name per run
        token = f"written by {s.name} at {stamp}\n"
        local = self.work / f"nfs-{s.name}.txt"
        remote = f"{e.path}/lab-{s.name}-{stamp}.txt"
        problem = self._nfs_write_read(s, e, local, remote, token, uid)
        if problem:
            return False, problem
        owner = (self.mroot / remote.lstrip("/")).stat().st_uid
        return self._nfs_squash(s, e, c, local, f"{e.path}/lab-{s.name}-{stamp}-root.txt", owner)

    def _nfs_refused(self, s: NodeNet, e: ganesha.ExportLine) -> tuple[bool, str]:
        cp = run(["nfs-ls", self._nfs_url(e.path)], ns=s.ns, check=False, timeout=5)
        if cp.returncode == 0:
            return False, f"{e.path}: listed, but the export is not for {s.address}"
        return True, f"{e.path} refused"

    def _nfs_write_read(self, s: NodeNet, e: ganesha.ExportLine, local: Path, remote: str, token: str,
                        uid: int | None) -> str | None:
        """`token` written to `remote` and read back, over NFS and on the master's disk: the problem, or None."""
        local.write_text(token)
        cp = run(["nfs-cp", str(local), self._nfs_url(remote, uid)], ns=s.ns, check=False, timeout=5)
        if cp.returncode != 0:
            return f"{e.path}: write failed ({(cp.stderr or cp.stdout).strip()[:160]})"
        cp = run(["nfs-cat", self._nfs_url(remote, uid)], ns=s.ns, check=False, timeout=5)
        server_copy = self.mroot / remote.lstrip("/")
        if cp.stdout != token or not server_copy.exists() or server_copy.read_text() != token:
            return f"{e.path}: read back differs"
        return None

    def _nfs_squash(self, s: NodeNet, e: ganesha.ExportLine, c: ganesha.ExportClient, local: Path, as_root: str,
                    owner: int) -> tuple[bool, str]:
        """Root squashed on a root_squash export (a write as root lands as another user), and the
        file written owned by root on a no_root_squash one."""
        note = f"{e.path} {c.access.lower()}"
        if c.squash == "root_squash":
            # Root on the slave must not write as root on the master.
            cp = run(["nfs-cp", str(local), self._nfs_url(as_root)], ns=s.ns, check=False, timeout=5)
            root_copy = self.mroot / as_root.lstrip("/")
            if cp.returncode == 0 and root_copy.exists() and root_copy.stat().st_uid == 0:
                return False, f"{e.path}: root was not squashed"
            return True, note + ", root squashed (write+read)"
        if owner != 0:
            return False, f"{e.path}: no_root_squash, but the file is owned by uid {owner}"
        return True, note + " (write+read)"

    # NTP --------------------------------------------------------------------------------------
    def ntp(self, s: NodeNet) -> tuple[bool, str]:
        r = ntp_query(s.ns, self.master)
        if r is None:
            return False, "no answer from the master on UDP 123"
        leap, mode, stratum, refid = r
        if mode != 4 or not 1 <= stratum <= 15 or leap == 3:
            return False, f"unusable answer: mode {mode}, stratum {stratum}, leap {leap}"
        ref = socket.inet_ntoa(refid)
        src = "local clock (not yet synced to the uplink)" if ref == "127.127.1.1" else f"synced to {ref}"
        return True, f"stratum {stratum}, reference {ref}: {src}"

    # SNAT -------------------------------------------------------------------------------------
    def snat(self, s: NodeNet) -> tuple[bool, str]:
        want = str(self.t.snat_address.ip)
        try:
            peer = echo_peer(s.ns, str(self.t.router), ECHO_PORT)
        except OSError as exc:
            return False, f"no connection to the uplink's echo service: {exc}"
        return peer == want, f"the uplink sees {peer}" + ("" if peer == want else f" (want {want})")

    # SNMP -------------------------------------------------------------------------------------
    def snmpget(self, ns: str, timeout: int = 1) -> tuple[int, str]:
        cp = run(["snmpget", "-m", "", "-v2c", "-c", self.st.community, "-t", str(timeout), "-r", "0",
                  self.master, SYSNAME_OID], ns=ns, check=False, timeout=timeout + 5, env=self.client_env)
        return cp.returncode, (cp.stdout.strip() or cp.stderr.strip())

    def snmp(self, s: NodeNet) -> tuple[bool, str]:
        rc, out = self.snmpget(s.ns, timeout=2)
        want = self.spec.fqdn(self.spec.master)
        ok = rc == 0 and f'"{want}"' in out
        return ok, (f"sysName = {want}" if ok else out[:200])

    # Leaks from the uplink ----------------------------------------------------------------------
    def uplink_dhcp(self) -> tuple[bool, str]:
        got, _ = lease(self.t.uplink_ns, self.t.uplink_if, self.work / "dhcp-uplink.env", tries=1, probe=True,
                       timeout=10)
        if got is not None:
            return False, f"the master offered a lease on the uplink: {got}"[:200]
        return True, "no offer to a DHCP discover"

    def uplink_udp(self, port: int, payload: bytes, what: str) -> tuple[bool, str]:
        """Ask the master's cluster address (the uplink routes the cluster subnet to the master)
        and its uplink address at once; any answer within the timeout is a leak."""
        targets = [self.master, str(self.t.master_uplink_address.ip)]
        with ThreadPoolExecutor(len(targets)) as pool:
            got = dict(zip(targets, pool.map(lambda a: udp_exchange(self.t.uplink_ns, a, port, payload), targets)))
        leaks = [a for a, r in got.items() if r]
        if leaks:
            return False, f"{what} answered the uplink on {', '.join(leaks)}"
        return True, f"no {what} answer on {', '.join(targets)} within {PROBE_TIMEOUT:.0f} s"

    def uplink_snmp(self) -> tuple[bool, str]:
        rc, out = self.snmpget(self.t.uplink_ns, timeout=1)
        if rc == 0:
            return False, f"snmpd answered the uplink: {out[:120]}"
        return True, "timeout (" + out.splitlines()[0][:60] + ")"

    def uplink_nfs(self) -> tuple[bool, str]:
        r = tcp_connect(self.t.uplink_ns, self.master, 2049)
        return r != "open", f"TCP 2049 on {self.master}: {r}"

    def uplink_routes(self) -> tuple[bool, str]:
        """The uplink has no way out: only its link to the master and the route to the cluster."""
        routes = run(["ip", "-4", "route", "show", "table", "all"], ns=self.t.uplink_ns).stdout.splitlines()
        links = run(["ip", "-o", "link", "show"], ns=self.t.uplink_ns).stdout.splitlines()
        names = sorted(ln.split(":")[1].strip().split("@")[0] for ln in links)
        bad = [r for r in routes if r.startswith("default") or not (
            r.startswith((str(self.t.uplink_net), str(self.t.subnet), "local ", "broadcast "))
            or " dev lo " in r)]
        if names != sorted(["lo", self.t.uplink_if]):
            bad.append(f"links {names}")
        return (not bad), ("; ".join(bad) if bad else f"links {', '.join(names)}; no default route")

    def uplink_ports(self) -> tuple[bool, str]:
        """From the uplink, on the master's uplink and cluster addresses: SSH answers, nothing
        else does (a timeout: dropped; 'refused' would mean the packet got to the master)."""
        targets = [(a, p) for a in (str(self.t.master_uplink_address.ip), self.master) for p in UPLINK_PROBES]
        with listeners(self.t.master.ns, UPLINK_PROBES), ThreadPoolExecutor(len(targets)) as pool:
            got = dict(zip(targets, pool.map(lambda ap: tcp_connect(self.t.uplink_ns, *ap), targets)))
        wrong = [f"{a}:{p} {r}" for (a, p), r in got.items() if (r == "open") != (p == SSH_PORT) or r == "refused"]
        if wrong:
            return False, "from the uplink: " + "; ".join(wrong)
        return True, f"only TCP {SSH_PORT} (SSH) answers; {', '.join(str(p) for p in UPLINK_PROBES[1:])}: dropped"

    def uplink_to_slave(self, s: NodeNet) -> tuple[bool, str]:
        # Nothing listens on the slave: a RST ('refused') would prove the packet reached it.
        r = tcp_connect(self.t.uplink_ns, str(s.address), 22)
        return r not in ("open", "refused"), f"TCP to {s.address}:22: {r}" + (
            "" if r not in ("open", "refused") else " (the connection reached the slave)")

    # ------------------------------------------------------------------------------------------
    def run_all(self, workers: int = 32) -> list[Check]:
        """All checks; `workers=1` runs them one after another (the bench's baseline)."""
        t = self.t
        up = "uplink"
        with ThreadPoolExecutor(max_workers=workers) as pool:
            leak_futs: list[Future] = [
                pool.submit(self._timed, "uplink isolated", up, self.uplink_routes),
                pool.submit(self._timed, "no DHCP from uplink", up, self.uplink_dhcp),
                pool.submit(self._timed, "no TFTP from uplink", up,
                            lambda: self.uplink_udp(69, tftp_rrq("start4.elf"), "TFTP")),
                pool.submit(self._timed, "no DNS from uplink", up,
                            lambda: self.uplink_udp(53, _dns_probe(), "DNS")),
                pool.submit(self._timed, "no SNMP from uplink", up, self.uplink_snmp),
                pool.submit(self._timed, "no NFS from uplink", up, self.uplink_nfs),
                pool.submit(self._timed, "only SSH from uplink", up, self.uplink_ports),
            ]
            dhcp = {s.name: pool.submit(self._timed, "DHCP", s.name, lambda s=s: self.dhcp(s)) for s in t.slaves}
            per_slave: list[Future] = []
            for s in t.slaves:
                d = dhcp[s.name].result()
                if not d.ok:
                    continue
                tests = [("DNS", self.dns), ("NTP", self.ntp), ("SNAT", self.snat), ("SNMP", self.snmp),
                         ("NFS", self.nfs)]
                if s.boot == "net" and self.spec.storage is not None:
                    tests.append(("TFTP", self.tftp))
                for name, fn in tests:
                    per_slave.append(pool.submit(self._timed, name, s.name, lambda fn=fn, s=s: fn(s)))
                per_slave.append(pool.submit(self._timed, f"no connection into {s.name}", up,
                                             lambda s=s: self.uplink_to_slave(s)))
            results = [dhcp[s.name].result() for s in t.slaves]
            for s in t.slaves:
                if not dhcp[s.name].result().ok:
                    results.append(Check("DHCP-dependent checks", s.name, False, "skipped: the slave has no address"))
            results += [f.result() for f in per_slave] + [f.result() for f in leak_futs]
        order = ["DHCP", "DNS", "TFTP", "NFS", "NTP", "SNAT", "SNMP"]
        return sorted(results, key=lambda c: (order.index(c.name) if c.name in order else len(order),
                                              c.where == "uplink", c.where))


def _dns_probe() -> bytes:
    import dns.message

    return dns.message.make_query("master.", "A").to_wire()


def verify(lc: LoadedCluster, st: LabState, workers: int = 32) -> list[Check]:
    return Verifier(lc, st).run_all(workers)

