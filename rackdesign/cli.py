"""`rack`: design the cluster's laser-cut acrylic rack from cluster.toml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from pirack.cli_common import EXIT_BAD_INPUT, ClusterFile, run_app
from pirack.errors import InputError

app = typer.Typer(
    name="rack",
    help=(
        "Design the laser-cut acrylic rack of a Raspberry Pi cluster from one cluster.toml: "
        "cut files a laser-cutting service takes as they are, floor and front plans, design "
        "checks, and the bill of materials.\n\n"
        "Exit codes: 0 ok; 1 the design has problems; 2 bad input or usage."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the file.", dir_okay=False)] = Path("cluster.toml"),
    nodes: Annotated[int, typer.Option("--nodes", "-n", help="Nodes in total: 1 master + N-1 slaves.", min=1)] = 2,
    name: Annotated[str, typer.Option(help="Cluster name (names the output folder).")] = "mycluster",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starting cluster.toml with N nodes (placeholders marked REPLACE)."""
    from pirack.fsutil import atomic_write
    from pirack.init_template import MAX_NODES, init_text
    from pirack.load import parse_cluster

    if not 1 <= nodes <= MAX_NODES:
        raise InputError(None, "--nodes", f"{nodes}: must be between 1 and {MAX_NODES}")
    if path.exists() and not force:
        raise InputError(path, None, "already exists: not overwritten (use --force to replace it)")
    text = init_text(nodes, name=name)
    parse_cluster(text, str(path))  # the template must always be valid
    atomic_write(path, text)
    console.print(f"wrote [bold]{path}[/]: 1 master + {nodes - 1} slaves. Replace the values marked REPLACE, then run `rack validate {path}`.")


@app.command()
def validate(file: ClusterFile = None) -> None:
    """Check the cluster file and the catalog, and print a short summary."""
    from pirack.load import load_cluster

    lc = load_cluster(file)
    spec, cat = lc.spec, lc.catalog
    console.print(f"[green]ok[/]: {lc.display} — cluster '{spec.cluster.name}', {len(spec.nodes)} nodes, "
                  f"{len(cat.parts)} catalog parts")
    t = Table(title="nodes", show_edge=False)
    for col in ("name", "role", "address", "mac", "board", "hat", "boot"):
        t.add_column(col)
    for n in spec.nodes:
        t.add_row(n.name, n.role, str(n.address), n.mac, n.board, n.hat or "-", n.boot)
    console.print(t)
    net = spec.network
    console.print(
        f"network {net.subnet} (domain {net.domain}), DHCP {net.dhcp_range[0]}-{net.dhcp_range[1]}, "
        f"uplink {net.uplink_interface} SNAT {net.uplink_snat_address.ip}, DNS upstream "
        f"{', '.join(map(str, net.upstream_dns))}, NTP {net.ntp_source_type} {net.ntp_source}"
    )
    if spec.storage:
        st = spec.storage
        console.print(f"storage {st.drive} on {st.node or spec.master.name} at {st.mount_point} "
                      f"({st.filesystem}, {'UUID=' + st.uuid if st.uuid else 'LABEL=' + str(st.label)})")
    r = spec.rack
    console.print(f"rack {r.sheet}, fabricator {r.fabricator}, switch {r.switch or '-'} ({r.switch_orientation}), "
                  f"drive {r.drive_placement}")


@app.command()
def schema(
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of cluster.toml (for editor completion, e.g. with taplo / Even Better TOML)."""
    from pirack.spec import Cluster

    text = json.dumps(Cluster.model_json_schema(), indent=2, ensure_ascii=False)
    if out:
        from pirack.fsutil import atomic_write

        atomic_write(out, text + "\n")
    else:
        print(text)


def main() -> None:
    run_app(app)


if __name__ == "__main__":
    main()
