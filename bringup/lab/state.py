"""The lab's state file: what `up` created, so `down` can remove it from any process.

It is written after every step of `up`, so an interrupted `up` leaves a record of exactly what
exists. `down` removes the processes by recorded PID (checked against their start time, so a
reused PID is never hit), then the namespaces (their veths and bridge go with them), then the
lab folder.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pirack.fsutil import atomic_write

from .netns import Started, list_netns, run, stop
from .paths import STATE_BASE
from .topology import PREFIX


@dataclass
class LabState:
    lab_id: str
    dir: str
    cluster: str = ""
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # "ns/name<->peer_ns/peer", for the record
    processes: list[Started] = field(default_factory=list)
    nodes: dict[str, str] = field(default_factory=dict)  # node name -> namespace
    uplink_ns: str = ""
    host_dirs: list[str] = field(default_factory=list)  # empty host folders a daemon made (ganesha: /run/ganesha)
    community: str = ""  # the lab's SNMP community (this file is 0600)
    ready: bool = False

    @property
    def path(self) -> Path:
        return state_path(self.lab_id)

    def save(self) -> None:
        atomic_write(self.path, json.dumps(asdict(self), indent=1) + "\n", mode=0o600)


def state_path(lab_id: str, base: str = STATE_BASE) -> Path:
    return Path(base) / lab_id / "state.json"


def load_state(lab_id: str) -> LabState | None:
    p = state_path(lab_id)
    try:
        d = json.loads(p.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    d["processes"] = [Started(**x) for x in d.get("processes", [])]
    return LabState(**d)


def recorded_labs(base: str = STATE_BASE) -> list[str]:
    b = Path(base)
    return sorted(p.parent.name for p in b.glob("*/state.json")) if b.exists() else []


def teardown(lab_id: str) -> tuple[list[str], list[str]]:
    """Remove lab `lab_id`: its processes, namespaces and folder. Returns (removed, problems).
    Works without a state file too: namespaces carrying the lab's prefix are its own."""
    st = load_state(lab_id)
    removed: list[str] = []
    problems: list[str] = []
    if st:
        live = [p for p in st.processes if p.alive()]
        problems += stop(live)
        removed += [f"process {p.name} ({p.pid})" for p in live]
    _delete_namespaces(_lab_namespaces(lab_id, st), removed, problems)
    for d in (st.host_dirs if st else []):
        with contextlib.suppress(OSError):
            Path(d).rmdir()  # only if still empty: another ganesha may have put something there
    lab_dir = Path(st.dir) if st else Path(STATE_BASE) / lab_id
    if lab_dir.exists() and not problems and not _remove_tree(lab_dir):
        problems.append(f"folder {lab_dir} could not be removed")
    with contextlib.suppress(OSError):
        Path(STATE_BASE).rmdir()  # the last lab leaves no trace
    return removed, problems


def _lab_namespaces(lab_id: str, st: LabState | None) -> list[str]:
    """The lab's namespaces that exist: those recorded, and any carrying its prefix."""
    mine = f"{PREFIX}{lab_id}-"
    present = set(list_netns())
    recorded = st.namespaces if st else []
    return sorted(ns for ns in {*recorded, *(n for n in present if n.startswith(mine))} if ns in present)


def _delete_namespaces(doomed: list[str], removed: list[str], problems: list[str]) -> None:
    if not doomed:
        return
    # one `ip -batch` for all: a process per namespace costs more than the deletion
    cp = run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {ns}\n" for ns in doomed), check=False)
    left = set(list_netns())
    for ns in doomed:
        if ns in left:
            problems.append(f"namespace {ns} could not be removed: {cp.stderr.strip()}")
        else:
            removed.append(f"namespace {ns}")


def _remove_tree(folder: Path) -> bool:
    """rmtree, retried: a writer that was still finishing may have added files. True if gone."""
    for _ in range(20):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return True
        time.sleep(0.05)
    return False
