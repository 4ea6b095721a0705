"""One VM of the lab: its QEMU command line (pure), the accelerator probe, its console.

Accelerator: KVM only when a probe actually boots a kernel with it. On this machine kind
/dev/kvm exists but a normal guest does not run (nested PVM: `-cpu host` fails setting an MSR,
the default CPU never leaves the kernel's decompressor), so the probe falls back to TCG.
Under TCG `tb-size` bounds the translation cache (QEMU's default is 1 GiB per VM, most of a
VM's resident memory).
"""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

QEMU = "qemu-system-x86_64"
TB_SIZE_MIB = 256
KVM_PROBE_SECONDS = 20.0
ACCEL_CACHE = Path("/run/pirack-vm/accel")  # one probe per boot of this machine


@dataclass(frozen=True)
class Nic:
    ifname: str  # the name inside the guest (from the cluster file)
    mac: str
    tap: str | None = None  # a tap in the namespace QEMU runs in; None: the control NIC
    ssh_port: int | None = None  # control NIC only: 127.0.0.1:PORT in QEMU's namespace -> guest :22


@dataclass(frozen=True)
class Disk:
    path: str
    fmt: str = "qcow2"
    bus: str = "virtio"  # virtio -> /dev/vdX; scsi -> /dev/sdX (a USB SSD on a Pi is sdX too)
    serial: str = ""  # /dev/disk/by-id/... inside the guest
    readonly: bool = False


@dataclass(frozen=True)
class VmSpec:
    name: str  # the node's name
    memory_mib: int
    kernel: str
    initrd: str
    append: str
    console_log: str
    qmp: str
    nics: tuple[Nic, ...] = ()
    disks: tuple[Disk, ...] = ()
    accel: str = "tcg"
    vcpus: int = 1
    no_reboot: bool = True  # a guest reboot ends QEMU; the lab starts it again (a power cycle)
    extra: tuple[str, ...] = field(default_factory=tuple)


def kernel_args(append: str, ifnames: dict[str, str] | None = None, key: str | None = None,
                masked: tuple[str, ...] = ()) -> str:
    """The lab's additions to a kernel command line: interface names by MAC, the admin key
    (base64: no spaces), units a node of this role does not run."""
    parts = [append.strip()]
    if ifnames:
        parts.append("pirack.ifname=" + ",".join(f"{n}={m}" for n, m in ifnames.items()))
    if key:
        parts.append("pirack.key=" + base64.b64encode(key.strip().encode()).decode())
    parts += [f"systemd.mask={u}" for u in masked]
    return " ".join(p for p in parts if p)


def argv(vm: VmSpec) -> list[str]:
    a = [QEMU, "-name", f"pirack-{vm.name}", "-nodefaults", "-no-user-config", "-display", "none",
         "-machine", "pc", "-m", str(vm.memory_mib), "-smp", str(vm.vcpus),
         "-chardev", f"file,id=con,path={vm.console_log}", "-serial", "chardev:con",
         "-qmp", f"unix:{vm.qmp},server=on,wait=off",
         "-kernel", vm.kernel, "-initrd", vm.initrd, "-append", vm.append]
    if vm.accel == "kvm":
        a += ["-accel", "kvm", "-cpu", "host"]
    else:
        a += ["-accel", f"tcg,tb-size={TB_SIZE_MIB}"]
    if vm.no_reboot:
        a.append("-no-reboot")
    for i, d in enumerate(vm.disks):
        ro = ",readonly=on" if d.readonly else ""
        a += ["-drive", f"if=none,id=d{i},file={d.path},format={d.fmt},cache=unsafe{ro}"]
        serial = f",serial={d.serial}" if d.serial else ""
        if d.bus == "scsi":
            if "virtio-scsi-pci,id=scsi" not in a:
                a += ["-device", "virtio-scsi-pci,id=scsi"]
            a += ["-device", f"scsi-hd,drive=d{i},bus=scsi.0{serial}"]
        else:
            a += ["-device", f"virtio-blk-pci,drive=d{i}{serial}"]
    for i, n in enumerate(vm.nics):
        if n.tap:
            a += ["-netdev", f"tap,id=n{i},ifname={n.tap},script=no,downscript=no"]
        else:
            fwd = f",hostfwd=tcp:127.0.0.1:{n.ssh_port}-:22" if n.ssh_port else ""
            a += ["-netdev", f"user,id=n{i},restrict=on,net=10.0.2.0/24{fwd}"]
        # romfile= : no option ROM (no PXE: the lab boots with -kernel; iPXE is not installed)
        a += ["-device", f"virtio-net-pci,netdev=n{i},mac={n.mac},romfile="]
    return a + list(vm.extra)


# --- the accelerator ------------------------------------------------------------------------------

def probe_kvm(kernel: str, seconds: float = KVM_PROBE_SECONDS) -> tuple[bool, str]:
    """Boot `kernel` with KVM and no root: a working KVM gets as far as the kernel's own
    messages (it panics on the missing root and QEMU exits). Returns (works, why)."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "no usable /dev/kvm"
    cmd = [QEMU, "-nodefaults", "-no-user-config", "-display", "none", "-accel", "kvm", "-cpu", "host",
           "-m", "256", "-kernel", kernel, "-append", "console=ttyS0 panic=-1", "-no-reboot",
           "-serial", "stdio"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds)
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    if "Linux version" in out:
        return True, "a kernel booted with -accel kvm -cpu host"
    tail = out.strip().splitlines()[-1:] or ["no kernel message"]
    return False, f"KVM did not boot a kernel in {seconds:.0f} s ({tail[0][:160]})"


def choose_accel(kernel: str) -> tuple[str, str]:
    """'kvm' or 'tcg' and why; the probe's answer is kept until this machine reboots.
    PIRACK_VM_ACCEL=tcg|kvm overrides."""
    forced = os.environ.get("PIRACK_VM_ACCEL")
    if forced in ("tcg", "kvm"):
        return forced, "PIRACK_VM_ACCEL"
    try:
        accel, why = ACCEL_CACHE.read_text().split("\n", 1)
        return accel, why.strip() + " (probed earlier)"
    except (OSError, ValueError):
        pass
    ok, why = probe_kvm(kernel)
    accel = "kvm" if ok else "tcg"
    ACCEL_CACHE.parent.mkdir(parents=True, exist_ok=True)
    ACCEL_CACHE.write_text(f"{accel}\n{why}\n")
    return accel, why


# --- the console -----------------------------------------------------------------------------------

def console_tail(path: str | Path, n: int = 8) -> str:
    try:
        text = Path(path).read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return "(no console output)"
    lines = [ln.strip("\r") for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-n:]) or "(no console output)"


# What a console shows when a boot will not get anywhere by itself.
BOOT_FAILURES = ("(initramfs) ", "Kernel panic - not syncing", "end Kernel panic")


def boot_failure(path: str | Path) -> str | None:
    try:
        text = Path(path).read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    return next((f.strip() for f in BOOT_FAILURES if f in text), None)


def wait_console(path: str | Path, patterns: tuple[str, ...], timeout: float, alive: Callable[[], bool] = lambda: True,
                 offset: int = 0) -> str | None:
    """Poll the console log until one of `patterns` appears after byte `offset` (returns it), the
    VM stops (None) or `timeout` passes (None)."""
    deadline = time.monotonic() + timeout
    p = Path(path)
    while time.monotonic() < deadline:
        try:
            text = p.read_bytes()[offset:].decode("utf-8", "replace")
        except FileNotFoundError:
            text = ""
        for pat in patterns:
            if pat in text:
                return pat
        if not alive():
            return None
        time.sleep(0.25)
    return None
