"""`bringup`: configure the cluster's nodes from cluster.toml, safely and idempotently."""

from __future__ import annotations

import typer
from rich.console import Console

from pirack.cli_common import ClusterFile, run_app

app = typer.Typer(
    name="bringup",
    help=(
        "Bring the cluster's nodes up from one cluster.toml: the master as gateway (SNAT), "
        "DHCP/DNS/TFTP, NFS, NTP and SNMP server; the slaves as workers behind it.\n\n"
        "Exit codes: 0 ok; 1 a step or check failed; 2 bad input or usage."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()


@app.command()
def nodes(file: ClusterFile = None) -> None:
    """List the nodes this cluster file describes, with their roles and addresses."""
    from pirack.load import load_cluster

    lc = load_cluster(file)
    for n in lc.spec.nodes:
        console.print(f"{n.name:12} {n.role:7} {str(n.address):15} {n.mac}  boot={n.boot}")


def main() -> None:
    run_app(app)


if __name__ == "__main__":
    main()
