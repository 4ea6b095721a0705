"""`bringup`: configure the cluster's nodes from cluster.toml, safely and idempotently."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from pirack.cli_common import App, ClusterFile as AnyClusterFile, make_app, run_app
from pirack.errors import WorkFailed

if TYPE_CHECKING:
    from .engine.resources import Change
    from .engine.runner import RunResult
    from .target import Target

app = make_app(
    "bringup",
    (
        "Bring the cluster's nodes up from one cluster.toml: the master as gateway (SNAT), "
        "DHCP/DNS/TFTP, NFS, NTP and SNMP server; the slaves as workers behind it.\n\n"
        "Exit codes: 0 ok; 1 a step or check failed; 2 bad input or usage."
    ),
)
console = Console()

ClusterFile = Annotated[
    Optional[Path],
    typer.Argument(
        help="The cluster file. Default on a node: /etc/pirack/cluster.toml (never a built-in default); "
             "under --root: ./cluster.toml if it exists, else the built-in default "
             "(two Pi 4B on PoE+, a 5-port switch, an SSD: `rack init` writes it out).",
        show_default=False,
        dir_okay=False,
    ),
]


@app.command()
def nodes(file: AnyClusterFile = None) -> None:
    """List the nodes this cluster file describes, with their roles and addresses."""
    from pirack.load import load_cluster

    lc = load_cluster(file)
    for n in lc.spec.nodes:
        console.print(f"{n.name:12} {n.role:7} {str(n.address):15} {n.mac}  boot={n.boot}")


NodeOpt = Annotated[Optional[str], typer.Option("--node", "-n", help="The node to configure (default: found from this machine's eth0 MAC, Pi serial or hostname).")]
RootOpt = Annotated[Optional[Path], typer.Option("--root", help="Treat this folder as the node's / (nothing outside it is touched; no services, no commands).", file_okay=False)]


def _say(text: str = "") -> None:
    print(text)


def _show_changes(t: Target, changes: list[Change], unchanged: int, skipped: list[str]) -> None:
    where = f"--root {t.root}" if t.root else "this machine"
    _say(f"node {t.plan.node} ({t.plan.role}) from {t.lc.display}, on {where}")
    for c in changes:
        tag = "  (recorded: not run under --root)" if c.recorded_only else ""
        mark = "$" if c.kind in ("command", "package") else "~"
        _say(f"{mark} {c.summary}{tag}")
        if c.detail:
            _say("\n".join("    " + ln for ln in c.detail.rstrip("\n").splitlines()))
    for s in skipped:
        _say(f"- skipped {s}")


@app.command()
def plan(file: ClusterFile = None, node: NodeOpt = None, root: RootOpt = None) -> None:
    """Show every file (as a unified diff) and every command a run would change. Changes nothing."""
    from pirack.load import cluster_warnings

    from .engine.runner import diff_all, make_context
    from .target import load_target

    t = load_target(file, node, root)
    ctx = make_context(t.root, t.plan)
    changes, unchanged, skipped = diff_all(t.plan, ctx, t.mount_point)
    for w in cluster_warnings(t.lc.spec):
        print(f"warning: {w}", file=sys.stderr)
    _show_changes(t, changes, unchanged, skipped)
    for n in t.plan.notes:
        _say(f"note: {n}")
    todo = sum(1 for c in changes if not c.recorded_only)
    _say(f"{todo} to change, {unchanged} already as planned" if todo else f"no changes: all {unchanged} as planned")


@app.command()
def run(file: ClusterFile = None, node: NodeOpt = None, root: RootOpt = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print only a JSON summary {node, changed, unchanged, run_id, failed}.")] = False) -> None:
    """Apply the plan: checked by each daemon's own checker, written atomically, journaled for revert."""
    import json

    from .engine.runner import make_context, run as do_run
    from .target import load_target

    t = load_target(file, node, root)
    res = do_run(t.plan, make_context(t.root, t.plan), t.mount_point)
    if json_out:
        _say(json.dumps(res.summary(), indent=1))
    else:
        _say(f"node {t.plan.node} ({t.plan.role}) from {t.lc.display}")
        _show_run(res, t.root)
    if res.failed:
        raise res.failed  # exit 1, its message once (run_app)


def _show_run(res: RunResult, root: Path | None) -> None:
    for ln in res.log:
        _say(f"  {ln}")
    for c in res.changed:
        _say(f"~ {c}")
    for c in res.recorded:
        _say(f"$ {c}  (recorded: not run under --root)")
    for s in res.services:
        _say(f"restart: {s}")
    for s in res.skipped:
        _say(f"- skipped {s}")
    undo = f"bringup revert {res.run_id}{' --root ' + str(root) if root else ''}" if res.run_id else None
    if res.failed and res.rolled_back:
        _say("nothing was changed: what this run had done was taken back, files and live state")
    elif res.failed:
        _say("nothing else was changed" + (f"; this run can be reverted: {undo}" if undo else ""))
    elif res.changed:
        files = f"; undo: {undo}" if undo else "; no file was written (nothing to revert)"
        _say(f"changed {len(res.changed)}, {res.unchanged} already as planned" + files)
    else:
        _say(f"no changes: all {res.unchanged} already as planned")


@app.command()
def revert(run_id: Annotated[Optional[str], typer.Argument(metavar="RUN", help="The run to undo (default: the latest).")] = None,
           root: RootOpt = None,
           force: Annotated[bool, typer.Option("--force", help="Revert files edited since the run too (each edited version is kept in the run's folder).")] = False) -> None:
    """Undo a run: put back the files it replaced, byte for byte, and the live state it changed.

    Files the run created are removed. A file edited since the run stops the revert, naming the
    file, unless --force."""
    from pirack.fsutil import NodeTree

    from .engine.journal import revert as do_revert
    from .target import check_root

    r = check_root(root) or Path("/")
    from .engine.facts import has_systemd

    # Live, the live state goes back too: hostname, profiles, table, forwarding, SNAT address,
    # enabled units; then the daemons restart on the old files.
    res = do_revert(NodeTree(r), run_id, force=force, live=root is None, systemd=root is None and has_systemd())
    for p in res.kept:
        _say(f"kept your edit: {p}")
    for p in res.restored:
        _say(f"restored {p}")
    for p in res.live:
        _say(p)
    _say(f"reverted run {res.run_id}: {len(res.restored)} paths, {len(res.live)} live steps")


@app.command()
def verify(file: ClusterFile = None, node: NodeOpt = None, root: RootOpt = None) -> None:
    """Re-read what is live and report drift from the plan. Exit 1 on drift."""
    from .engine.runner import diff_all, make_context
    from .target import load_target

    t = load_target(file, node, root)
    changes, unchanged, skipped = diff_all(t.plan, make_context(t.root, t.plan), t.mount_point)
    drift = [c for c in changes if not (c.recorded_only and c.kind in ("command", "package"))]
    for c in drift:
        _say(f"drift: {c.summary}")
    if drift:
        raise WorkFailed(f"{len(drift)} drifted, {unchanged} as planned (fix: bringup run)",
                         data={"drift": [c.name for c in drift]})
    _say(f"no drift: all {unchanged} as planned")


netboot_app = App(help="Net boot of slaves: fill a slave's boot folder and NFS root; the EEPROM settings.", no_args_is_help=True)
app.add_typer(netboot_app, name="netboot")
storage_app = App(help="The SSD: formatting is only ever done here, never by `run`.", no_args_is_help=True)
app.add_typer(storage_app, name="storage")


@netboot_app.command("prepare")
def netboot_prepare(file: ClusterFile = None,
                    node: Annotated[str, typer.Option("--node", "-n", help="The net-booting slave.")] = ...,
                    image: Annotated[Optional[Path], typer.Option("--image", help="A Raspberry Pi OS image (.img), loop-mounted read-only.", dir_okay=False)] = None,
                    from_dir: Annotated[Optional[Path], typer.Option("--from", help="An unpacked Raspberry Pi OS tree (boot/ and the rest).", file_okay=False)] = None,
                    root: RootOpt = None) -> None:
    """Fill the slave's TFTP folder and NFS root from Raspberry Pi OS; new SSH host keys, fstab, hostname."""
    from .netboot import prepare
    from .target import cluster_file

    for line in prepare(cluster_file(file, root), node, image, from_dir, root):
        _say(line)


@netboot_app.command("eeprom")
def netboot_eeprom(file: ClusterFile = None,
                   node: Annotated[str, typer.Option("--node", "-n", help="The net-booting slave.")] = ...,
                   output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the snippet here (default: print it).", dir_okay=False)] = None) -> None:
    """The EEPROM settings (BOOT_ORDER, TFTP_PREFIX) to apply on the slave with rpi-eeprom-config."""
    from .netboot import eeprom
    from .target import cluster_file

    text, steps = eeprom(cluster_file(file, None, has_root=False), node)
    if output:
        from pirack.fsutil import atomic_write

        atomic_write(output, text)
        print(steps, file=sys.stderr)
    else:
        _say(text.rstrip("\n"))
        print(steps, file=sys.stderr)


@storage_app.command("format")
def storage_format(file: ClusterFile = None,
                   device: Annotated[str, typer.Option("--device", help="The block device, like /dev/sda. Everything on it is lost.")] = ...,
                   yes: Annotated[Optional[str], typer.Option("--yes-i-am-sure", metavar="DEVICE", help="Skip the typed confirmation (no TTY): repeat the device name.")] = None) -> None:
    """Make the SSD's filesystem with the label/UUID the cluster file names. Asks first."""
    from .storage import format_drive
    from .target import cluster_file

    for line in format_drive(cluster_file(file, None, has_root=False), device, yes):
        _say(line)


# The virtual cluster lab (bringup/lab/): `bringup lab up|verify|down`.
from .lab.cli import lab_app  # noqa: E402  (light: typer and rich only)

app.add_typer(lab_app, name="lab")

# The whole cluster through Ansible (bringup/fleet/): `bringup fleet inventory|run`.
from .fleet.cli import fleet_app  # noqa: E402  (light: typer and rich only)

app.add_typer(fleet_app, name="fleet")


def main() -> None:
    run_app(app)


if __name__ == "__main__":
    main()
