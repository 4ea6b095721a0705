"""`bringup fleet inventory|run`: the whole cluster through Ansible (light: typer and rich only)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pirack.cli_common import App, ClusterFile
from pirack.errors import WorkFailed

if TYPE_CHECKING:
    from pirack.load import LoadedCluster

    from .driver import NodeResult
    from .lab import LabFleet

fleet_app = App(
    help=(
        "The whole cluster from one place, through Ansible: an inventory (groups pirack_master, pirack_slaves) "
        "and a playbook that installs pirack on each node, copies the cluster file and runs "
        "`bringup run` there, the master first. Needs ansible-core: pip install 'pirack\\[fleet]'."
    ),
    no_args_is_help=True,
)
console = Console()

OutOpt = Annotated[Optional[Path], typer.Option("--out", help="Write the inventory, playbook, ansible.cfg and cluster file here.", file_okay=False)]
PackageOpt = Annotated[Optional[str], typer.Option("--package", metavar="SPEC", help="What the nodes pip-install (like 'pirack==0.1.0'); default: a wheel built from this checkout.")]
InstallOpt = Annotated[Optional[bool], typer.Option("--install/--no-install", help="Install pirack on the nodes (default), or not: pirack_install: false, no wheel built. With --lab the default is --no-install; --install puts it in a venv per node inside the lab.")]
LabOpt = Annotated[bool, typer.Option("--lab", help="Drive the virtual lab (`bringup lab up --ssh`): ansible runs in the master's namespace, every node converges into its own folder in the lab.")]
IdOpt = Annotated[Optional[str], typer.Option("--id", help="Lab id (with --lab; default: derived from the cluster name).")]


def _bundle(lc: LoadedCluster, out: Path, package: str | None, install: bool | None, labf: LabFleet | None = None):
    from .bundle import BundleOptions, write_bundle
    from .driver import build_wheel

    cfg_extra = None
    if labf is not None:
        # The lab's Python already has this checkout: no install unless asked for.
        opts = BundleOptions(install=bool(install), package=package, group_vars=dict(labf.group_vars),
                             host_vars={n: dict(v) for n, v in labf.host_vars.items()})
        cfg_extra = labf.cfg_extra
        if opts.install:
            labf.with_install(opts)
    else:
        opts = BundleOptions(install=install is not False, package=package)
    if opts.install and not package:
        opts.wheel = build_wheel(out)
    return write_bundle(lc, out, opts, cfg_extra)


def _lab(lc: LoadedCluster, lab: bool, lab_id: str | None):
    if not lab:
        return None
    from .lab import prepare

    return prepare(lc, lab_id)


@fleet_app.command()
def inventory(file: ClusterFile = None, out: OutOpt = None, package: PackageOpt = None,
              install: InstallOpt = None, lab: LabOpt = False, lab_id: IdOpt = None) -> None:
    """Write the Ansible inventory and playbook for the cluster file (default folder: exports/NAME/fleet)."""
    from pirack.load import load_cluster

    lc = load_cluster(file)
    labf = _lab(lc, lab, lab_id)
    if out is None:
        out = labf.bundle if labf else Path("exports") / lc.spec.cluster.name / "fleet"
    files = _bundle(lc, out, package, install, labf)
    for what, p in files.items():
        print(f"{what:9} {p}")
    print(f"run it: ANSIBLE_CONFIG={files['config']} ansible-playbook -i {files['inventory']} {files['playbook']}"
          " [--check] [--limit NODES]   (or: bringup fleet run)")


@fleet_app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(ctx: typer.Context, file: ClusterFile = None,
        check: Annotated[bool, typer.Option("--check", help="Ansible check mode: each node shows `bringup plan`; nothing changes.")] = False,
        limit: Annotated[Optional[str], typer.Option("--limit", metavar="NODES", help="Only these nodes or groups (Ansible's --limit, like slave1,slave2).")] = None,
        out: OutOpt = None, package: PackageOpt = None, install: InstallOpt = None,
        lab: LabOpt = False, lab_id: IdOpt = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print the per-node summary as JSON (after Ansible's own output).")] = False) -> None:
    """Write the inventory and playbook, run ansible-playbook on them, then a per-node summary.

    ansible-playbook's output shows as it goes. Exit 1 if a node failed. Arguments after `--` go
    to ansible-playbook."""
    import time

    from pirack.load import load_cluster

    from .driver import find_ansible_playbook, summarize

    lc = load_cluster(file)
    find_ansible_playbook()  # before anything is built: exit 2 with the install hint
    t0 = time.monotonic()
    labf = _lab(lc, lab, lab_id)
    rc, records = _bundle_and_play(lc, out, package, install, labf, check, limit, list(ctx.args))
    if not records:  # ansible stopped before any task (its own message is above)
        raise WorkFailed(f"ansible-playbook exited {rc} before any node was reached")
    results = summarize(records, [n.name for n in lc.spec.nodes])
    if limit:  # the nodes --limit left out are not news
        results = [r for r in results if r.status != "not run"]
    seconds = time.monotonic() - t0
    if json_out:
        print(json.dumps({"check": check, "ansible_rc": rc, "seconds": round(seconds, 2),
                          "nodes": [r.__dict__ for r in results]}, indent=1))
    else:
        console.print(_summary_table(results, check, seconds))
    failed = [r for r in results if r.status in ("failed", "unreachable")]
    if failed:
        raise WorkFailed(f"{len(failed)} node(s) failed: {', '.join(r.node for r in failed)}",
                         details=[f"{r.node}: {r.status}: {r.detail}" for r in failed])
    if rc != 0:
        raise WorkFailed(f"ansible-playbook exited {rc}")


def _bundle_and_play(lc: LoadedCluster, out: Path | None, package: str | None, install: bool | None,
                     labf: LabFleet | None, check: bool, limit: str | None, extra: list[str]):
    """Write the bundle (into --out, the lab's folder, or a scratch folder removed afterwards)
    and run ansible-playbook on it: (its exit code, the task records)."""
    import shutil

    from .driver import run_playbook

    scratch = None
    if out is None:
        out = labf.bundle if labf else None
    if out is None:
        scratch = out = Path(tempfile.mkdtemp(prefix="pirack-fleet-"))
    try:
        _bundle(lc, out, package, install, labf)
        return run_playbook(out, check=check, limit=limit, extra=extra,
                            netns=labf.netns if labf else None, env=labf.env if labf else None)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _summary_table(results: list[NodeResult], check: bool, seconds: float) -> Table:
    what = "would change" if check else "changed"
    table = Table(title=f"bringup fleet {'--check ' if check else ''}({seconds:.1f} s)")
    for col in ("node", "result", f"bringup {what}", "other tasks changed", "detail"):
        table.add_column(col, overflow="fold")
    colour = {"changed": "yellow", "ok": "green", "failed": "red", "unreachable": "red"}
    for r in results:
        c = colour.get(r.status)
        # Ansible's messages are data ("[WARNING]: ..."), not rich markup
        table.add_row(escape(r.node), f"[{c}]{escape(r.status)}[/]" if c else escape(r.status),
                      "" if r.changes is None else str(r.changes), str(r.other), escape(r.detail))
    return table
