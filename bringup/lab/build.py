"""`bringup lab up`: build the namespaces, render every node's files with the bring-up code under
the lab folder, and start the real daemons from those files (`down` is state.teardown)."""

from __future__ import annotations

import contextlib
import os
import secrets as _secrets
import signal
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pirack.load import LoadedCluster

from bringup.render import NodePlan, RenderOptions, Secrets, render_node
from bringup.render.nfs import PATH as EXPORTS_PATH

from . import ganesha, uplink
from .netns import LabError, Started, ip_batch, run, start, wait_listening
from .paths import LAB, LabPaths, lab_dir
from .state import LabState, teardown
from .topology import ECHO_PORT, Topology, build_topology

if TYPE_CHECKING:
    from types import FrameType

FAKE_START4 = b"\x7fELF fake start4.elf for the pirack lab\n" + bytes(range(256)) * 16


def render_options(t: Topology, root: Path, node_role: str) -> RenderOptions:
    """A real node's options, except what must differ in the lab: paths inside the configs
    (under the node's root), dnsmasq's bind mode, pid files and the NTP source."""
    opts = dict(path_prefix=str(root))
    if node_role == "master":
        opts.update(dnsmasq_bind="bind-interfaces", dnsmasq_pidfile="/run/dnsmasq/dnsmasq.pid",
                    chrony_pidfile="/run/chrony/chronyd.pid", chrony_cmdsocket="/run/chrony/chronyd.sock",
                    chrony_source_override=str(t.ntp_source) if t.ntp_override else None)
    return RenderOptions(**opts)


def converge(plan: NodePlan, root: Path, mount_point: str | None) -> None:
    """`bringup run --root ROOT` for one node: the engine checks each file with its daemon's own
    checker, then writes it; a refused file stops the lab before any daemon starts."""
    from bringup.engine.runner import make_context, run as engine_run

    res = engine_run(plan, make_context(root, plan), mount_point)
    if res.failed:
        raise LabError(f"bringup run --root {root} ({plan.node}) failed at {res.failed.step}: "
                       f"{res.failed.message}")


def render_nodes(lc: LoadedCluster, t: Topology, base: Path, community: str) -> dict[str, NodePlan]:
    """Render every node with the bring-up code and converge it under its own root, in parallel
    (the checkers are separate processes)."""
    from concurrent.futures import ThreadPoolExecutor, wait

    mount = lc.spec.storage.mount_point if lc.spec.storage else None
    plans = {}
    for n in t.nodes:
        root = base / n.name
        root.mkdir(parents=True, exist_ok=True)
        sec = Secrets(snmp_community=community) if n.role == "master" else None
        plans[n.name] = render_node(lc, n.name, secrets=sec, options=render_options(t, root, n.role))
    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        with _signals_deferred():
            futs = [pool.submit(converge, plans[n.name], base / n.name, mount) for n in t.nodes]
        try:
            for f in futs:
                f.result()
        except BaseException:
            # Interrupted (SIGTERM) or a node failed: let running converges finish before the
            # caller tears their folders down, or they recreate what teardown removed.
            for f in futs:
                f.cancel()
            wait(futs)
            raise
    return plans


def _file(plan: NodePlan, path: str, root: Path) -> Path:
    plan.file(path)  # raises StopIteration if the bring-up no longer renders it
    return root / path.lstrip("/")


def _fake_os_tree(tree: Path) -> Path:
    """A stand-in for an unpacked Raspberry Pi OS: what the Pi 4 bootloader fetches first."""
    (tree / "boot").mkdir(parents=True, exist_ok=True)
    (tree / "boot/start4.elf").write_bytes(FAKE_START4)
    (tree / "boot/fixup4.dat").write_bytes(b"fake fixup4.dat for the pirack lab\n")
    (tree / "boot/kernel8.img").write_bytes(b"fake kernel8.img for the pirack lab\n")
    (tree / "etc/ssh").mkdir(parents=True, exist_ok=True)
    (tree / "etc/os-release").write_text('PRETTY_NAME="pirack lab stand-in for Raspberry Pi OS"\n')
    return tree


def _prepare(lc: LoadedCluster, node: str, tree: Path, root: Path) -> None:
    from bringup.netboot import prepare

    prepare(lc.path, node, None, tree, root)


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGTERM/SIGHUP while work is handed to a thread pool: an interrupt raised inside
    submit() can leave a started worker the pool does not know of, which shutdown() then does
    not wait for, and which writes into the lab folder after teardown removed it."""
    held = {signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _install_signal_handlers():
    """SIGTERM/SIGHUP become KeyboardInterrupt, so `up` cleans up whatever stops it."""
    def handler(signum: int, frame: FrameType | None):
        raise KeyboardInterrupt(f"signal {signum}")
    old = {}
    for s in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread
            old[s] = signal.signal(s, handler)
    return old


@contextlib.contextmanager
def torn_down_on_failure(remove: Callable[[], tuple[list[str], list[str]]]):
    """SIGTERM/SIGHUP become KeyboardInterrupt; whatever stops the block calls `remove()` (which
    returns (removed, problems)) unless PIRACK_LAB_KEEP is set, to keep a broken lab to look at
    (then `bringup lab down`). The namespace lab's `up` and the VM lab's share it."""
    old = _install_signal_handlers()
    try:
        yield
    except BaseException:
        if not os.environ.get("PIRACK_LAB_KEEP"):
            _, problems = remove()
            for p in problems:
                print(f"lab teardown: {p}", file=sys.stderr)
        raise
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def up(lc: LoadedCluster, lab_id: str | None = None, ssh: bool = False) -> LabState:
    t = build_topology(lc.spec, lab_id)
    teardown(t.lab_id)  # a stale lab of ours (same id) goes first
    base = lab_dir(t.lab_id)
    st = LabState(lab_id=t.lab_id, dir=str(base), cluster=lc.display, uplink_ns=t.uplink_ns,
                  nodes={n.name: n.ns for n in t.nodes})
    with torn_down_on_failure(lambda: teardown(t.lab_id)):
        _build(lc, t, st, base)
        if ssh:  # `up --ssh`: an sshd per slave, for `bringup fleet run --lab` (lab/sshd.py)
            from . import sshd

            sshd.start_all(t, st, base)
    return st


def _build(lc: LoadedCluster, t: Topology, st: LabState, base: Path) -> None:
    """The lab, step by step: folders, every node's files (converged by the engine), the
    namespaces, the master's firewall, the SSD's stand-in, then the daemons."""
    d = _make_folders(base, t.master.name)
    st.community = _secrets.token_hex(8)
    st.save()
    plans = render_nodes(lc, t, base, st.community)
    mplan, mroot = plans[t.master.name], d.root(t.master.name)
    _make_namespaces(t, st)
    _master_firewall(mplan, mroot, t.master.ns)
    exports = _export_folders(mplan, mroot)
    netboot = _start_netboot_prepare(lc, d, mroot)
    if exports and not Path("/run/ganesha").exists():
        # ganesha makes /run/ganesha whatever its configuration says: note it, so `down` can remove it.
        st.host_dirs.append("/run/ganesha")
    wait_listening(_start_daemons(_daemons(t, mplan, d, exports), st))
    if netboot is not None:
        netboot.finish()
    problems = _startup_warnings(st)
    if problems:
        raise LabError("; ".join(problems))
    st.ready = True
    st.save()


def _make_folders(base: Path, master: str) -> LabPaths:
    d = LabPaths(base)
    mroot = d.root(master)
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)  # dnsmasq reads TFTP files as nobody
    for f in (d.run, d.log, d.uplink, d.own / "dhcp", d.ganesha / "recovery", d.run / "uplink-chronyd",
              mroot / "run/dnsmasq", mroot / "run/chrony", mroot / "var/lib/misc", mroot / "var/lib/snmp",
              mroot / "var/lib/chrony", mroot / "var/log/chrony"):
        f.mkdir(parents=True, exist_ok=True)
    os.chmod(mroot / "run/chrony", 0o700)  # chronyd refuses a world-writable socket folder
    os.chmod(d.run / "uplink-chronyd", 0o700)
    return d


def _make_namespaces(t: Topology, st: LabState) -> None:
    """Namespaces and links: recorded first, so an interrupted build is still swept by `down`."""
    from .topology import ip_batches

    host, per = ip_batches(t)
    st.namespaces = t.namespaces
    st.links = [f"{ln.ns}/{ln.name}<->{ln.peer_ns}/{ln.peer}" for ln in t.links] + [f"{t.switch_ns}/{t.bridge}"]
    st.save()
    ip_batch(host)
    for ns, lines in per.items():
        ip_batch(lines, ns)


def _master_firewall(mplan: NodePlan, mroot: Path, ns: str) -> None:
    """The master's forwarding and firewall, from its rendered files, inside its namespace only."""
    run(["sysctl", "-q", "-p", str(_file(mplan, "/etc/sysctl.d/90-pirack.conf", mroot))], ns=ns)
    run(["nft", "-f", str(_file(mplan, "/etc/nftables.d/pirack.nft", mroot))], ns=ns)


def _export_folders(mplan: NodePlan, mroot: Path) -> list[ganesha.ExportLine]:
    """The exported folders the lab stands in for (the SSD's contents)."""
    if not any(f.path == EXPORTS_PATH for f in mplan.files):
        return []
    exports = ganesha.parse_exports(_file(mplan, EXPORTS_PATH, mroot).read_text(), EXPORTS_PATH)
    for e in exports:
        folder = mroot / e.path.lstrip("/")
        folder.mkdir(parents=True, exist_ok=True)
        # A root-squashed export is written by the cluster's user (uid 1000, the Pi's first
        # user): the lab gives it the folder, as the owner of the data folder would.
        if all(c.squash != "no_root_squash" for c in e.clients):
            os.chown(folder, 1000, 1000)
    return exports


@dataclass
class NetbootPrepare:
    """`bringup netboot prepare --from TREE --root MASTER_ROOT` for each net-booting slave, with
    a stand-in Raspberry Pi OS tree, in a thread: its SSH host keys take a while, and the
    namespaces and daemons need none of it."""

    pool: ThreadPoolExecutor
    futures: list[Future]

    def finish(self) -> None:
        for f in self.futures:
            f.result()
        self.pool.shutdown()


def _start_netboot_prepare(lc: LoadedCluster, d: LabPaths, mroot: Path) -> NetbootPrepare | None:
    netboot = [s.name for s in lc.spec.slaves if s.boot == "net"]
    if not netboot:
        return None
    tree = _fake_os_tree(d.own / "rpios")
    pool = ThreadPoolExecutor(max_workers=1)
    with _signals_deferred():
        futures = [pool.submit(_prepare, lc, name, tree, mroot) for name in netboot]
    return NetbootPrepare(pool, futures)


@dataclass(frozen=True)
class Daemon:
    name: str
    ns: str
    argv: list[str]
    env: dict | None
    ports: list[tuple[str, int]]  # what it listens on once it is ready


def _daemons(t: Topology, mplan: NodePlan, d: LabPaths, exports: list[ganesha.ExportLine]) -> list[Daemon]:
    """The uplink's fake upstream DNS, NTP source and echo service; the master's dnsmasq,
    chronyd, snmpd (and ganesha for the exports), each from its rendered file."""
    m, mroot = t.master, d.root(t.master.name)
    up_dns, up_ntp, gconf = d.uplink / "dnsmasq.conf", d.uplink / "chrony.conf", d.ganesha / "ganesha.conf"
    up_dns.write_text(uplink.dns_config(t, d.run))
    up_ntp.write_text(uplink.ntp_config(t, d.run))
    gconf.write_text(ganesha.ganesha_config(exports, str(mroot), str(m.address), str(d.ganesha / "recovery")))
    snmp_env = {"SNMP_PERSISTENT_DIR": str(mroot / "var/lib/snmp"), "MIBS": "", "SNMPCONFPATH": str(mroot / "etc/snmp")}
    out = [
        Daemon("uplink-dns", t.uplink_ns, ["dnsmasq", "-k", "-C", str(up_dns)], None, [("udp", 53)]),
        Daemon("uplink-ntp", t.uplink_ns, ["chronyd", "-x", "-u", "root", "-d", "-f", str(up_ntp)], None, [("udp", 123)]),
        Daemon("uplink-echo", t.uplink_ns, uplink.echo_server_args(sys.executable, str(t.router), ECHO_PORT), None,
               [("tcp", ECHO_PORT)]),
        Daemon("dnsmasq", m.ns, ["dnsmasq", "-k", "--log-facility=-", "-C",
                                 str(_file(mplan, "/etc/dnsmasq.d/pirack.conf", mroot))], None, [("udp", 53), ("udp", 67)]),
        Daemon("chronyd", m.ns, ["chronyd", "-x", "-u", "root", "-d", "-f",
                                 str(_file(mplan, "/etc/chrony/chrony.conf", mroot))], None, [("udp", 123)]),
        Daemon("snmpd", m.ns, ["snmpd", "-f", "-Le", "-C", "-c", str(_file(mplan, "/etc/snmp/snmpd.conf", mroot)),
                               "-p", str(d.run / "snmpd.pid")], snmp_env, [("udp", 161)]),
    ]
    if exports:
        out.append(Daemon("ganesha", m.ns, ["ganesha.nfsd", "-F", "-f", str(gconf), "-L", str(d.log / "ganesha.log"),
                                            "-p", str(d.run / "ganesha.pid")], None, [("tcp", 2049)]))
    return out


def _start_daemons(daemons: list[Daemon], st: LabState) -> list[tuple[Started, list[tuple[str, int]]]]:
    """Start each; its PID is saved in the lab state at once, so `down` finds it whatever happens next."""
    out = []
    for dm in daemons:
        p = start(dm.name, dm.ns, dm.argv, Path(st.dir) / LAB / "log" / f"{dm.name}.out", env=dm.env)
        st.processes.append(p)
        st.save()
        out.append((p, dm.ports))
    return out


def _startup_warnings(st: LabState) -> list[str]:
    """snmpd's warnings about its config go to stderr: in the lab any of them is a failure."""
    out = []
    for p in st.processes:
        if p.name == "snmpd":
            lines = [ln for ln in Path(p.log).read_text(errors="replace").splitlines()
                     if ln.strip() and not ln.startswith("NET-SNMP version")
                     # its persistent folder, made inside the lab on the first start: news, not a warning
                     and not ln.startswith(f"Created directory: {st.dir}/")]
            if lines:
                out.append(f"snmpd warned at start: {' | '.join(lines[:5])}")
    return out
