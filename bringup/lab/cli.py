"""`bringup lab up|verify|down`: the virtual cluster lab on this machine (root only)."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pirack.cli_common import App, ClusterFile
from pirack.errors import InputError, WorkFailed

if TYPE_CHECKING:
    from pathlib import Path

    from pirack.load import LoadedCluster

lab_app = App(
    help=(
        "The virtual cluster lab: the master, the slaves and the home router (uplink) as Linux "
        "network namespaces on this machine, running the real daemons (dnsmasq, nftables, chrony, "
        "snmpd, nfs-ganesha) from the files `bringup` renders. Needs root. "
        "Traffic never leaves the lab's namespaces."
    ),
    no_args_is_help=True,
)
console = Console()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
IdOpt = Annotated[Optional[str], typer.Option("--id", help="Lab id (default: derived from the cluster name).")]
VmOpt = Annotated[bool, typer.Option("--vm", help="The nodes as QEMU VMs (Debian 12, systemd, NetworkManager, kernel NFS): bringup/lab/vm.")]


def _need_root() -> None:
    if os.geteuid() != 0:
        raise InputError(None, None, "the lab needs root (network namespaces): run it with sudo")


def _lab_id(lc: LoadedCluster, lab_id: str | None) -> str:
    from .topology import lab_id_for

    if lab_id is not None and not (lab_id.isalnum() and lab_id.islower() and len(lab_id) <= 8):
        raise InputError(None, "--id", f"'{lab_id}' must be 1-8 lower-case letters or digits")
    return lab_id or lab_id_for(lc.spec)


def _lab_id_from_name(file: Path | None) -> str:
    """The lab id from the cluster's name alone: `down` must work even when the rest of the
    file no longer validates (and it skips loading the catalog and units)."""
    import tomllib

    from pirack.paths import default_text, resolve

    from .topology import lab_id_for_name

    p = resolve(file)
    try:
        text = p.read_text(encoding="utf-8") if p else default_text()
        name = tomllib.loads(text)["cluster"]["name"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise InputError(p or "the built-in default", "cluster.name",
                         f"cannot read the cluster's name ({exc}): use `bringup lab down --id ID` or `--all`") from None
    return lab_id_for_name(str(name))


def checks_table(lid: str, results: list, seconds: float) -> Table:
    """The checks as a table; what a daemon or probe said is data, never rich markup (a
    "[/]" in a detail would stop the command)."""
    table = Table(title=f"lab {lid}: {sum(c.ok for c in results)}/{len(results)} checks pass ({seconds:.2f} s)")
    for col in ("check", "from", "result", "detail"):
        table.add_column(col, overflow="fold")
    for c in results:
        table.add_row(escape(c.name), escape(c.where), "[green]ok[/]" if c.ok else "[red]FAIL[/]", escape(c.detail))
    return table


@lab_app.command()
def up(file: ClusterFile = None, json_out: JsonOpt = False, lab_id: IdOpt = None,
       ssh: Annotated[bool, typer.Option("--ssh", help="Also run an sshd in every slave (for `bringup fleet run --lab`).")] = False,
       vm: VmOpt = False,
       no_run: Annotated[bool, typer.Option("--no-run", help="--vm: only boot the nodes (fresh images); run nothing in them.")] = False) -> None:
    """Build the lab for the cluster file and start its daemons (a stale lab of the same cluster goes first).

    With --vm: boot every node as a VM and bring the cluster up in them with `bringup` itself."""
    from pirack.load import load_cluster

    from .build import up as build_up

    lc = load_cluster(file)
    _need_root()
    if vm:
        from .vm.cli import up as vm_up

        return vm_up(lc, _lab_id(lc, lab_id), json_out, converge=not no_run)
    t0 = time.monotonic()
    st = build_up(lc, _lab_id(lc, lab_id), ssh=ssh)  # a LabError is a WorkFailed: exit 1, once
    info = {"lab_id": st.lab_id, "dir": st.dir, "uplink": st.uplink_ns, "nodes": st.nodes,
            "namespaces": st.namespaces, "processes": {p.name: p.pid for p in st.processes},
            "seconds": round(time.monotonic() - t0, 3)}
    if json_out:
        print(json.dumps(info, indent=1))
        return
    table = Table(title=f"lab {st.lab_id} is up ({info['seconds']} s): {st.dir}")
    table.add_column("machine")
    table.add_column("namespace")
    table.add_row("uplink (home router)", st.uplink_ns)
    for name, ns in st.nodes.items():
        table.add_row(name, ns)
    console.print(table)
    console.print("run a command in a node: [bold]ip netns exec NAMESPACE COMMAND[/]; "
                  "then `bringup lab verify`, `bringup lab down`")


@lab_app.command()
def verify(file: ClusterFile = None, json_out: JsonOpt = False, lab_id: IdOpt = None, vm: VmOpt = False) -> None:
    """Check DHCP, DNS, TFTP, NFS, NTP, SNAT and SNMP from the slaves, and that nothing answers the uplink.

    Exit 1 if any check fails."""
    from pirack.load import load_cluster

    from .checks import verify as run_checks
    from .state import load_state

    lc = load_cluster(file)
    _need_root()
    lid = _lab_id(lc, lab_id)
    t0 = time.monotonic()
    if vm:  # the same checks, live in the VMs, printed the same way
        from .vm.cli import verify as vm_verify

        results = vm_verify(lc, lid)
    else:
        st = load_state(lid)
        if st is None or not st.ready:
            raise InputError(lc.display, None, f"no lab is up for this cluster (id {lid}): run `bringup lab up` first")
        results = run_checks(lc, st)
    ok = all(c.ok for c in results)
    if json_out:
        print(json.dumps({"lab_id": lid, "ok": ok, "seconds": round(time.monotonic() - t0, 3),
                          "checks": [c.as_dict() for c in results]}, indent=1))
    else:
        console.print(checks_table(lid, results, time.monotonic() - t0))
    if not ok:
        failed = [c for c in results if not c.ok]
        raise WorkFailed(f"lab {lid}: {len(failed)} of {len(results)} checks failed",
                         details=[f"{c.name} from {c.where}: {c.detail}" for c in failed])


@lab_app.command()
def down(file: ClusterFile = None, lab_id: IdOpt = None,
         all_labs: Annotated[bool, typer.Option("--all", help="Remove every lab recorded on this machine.")] = False,
         json_out: JsonOpt = False, vm: VmOpt = False) -> None:
    """Stop the lab's processes (by recorded PID) and remove its namespaces, links and folder.

    --vm: also its VMs, taps and overlays (without it, a VM lab's processes and namespaces go too)."""
    from .state import recorded_labs, teardown
    from .topology import PREFIX
    from .netns import list_netns

    _need_root()
    if all_labs:
        ids = set(recorded_labs()) | {n[len(PREFIX):].split("-")[0] for n in list_netns() if n.startswith(PREFIX)}
    elif lab_id is not None:
        ids = {lab_id}
    else:
        ids = {_lab_id_from_name(file)}
    from .vm.cli import down as vm_down, vm_labs

    if all_labs and vm:
        ids |= vm_labs()
    # A VM lab goes with or without --vm (its VMs, taps and overlays too).
    removed, problems = vm_down(sorted(i for i in ids if vm or i in vm_labs()))
    for lid in sorted(ids):
        r, p = teardown(lid)
        removed += r
        problems += p
    if json_out:
        print(json.dumps({"labs": sorted(ids), "removed": removed, "problems": problems}, indent=1))
    else:
        console.print(f"removed {len(removed)} things of lab {', '.join(sorted(ids)) or '(none)'}")
    if problems:
        raise WorkFailed(f"lab down: {len(problems)} thing(s) could not be removed", details=problems)
