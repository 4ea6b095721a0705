"""Where a command's inputs are: the cluster file it reads and the parts catalog.

Standard library only: `rack export` (on a cache hit) and `bringup lab down` find and read the
cluster file without paying for pydantic, pint or the catalog models.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import InputError


def default_text() -> str:
    """The built-in default cluster file (the seed's two-node cluster)."""
    return resources.files("pirack").joinpath("default_cluster.toml").read_text(encoding="utf-8")


def resolve(path: Path | str | None) -> Path | None:
    """The file a command should read: the one given, ./cluster.toml, or None for the default."""
    if path is not None:
        return Path(path)
    here = Path("cluster.toml")
    return here if here.exists() else None


def catalog_dir() -> Path:
    """parts/ at the top of a checkout, or pirack/parts inside an installed wheel."""
    here = Path(__file__).resolve().parent
    for cand in (here / "parts", here.parent / "parts"):
        if cand.is_dir():
            return cand
    raise InputError(None, None, f"the parts catalog was not found next to {here}")
