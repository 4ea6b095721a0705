"""What a person does with real nodes, done in the VM lab: put the cluster file on every node,
format the master's SSD, `bringup run` on the master, `bringup netboot prepare` for each
net-booting slave (from a Debian root standing in for Raspberry Pi OS), `bringup run` on each
SD slave, then power the net-booting slaves on. Each step is `bringup` itself, run in the guest
over SSH; nothing here writes a node's files behind its back.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .qemu import wait_console
from .lab import RPIOS_SERIAL, SLAVE_MASKED, SSD_SERIAL, VmLab, VmLabError

if TYPE_CHECKING:
    from pathlib import Path

CLUSTER_FILE = "/etc/pirack/cluster.toml"
# What pirack's cmdline.txt said before Bookworm's initramfs (raspberrypi/documentation #3205).
OLD_NFSROOT = "vers=4.1,proto=tcp"
# What a net-booting slave's console shows when its initramfs cannot mount the root ("Retrying"),
# or when it has booted ("login:", the serial getty).
HANG_SIGN, BOOTED_SIGN = "Retrying nfs mount", "login:"
SECRETS_FILE = "/etc/pirack/secrets.toml"


@dataclass
class Step:
    node: str
    what: str
    seconds: float
    ok: bool
    output: str = ""
    data: dict = field(default_factory=dict)


def put_cluster_file(lab: VmLab, name: str, community: str) -> None:
    """/etc/pirack/cluster.toml on the node (a live run reads it there), and the master's secret."""
    lab.ssh(name, f"install -d -m 0755 /etc/pirack && cat > {CLUSTER_FILE}", input=lab.lc.text)
    if lab.nodes[name].role == "master":
        lab.ssh(name, f"umask 077 && cat > {SECRETS_FILE}", input=f'[snmp]\ncommunity = "{community}"\n')


def bringup(lab: VmLab, name: str, args: str, timeout: float = 1200) -> Step:
    """`bringup ARGS` on the node; the step keeps its exit status and output."""
    t0 = time.monotonic()
    cp = lab.ssh(name, f"bringup {args}", check=False, timeout=timeout)
    out = (cp.stdout + cp.stderr).strip()
    data = {}
    if "--json" in args:
        try:
            data = json.loads(cp.stdout)
        except json.JSONDecodeError:
            pass
    return Step(name, f"bringup {args}", time.monotonic() - t0, cp.returncode == 0, out, data)


def format_ssd(lab: VmLab) -> Step:
    real = lab.ssh(lab.t.master.name, f"lsblk -dno PATH,SERIAL | awk '$2==\"{SSD_SERIAL}\" {{print $1}}'").stdout.strip()
    if not real:
        raise VmLabError(f"the master has no disk with serial {SSD_SERIAL} (the virtual SSD)")
    return bringup(lab, lab.t.master.name, f"storage format --device {real} --yes-i-am-sure {real}")


def prepare_netboot(lab: VmLab, name: str) -> Step:
    """`bringup netboot prepare --from` the stand-in Raspberry Pi OS disk, mounted read-only on
    the master; then the admin's key into the slave's root (as a person adds theirs)."""
    m = lab.t.master.name
    lab.ssh(m, f"install -d /mnt/rpios && (mountpoint -q /mnt/rpios || mount -o ro /dev/disk/by-id/virtio-{RPIOS_SERIAL} /mnt/rpios)")
    try:
        step = bringup(lab, m, f"netboot prepare --node {shlex.quote(name)} --from /mnt/rpios")
    finally:
        lab.ssh(m, "umount /mnt/rpios", check=False)
    if step.ok:
        from bringup.render.netboot import nfs_root

        root = nfs_root(lab.spec, lab.spec.node(name))
        # The stand-in is the lab's image, which carries the master's daemons: a Raspberry Pi OS
        # slave has none of them (the SD nodes mask them on their kernel command line).
        masked = " ".join(SLAVE_MASKED)
        lab.ssh(m, f"install -d -m 0700 {root}/root/.ssh && install -m 0600 /root/.ssh/authorized_keys {root}/root/.ssh/"
                   f" && systemctl --root={root} mask --quiet {masked}")
    return step


def boot_all(lab: VmLab, names: list[str]) -> dict[str, float]:
    """Power on the SD nodes at once and wait for each; returns seconds to SSH-ready."""
    return lab.power_on(names)


def converge(lab: VmLab, community: str, log: Callable[[str], None] = print, boot_net: bool = True) -> list[Step]:
    """The first bring-up of the whole cluster; stops at the first failed step (exit 1).
    `boot_net=False`: the net-booting slaves' files are prepared, the slaves stay off."""
    master = lab.t.master.name
    sd_slaves = [n for n, v in lab.nodes.items() if v.role == "slave" and v.boot == "sd"]
    net_slaves = [n for n, v in lab.nodes.items() if v.boot == "net"]
    steps: list[Step] = []

    def do(step: Step) -> Step:
        steps.append(step)
        log(f"{step.node}: {step.what}: {'ok' if step.ok else 'FAILED'} ({step.seconds:.0f} s)")
        if not step.ok:
            raise VmLabError(f"{step.node}: {step.what} failed", details=step.output.splitlines()[-30:],
                             data={"steps": [s.__dict__ for s in steps]})
        return step

    for n in [master, *sd_slaves]:
        put_cluster_file(lab, n, community)
    if lab.spec.storage is not None:
        do(format_ssd(lab))
    do(bringup(lab, master, "run"))
    # The SD slaves' runs need only the master's services, which its run started: they go at
    # the same time as the master's copies for the net-booting slaves (other emulated CPUs).
    with ThreadPoolExecutor(max(1, len(sd_slaves))) as pool:
        runs = [pool.submit(bringup, lab, n, "run") for n in sd_slaves]
        for n in net_slaves:
            do(prepare_netboot(lab, n))
        for r in runs:
            do(r.result())
    for n in net_slaves if boot_net else []:
        t0 = time.monotonic()
        lab.boot(n)
        lab.wait_ready(n)
        do(Step(n, "net boot (TFTP + NFS root)", time.monotonic() - t0, True))
    return steps


def run_everywhere(lab: VmLab, args: str = "run") -> list[Step]:
    """`bringup ARGS` on the master, then on every SD slave."""
    names = [lab.t.master.name] + [n for n, v in lab.nodes.items() if v.role == "slave" and v.boot == "sd"]
    # At once: each waits mostly on its own emulated CPU.
    with ThreadPoolExecutor(len(names)) as pool:
        return list(pool.map(lambda n: bringup(lab, n, args), names))


BOOT_ID = "cat /proc/sys/kernel/random/boot_id"


@dataclass
class Reboot:
    """The SD-booted nodes rebooted (`systemctl reboot`), the net-booted slaves left running:
    seconds to SSH-ready per rebooted node, and whether each net-booted slave kept its boot
    (same boot id) and answers again, its NFS root having waited for the master."""

    seconds: dict[str, float]
    kept_boot: dict[str, bool]


def reboot_sd_nodes(lab: VmLab) -> Reboot:
    """Reboot the master and every SD slave at once; a net-booted slave stays on through its
    master's reboot, as it would on Pis (its root is a hard NFS mount: it waits, then carries on)."""
    sd = [n for n, v in lab.nodes.items() if v.boot == "sd"]
    net = [n for n, v in lab.nodes.items() if v.boot == "net"]
    before = {n: lab.ssh(n, BOOT_ID, timeout=60).stdout.strip() for n in net}
    seconds = lab.reboot(sd)
    # The first command after the master is back may wait for the NFS client's retry.
    after = {n: lab.ssh(n, BOOT_ID, check=False, timeout=300).stdout.strip() for n in net}
    return Reboot(seconds, {n: bool(before[n]) and after[n] == before[n] for n in net})


def sh(lab: VmLab, name: str, command: str) -> subprocess.CompletedProcess:
    return lab.ssh(name, command, check=False)


def with_nfs_options(line: str, options: str) -> str:
    """cmdline.txt's line with the options after nfsroot=IP:/path replaced."""
    return re.sub(r"(nfsroot=[^ ,]+)(,[^ ]*)?", lambda m: f"{m.group(1)},{options}", line, count=1)


@dataclass
class NetBoot:
    """One net-booting slave, booted twice from the same fetched files: first with the old
    nfsroot options (what its console showed), then with the line pirack rendered."""

    old_line: str
    rendered_line: str
    old_seen: str | None  # HANG_SIGN, BOOTED_SIGN, or None (neither within the time given)
    fetch_seconds: float
    old_seconds: float
    boot_seconds: float


def old_line_then_rendered(lab: VmLab, name: str, hang_seconds: float = 300) -> NetBoot:
    """The lab telling a broken cmdline.txt from a working one, in the same VM: fetch the files
    over TFTP once, boot them with the old `vers=4.1,proto=tcp` options until the console says
    it is retrying the mount (or booted), pull the plug, boot them with the rendered line."""
    fetch = lab.fetch_netboot(name)
    rendered = (lab.work / f"{name}.boot" / "cmdline.txt").read_text().splitlines()[0]
    old = with_nfs_options(rendered, OLD_NFSROOT)
    t0 = time.monotonic()
    lab.boot(name, cmdline=old, fetch=False)
    seen = wait_console(lab.console(name), (HANG_SIGN, BOOTED_SIGN), hang_seconds, lambda: lab.alive(name))
    t1 = time.monotonic()
    lab.power_off(name)
    lab.boot(name, fetch=False)
    lab.wait_ready(name)
    return NetBoot(old, rendered, seen, fetch, t1 - t0, time.monotonic() - t1)


class Phases:
    """Seconds per phase of one scenario, saved beside the image cache (outside git) for
    bench/bench_vm.py to print: timing is reported, never asserted."""

    def __init__(self, title: str):
        self.title = title
        self.seconds: dict[str, float] = {}
        self.notes: dict[str, object] = {}

    @contextlib.contextmanager
    def __call__(self, name: str):
        t0 = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - t0, 1)

    def save(self, path: Path | None = None) -> None:
        from pirack.fsutil import atomic_write

        from .image import cache_dir

        path = path or cache_dir() / LAST_SCENARIO
        doc = {"title": self.title, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "seconds": self.seconds, "total": round(sum(self.seconds.values()), 1), "notes": self.notes}
        atomic_write(path, json.dumps(doc, indent=1) + "\n")


LAST_SCENARIO = "last-scenario.json"
