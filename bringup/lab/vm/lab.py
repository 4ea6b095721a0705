"""`bringup lab up|down --vm`: the VM lab's life. Every node a QEMU VM booted from a
copy-on-write overlay of the cached image; the home router in the uplink namespace; teardown by
recorded PID and name, also when `up` is interrupted.

Records: /run/pirack-lab/ID/state.json (the namespace lab's LabState: processes by PID and start
time, namespaces; `lab down` of either lab removes them), /run/pirack-lab/ID/vm.json (this
module's: the work folder, ports, consoles), the work folder /var/tmp/pirack-lab/ID (overlays,
the virtual SSD, consoles, the lab's SSH key).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pirack.errors import WorkFailed
from pirack.fsutil import atomic_write
from pirack.load import LoadedCluster

from .. import uplink
from ..netns import Started, ip_batch, reap, run, start, stop
from ..state import LabState, load_state, teardown as ns_teardown
from ..paths import STATE_BASE
from ..topology import ECHO_PORT, Topology, build_topology
from . import image as vmimage
from . import net, qemu

WORK_BASE = "/var/tmp/pirack-lab"
SSD_SERIAL = "PIRACK-SSD"
SSD_SIZE = "4G"
RPIOS_SERIAL = "rpios"  # the stand-in Raspberry Pi OS disk (the image itself, read-only)
MEMORY_MIB = {"master": 768, "slave": 512}
# Virtual CPUs: QEMU's TCG runs one host thread per vCPU; the master's copies (netboot prepare)
# run while the slaves idle, so it gets both of this machine's cores.
VCPUS = {"master": 2, "slave": 1}
# Units a slave's image has but a slave runs none of (a Pi OS slave would not have them).
SLAVE_MASKED = ("dnsmasq.service", "snmpd.service", "nfs-server.service", "nfs-kernel-server.service")
BOOT_TIMEOUT = 600.0  # polled, never slept: TCG boot times vary a lot with load
NETBOOT_FILES = ("kernel8.img", "initramfs8", "cmdline.txt")


class VmLabError(WorkFailed):
    """The VM lab could not be built, booted or reached."""


@dataclass
class VmInfo:
    lab_id: str
    work: str
    image: str = ""
    accel: str = ""
    accel_why: str = ""
    bench: str = ""  # the bench's address on the cluster bridge
    nodes: dict = field(default_factory=dict)  # name -> {"ssh_port", "console", "boots"}

    @staticmethod
    def path(lab_id: str) -> Path:
        return Path(STATE_BASE) / lab_id / "vm.json"

    def save(self) -> None:
        atomic_write(self.path(self.lab_id), json.dumps(asdict(self), indent=1) + "\n", mode=0o600)

    @classmethod
    def load(cls, lab_id: str) -> "VmInfo | None":
        try:
            return cls(**json.loads(cls.path(lab_id).read_text()))
        except (FileNotFoundError, json.JSONDecodeError, TypeError):
            return None


class VmLab:
    """One VM lab: the wiring from the cluster file, and what up/boot/ssh/reboot/down do."""

    def __init__(self, lc: LoadedCluster, lab_id: str | None = None, log: Callable[[str], None] | None = None):
        self.lc = lc
        self.spec = lc.spec
        self.t: Topology = build_topology(lc.spec, lab_id)
        self.nodes = {n.name: n for n in net.vm_nodes(lc.spec, self.t)}
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.st = load_state(self.t.lab_id) or LabState(
            lab_id=self.t.lab_id, dir=str(Path(STATE_BASE) / self.t.lab_id), cluster=lc.display,
            uplink_ns=self.t.uplink_ns, nodes={n: self.t.switch_ns for n in self.nodes})
        self.info = VmInfo.load(self.t.lab_id) or VmInfo(self.t.lab_id, str(Path(WORK_BASE) / self.t.lab_id))

    # --- paths ---------------------------------------------------------------------------------
    @property
    def work(self) -> Path:
        return Path(self.info.work)

    @property
    def key(self) -> Path:
        return self.work / "id_ed25519"

    def console(self, node: str) -> Path:
        return self.work / f"{node}.console"

    # --- up ------------------------------------------------------------------------------------
    def up_infra(self) -> None:
        """Image, accelerator, namespaces, bridges, taps, the home router, overlays, the key."""
        img = vmimage.build_image(log=self.log)
        down(self.t.lab_id)  # a stale lab of this cluster (VM or namespace) goes first
        self.st = LabState(lab_id=self.t.lab_id, dir=str(Path(STATE_BASE) / self.t.lab_id),
                           cluster=self.lc.display, uplink_ns=self.t.uplink_ns,
                           nodes={n: self.t.switch_ns for n in self.nodes})
        self.info = VmInfo(self.t.lab_id, str(Path(WORK_BASE) / self.t.lab_id), image=str(img.folder),
                           bench=str(net.bench_address(self.spec)))
        self.info.accel, self.info.accel_why = qemu.choose_accel(str(img.kernel))
        Path(self.st.dir).mkdir(parents=True, exist_ok=True)
        self.work.mkdir(parents=True, exist_ok=True)
        self.st.namespaces = [self.t.uplink_ns, self.t.switch_ns]
        self.st.save()
        self.info.save()
        host, per = net.ip_batches(self.spec, self.t, list(self.nodes.values()))
        ip_batch(host)
        for ns, lines in per.items():
            ip_batch(lines, ns)
        self._start_uplink()
        self._disks(img)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"pirack-lab-{self.t.lab_id}", "-f", str(self.key)])
        self.st.ready = True
        self.st.save()

    def _start_uplink(self) -> None:
        rund = self.work / "run"
        (rund / "uplink-chronyd").mkdir(parents=True, exist_ok=True)
        os.chmod(rund / "uplink-chronyd", 0o700)
        ntp_name = self.spec.network.ntp_source if self.t.ntp_override else None
        conf = self.work / "uplink-dnsmasq.conf"
        master_uplink = next(n.mac for n in self.nodes[self.t.master.name].nics if n.ifname == self.t.master_uplink_if)
        conf.write_text(net.uplink_dnsmasq(self.t, master_uplink, str(rund), ntp_name))
        ntp = self.work / "uplink-chrony.conf"
        ntp.write_text(uplink.ntp_config(self.t, rund))
        for name, args in (("uplink-dns", ["dnsmasq", "-k", "-C", str(conf)]),
                           ("uplink-ntp", ["chronyd", "-x", "-u", "root", "-d", "-f", str(ntp)]),
                           ("uplink-echo", uplink.echo_server_args(sys.executable, str(self.t.router), ECHO_PORT))):
            self._record(start(name, self.t.uplink_ns, args, self.work / f"{name}.log"))

    def _record(self, p: Started) -> None:
        self.st.processes.append(p)
        self.st.save()

    def _disks(self, img: vmimage.Image) -> None:
        for name, n in self.nodes.items():
            if n.boot == "sd":
                run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(img.disk), "-F", "raw",
                     str(self.work / f"{name}.qcow2")])
        run(["qemu-img", "create", "-q", "-f", "qcow2", str(self.work / "ssd.qcow2"), SSD_SIZE])

    # --- one VM --------------------------------------------------------------------------------
    def vm_spec(self, name: str, kernel: str | None = None, initrd: str | None = None,
                append: str | None = None) -> qemu.VmSpec:
        n = self.nodes[name]
        img = vmimage.Image(Path(self.info.image), "")
        disks: list[qemu.Disk] = []
        if n.boot == "sd":
            disks.append(qemu.Disk(str(self.work / f"{name}.qcow2")))
            append = qemu.kernel_args("root=/dev/vda rw console=ttyS0 quiet",
                                      n.ifnames, self.key.with_suffix(".pub").read_text(),
                                      SLAVE_MASKED if n.role == "slave" else ())
        if n.role == "master":
            disks.append(qemu.Disk(str(self.work / "ssd.qcow2"), bus="scsi", serial=SSD_SERIAL))
            disks.append(qemu.Disk(str(img.disk), fmt="raw", serial=RPIOS_SERIAL, readonly=True))
        return qemu.VmSpec(name=name, memory_mib=MEMORY_MIB[n.role], vcpus=VCPUS[n.role], kernel=kernel or str(img.kernel),
                           initrd=initrd or str(img.initrd), append=append or "",
                           console_log=str(self.console(name)), qmp=str(self.work / f"{name}.qmp"),
                           nics=n.nics, disks=tuple(disks), accel=self.info.accel)

    def boot(self, name: str, cmdline: str | None = None, fetch: bool = True) -> None:
        """Power the VM on (an SD node from its overlay; a net-booted slave through the loader;
        `cmdline`: boot it with this line instead of the cmdline.txt it fetched; `fetch=False`:
        boot the files the loader fetched last time again)."""
        if self.nodes[name].boot == "net":
            if fetch or not (self.work / f"{name}.boot" / "cmdline.txt").exists():
                self.fetch_netboot(name)
            vm = self._netboot_spec(name, cmdline)
        else:
            vm = self.vm_spec(name)
        self.console(name).unlink(missing_ok=True)
        p = start(f"vm-{name}", self.t.switch_ns, qemu.argv(vm), self.work / f"{name}.qemu.log")
        self._record(p)
        self.info.nodes.setdefault(name, {"boots": 0})
        self.info.nodes[name].update(ssh_port=self.nodes[name].ssh_port, console=str(self.console(name)),
                                     pid=p.pid, start=p.start)
        self.info.nodes[name]["boots"] += 1
        self.info.save()

    def fetch_netboot(self, name: str) -> float:
        """The loader: what a Pi 4's boot ROM does, done from the lab bench on the cluster bridge:
        fetch the slave's kernel, initramfs and cmdline.txt from the master's TFTP server (the
        folder named by its serial). Returns seconds."""
        from bringup.render.netboot import tftp_folder

        t0 = time.monotonic()
        folder = tftp_folder(self.spec, self.spec.node(name))
        st = self.spec.storage
        rel = folder[len(st.mount_point + "/" + st.tftp_root.strip("/")):].strip("/")
        dest = self.work / f"{name}.boot"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir()
        for f in NETBOOT_FILES:
            # 1468-byte blocks (RFC 2348, as a boot ROM asks): every block is a round trip through
            # the emulated master, 512-byte blocks take three times as many.
            cp = run(["busybox", "tftp", "-g", "-b", "1468", "-l", str(dest / f), "-r", f"{rel}/{f}",
                      str(self.t.master.address)], ns=self.t.switch_ns, check=False, timeout=300)
            if not (dest / f).exists() or (dest / f).stat().st_size == 0:
                raise VmLabError(f"net boot of {name}: TFTP {rel}/{f} from {self.t.master.address} failed: "
                                 f"{(cp.stderr or cp.stdout).strip()[:200]}")
        seconds = time.monotonic() - t0
        size = sum((dest / f).stat().st_size for f in NETBOOT_FILES)
        self.log(f"{name}: TFTP {size / 1e6:.1f} MB from {self.t.master.address} in {seconds:.0f} s")
        return seconds

    def _netboot_spec(self, name: str, cmdline: str | None = None) -> qemu.VmSpec:
        """Boot exactly the fetched command line (or `cmdline`). x86 has no serial0:
        console=ttyS0 is added so the lab can read the console."""
        dest = self.work / f"{name}.boot"
        line = cmdline or (dest / "cmdline.txt").read_text().splitlines()[0]
        return self.vm_spec(name, kernel=str(dest / "kernel8.img"), initrd=str(dest / "initramfs8"),
                            append=f"{line} console=ttyS0")

    def alive(self, name: str) -> bool:
        d = self.info.nodes.get(name) or {}
        return bool(d.get("pid")) and Started(name, "", d["pid"], d["start"], "").alive()

    # --- reaching a guest ---------------------------------------------------------------------------
    def ssh_argv(self, name: str, connect_timeout: int = 5) -> list[str]:
        n = self.nodes[name]
        host, port = ("127.0.0.1", n.ssh_port) if n.ssh_port else (str(n.address), 22)
        return ["ip", "netns", "exec", self.t.switch_ns, "ssh", "-q", "-i", str(self.key), "-p", str(port),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", f"ConnectTimeout={connect_timeout}", "-o", "ServerAliveInterval=10",
                "-o", "LogLevel=ERROR",
                # One connection per guest, reused: a key exchange costs seconds under emulation.
                "-o", "ControlMaster=auto", "-o", f"ControlPath={self.work}/ssh-%C", "-o", "ControlPersist=300",
                f"root@{host}"]

    def ssh(self, name: str, command: str, timeout: float = 900, check: bool = True,
            input: str | None = None) -> subprocess.CompletedProcess:
        try:
            cp = subprocess.run(self.ssh_argv(name) + [command], input=input, capture_output=True, text=True,
                                timeout=timeout)
        except subprocess.TimeoutExpired:
            raise VmLabError(f"{name}: `{command}` gave no result in {timeout:.0f} s") from None
        if check and cp.returncode != 0:
            raise VmLabError(f"{name}: `{command}` failed (exit {cp.returncode})",
                             details=(cp.stderr.strip() or cp.stdout.strip()).splitlines()[-20:])
        return cp

    def wait_ready(self, name: str, timeout: float = BOOT_TIMEOUT, settled: bool = False) -> float:
        """Poll until SSH answers; `settled`: and systemd says the boot is done (it waits for
        NetworkManager-wait-online, a minute when no DHCP server answers yet). Returns seconds."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if not self.alive(name):
                raise VmLabError(f"{name}: the VM stopped while booting: {qemu.console_tail(self.console(name))}")
            stuck = qemu.boot_failure(self.console(name))
            if stuck:
                raise VmLabError(f"{name}: the boot failed ({stuck}): {qemu.console_tail(self.console(name))}")
            wait = "systemctl is-system-running --wait >/dev/null; true" if settled else "true"
            cp = subprocess.run(self.ssh_argv(name, 3) + [wait], capture_output=True, text=True, timeout=timeout)
            if cp.returncode == 0:
                return time.monotonic() - t0
            time.sleep(1)
        raise VmLabError(f"{name}: no SSH after {timeout:.0f} s: {qemu.console_tail(self.console(name))}")

    # --- reboot and down ------------------------------------------------------------------------------
    def reboot(self, names: list[str]) -> dict[str, float]:
        """`systemctl reboot` in each guest (SD-booted nodes: a net-booted slave is not rebooted
        here, its root is the master's NFS export and it rides through the master's reboot, see
        scenario.reboot_sd_nodes); QEMU ends with it (-no-reboot) and the lab powers the VM on
        again. Returns seconds to SSH-ready from the power-on."""
        net = [n for n in names if self.nodes[n].boot == "net"]
        if net:
            raise VmLabError(f"reboot: {', '.join(net)} boot from the network: power them off and on (boot)")
        for name in names:
            # Queued, not waited for: the SSH session goes down with the guest. AccuracySec: a
            # timer's default accuracy is a minute, and systemd spends it (the reboot came up to
            # 60 s after the call).
            self.ssh(name, "systemd-run --quiet --on-active=1 --timer-property=AccuracySec=100ms systemctl reboot",
                     check=False, timeout=120)
        for name in names:
            self._wait_stopped(name)
        return self.power_on(names)

    def power_on(self, names: list[str]) -> dict[str, float]:
        """Boot the nodes at once, then wait for each; returns seconds to SSH-ready from the start."""
        t0 = time.monotonic()
        for name in names:
            self.boot(name)
        seconds = {}
        for name in names:
            self.wait_ready(name)
            seconds[name] = time.monotonic() - t0
        return seconds

    def power_off(self, name: str) -> None:
        """Pull the plug (a VM that hangs in its initramfs cannot be asked to shut down)."""
        d = self.info.nodes.get(name) or {}
        if d.get("pid"):
            stop([Started(f"vm-{name}", self.t.switch_ns, d["pid"], d["start"], "")], grace=2.0)

    def _wait_stopped(self, name: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while self.alive(name) and time.monotonic() < deadline:
            time.sleep(0.5)
        reap()  # QEMU ended with the guest (-no-reboot): no zombie left behind until the test ends
        if self.alive(name):
            raise VmLabError(f"{name}: did not power off after `systemctl reboot` in {timeout:.0f} s: "
                             f"{qemu.console_tail(self.console(name))}")


def down(lab_id: str) -> tuple[list[str], list[str]]:
    """Everything of lab `lab_id`: VMs and daemons by recorded PID, namespaces (taps and bridges
    go with them), the record and the work folder (overlays, the SSD, consoles, the key)."""
    info = VmInfo.load(lab_id)
    st = load_state(lab_id)
    removed, problems = [], []
    if st:  # the VMs first, so nothing writes into the work folder while it goes
        vms = [p for p in st.processes if p.name.startswith("vm-") and p.alive()]
        problems += stop(vms, grace=2.0)
        removed += [f"VM {p.name[3:]} ({p.pid})" for p in vms]
    r, p = ns_teardown(lab_id)
    removed += r
    problems += p
    work = Path(info.work) if info else Path(WORK_BASE) / lab_id
    if work.exists():
        shutil.rmtree(work, ignore_errors=True)
        (problems.append(f"folder {work} could not be removed") if work.exists()
         else removed.append(f"folder {work}"))
    with contextlib.suppress(OSError):
        Path(WORK_BASE).rmdir()
    return removed, problems


def torn_down_on_failure(lab_id: str):
    """Whatever stops the block (an error, Ctrl-C, SIGTERM/SIGHUP) removes the VM lab
    (PIRACK_LAB_KEEP=1 keeps a broken lab to look at; then `bringup lab down --vm`)."""
    from ..build import torn_down_on_failure as guard

    return guard(lambda: down(lab_id))
