"""Where a command's inputs are: the cluster file it reads and the parts catalog.

Standard library only: `rack export` (on a cache hit) and `bringup lab down` find and read the
cluster file without paying for pydantic, pint or the catalog models.
"""

from __future__ import annotations

import os
import stat
from importlib import resources
from pathlib import Path

from .errors import InputError, escape


def default_text() -> str:
    """The built-in default cluster file: two nodes, modelled on the seed's rack (not the same as
    examples/seed.toml, which holds the seed's literal parts)."""
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


def read_input(path: Path, limit: int, file: str | Path | None = None, key: str | None = None,
               missing: str = "no such file", streams: bool = False) -> bytes:
    """The bytes of a file the user named, at most `limit` of them, with InputError naming
    `file` (default: the path) and `key` when it cannot be input. A regular file (or a symlink
    to one) is read only when it fits; a folder or a socket is refused before anything reads
    it. A device or a FIFO is refused too, unless `streams`: then it is read up to the limit
    (`bringup plan /dev/stdin < cluster.toml`; /dev/zero stops at the limit instead of filling
    the memory). Without `streams` nothing can block: a FIFO nobody writes would wait forever."""
    where = f"{escape(str(path))}: " if file is not None else ""
    file = path if file is None else file
    try:
        st = os.stat(path)
        kind = _input_kind(st.st_mode, streams)
        if kind is not None:
            raise InputError(file, key, where + kind)
        if stat.S_ISREG(st.st_mode) and st.st_size > limit:
            raise InputError(file, key, f"{where}is {st.st_size} bytes, over the {limit}-byte limit for this file")
        # O_NONBLOCK when only regular files are wanted: a FIFO swapped in after the stat must not block
        flags = os.O_RDONLY | os.O_NOCTTY | (0 if streams else os.O_NONBLOCK)
        with os.fdopen(os.open(path, flags), "rb") as fh:
            kind = _input_kind(os.fstat(fh.fileno()).st_mode, streams)
            if kind is not None:
                raise InputError(file, key, where + kind)
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise InputError(file, key, f"{where}{missing}") from None
    except OSError as exc:
        raise InputError(file, key, f"{where}cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise InputError(file, key, f"{where}is over the {limit}-byte limit for this file")
    return data


def _input_kind(mode: int, streams: bool) -> str | None:
    """Why a file of this mode is no input, or None."""
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISREG(mode) or (streams and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode))):
        return None
    return "is not a regular file (a device, a FIFO or a socket): nothing was read"


def read_cluster_file(p: Path, limit: int) -> str:
    """A cluster file's text: a regular file of at most `limit` bytes, UTF-8 (a leading BOM,
    which some editors write, is dropped), without NUL."""
    data = read_input(p, limit, missing="no such file (create one with `rack init`)", streams=True)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(p, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise InputError(p, None, f"holds a NUL character (line {line}): not a text file")
    return text
