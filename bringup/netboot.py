"""`bringup netboot prepare|eeprom`: a net-booting slave's boot folder and root filesystem.

prepare copies Raspberry Pi OS (an unpacked tree, or an image loop-mounted read-only) into the
slave's TFTP folder (the boot partition) and NFS root (the rest), then makes that root the
slave's own: new SSH host keys (every slave must have its own), an fstab without the SD card,
its hostname, and our cmdline.txt (root over NFS) and config.txt block (no Wi-Fi, no BT).
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pirack.errors import InputError, WorkFailed
from pirack.fsutil import atomic_write
from pirack.load import load_cluster

from .render import merge_block, node_named
from .render import netboot as nb

if TYPE_CHECKING:
    from pirack.spec import Cluster, Node


def _slave(file: Path | None, node: str, root: Path | None = None, live: bool = False):
    from .target import cluster_file

    # prepare without --root fills this machine's drive: never from the built-in default
    lc = load_cluster(cluster_file(file, root) if live else file)
    n = node_named(lc.spec, node, lc.display)
    i = lc.spec.nodes.index(n)
    if n.boot != "net":
        raise InputError(lc.display, f"nodes[{i}].boot", f"{node} boots from its SD card: set boot = \"net\" (and its serial) first")
    return lc, n


def _run(step: str, argv: list[str]) -> str:
    """Run a tool; if it fails, the work fails (exit 1) with the step and the tool's own words."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True)
    except OSError as exc:
        raise WorkFailed(f"netboot prepare: {step}: cannot run {argv[0]}: {exc.strerror or exc}") from None
    if r.returncode != 0:
        raise WorkFailed(f"netboot prepare: {step}: {shlex.join(argv)} failed: {(r.stderr or r.stdout).strip()[-800:]}")
    return r.stdout.strip()


@contextlib.contextmanager
def _image_tree(image: Path):
    """The image's partitions mounted read-only: yields (boot, root)."""
    loop = _run(f"attach {image} as a loop device", ["losetup", "-P", "-r", "--show", "-f", str(image)])
    mounts: list[Path] = []
    try:
        with tempfile.TemporaryDirectory(prefix="pirack-img-") as tmp:
            for part, name in ((f"{loop}p1", "boot"), (f"{loop}p2", "root")):
                mp = Path(tmp) / name
                mp.mkdir()
                _run(f"mount the image's {name} partition (is {image} a Raspberry Pi OS image?)",
                     ["mount", "-o", "ro", part, str(mp)])
                mounts.append(mp)
            try:
                yield mounts[0], mounts[1]
            finally:
                for mp in reversed(mounts):
                    subprocess.run(["umount", str(mp)], capture_output=True)
                mounts.clear()
    finally:
        for mp in reversed(mounts):
            subprocess.run(["umount", str(mp)], capture_output=True)
        subprocess.run(["losetup", "-d", loop], capture_output=True)


def _copy(src: Path, dst: Path, exclude: Path | None = None) -> None:
    """cp -a: owners, modes, links and device nodes as they are."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copystat(src, dst)
    for entry in sorted(src.iterdir()):
        if exclude is not None and entry == exclude:
            (dst / entry.name).mkdir(exist_ok=True)  # the empty mount point stays
        elif exclude is not None and entry in exclude.parents and not entry.is_symlink():
            _copy(entry, dst / entry.name, exclude)
        else:
            _run(f"copy {entry}", ["cp", "-a", str(entry), str(dst / entry.name)])


def prepare(file: Path | None, node: str, image: Path | None, from_dir: Path | None, root: Path | None) -> list[str]:
    if (image is None) == (from_dir is None):
        raise InputError(None, "--image/--from", "give exactly one: --image FILE or --from DIR")
    lc, n = _slave(file, node, root, live=True)
    spec = lc.spec
    base = (root or Path("/")).resolve()
    tftp = base / nb.tftp_folder(spec, n).lstrip("/")
    nfs = base / nb.nfs_root(spec, n).lstrip("/")
    if image is not None and not image.is_file():
        raise InputError(image, None, "no such image file")
    if from_dir is not None and not (from_dir / "boot").is_dir():
        raise InputError(from_dir, None, "has no boot/ folder: not a Raspberry Pi OS tree")
    if not shutil.which("ssh-keygen"):
        raise InputError(None, None, "ssh-keygen is missing (apt-get install openssh-client)")
    try:
        return _fill(spec, n, image, from_dir, tftp, nfs)
    except OSError as exc:  # e.g. a file where a folder of the root should be, a full disk
        where = f": {exc.filename}" if exc.filename else ""
        raise WorkFailed(f"netboot prepare: {exc.strerror or exc}{where}") from None


def _fill(spec: Cluster, n: Node, image: Path | None, from_dir: Path | None, tftp: Path, nfs: Path) -> list[str]:
    out = []
    if image is not None:
        with _image_tree(image) as (boot_src, root_src):
            _copy(boot_src, tftp)
            _copy(root_src, nfs)
    else:
        boot_src = from_dir / "boot"
        if (boot_src / "firmware" / "config.txt").exists():  # bookworm: the partition is /boot/firmware
            boot_src = boot_src / "firmware"
        _copy(boot_src, tftp)
        _copy(from_dir, nfs, exclude=boot_src)
    out.append(f"boot files -> {tftp}")
    out.append(f"root filesystem -> {nfs}")
    # Each slave its own host keys: copies of the image's (or none) would let one slave
    # impersonate another.
    for old in (nfs / "etc/ssh").glob("ssh_host_*"):
        old.unlink()
    (nfs / "etc/ssh").mkdir(parents=True, exist_ok=True)
    _run("make new SSH host keys", ["ssh-keygen", "-A", "-f", str(nfs)])
    out.append("new SSH host keys: " + ", ".join(sorted(p.name for p in (nfs / "etc/ssh").glob("ssh_host_*_key"))))
    # World-readable: dnsmasq serves TFTP as nobody, and a slave's /etc files are read by all.
    atomic_write(nfs / "etc/fstab", nb.slave_fstab(spec, n), mode=0o644)
    atomic_write(nfs / "etc/hostname", f"{n.name}\n", mode=0o644)
    atomic_write(tftp / "cmdline.txt", nb.cmdline(spec, n), mode=0o644)
    cfg = tftp / "config.txt"
    atomic_write(cfg, merge_block(cfg.read_text() if cfg.exists() else None, nb.WIRELESS_OFF), mode=0o644)
    (nfs / "boot/firmware").mkdir(parents=True, exist_ok=True)  # the TFTP folder mounts here
    out.append("fstab (no SD card; /boot/firmware from the TFTP folder over NFS), hostname, "
               "cmdline.txt (root over NFS v3), config.txt (no Wi-Fi/BT) written")
    out.append(nb.eeprom_steps(n).rstrip("\n"))
    return out


def eeprom(file: Path | None, node: str) -> tuple[str, str]:
    _, n = _slave(file, node)
    return nb.eeprom_config(n), nb.eeprom_steps(n)
