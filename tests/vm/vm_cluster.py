"""The VM scenario's cluster: the seed's master and SD slave, plus a slave that boots from the
network (its serial names its TFTP folder), as an overlay on the built-in default."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from overlay import overlay_text  # noqa: E402

NET_SLAVE = {"name": "slave2", "role": "slave", "board": "rpi4b-8gb", "hat": "rpi-poe-plus-hat",
             "mac": "02:00:00:50:00:12", "address": "192.168.50.12", "boot": "net",
             "serial": "10000000a2b3c4d5"}


def vm_cluster_text(name: str = "vmlab") -> str:
    return overlay_text({"cluster.name": name, "nodes[2]": NET_SLAVE})


def write_vm_cluster(folder: Path, name: str = "vmlab") -> Path:
    p = folder / "cluster.toml"
    p.write_text(vm_cluster_text(name))
    return p
