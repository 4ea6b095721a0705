"""`bringup lab up|verify|down --vm`: what the lab CLI calls for the VM lab."""

from __future__ import annotations

import json
import secrets
import time

from rich.console import Console
from rich.table import Table

from typing import TYPE_CHECKING

from pirack.errors import InputError

if TYPE_CHECKING:  # `lab down` imports this module: no pydantic on its path
    from pirack.load import LoadedCluster

console = Console(stderr=False)


def up(lc: LoadedCluster, lab_id: str, json_out: bool, converge: bool) -> None:
    from . import scenario
    from .lab import VmLab, torn_down_on_failure

    t0 = time.monotonic()
    lab = VmLab(lc, lab_id)
    steps = []
    with torn_down_on_failure(lab.t.lab_id):
        lab.up_infra()
        lab.st.community = secrets.token_hex(8)
        lab.st.save()
        sd = [n for n, v in lab.nodes.items() if v.boot == "sd"]
        boot = scenario.boot_all(lab, sd)
        if converge:
            steps = scenario.converge(lab, lab.st.community, log=lambda m: console.print(m, markup=False, highlight=False))
    info = {"lab_id": lab.t.lab_id, "work": lab.info.work, "accel": lab.info.accel, "accel_why": lab.info.accel_why,
            "boot_seconds": {k: round(v, 1) for k, v in boot.items()},
            "steps": [{"node": s.node, "what": s.what, "seconds": round(s.seconds, 1)} for s in steps],
            "seconds": round(time.monotonic() - t0, 1)}
    if json_out:
        print(json.dumps(info, indent=1))
        return
    table = Table(title=f"VM lab {lab.t.lab_id} is up ({info['seconds']} s, {lab.info.accel}: {lab.info.accel_why})")
    for col in ("node", "role", "boot", "reach it"):
        table.add_column(col)
    for name, n in lab.nodes.items():
        table.add_row(name, n.role, n.boot, " ".join(lab.ssh_argv(name)[:4]) + " ssh ..." if n.ssh_port
                      else f"ssh root@{n.address} (from {lab.t.switch_ns})")
    console.print(table)
    console.print("then `bringup lab verify --vm`, `bringup lab down --vm`"
                  + ("" if converge else "; the nodes are fresh images: put the cluster file on each and `bringup run`"))


def verify(lc: LoadedCluster, lab_id: str) -> list:
    """The checks of `lab verify --vm` (the lab CLI prints them as it prints the namespace lab's)."""
    from ..state import load_state
    from .lab import VmInfo, VmLab
    from .verify import verify as run_checks

    if VmInfo.load(lab_id) is None or (st := load_state(lab_id)) is None or not st.ready:
        raise InputError(lc.display, None, f"no VM lab is up for this cluster (id {lab_id}): run `bringup lab up --vm` first")
    return run_checks(VmLab(lc, lab_id), st.community)


def vm_labs() -> set[str]:
    """Ids of VM labs recorded on this machine (their work folders)."""
    from pathlib import Path

    from .lab import WORK_BASE

    base = Path(WORK_BASE)
    return {p.name for p in base.iterdir() if p.is_dir()} if base.is_dir() else set()


def down(lab_ids: list[str]) -> tuple[list[str], list[str]]:
    from .lab import down as vm_down

    removed, problems = [], []
    for lid in lab_ids:
        r, p = vm_down(lid)
        removed += r
        problems += p
    return removed, problems
