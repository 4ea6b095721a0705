"""Net boot of Pi 4 slaves: the TFTP folder per slave, its cmdline.txt and config.txt block,
the slave's fstab, and what the master's NFS server needs for it.

Facts (Raspberry Pi bootloader documentation): the EEPROM's BOOT_ORDER is read right to left
(0xf21 = SD card, then network, then repeat); with TFTP_PREFIX=0 (the default) it asks for its
files in a folder named by the last 8 hex digits of its serial.

The NFS root (Raspberry Pi documentation, network boot tutorial, fixed by raspberrypi/
documentation PR #3234 for issue #3205; bookworm-feedback #93, #267): since Bookworm the
initramfs mounts the root with klibc's nfsmount, which speaks NFS v2/v3 only and takes no
`proto=`: `nfsroot=IP:/path,vers=3`. `vers=4.1,proto=tcp` loops on "Retrying nfs mount" (the VM
lab boots both lines: tests/vm). NFSv3 needs rpcbind (111) and mountd, which the master pins to
nfs.MOUNTD_PORT so its firewall can open it to the cluster side only. The slave's /boot/firmware is
an NFS mount of its TFTP folder, so kernel and firmware updates reach what the boot ROM loads.
"""

from __future__ import annotations

from pirack.spec import Cluster, Node

from .common import drive_path
from .model import ManagedDir, ManagedFile

BOOT_ORDER = "0xf21"
TFTP_PREFIX = 0  # the default: folders named by serial (tftp_folder)
WIRELESS_OFF = "dtoverlay=disable-wifi\ndtoverlay=disable-bt\n"
NFS_VERSION = "3"  # what the Bookworm initramfs's nfsmount speaks (see above)


def tftp_folder(spec: Cluster, node: Node) -> str:
    """The slave's TFTP folder, named by its short serial: the Pi 4 EEPROM's default
    (TFTP_PREFIX=0), which `eeprom_config` writes. The loader makes every net-booting node
    give its serial."""
    assert spec.storage is not None
    return drive_path(spec, spec.storage.tftp_root, node.short_serial)


def nfs_root(spec: Cluster, node: Node) -> str:
    assert spec.storage is not None
    return drive_path(spec, spec.storage.netboot_root, node.name)


def cmdline(spec: Cluster, node: Node) -> str:
    """ONE line: the kernel reads only the first."""
    return (f"console=serial0,115200 console=tty1 root=/dev/nfs "
            f"nfsroot={spec.network.master_address}:{nfs_root(spec, node)},vers={NFS_VERSION} "
            f"rw ip=dhcp rootwait\n")


def slave_fstab(spec: Cluster, node: Node) -> str:
    """The net-booted slave's fstab: no SD card; its root comes from cmdline.txt; its
    /boot/firmware is its TFTP folder over NFS (v3, as the root; nolock: NFSv3 locking needs
    lockd and statd on ports the master's firewall does not open, and boot files need no lock)."""
    return ("# Managed by pirack: a net-booted slave; its root is NFS (from cmdline.txt), no SD card.\n"
            "proc\t/proc\tproc\tdefaults\t0\t0\n"
            f"{spec.network.master_address}:{tftp_folder(spec, node)}\t/boot/firmware\tnfs\t"
            f"defaults,vers={NFS_VERSION},nolock,_netdev\t0\t0\n")


def export_lines(spec: Cluster, node: Node) -> list[str]:
    """The master's exports for one net-booted slave: its root and its TFTP folder (rw: kernel
    and firmware updates land there), only to that slave, whose root is root there."""
    opts = "(rw,sync,no_subtree_check,no_root_squash)"
    return [f"{nfs_root(spec, node)}\t{node.address}{opts}\n", f"{tftp_folder(spec, node)}\t{node.address}{opts}\n"]


def boot_files(spec: Cluster, node: Node) -> tuple[list[ManagedFile], list[ManagedDir]]:
    folder = tftp_folder(spec, node)
    files = [
        ManagedFile(f"{folder}/cmdline.txt", cmdline(spec, node), on_drive=True,
                    why=f"{node.name} mounts its root over NFS"),
        ManagedFile(f"{folder}/config.txt", WIRELESS_OFF, kind="block", on_drive=True,
                    why=f"{node.name} has no Wi-Fi or Bluetooth"),
    ]
    # dnsmasq reads TFTP files as nobody: the folders must be world-readable.
    return files, [ManagedDir(folder, on_drive=True, why=f"{node.name}'s boot files (TFTP)")]


def eeprom_config(node: Node) -> str:
    return (f"# EEPROM settings for {node.name}: SD card first, then network boot.\n"
            f"BOOT_ORDER={BOOT_ORDER}\nTFTP_PREFIX={TFTP_PREFIX}\n")


def eeprom_steps(node: Node) -> str:
    return (f"On {node.name} (booted from its SD card), set the bootloader to try the network "
            f"after the SD card (BOOT_ORDER={BOOT_ORDER}, read right to left):\n"
            f"  bringup netboot eeprom --node {node.name} > boot.conf   # or write these lines:\n"
            + "".join(f"    {ln}\n" for ln in eeprom_config(node).splitlines() if not ln.startswith("#")) +
            "  sudo rpi-eeprom-config --apply boot.conf && sudo reboot\n")


def slave_config_txt(node: Node) -> ManagedFile:
    return ManagedFile("/boot/firmware/config.txt", WIRELESS_OFF, kind="block",
                       why="no Wi-Fi or Bluetooth: the slave reaches out only through the master")
