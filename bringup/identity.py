"""Which node am I: the eth0 MAC, the Pi serial number and the hostname, matched against the
cluster file. Under --root, each fact is read from the root if it is there, else from this
machine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pirack.errors import InputError
from pirack.spec import Cluster, Node


@dataclass(frozen=True)
class Identity:
    mac: str | None
    serial: str | None
    hostname: str | None

    def describe(self) -> str:
        return f"MAC {self.mac or '?'}, serial {self.serial or '?'}, hostname {self.hostname or '?'}"


def _read(root: Path | None, path: str) -> str | None:
    for base in ([root] if root else []) + [Path("/")]:
        p = base / path.lstrip("/")
        try:
            return p.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
    return None


def read_identity(root: Path | None = None) -> Identity:
    mac = _read(root, "/sys/class/net/eth0/address")
    serial = None
    cpuinfo = _read(root, "/proc/cpuinfo")
    if cpuinfo:
        m = re.search(r"^Serial\s*:\s*([0-9a-fA-F]+)", cpuinfo, re.M)
        serial = m.group(1).lower() if m else None
    if serial is None:
        dt = _read(root, "/proc/device-tree/serial-number")
        serial = dt.strip("\x00\n ").lower() if dt else None
    host = _read(root, "/etc/hostname")
    return Identity(mac.strip().lower() if mac else None, serial or None,
                    host.strip() if host and host.strip() else None)


def find_node(spec: Cluster, ident: Identity, display: str) -> Node:
    """MAC first (it is on the label of the board's port), then serial, then hostname."""
    if ident.mac:
        for n in spec.nodes:
            if n.mac == ident.mac:
                return n
    if ident.serial:
        for n in spec.nodes:
            if n.serial and (n.serial == ident.serial or n.serial[-8:] == ident.serial[-8:]):
                return n
    if ident.hostname:
        for n in spec.nodes:
            if n.name == ident.hostname:
                return n
    known = "; ".join(f"{n.name} (MAC {n.mac}{', serial ' + n.serial if n.serial else ''})" for n in spec.nodes)
    raise InputError(display, "nodes", f"this machine ({ident.describe()}) is none of the nodes in the file: "
                     f"{known}. Put its MAC in the file, or pass --node NAME")
