"""Net boot of Pi 4 slaves: the TFTP folder per slave, its cmdline.txt and config.txt block.

Facts (Raspberry Pi bootloader documentation): the EEPROM's BOOT_ORDER is read right to left
(0xf21 = SD card, then network, then repeat); with TFTP_PREFIX=0 (the default) it asks for its
files in a folder named by the last 8 hex digits of its serial.
"""

from __future__ import annotations

from pirack.spec import Cluster, Node

from .common import drive_path
from .model import ManagedDir, ManagedFile

BOOT_ORDER = "0xf21"
TFTP_PREFIX = 0  # the default: folders named by serial (tftp_folder)
WIRELESS_OFF = "dtoverlay=disable-wifi\ndtoverlay=disable-bt\n"


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
            f"nfsroot={spec.network.master_address}:{nfs_root(spec, node)},vers=4.1,proto=tcp "
            f"rw ip=dhcp rootwait\n")


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
