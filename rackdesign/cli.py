"""`rack`: design the cluster's laser-cut acrylic rack from cluster.toml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from pirack.cli_common import ClusterFile, make_app, run_app
from pirack.errors import InputError

if TYPE_CHECKING:
    from pirack.load import LoadedCluster
    from pirack.spec import Cluster

app = make_app(
    "rack",
    (
        "Design the laser-cut acrylic rack of a Raspberry Pi cluster from one cluster.toml: "
        "cut files a laser-cutting service takes as they are, floor and front plans, design "
        "checks, and the bill of materials.\n\n"
        "Exit codes: 0 ok; 1 the design has problems; 2 bad input or usage."
    ),
)
console = Console()


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the file.", dir_okay=False)] = Path("cluster.toml"),
    nodes: Annotated[int, typer.Option("--nodes", "-n", help="Nodes in total: 1 master + N-1 slaves.")] = 2,
    name: Annotated[str, typer.Option(help="Cluster name (names the output folder).")] = "mycluster",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starting cluster.toml with N nodes (placeholders marked REPLACE)."""
    from pirack.fsutil import atomic_write, user_mode
    from pirack.grammar import CLUSTER_NAME
    from pirack.init_template import MAX_NODES, init_text, nodes_phrase
    from pirack.load import parse_cluster

    if not 1 <= nodes <= MAX_NODES:
        raise InputError(None, "--nodes", f"{nodes}: must be between 1 and {MAX_NODES}")
    try:  # checked before it goes into the template: a quote or a newline would add a line to the file
        CLUSTER_NAME.check(name)
    except ValueError as exc:
        raise InputError(None, "--name", str(exc)) from None
    if path.exists() and not force:
        raise InputError(path, None, "already exists: not overwritten (use --force to replace it)")
    text = init_text(nodes, name=name)
    parse_cluster(text, str(path))  # the template must always be valid
    atomic_write(path, text, mode=user_mode(path))
    shown = rich_escape(str(path))  # a path is data: "a[x].toml" must not lose its [x] to rich markup
    console.print(f"wrote [bold]{shown}[/]: {nodes_phrase(nodes)}. Replace the values marked REPLACE, then run `rack validate {shown}`.")


@app.command()
def validate(file: ClusterFile = None) -> None:
    """Check the cluster file and the catalog, and print a short summary."""
    from pirack.load import cluster_warnings, load_cluster

    lc = load_cluster(file)
    _logo_readable(lc)
    spec, cat = lc.spec, lc.catalog
    for w in cluster_warnings(spec):
        Console(stderr=True).print(f"[yellow]warning[/]: {rich_escape(str(w))}", highlight=False, soft_wrap=True)
    console.print(f"[green]ok[/]: {rich_escape(lc.display)} — cluster '{spec.cluster.name}', {len(spec.nodes)} nodes, "
                  f"{len(cat.parts)} catalog parts")
    console.print(_nodes_table(spec))
    for line in _summary_lines(spec):
        console.print(line, highlight=False)


def _logo_readable(lc: LoadedCluster) -> None:
    """rack.engraving.logo names a file beside the cluster file: missing, a folder, a FIFO, too
    big or not an SVG is bad input here as in `rack export` (exit 2 naming the key), not "ok"."""
    if lc.spec.rack.engraving.logo:
        from rackdesign.engrave import read_logo

        read_logo(lc.base_dir, lc.spec.rack.engraving.logo, lc.display)


def _nodes_table(spec: Cluster) -> Table:
    """One row per node, readable at 80 columns: addresses and MACs never cut (the board and
    its HAT share a column, one above the other; names fold)."""
    from rich import box

    t = Table(title="nodes", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    t.add_column("name", overflow="fold")
    t.add_column("role", no_wrap=True)
    t.add_column("address", no_wrap=True, min_width=max(len(str(n.address)) for n in spec.nodes))
    t.add_column("MAC", no_wrap=True, min_width=17)
    t.add_column("board / HAT", overflow="fold")
    t.add_column("boot", no_wrap=True)
    for n in spec.nodes:
        t.add_row(n.name, n.role, str(n.address), n.mac, f"{n.board}\n{n.hat or '-'}", n.boot)
    return t


def _summary_lines(spec: Cluster) -> list[str]:
    """The network, storage and rack, one fact per line (nothing broken mid-address at 80 columns)."""
    net, r = spec.network, spec.rack
    out = [f"network {net.subnet}, domain {net.domain}",
           f"  DHCP {net.dhcp_range[0]} - {net.dhcp_range[1]}",
           f"  uplink {net.uplink_interface}, SNAT {net.uplink_snat_address.ip}",
           f"  DNS upstream {', '.join(map(str, net.upstream_dns))}; NTP {net.ntp_source_type} {net.ntp_source}"]
    if spec.storage:
        st = spec.storage
        out.append(f"storage {st.drive} on {st.node or spec.master.name} at {st.mount_point}")
        out.append(f"  {st.filesystem}, {'UUID=' + st.uuid if st.uuid else 'LABEL=' + str(st.label)}")
    out.append(f"rack {r.sheet}, fabricator {r.fabricator}")
    out.append(f"  switch {r.switch or '-'} ({r.switch_orientation}), drive {r.drive_placement}")
    return out


@app.command()
def schema(
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of cluster.toml (for editor completion, e.g. with taplo / Even Better TOML)."""
    from pirack.load import LoadedCluster
    from pirack.spec import Cluster

    text = json.dumps(Cluster.model_json_schema(), indent=2, ensure_ascii=False)
    if out:
        from pirack.fsutil import atomic_write, user_mode

        atomic_write(out, text + "\n", mode=user_mode(out))
    else:
        print(text)


@app.command("export")
def export_cmd(
    format: Annotated[str, typer.Argument(help="What to write: pdf | svg | dxf | step | stl | coupon | all.", metavar="FORMAT")],
    file: ClusterFile = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder; files go to OUT/<cluster name>/.")] = Path("exports"),
    fabricator: Annotated[Optional[str], typer.Option("--fabricator", help="Fabricator profile id (overrides rack.fabricator).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Render and measure again even if nothing changed (skips the export cache and the collision checks' cache).")] = False,
    kerf: Annotated[Optional[float], typer.Option("--kerf", metavar="MM", help="Compensate this laser kerf (mm): outlines out and holes in by half of it; 0 turns it off. Default: the fabricator profile's.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Export a design with check errors anyway: every drawing's title block says NOT CHECKED: N errors.")] = False,
) -> None:
    """Write cut files (1:1 mm, per material and sheet), floor and front plans, and the 3D model.

    Files go to OUT/<cluster>/: cut/cut-<material>-sheet-<n>.<ext>, drawings/floor-plan-<plate>.<ext>, drawings/front-plan.<ext>, model/rack.step, model/rack.stl. `pdf` writes the cut PDFs and the plans as PDF; `all` writes every format (and PNG previews of the plans). `coupon` writes coupon/coupon-<material>.{pdf,svg,dxf}: a test piece to cut first (a 50.00 mm square; the design's hole sizes at nominal and ±0.1 mm; a slot as wide as the sheet is thick).

    The design checks run first: a design with errors (`rack check`) exits 1 and writes nothing, unless --force. Preflight problems (a plate larger than the sheet, holes or webs under the service's minimum, open contours, duplicate lines) exit 1 and write nothing. An unchanged cluster file is exported again from the cache ($XDG_CACHE_HOME/pirack/export, or ~/.cache/pirack/export).
    """
    from rackdesign.export import export

    err = Console(stderr=True)
    res = export(format, file, out, fabricator,
                 warn=lambda m: err.print(f"[yellow]warning[/]: {rich_escape(m)}", highlight=False),
                 use_cache=not no_cache, progress=_progress, kerf=kerf, force=force)
    t = Table(title=f"{rich_escape(str(res.root))}  ({'from cache, ' if res.cached else ''}{res.seconds:.2f} s)", show_edge=False)
    t.add_column("file")
    t.add_column("size", justify="right")
    for p, size in res.files:
        t.add_row(rich_escape(str(p.relative_to(res.root))), f"{size / 1024:.1f} KiB")
    console.print(t)


@app.command()
def bom(
    file: ClusterFile = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table | csv | md | json | pdf.")] = "table",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file (pdf default: exports/<cluster>/bom/bom.pdf).", dir_okay=False)] = None,
    lang: Annotated[str, typer.Option("--lang", help="Headings, labels, totals, names and notes in ja (catalog name_ja) or en.")] = "ja",
    catalog: Annotated[Optional[Path], typer.Option("--catalog", help="A parts catalog folder instead of the built-in parts/.", file_okay=False)] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Print the acrylic's price model: the formula with every number filled in, and where each comes from.")] = False,
) -> None:
    """Bill of materials and cost: every part and fastener counted from the rack model, packs, owned and boxed parts, the acrylic estimate (or your quote), subtotals and the total in yen."""
    from pirack.catalog import load_catalog
    from pirack.fsutil import atomic_write, user_mode
    from pirack.load import load_cluster

    from . import bom_render as R
    from .bom import build_bom
    from .layout import build_layout

    fmt = format.lower()
    if fmt not in R.FORMATS:
        raise InputError(None, "--format", f"'{format}' is not one of {' | '.join(R.FORMATS)}")
    if lang not in ("ja", "en"):
        raise InputError(None, "--lang", f"'{lang}' is not ja or en")
    cat = None
    if catalog is not None:
        if not catalog.is_dir():
            raise InputError(catalog, "--catalog", "no such folder")
        cat = load_catalog(catalog)
    lc = load_cluster(file, catalog=cat)
    b = build_bom(lc, build_layout(lc))
    err = Console(stderr=True)
    for w in b.warnings:
        err.print(f"[yellow]warning[/]: {rich_escape(str(w))}", highlight=False)
    if explain:
        for line in R.explain(b.acrylic, lang) if b.acrylic is not None else ["no acrylic parts: nothing to price"]:
            print(line)
        return
    if fmt == "table" and out is None:
        Console(width=max(console.width, 120)).print(R.render_table(b, lang))
        for line in R.acrylic_summary(b, lang):
            console.print(line, markup=False, highlight=False)
        return
    data = R.render(b, fmt, lang)
    if fmt == "pdf":
        out = out or Path("exports") / lc.spec.cluster.name / "bom" / "bom.pdf"
    if out is None:
        print(data, end="")
        return
    atomic_write(out, data, mode=user_mode(out))
    err.print(f"wrote {rich_escape(str(out))} (total {R.total_str(b)})", highlight=False)


def _check_help() -> str:
    """`rack check --help`: the findings' codes listed from their one registry (findings.CODES)."""
    from rackdesign.findings import CODES

    width = max(len(c) for c in CODES)
    codes = "\n".join(f"  {code:<{width}}  {rich_escape(meaning)}" for code, meaning in CODES.items())
    return ("Design checks: collisions, clearances, spacer stacks and screws, holes, power, stability.\n\n"
            "Each finding has a severity (error | warning | info), a stable code, the parts, the measured number "
            "and what to do. Exit 0 when there is no error (warnings allowed), 1 when the design has errors, "
            "2 for bad input.\n\n"
            f"Codes:\n{codes}")


@app.command(help=_check_help())
def check(
    file: ClusterFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings and summary counts as JSON.")] = False,
    no_geometry: Annotated[bool, typer.Option("--no-geometry", help="Skip the CadQuery checks (collisions, keep-outs).")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Measure collisions and keep-outs again even if the cache folder (~/.cache/pirack/checks) holds the same solids' findings.")] = False,
) -> None:
    from pirack.load import load_cluster
    from rackdesign.checks import run_checks
    from rackdesign.checks.report import DesignFailed, render_json, render_table

    lc = load_cluster(file)
    _logo_readable(lc)
    report = run_checks(lc, geometry=not no_geometry, use_cache=not no_cache)
    if as_json:
        print(render_json(report))
    else:
        render_table(report, console)
    if report.failed:
        raise DesignFailed(report)


@app.command()
def serve(
    file: ClusterFile = None,
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port (0: any free one).", min=0, max=65535)] = 8350,
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Anything but loopback is reachable from other machines (and can write the file through the settings form): a warning says so.")] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
) -> None:
    """The rack in a browser: 3D model, plates, front plan, BOM and checks, updating as you save the file.

    Needs the web extra (pip install 'pirack\\[web]') and the viewer's JavaScript, both installed by tools/install.sh. A settings form writes the most-changed settings back into the file (comments kept). Ctrl-C stops it.
    """
    from rackdesign.web.server import serve as run_server

    run_server(file, host=host, port=port, open_browser=open_browser, say=lambda m: console.print(m, highlight=False, markup=False))


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
