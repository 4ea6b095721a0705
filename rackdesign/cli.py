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


@app.command("export")
def export_cmd(
    format: Annotated[str, typer.Argument(help="What to write: pdf | svg | dxf | step | stl | all.", metavar="FORMAT")],
    file: ClusterFile = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder; files go to OUT/<cluster name>/.")] = Path("exports"),
    fabricator: Annotated[Optional[str], typer.Option("--fabricator", help="Fabricator profile id (overrides rack.fabricator).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Render again even if nothing changed.")] = False,
) -> None:
    """Write cut files (1:1 mm, per material and sheet), floor and front plans, and the 3D model.

    Files go to OUT/<cluster>/: cut/cut-<material>-sheet-<n>.<ext>, drawings/floor-plan-<plate>.<ext>, drawings/front-plan.<ext>, model/rack.step, model/rack.stl. `pdf` writes the cut PDFs and the plans as PDF; `all` writes every format (and PNG previews of the plans).

    Preflight findings (a plate larger than the sheet, holes or webs under the service's minimum, open contours, duplicate lines) exit 1 and write nothing. An unchanged cluster file is exported again from the cache (./.cache/pirack, or $XDG_CACHE_HOME/pirack).
    """
    from rackdesign.export import FORMATS, PreflightFailed, export

    fmt = format.lower()
    if fmt not in FORMATS:
        raise InputError(None, "FORMAT", f"'{format}' is not one of {' | '.join(FORMATS)}")
    err = Console(stderr=True)
    try:
        res = export(fmt, file, out, fabricator, warn=lambda m: err.print(f"[yellow]warning[/]: {m}"),
                     use_cache=not no_cache, progress=_progress)
    except PreflightFailed as exc:
        err.print(f"[red]preflight[/]: {len(exc.findings)} problem(s) a laser service would reject; nothing written:")
        for f in exc.findings:
            err.print(f"  {f}", markup=False, highlight=False)
        raise typer.Exit(1)
    t = Table(title=f"{res.root}  ({'from cache, ' if res.cached else ''}{res.seconds:.2f} s)", show_edge=False)
    t.add_column("file")
    t.add_column("size", justify="right")
    for p, size in res.files:
        t.add_row(str(p.relative_to(res.root)), f"{size / 1024:.1f} KiB")
    console.print(t)


class _progress:
    """A rich progress bar over the files being rendered (only when there are several)."""

    def __init__(self, total: int):
        from rich.progress import BarColumn, Progress, TextColumn

        self.p = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                          console=Console(stderr=True), transient=True)
        self.task = self.p.add_task("rendering", total=total)
        self.p.start()
        self.first = True

    def step(self, name: str) -> None:
        if not self.first:
            self.p.advance(self.task)
        self.first = False
        self.p.update(self.task, description=f"rendering {name}")

    def done(self) -> None:
        self.p.advance(self.task)
        self.p.stop()


def main() -> None:
    run_app(app)


if __name__ == "__main__":
    main()
