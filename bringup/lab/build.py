"""`bringup lab up` and `down`: build the namespaces, render every node's files with the
bring-up code under the lab folder, and start the real daemons from those files."""

from __future__ import annotations

import contextlib
import os
import secrets as _secrets
import signal
import sys
import time
from pathlib import Path

from pirack.load import LoadedCluster

from bringup.render import NodePlan, RenderOptions, Secrets, render_node

from . import ganesha, uplink
from .netns import LabError, Started, ip_batch, list_netns, listening, run, start
from .state import LabState, teardown
from .topology import ECHO_PORT, STATE_BASE, Topology, build_topology

LAB = "_lab"  # the lab's own files, beside one root per node ('_' is never in a host name)
FAKE_START4 = b"\x7fELF fake start4.elf for the pirack lab\n" + bytes(range(256)) * 16


def lab_dir(lab_id: str) -> Path:
    return Path(STATE_BASE) / lab_id


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
        raise LabError(f"bringup run --root {root} ({plan.node}) failed at {res.failed['step']}: "
                       f"{res.failed['message']}")


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
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    old = {}
    for s in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread
            old[s] = signal.signal(s, handler)
    return old


def up(lc: LoadedCluster, lab_id: str | None = None, ssh: bool = False) -> LabState:
    t = build_topology(lc.spec, lab_id)
    teardown(t.lab_id)  # a stale lab of ours (same id) goes first
    base = lab_dir(t.lab_id)
    st = LabState(lab_id=t.lab_id, dir=str(base), cluster=lc.display, uplink_ns=t.uplink_ns,
                  nodes={n.name: n.ns for n in t.nodes})
    old = _install_signal_handlers()
    try:
        _build(lc, t, st, base)
        if ssh:  # `up --ssh`: an sshd per slave, for `bringup fleet run --lab` (lab/sshd.py)
            from . import sshd

            sshd.start_all(t, st, base)
    except BaseException:
        if not os.environ.get("PIRACK_LAB_KEEP"):  # keep a broken lab to look at: set it, then `down`
            _, problems = teardown(t.lab_id)
            for p in problems:
                print(f"lab teardown: {p}", file=sys.stderr)
        raise
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return st


def _build(lc: LoadedCluster, t: Topology, st: LabState, base: Path) -> None:
    from .topology import ip_batches

    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)  # dnsmasq reads TFTP files as nobody
    st.community = _secrets.token_hex(8)
    st.save()

    plans = render_nodes(lc, t, base, st.community)
    m = t.master
    mroot = base / m.name
    labd = base / LAB
    rund = labd / "run"
    logd = labd / "log"
    for d in (rund, logd, labd / "uplink", labd / "dhcp", labd / "ganesha", rund / "uplink-chronyd",
              mroot / "run/dnsmasq", mroot / "run/chrony", mroot / "var/lib/misc", mroot / "var/lib/snmp",
              mroot / "var/lib/chrony", mroot / "var/log/chrony"):
        d.mkdir(parents=True, exist_ok=True)
    os.chmod(mroot / "run/chrony", 0o700)  # chronyd refuses a world-writable socket folder
    os.chmod(rund / "uplink-chronyd", 0o700)

    # Namespaces and links: record first, so an interrupted build is still swept by `down`.
    host, per = ip_batches(t)
    st.namespaces = t.namespaces
    st.links = [f"{ln.ns}/{ln.name}<->{ln.peer_ns}/{ln.peer}" for ln in t.links] + [f"{t.switch_ns}/{t.bridge}"]
    st.save()
    ip_batch(host)
    for ns, lines in per.items():
        ip_batch(lines, ns)

    mplan = plans[m.name]
    # The master's firewall and forwarding, from its rendered files, inside its namespace only.
    run(["sysctl", "-q", "-p", str(_file(mplan, "/etc/sysctl.d/90-pirack.conf", mroot))], ns=m.ns)
    run(["nft", "-f", str(_file(mplan, "/etc/nftables.d/pirack.nft", mroot))], ns=m.ns)

    # Export folders and boot files the lab stands in for (the SSD's contents).
    exports_path = "/etc/exports.d/pirack.exports"
    exports = []
    if any(f.path == exports_path for f in mplan.files):
        exports = ganesha.parse_exports(_file(mplan, exports_path, mroot).read_text(), exports_path)
    for e in exports:
        folder = mroot / e.path.lstrip("/")
        folder.mkdir(parents=True, exist_ok=True)
        # A root-squashed export is written by the cluster's user (uid 1000, the Pi's first
        # user): the lab gives it the folder, as the owner of the data folder would.
        if all(c.squash != "no_root_squash" for c in e.clients):
            os.chown(folder, 1000, 1000)
    netboot = [s.name for s in lc.spec.slaves if s.boot == "net"]
    prepared = None
    if netboot:
        # `bringup netboot prepare --from TREE --root MASTER_ROOT` with a stand-in Raspberry Pi OS
        # tree (the firmware a Pi 4 asks for first, a kernel, an /etc). In a thread: its SSH
        # host keys take a while, and the namespaces and daemons need none of it.
        from concurrent.futures import ThreadPoolExecutor

        tree = _fake_os_tree(labd / "rpios")
        prepared = ThreadPoolExecutor(max_workers=1)
        with _signals_deferred():
            prepared_futs = [prepared.submit(_prepare, lc, name, tree, mroot) for name in netboot]

    # The uplink: fake upstream DNS, NTP source, echo service.
    up_dns = labd / "uplink/dnsmasq.conf"
    up_dns.write_text(uplink.dns_config(t, rund))
    up_ntp = labd / "uplink/chrony.conf"
    up_ntp.write_text(uplink.ntp_config(t, rund))
    gconf = labd / "ganesha/ganesha.conf"
    (labd / "ganesha/recovery").mkdir(parents=True, exist_ok=True)
    gconf.write_text(ganesha.ganesha_config(exports, str(mroot), str(m.address), str(labd / "ganesha/recovery")))

    snmp_env = {"SNMP_PERSISTENT_DIR": str(mroot / "var/lib/snmp"), "MIBS": "",
                "SNMPCONFPATH": str(mroot / "etc/snmp")}
    starts: list[tuple[str, str, list[str], dict | None, list[tuple[str, int]]]] = [
        ("uplink-dns", t.uplink_ns, ["dnsmasq", "-k", "-C", str(up_dns)], None, [("udp", 53)]),
        ("uplink-ntp", t.uplink_ns, ["chronyd", "-x", "-u", "root", "-d", "-f", str(up_ntp)], None, [("udp", 123)]),
        ("uplink-echo", t.uplink_ns, uplink.echo_server_args(sys.executable, str(t.router), ECHO_PORT), None,
         [("tcp", ECHO_PORT)]),
        ("dnsmasq", m.ns, ["dnsmasq", "-k", "--log-facility=-",
                           "-C", str(_file(mplan, "/etc/dnsmasq.d/pirack.conf", mroot))], None,
         [("udp", 53), ("udp", 67)]),
        ("chronyd", m.ns, ["chronyd", "-x", "-u", "root", "-d",
                           "-f", str(_file(mplan, "/etc/chrony/chrony.conf", mroot))], None, [("udp", 123)]),
        ("snmpd", m.ns, ["snmpd", "-f", "-Le", "-C", "-c", str(_file(mplan, "/etc/snmp/snmpd.conf", mroot)),
                         "-p", str(rund / "snmpd.pid")], snmp_env, [("udp", 161)]),
    ]
    if exports:
        starts.append(("ganesha", m.ns, ["ganesha.nfsd", "-F", "-f", str(gconf), "-L", str(logd / "ganesha.log"),
                                         "-p", str(rund / "ganesha.pid")], None, [("tcp", 2049)]))
    # ganesha makes /run/ganesha whatever its configuration says: note it, so `down` can remove it.
    if exports and not Path("/run/ganesha").exists():
        st.host_dirs.append("/run/ganesha")
    waits: list[tuple[Started, list[tuple[str, int]]]] = []
    for name, ns, args, env, ports in starts:
        p = start(name, ns, args, logd / f"{name}.out", env=env)
        st.processes.append(p)
        st.save()
        waits.append((p, ports))
    _wait_ready(waits)
    if prepared is not None:
        for f in prepared_futs:
            f.result()
        prepared.shutdown()
    problems = _startup_warnings(st)
    if problems:
        raise LabError("; ".join(problems))
    st.ready = True
    st.save()


def _wait_ready(waits: list[tuple[Started, list[tuple[str, int]]]], timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    pending = list(waits)
    while pending:
        still = []
        for p, ports in pending:
            if not p.alive():
                raise LabError(f"{p.name} exited at start in {p.ns}: {_tail(p.log)}")
            if not all(listening(p.pid, proto, port) for proto, port in ports):
                still.append((p, ports))
        pending = still
        if pending:
            if time.monotonic() > deadline:
                names = ", ".join(p.name for p, _ in pending)
                raise LabError(f"not listening after {timeout:.0f} s: {names} ({_tail(pending[0][0].log)})")
            time.sleep(0.02)


def _tail(path: str, n: int = 6) -> str:
    try:
        lines = Path(path).read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "(no output)"
    return " | ".join(lines[-n:]) or "(no output)"


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


def down(lab_id: str) -> tuple[list[str], list[str]]:
    return teardown(lab_id)


def leftovers(lab_id: str, pids: list[Started]) -> list[str]:
    """What a lab left behind: namespaces with its prefix, live recorded processes, its folder."""
    from .topology import PREFIX

    out = [f"namespace {n}" for n in list_netns() if n.startswith(f"{PREFIX}{lab_id}-")]
    out += [f"process {p.name} ({p.pid})" for p in pids if p.alive()]
    if lab_dir(lab_id).exists():
        out.append(f"folder {lab_dir(lab_id)}")
    return out

