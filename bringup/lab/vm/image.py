"""The VM lab's base image: Debian 12 (bookworm) from Debian packages with mmdebstrap, pirack
installed from a wheel of this checkout, cached outside git by the hash of its inputs.

Two layers, each cached by its own key, so a change to pirack's code rebuilds only the second:

  base   mmdebstrap's root tree: the package list, the sources, the archive's Release files
         as this machine's apt last saw them (a newer archive resolves other versions: new
         key). The versions apt resolved are recorded in its manifest.
  image  a copy of base shaped by the recipe (the lab's files and units, pruned kernel
         modules) + pirack's wheel (and its dependencies' wheels) at /opt/pirack, made into an
         ext4 disk image with `mkfs.ext4 -d` (no loop device), beside the kernel and initramfs
         the VMs boot with -kernel/-initrd. Its key: the base's, the recipe's, the wheel's
         inputs.

The image is the same for every node and carries no secret: the admin's SSH key reaches a VM on
its kernel command line (pirack.key=), its SSH host keys are made at its first boot, its
interface names come from the cluster file (pirack.ifname=), so one cached image serves all.
It is shaped like Raspberry Pi OS where pirack cares: /boot/firmware holds config.txt,
kernel8.img and initramfs8 (what `bringup netboot prepare` copies into a slave's TFTP folder),
the first hostname is raspberrypi, NetworkManager owns the network.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pirack.errors import WorkFailed
from pirack.fsutil import atomic_write

RECIPE = 8  # bump when the recipe below changes what lands in the image
SUITE = "bookworm"
# The archive as apt reaches it on this machine kind (CI's too); security updates included.
SOURCES = (
    f"deb http://deb.debian.org/debian {SUITE} main",
    f"deb http://deb.debian.org/debian {SUITE}-updates main",
    f"deb http://deb.debian.org/debian-security {SUITE}-security main",
)
# What a Raspberry Pi OS node has that pirack relies on, plus the master's daemons (installed,
# as `bringup run` would install them; the slaves mask them at boot) and the lab's clients.
PACKAGES = (
    "systemd", "systemd-sysv", "udev", "dbus", "libpam-systemd", "procps", "kmod", "iproute2",
    "linux-image-amd64", "initramfs-tools", "e2fsprogs", "util-linux",
    "network-manager", "openssh-server", "python3", "python3-venv",
    "dnsmasq", "nftables", "chrony", "snmpd", "nfs-kernel-server", "nfs-common", "rpcbind",
    # the lab's clients inside a slave: DHCP (busybox udhcpc), TFTP, SNMP
    "busybox", "tftp-hpa", "snmp",
)
# Kernel module folders no VM of the lab loads: half the image's size.
PRUNED_MODULES = ("sound", "drivers/gpu", "drivers/media", "drivers/net/wireless", "drivers/infiniband",
                  "drivers/staging", "drivers/iio", "drivers/bluetooth", "net/bluetooth", "net/mac80211",
                  "net/wireless", "drivers/isdn", "drivers/net/ethernet", "drivers/hid", "drivers/input",
                  "drivers/usb", "drivers/mtd", "drivers/scsi/qla2xxx", "drivers/scsi/lpfc", "drivers/nvme",
                  "drivers/md", "drivers/edac", "drivers/hwmon", "drivers/platform", "drivers/thunderbolt",
                  "drivers/video", "drivers/leds", "drivers/mmc", "drivers/misc", "drivers/target",
                  "drivers/comedi", "drivers/ata", "drivers/atm", "drivers/message", "drivers/ufs",
                  "fs/xfs", "fs/btrfs", "fs/ocfs2", "fs/smb", "fs/f2fs", "fs/gfs2", "fs/afs", "fs/ceph",
                  "fs/ubifs", "fs/nilfs2", "fs/dlm", "fs/jfs", "fs/reiserfs", "net/ceph", "net/tipc",
                  "net/rxrpc", "net/nfc",
                  # ... and what udev loaded at every boot for QEMU's emulated PC, used by nothing
                  # (lsmod in a booted node): KVM for the emulated CPU's SVM flag and AMD's crypto
                  # coprocessor with it, the floppy controller, the SMBus, QEMU's firmware
                  # config, rfkill. Under emulation each load is seconds of boot.
                  "arch/x86/kvm", "drivers/crypto", "drivers/block/floppy.ko", "drivers/i2c",
                  "drivers/firmware/qemu_fw_cfg.ko", "net/rfkill")
IMAGE_SIZE = "3G"  # sparse: the tree is ~700 MB; the rest is room for the nodes' writes
# A fixed time for the image's file times and mkfs (reproducible bytes for the same inputs).
SOURCE_DATE_EPOCH = "1735689600"  # 2025-01-01T00:00:00Z
ROOT_LABEL = "pirack-root"
ROOT_UUID = "5a1e0c1a-0000-4000-8000-000000000001"

# Files the recipe puts into the tree (path -> (mode, text)).
IFNAME_HELPER = """#!/bin/sh
# udev: the name for the interface with MAC $1, from pirack.ifname=NAME=MAC,... on the kernel
# command line (the VM lab names each NIC as the cluster file does). No match: keep the name.
for arg in $(cat /proc/cmdline); do
  case "$arg" in pirack.ifname=*) list="${arg#pirack.ifname=}" ;; esac
done
[ -n "$list" ] || exit 1
IFS=,
for pair in $list; do
  name="${pair%%=*}"; mac="${pair#*=}"
  [ "$mac" = "$1" ] && { echo "$name"; exit 0; }
done
exit 1
"""
KEY_HELPER = """#!/bin/sh
# The admin's SSH key from pirack.key=BASE64 on the kernel command line (the VM lab's), so the
# cached image holds no key. Without one, root's authorized_keys stays as it is.
for arg in $(cat /proc/cmdline); do
  case "$arg" in pirack.key=*) key="${arg#pirack.key=}" ;; esac
done
[ -n "$key" ] || exit 0
install -d -m 0700 /root/.ssh
echo "$key" | base64 -d > /root/.ssh/authorized_keys.new
chmod 0600 /root/.ssh/authorized_keys.new
mv /root/.ssh/authorized_keys.new /root/.ssh/authorized_keys
"""
INITRAMFS_NAMES_HOOK = """#!/bin/sh
# The VM lab: kernel interface names (eth0) inside the initramfs as well.
case "$1" in prereqs) echo udev; exit 0 ;; esac
mkdir -p "$DESTDIR/etc/systemd/network"
cp /etc/systemd/network/99-default.link "$DESTDIR/etc/systemd/network/"
"""
INITRAMFS_MODULES = ("virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "virtio_net", "ext4", "crc32c_generic")
# The NFS client: in the initramfs, loaded only when the node boots from the network (nfs-top
# runs for BOOT=nfs alone); an SD node loading them spent 2-3 s of its boot.
INITRAMFS_NFS_MODULES = ("nfs", "nfsv3", "nfsv4", "af_packet")
INITRAMFS_NFS_HOOK = f"""#!/bin/sh
# The VM lab: the NFS client's modules in the initramfs, not loaded at every boot.
case "$1" in prereqs) exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
manual_add_modules {" ".join(INITRAMFS_NFS_MODULES)}
"""
INITRAMFS_NFS_TOP = f"""#!/bin/sh
# The VM lab: a net-booted node's NFS client, before its root is mounted.
case "$1" in prereqs) exit 0 ;; esac
/sbin/modprobe -a {" ".join(INITRAMFS_NFS_MODULES)}
"""
TREE_FILES = {
    "etc/hostname": (0o644, "raspberrypi\n"),
    "etc/hosts": (0o644, "127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n"),
    # /dev/vda: the master also has the image itself attached (the stand-in Raspberry Pi OS for
    # `netboot prepare`), with the same label.
    "etc/fstab": (0o644, "/dev/vda\t/\text4\tdefaults,noatime\t0\t1\n"),
    # Kernel names (eth0, like a Pi), not predictable ones (enp0s3).
    "etc/systemd/network/99-default.link": (0o644, "[Match]\nOriginalName=*\n\n[Link]\nNamePolicy=kernel\nMACAddressPolicy=none\n"),
    # ... in the initramfs too: a net-booted slave's NIC is brought up there (ip=dhcp) and keeps
    # the name it got, which must be eth0 as the cluster file says.
    "etc/initramfs-tools/hooks/pirack-vm-names": (0o755, INITRAMFS_NAMES_HOOK),
    "etc/initramfs-tools/hooks/pirack-vm-nfs": (0o755, INITRAMFS_NFS_HOOK),
    "etc/initramfs-tools/scripts/nfs-top/pirack-vm-nfs": (0o755, INITRAMFS_NFS_TOP),
    # Only what a VM's boot needs (virtio disk and NIC, ext4, the NFS client): 8 MB instead of
    # 21 MB, which a net-booted slave fetches over TFTP through the emulated master every boot.
    # gzip: the tree has no zstd.
    "etc/initramfs-tools/conf.d/pirack-vm.conf": (0o644, "MODULES=list\nCOMPRESS=gzip\n"),
    "etc/initramfs-tools/modules": (0o644, "".join(f"{m}\n" for m in INITRAMFS_MODULES)),
    "etc/udev/rules.d/70-pirack-vm-names.rules": (0o644, 'SUBSYSTEM=="net", ACTION=="add", PROGRAM="/usr/local/lib/pirack-vm/ifname $attr{address}", NAME="$result"\n'),
    "usr/local/lib/pirack-vm/ifname": (0o755, IFNAME_HELPER),
    "usr/local/lib/pirack-vm/key": (0o755, KEY_HELPER),
    "etc/systemd/system/pirack-vm-key.service": (0o644, (
        "[Unit]\nDescription=The VM lab's admin SSH key from the kernel command line\n"
        "Before=ssh.service\n\n[Service]\nType=oneshot\nExecStart=/usr/local/lib/pirack-vm/key\n\n"
        "[Install]\nWantedBy=multi-user.target\n")),
    # Every node its own SSH host key, made at its first boot (the image has none): ed25519
    # only, the key the lab's SSH and checks use (`ssh-keygen -A` also makes RSA and ECDSA keys:
    # 18 s under emulation, on the way to SSH).
    "etc/systemd/system/pirack-vm-hostkeys.service": (0o644, (
        "[Unit]\nDescription=SSH host key made at first boot\nBefore=ssh.service\n"
        "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n\n[Service]\nType=oneshot\n"
        "ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N \"\" -f /etc/ssh/ssh_host_ed25519_key\n\n"
        "[Install]\nWantedBy=multi-user.target\n")),
    "etc/ssh/sshd_config.d/pirack-vm.conf": (0o644, "HostKey /etc/ssh/ssh_host_ed25519_key\n"),
    # The lab's control NIC (QEMU user networking, restrict=on): static, never a default route.
    "etc/NetworkManager/system-connections/pirack-vm-control.nmconnection": (0o600, (
        "[connection]\nid=pirack-vm-control\ntype=ethernet\ninterface-name=ctl0\nautoconnect=true\n\n"
        "[ethernet]\n\n[ipv4]\nmethod=manual\naddress1=10.0.2.15/24\nnever-default=true\n"
        "ignore-auto-dns=true\n\n[ipv6]\nmethod=disabled\n")),
    "boot/firmware/config.txt": (0o644, (
        "# The VM lab's stand-in for Raspberry Pi OS's config.txt\narm_64bit=1\nauto_initramfs=1\n")),
    "boot/firmware/cmdline.txt": (0o644, f"console=serial0,115200 console=tty1 root=LABEL={ROOT_LABEL} rootwait\n"),
    "etc/systemd/journald.conf.d/pirack-vm.conf": (0o644, "[Journal]\nStorage=volatile\n"),
}
UNITS_ON = ("pirack-vm-key.service", "pirack-vm-hostkeys.service")
# e2scrub_reap: looks for LVM snapshots at every boot (none here): 11-17 s of an emulated CPU.
UNITS_OFF = ("apt-daily.timer", "apt-daily-upgrade.timer", "man-db.timer", "e2scrub_all.timer",
             "fstrim.timer", "dpkg-db-backup.timer", "e2scrub_reap.service")
# Static units every boot runs that no VM of the lab uses (no display, EFI, device mapper, loop
# devices, FUSE or foreign binaries): each is a process or a module load on an emulated CPU.
UNITS_MASKED = ("modprobe@drm.service", "modprobe@efi_pstore.service", "modprobe@dm_mod.service",
                "modprobe@fuse.service", "modprobe@loop.service", "systemd-binfmt.service",
                "proc-sys-fs-binfmt_misc.automount", "sys-kernel-debug.mount", "sys-kernel-tracing.mount",
                "dev-hugepages.mount", "dev-mqueue.mount", "modprobe@configfs.service", "sys-kernel-config.mount")


@dataclass(frozen=True)
class Image:
    """A built image: the root disk, the kernel and initramfs to boot it with."""

    folder: Path
    key: str

    @property
    def disk(self) -> Path:
        return self.folder / "root.img"

    @property
    def kernel(self) -> Path:
        return self.folder / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.folder / "initrd.img"

    @property
    def manifest(self) -> dict:
        return json.loads((self.folder / "manifest.json").read_text())


def cache_dir() -> Path:
    """Outside git: $PIRACK_VM_CACHE, else $XDG_CACHE_HOME/pirack/vm (~/.cache/pirack/vm)."""
    if os.environ.get("PIRACK_VM_CACHE"):
        return Path(os.environ["PIRACK_VM_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "pirack" / "vm"


def checkout() -> Path:
    """The pirack source tree this module runs from (its wheel goes into the image)."""
    return Path(__file__).resolve().parents[3]


# --- keys ------------------------------------------------------------------------------------

def apt_archive_state(lists: Path = Path("/var/lib/apt/lists")) -> str:
    """sha256 of the archive's Release files for the suite as this machine's apt last fetched
    them: when the archive publishes new versions (and apt-get update saw it), this changes."""
    h = hashlib.sha256()
    for p in sorted(lists.glob(f"*_dists_{SUITE}*_InRelease")) if lists.is_dir() else []:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def base_key(packages: Iterable[str] = PACKAGES, archive: str | None = None) -> str:
    doc = {"suite": SUITE, "sources": SOURCES, "packages": sorted(packages), "mmdebstrap": MMDEBSTRAP_OPTS, "env": MMDEBSTRAP_ENV,
           "archive": archive if archive is not None else apt_archive_state()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def recipe_digest() -> str:
    doc = {"recipe": RECIPE, "pruned": PRUNED_MODULES, "files": {k: list(v) for k, v in TREE_FILES.items()},
           "units": [UNITS_ON, UNITS_OFF, UNITS_MASKED], "size": IMAGE_SIZE, "label": ROOT_LABEL}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


WHEEL_INPUTS = ("pyproject.toml", "README.md", "pirack", "bringup", "rackdesign", "parts")


def source_digest(src: Path | None = None) -> str:
    """sha256 over what goes into pirack's wheel (the files hatchling packs), so the wheel is
    built only when one of them changed."""
    src = src or checkout()
    h = hashlib.sha256()
    for top in WHEEL_INPUTS:
        p = src / top
        files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
        for f in files:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            h.update(str(f.relative_to(src)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def image_key(base: str, src_digest: str) -> str:
    return hashlib.sha256(f"{base}:{recipe_digest()}:{src_digest}".encode()).hexdigest()[:16]


# --- building ------------------------------------------------------------------------------------

def _run(step: str, argv: list[str], env: dict | None = None, timeout: float = 1800) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           env=None if env is None else {**os.environ, **env})
    except FileNotFoundError:
        raise WorkFailed(f"VM image: {step}: {argv[0]} is not installed "
                         "(bash tools/install.sh --test installs qemu-system-x86, qemu-utils, mmdebstrap)") from None
    except subprocess.TimeoutExpired:
        raise WorkFailed(f"VM image: {step}: no result in {timeout:.0f} s") from None
    if r.returncode != 0:
        raise WorkFailed(f"VM image: {step} failed (exit {r.returncode})",
                         details=(r.stderr or r.stdout).strip().splitlines()[-25:])
    return r.stdout


@contextlib.contextmanager
def _locked(folder: Path):
    """One builder at a time per cache folder (two labs may start at once)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


MMDEBSTRAP_OPTS = (
    "--mode=root", "--variant=apt", "--format=directory",
    "--dpkgopt=force-unsafe-io",
    "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    # Package installs must not start services (there is no init in the chroot anyway).
    "--essential-hook=printf '#!/bin/sh\\nexit 101\\n' > \"$1/usr/sbin/policy-rc.d\"; chmod +x \"$1/usr/sbin/policy-rc.d\"",
    "--customize-hook=rm -f \"$1/usr/sbin/policy-rc.d\"",
)


# INITRD=No: the kernel's install makes no initramfs (one with every module: half a minute); the
# image layer makes the small one the VMs boot (MODULES=list).
MMDEBSTRAP_ENV = {"INITRD": "No"}


def _mmdebstrap(tree: Path) -> None:
    sources = "\n".join(SOURCES) + "\n"
    argv = ["mmdebstrap", *MMDEBSTRAP_OPTS, "--include=" + ",".join(PACKAGES), SUITE, str(tree), "-"]
    env = {"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, **MMDEBSTRAP_ENV}
    proc_in = sources
    try:
        r = subprocess.run(argv, input=proc_in, capture_output=True, text=True, timeout=1800,
                           env={**os.environ, **env})
    except FileNotFoundError:
        raise WorkFailed("VM image: mmdebstrap is not installed (bash tools/install.sh --test)") from None
    if r.returncode != 0:
        raise WorkFailed(f"VM image: mmdebstrap failed (exit {r.returncode})",
                         details=(r.stderr or r.stdout).strip().splitlines()[-25:])


def _shape_tree(tree: Path) -> dict:
    """The recipe's own files, units, pruned modules; returns what the manifest records."""
    for rel, (mode, text) in TREE_FILES.items():
        atomic_write(tree / rel, text, mode=mode)
    for key in tree.glob("etc/ssh/ssh_host_*"):
        key.unlink()
    _run("enable the lab's units", ["systemctl", f"--root={tree}", "enable", *UNITS_ON])
    _run("disable timers", ["systemctl", f"--root={tree}", "disable", *UNITS_OFF])
    _run("mask unused units", ["systemctl", f"--root={tree}", "mask", *UNITS_MASKED])
    kver = sorted(p.name for p in (tree / "lib/modules").iterdir())[-1]
    mods = tree / "lib/modules" / kver / "kernel"
    for rel in PRUNED_MODULES:
        if (mods / rel).is_dir():
            shutil.rmtree(mods / rel)
        else:
            (mods / rel).unlink(missing_ok=True)
    _run("depmod", ["chroot", str(tree), "depmod", kver])
    # With the recipe's interface names and only the modules a VM boots with.
    initrd = tree / f"boot/initrd.img-{kver}"
    initrd.unlink(missing_ok=True)  # a hard link into the base tree, if it has one: never write through it
    _run("make the initramfs", ["chroot", str(tree), "mkinitramfs", "-o", f"/boot/initrd.img-{kver}", kver],
         env={"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}, timeout=600)
    # Raspberry Pi OS's boot partition, as the Pi 4 firmware reads it (auto_initramfs=1).
    for src, dst in ((f"boot/vmlinuz-{kver}", "boot/firmware/kernel8.img"),
                     (f"boot/initrd.img-{kver}", "boot/firmware/initramfs8")):
        (tree / dst).unlink(missing_ok=True)  # a hard link into the base tree: never write through it
        shutil.copyfile(tree / src, tree / dst)
    return {"kernel": kver}


def _versions(tree: Path) -> dict[str, str]:
    out = _run("list the versions apt resolved",
               ["dpkg-query", f"--admindir={tree}/var/lib/dpkg", "-W", "-f=${Package} ${Version}\n"])
    return dict(ln.split(" ", 1) for ln in out.splitlines() if " " in ln)


def build_base(key: str, log: Callable[[str], None] = print) -> Path:
    """The base tree for `key` (cached): what mmdebstrap made, and the versions it resolved."""
    folder = cache_dir() / f"base-{key}"
    with _locked(cache_dir()):
        if (folder / "manifest.json").exists():
            return folder
        t0 = time.monotonic()
        if not (folder / "mmdebstrap.done").exists():  # a failed recipe step keeps the download
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            log(f"building the base tree (mmdebstrap {SUITE}, {len(PACKAGES)} packages) ...")
            _mmdebstrap(folder / "tree")
            (folder / "mmdebstrap.done").write_text(f"{time.monotonic() - t0:.1f}\n")
        info = {"key": key, "seconds": round(time.monotonic() - t0, 1), "sources": SOURCES,
                "packages": _versions(folder / "tree")}
        atomic_write(folder / "manifest.json", json.dumps(info, indent=1, sort_keys=True) + "\n")
        return folder


def _wheels(src: Path, out: Path) -> list[Path]:
    """pirack's wheel from this checkout and its dependencies' wheels (bringup + the lab's DNS
    client), so the guest installs with no network."""
    _run("build pirack's wheel and collect its dependencies",
         ["python3", "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "-w", str(out), f"{src}[lab]"],
         env={"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}, timeout=600)
    return sorted(out.glob("*.whl"))


def _install_pirack(tree: Path, wheels: list[Path]) -> None:
    stage = tree / "tmp/pirack-wheels"
    stage.mkdir(parents=True, exist_ok=True)
    for w in wheels:
        shutil.copyfile(w, stage / w.name)
    pirack_whl = next(w.name for w in wheels if w.name.startswith("pirack-"))
    _run("make /opt/pirack", ["chroot", str(tree), "python3", "-m", "venv", "--without-pip", "/opt/pirack"])
    # The guest's pip is not needed: the host's pip installs into the venv's site-packages
    # (same Python 3.11, same platform), with no index.
    site = tree / "opt/pirack/lib/python3.11/site-packages"
    _run("install pirack into the image",
         ["python3", "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index", "--no-compile",
          "--find-links", str(stage), "--target", str(site), f"{stage / pirack_whl}[lab]"], timeout=600)
    shutil.rmtree(stage)
    bindir = tree / "usr/local/bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for name, mod in (("bringup", "bringup.cli"),):
        atomic_write(bindir / name, f"#!/opt/pirack/bin/python3\nfrom {mod} import main\nmain()\n", mode=0o755)
    # Compile once, inside the tree's own interpreter paths (TCG makes every import slow).
    _run("compile pirack", ["chroot", str(tree), "/opt/pirack/bin/python3", "-m", "compileall", "-q",
                            "/opt/pirack/lib/python3.11/site-packages"])


def _make_disk(tree: Path, disk: Path) -> None:
    env = {"E2FSPROGS_FAKE_TIME": SOURCE_DATE_EPOCH}
    _run("make the root disk", ["mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-U", ROOT_UUID,
                                "-E", f"root_owner=0:0,hash_seed={ROOT_UUID}", "-d", str(tree),
                                str(disk), IMAGE_SIZE], env=env)


def cached_image() -> Image | None:
    """The image for this checkout if the cache has it (nothing is built)."""
    key = image_key(base_key(), source_digest(checkout()))
    folder = cache_dir() / f"image-{key}"
    return Image(folder, key) if (folder / "manifest.json").exists() else None


def cache_state() -> str:
    """What build_image would do now: "cached" (a lookup), "pirack layer" (the base tree is
    cached) or "cold" (mmdebstrap first). For the bench's figures."""
    if cached_image():
        return "cached"
    return "pirack layer" if (cache_dir() / f"base-{base_key()}" / "manifest.json").exists() else "cold"


def build_image(log: Callable[[str], None] = print) -> Image:
    """The image for this checkout: cached, else built (base tree cached separately)."""
    bkey = base_key()
    src = checkout()
    key = image_key(bkey, source_digest(src))
    folder = cache_dir() / f"image-{key}"
    if (folder / "manifest.json").exists():
        return Image(folder, key)
    base = build_base(bkey, log)
    with _locked(cache_dir()):
        if (folder / "manifest.json").exists():
            return Image(folder, key)
        t0 = time.monotonic()
        log("adding pirack (a wheel of this checkout) and making the disk ...")
        work = Path(tempfile.mkdtemp(prefix="image-", dir=cache_dir()))
        try:
            tree = work / "tree"
            # Hard links: seconds instead of a minute. Everything below replaces files (atomic
            # writes, unlink before copy), so the cached base tree is never written through.
            _run("link the base tree", ["cp", "-al", str(base / "tree"), str(tree)])
            kver = _shape_tree(tree)["kernel"]
            wheels = _wheels(src, work / "wheels")
            _install_pirack(tree, wheels)
            out = work / "out"
            out.mkdir()
            _make_disk(tree, out / "root.img")
            binfo = json.loads((base / "manifest.json").read_text())
            shutil.copyfile(tree / f"boot/vmlinuz-{kver}", out / "vmlinuz")
            shutil.copyfile(tree / f"boot/initrd.img-{kver}", out / "initrd.img")
            info = {"key": key, "base": bkey, "kernel": kver, "seconds": round(time.monotonic() - t0, 1),
                    "wheels": {w.name: hashlib.sha256(w.read_bytes()).hexdigest() for w in wheels},
                    "packages": binfo["packages"]}
            atomic_write(out / "manifest.json", json.dumps(info, indent=1, sort_keys=True) + "\n")
            shutil.rmtree(folder, ignore_errors=True)
            os.rename(out, folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _prune_old(keep={folder.name, base.name})
        return Image(folder, key)


def _prune_old(keep: set[str], spare: int = 1) -> None:
    """Old images and bases go (each is ~1-3 GB); the newest `spare` others of each kind stay."""
    for kind in ("image-", "base-"):
        olds = sorted((p for p in cache_dir().glob(kind + "*") if p.name not in keep),
                      key=lambda p: p.stat().st_mtime, reverse=True)
        for p in olds[spare:]:
            shutil.rmtree(p, ignore_errors=True)


def main() -> None:
    """`python3 -m bringup.lab.vm.image`: build the image for this checkout now (or find it in the
    cache), so the lab's first `up` only boots. tools/test.sh runs it beside the light tests."""
    import sys

    t0 = time.monotonic()
    try:
        img = build_image(log=lambda msg: print(msg, file=sys.stderr, flush=True))
    except WorkFailed as exc:
        print(f"error: {exc.render()}", file=sys.stderr)
        sys.exit(1)
    print(f"VM image {img.key}: ready in {time.monotonic() - t0:.0f} s ({img.folder})", file=sys.stderr)


if __name__ == "__main__":
    main()
