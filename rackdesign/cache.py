"""The export cache: a finished export kept in the user's cache folder, served again when nothing
that made it has changed.

    $XDG_CACHE_HOME/pirack/export/<key>/manifest.json   (or ~/.cache/pirack/export/<key>/...)
    $XDG_CACHE_HOME/pirack/export/<key>/files/<relative path>

The key covers the cluster file's bytes, the logo's bytes, the catalog, the code (pirack's
version and a hash of the pirack/ and rackdesign/ sources), the fabricator, the format and the
cluster file's folder. A hit writes the cached files without parsing the cluster file or
importing the CAD stack, so this module imports only the standard library (and our own
standard-library modules) at the top.

The cache folder is not trusted: a manifest is checked before anything is written from it
(the cluster name and every file path by the grammar of names, relative, no '..'), so a
crafted manifest can never make an export write outside --out; a cached file is read only if
it is a regular file of sensible size. Anything wrong is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

from pirack import grammar
from pirack.fsutil import atomic_write

from .engrave import read_logo

CACHE_KEEP = 8  # cached exports kept (newest first)
MAX_FILES = 2000  # more than any export writes (a 64-node rack: ~150 files)
MAX_FILE_BYTES = 256 << 20  # a STEP of a 64-node rack is ~30 MiB


def cache_root() -> Path | None:
    """$XDG_CACHE_HOME/pirack, else ~/.cache/pirack (a relative XDG_CACHE_HOME is ignored, as
    the XDG spec says); None when there is no home to keep it in."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "pirack"
    try:
        return Path.home() / ".cache" / "pirack"
    except RuntimeError:  # no HOME and no passwd entry
        return None


def cache_dir() -> Path | None:
    """The exports' folder: cache_root()/export."""
    root = cache_root()
    return root / "export" if root is not None else None


def cluster_text(file: Path | None) -> tuple[Path | None, str | None]:
    """The file `load_cluster` would read, and its text (None when it cannot be read: the loader
    then says why)."""
    from pirack.errors import InputError
    from pirack.paths import default_text, read_cluster_file, resolve

    p = resolve(file)
    try:
        return p, (read_cluster_file(p, 1 << 20) if p is not None else default_text())
    except InputError:
        return p, None


# --- the key ----------------------------------------------------------------------------------

def _here() -> Path:
    return Path(__file__).resolve().parent


def _tree_digest(root: Path, pattern: str) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob(pattern)):
        if "__pycache__" in p.parts:
            continue
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _user_parts_digest(path: Path | None) -> str:
    """The cluster file's own parts/ folder (pirack.catalog.user_parts_dir), which joins the
    catalog when it is loaded: a changed user part changes the rack."""
    from pirack.catalog import user_parts_dir

    folder = user_parts_dir(path)
    return _tree_digest(folder, "*.toml") if folder else ""


def code_digest() -> str:
    """pirack's version and a digest of the pirack/ and rackdesign/ sources: what renders and
    checks a design (a changed line of either is a miss)."""
    import pirack

    return "\0".join((pirack.__version__, _tree_digest(_here(), "*.py"), _tree_digest(_here().parent / "pirack", "*.py")))


def cache_key(text: str, fmt: str, fabricator: str | None, base_dir: Path | None) -> str:
    from pirack.paths import catalog_dir

    h = hashlib.sha256()
    for part in (
        hashlib.sha256(text.encode()).hexdigest(),
        _tree_digest(catalog_dir(), "*.toml"),
        code_digest(),
        fmt,
        fabricator or "",
        str(base_dir.resolve()) if base_dir else "",  # a logo path is relative to the cluster file
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def export_key(text: str, path: Path | None, fmt: str, fabricator: str | None, kerf: float | None = None,
               force: bool = False) -> str:
    """The key of one export: the cluster file's text and folder (a logo is relative to it),
    the logo's bytes, the user's parts/ beside it, the format, the fabricator and the kerf option."""
    base = path.parent if path else Path.cwd()
    extra = logo_digest(text, base, str(path)) + f"\0kerf={kerf}\0force={force}\0parts={_user_parts_digest(path)}"
    return cache_key(text + extra, fmt, fabricator, base)


def logo_digest(text: str, base: Path, display: str) -> str:
    """A logo file's bytes belong in the key too: it is input that is not in the cluster file.
    Read with the TOML parser (any quoting, inline tables, dotted keys), not by pattern; the
    logo is checked (a regular SVG file under the size limit) before a byte of it is read, so a
    bad one is refused here, at once, naming the key."""
    import tomllib

    try:
        logo = tomllib.loads(text)
        for key in ("rack", "engraving", "logo"):
            logo = logo[key]
    except (tomllib.TOMLDecodeError, KeyError, TypeError, RecursionError):
        return ""  # no logo, or a file the loader will refuse
    if not isinstance(logo, str):
        return ""  # the loader refuses it, naming the key
    try:
        grammar.svg_path(logo)
    except ValueError:
        return ""  # the loader refuses it, naming the key
    _, data = read_logo(base, logo, display)
    return hashlib.sha256(data).hexdigest()


# --- the manifest: checked before anything is written from it -----------------------------------

def checked_manifest(manifest: object) -> tuple[str, list[str], list[str]] | None:
    """(cluster name, file paths, warnings) from a manifest, or None when anything in it is not
    what `write` makes: the name must be a cluster name and every path relative, made of folder
    names only (no '..', not absolute), so that OUT/<name>/<path> stays inside OUT."""
    if not isinstance(manifest, dict):
        return None
    name, files, warnings = manifest.get("cluster"), manifest.get("files"), manifest.get("warnings", [])
    if not (isinstance(files, list) and isinstance(warnings, list) and 0 < len(files) <= MAX_FILES):
        return None
    if not all(isinstance(w, str) for w in warnings):
        return None
    try:
        grammar.CLUSTER_NAME.check(name)
        for rel in files:
            if not isinstance(rel, str) or grammar.drive_path(rel) != rel:  # normalised, relative, no '..'
                return None
    except ValueError:
        return None
    return name, files, warnings


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """A cached file's bytes if it is a regular file (not a link out, a device or a FIFO) of at
    most `limit` bytes; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not (stat.S_ISREG(st.st_mode) and st.st_size <= limit):
            return None
        return fh.read(limit + 1)


def read(key: str) -> tuple[str, dict[str, bytes], list[str]] | None:
    """(cluster name, {relative path: bytes}, warnings) of a cached export, or None (a miss)."""
    base = cache_dir()
    if base is None:
        return None
    d = base / key
    raw = read_regular(d / "manifest.json")
    try:
        checked = checked_manifest(json.loads(raw)) if raw is not None else None
    except ValueError:
        checked = None
    if checked is None:
        return None
    name, rels, warnings = checked
    files = {rel: read_regular(d / "files" / rel) for rel in rels}
    if any(data is None for data in files.values()):
        return None
    os.utime(d)
    return name, files, warnings


def write(key: str, cluster: str, files: dict[str, bytes], warnings: list[str]) -> None:
    """Keep an export: its files first, the manifest last (a reader never finds a manifest
    without its files); then drop all but the newest CACHE_KEEP. A cache that cannot be
    written only makes the next export slower."""
    base = cache_dir()
    if base is None or checked_manifest({"cluster": cluster, "files": sorted(files), "warnings": warnings}) is None:
        return
    d = base / key
    try:
        for rel, data in files.items():
            atomic_write(d / "files" / rel, data)
        atomic_write(d / "manifest.json", json.dumps({"cluster": cluster, "files": sorted(files), "warnings": warnings}))
    except OSError:
        shutil.rmtree(d, ignore_errors=True)
        return
    _prune(base)


def _prune(base: Path) -> None:
    try:
        entries = sorted((e for e in base.iterdir() if e.is_dir() and not e.is_symlink() and not e.name.startswith(".")),
                         key=lambda e: e.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in entries[CACHE_KEEP:]:
        shutil.rmtree(old, ignore_errors=True)

