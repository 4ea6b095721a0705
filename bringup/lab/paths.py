"""Where the lab keeps its things: one folder per lab under STATE_BASE, holding one root per
node (named as the node) and the lab's own files under `_lab/` ('_' is never in a host name).

    /run/pirack-lab/<lab-id>/state.json         what `up` made (state.py)
    /run/pirack-lab/<lab-id>/<node>/            the node's root: its rendered files, its daemons' state
    /run/pirack-lab/<lab-id>/_lab/run, log      pid files and sockets; each daemon's output
    /run/pirack-lab/<lab-id>/_lab/uplink        the fake home router's configs
    /run/pirack-lab/<lab-id>/_lab/verify        what the checks fetch and write
    /run/pirack-lab/<lab-id>/_lab/ssh           `up --ssh`: the client key, each slave's sshd
    /run/pirack-lab/<lab-id>/_lab/fleet/roots   `fleet run --lab`: a root per node
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATE_BASE = "/run/pirack-lab"
LAB = "_lab"


def lab_dir(lab_id: str) -> Path:
    return Path(STATE_BASE) / lab_id


@dataclass(frozen=True)
class LabPaths:
    """The lab's own folders under its lab folder `base`."""

    base: Path

    @property
    def own(self) -> Path:
        return self.base / LAB

    @property
    def run(self) -> Path:
        return self.own / "run"

    @property
    def log(self) -> Path:
        return self.own / "log"

    @property
    def uplink(self) -> Path:
        return self.own / "uplink"

    @property
    def ganesha(self) -> Path:
        return self.own / "ganesha"

    @property
    def verify(self) -> Path:
        return self.own / "verify"

    def root(self, node: str) -> Path:
        return self.base / node


@dataclass(frozen=True)
class SshPaths:
    dir: Path

    @property
    def key(self) -> Path:  # the lab's client key (ansible_ssh_private_key_file)
        return self.dir / "id_ed25519"

    @property
    def authorized_keys(self) -> Path:
        return self.dir / "authorized_keys"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    def node(self, name: str) -> Path:
        return self.dir / name


def ssh_paths(lab: Path) -> SshPaths:
    return SshPaths(Path(lab) / LAB / "ssh")


def fleet_root(lab: Path, node: str) -> Path:
    """The folder that stands for the node's / under `bringup fleet run --lab` (`--root`). Made
    by `lab up --ssh`, so that even the first `fleet run --check` finds every root and creates nothing."""
    return Path(lab) / LAB / "fleet" / "roots" / node
