"""COLLISION and KEEPOUT findings kept in the user's cache folder, keyed on what they measure.

The geometry checks are most of `rack check` and of the checks every `rack export` runs first:
importing CadQuery alone takes seconds. Their answer depends only on

- the placed solids (the layout's parts: ids, kinds, positions, turns, shape parameters, names,
  roles, nodes) and the switch support's pattern,
- the plates as cut (outline, holes, thickness),
- the catalog entries of the parts placed (sizes, threads, keep-out boxes),
- our code (a digest of the pirack/ and rackdesign/ sources, and pirack's version),

so the key is a digest of exactly these. What does not move a solid (comments, the engraving,
the purchases' prices, the output format) does not change the key: `rack check` then `rack
export pdf`, or an export in each format, measure the geometry once.

    $XDG_CACHE_HOME/pirack/checks/<key>.json   (or ~/.cache/pirack/checks/<key>.json)

The folder is not trusted: an entry is read only if it is a regular file of sensible size and
every finding in it is a well-formed COLLISION or KEEPOUT finding; anything else is a miss,
never an error. Writes are atomic; the newest KEEP entries are kept. Nothing here imports the
CAD stack: a hit answers without it.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING

from pirack.fsutil import atomic_write

from ..cache import cache_root, code_digest, read_regular
from ..findings import Finding

if TYPE_CHECKING:
    from pathlib import Path

    from .design import Design

KEEP = 64  # entries kept (newest first); one is a few kB
MAX_BYTES = 4 << 20  # a 64-node rack's findings are far below this
CODES = ("COLLISION", "KEEPOUT")
VERSION = 1


def folder() -> Path | None:
    root = cache_root()
    return root / "checks" if root is not None else None


def key(design: Design) -> str:
    """The digest of everything the geometry checks read (see the module's docstring)."""
    lay, cat = design.lay, design.cat
    plates = {p.part_id for p in lay.parts if p.kind == "plate"}
    ids = sorted({p.part_id for p in lay.parts if p.kind not in ("plate", "support")})
    h = hashlib.sha256()
    for piece in (
        f"v{VERSION}",
        code_digest(),
        repr(lay.parts),
        repr(lay.support),
        repr([(p.name, p.outline, p.holes, p.thickness) for p in design.parts2d if p.name in plates]),
        *(cat[pid].model_dump_json() for pid in ids),
    ):
        h.update(piece.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _finding(d: object) -> Finding | None:
    """A finding from a cached entry, or None when the entry is not one this module wrote."""
    if not isinstance(d, dict) or set(d) != set(Finding.__dataclass_fields__):
        return None
    texts = ("severity", "code", "message", "fix", "where", "measure")
    optional = {"unit": str, "node": str, "value": (int, float), "limit": (int, float)}
    if not all(isinstance(d[k], str) for k in texts) or d["code"] not in CODES:
        return None
    if not all(d[k] is None or isinstance(d[k], t) for k, t in optional.items()):
        return None
    parts, count = d["parts"], d["count"]
    if not (isinstance(parts, list) and all(isinstance(p, str) for p in parts) and isinstance(count, int)):
        return None
    try:
        return Finding(**{**d, "parts": tuple(parts)})
    except (TypeError, ValueError):
        return None


def read(k: str) -> tuple[list[Finding], dict] | None:
    """(findings, stats) of an earlier measurement of the same geometry, or None (a miss)."""
    base = folder()
    if base is None:
        return None
    path = base / f"{k}.json"
    raw = read_regular(path, MAX_BYTES)
    try:
        doc = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return None
    if not (isinstance(doc, dict) and doc.get("version") == VERSION and isinstance(doc.get("findings"), list)
            and isinstance(doc.get("stats"), dict)):
        return None
    found = [_finding(d) for d in doc["findings"]]
    if any(f is None for f in found):
        return None
    try:
        os.utime(path)
    except OSError:
        pass
    return found, {**doc["stats"], "cached": True}


def write(k: str, found: list[Finding], stats: dict) -> None:
    """Keep a measurement; a cache that cannot be written only makes the next check slower."""
    base = folder()
    if base is None or any(f.code not in CODES for f in found):
        return
    doc = {"version": VERSION, "findings": [f.to_dict() for f in found], "stats": stats}
    try:
        atomic_write(base / f"{k}.json", json.dumps(doc))
        entries = sorted((e for e in base.iterdir() if e.suffix == ".json" and e.is_file()),
                         key=lambda e: e.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return
