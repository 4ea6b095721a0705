"""Cluster files as small overlays on the built-in default, for tests that are cases.

A case names only what differs from the default: `patch` maps a key path (the same spelling
the error messages use, like `nodes[1].mac` or `rack.engraving.logo`) to its new value,
`delete` lists key paths to remove. An index one past the end of a list appends.

    overlay_text({"nodes[1].mac": "02:00:00:50:00:zz"})      -> TOML text
    load_cases(path)                                           -> the [[case]] tables of a file
"""

from __future__ import annotations

import copy
import functools
import re
import tomllib
from pathlib import Path

import tomli_w

from pirack.paths import default_text

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_key(key: str) -> list[str | int]:
    """'nodes[1].mac' -> ['nodes', 1, 'mac']; a quoted dotted part is not supported (none needed)."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(key):
        if key[pos] == ".":
            pos += 1
        m = _STEP.match(key, pos)
        if not m:
            raise ValueError(f"bad key path {key!r} at {pos}")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    return steps


def _parent(doc, steps, create: bool):
    node = doc
    for here, nxt in zip(steps, steps[1:]):
        if isinstance(here, int):
            if here == len(node) and create:
                node.append({})
            node = node[here]
        else:
            if here not in node and create:
                node[here] = [] if isinstance(nxt, int) else {}
            node = node[here]
    return node


def apply_patch(doc: dict, patch: dict | None = None, delete: list[str] | None = None) -> dict:
    """A deep copy of `doc` with `patch` set and `delete` removed."""
    out = copy.deepcopy(doc)
    for key, value in (patch or {}).items():
        steps = split_key(key)
        parent, last = _parent(out, steps, create=True), steps[-1]
        if isinstance(last, int) and last == len(parent):
            parent.append(value)
        else:
            parent[last] = value
    for key in delete or []:
        steps = split_key(key)
        del _parent(out, steps, create=False)[steps[-1]]
    return out


def default_doc() -> dict:
    """The default cluster file as a dict of its own (parsed once per process; a deep copy each
    call, so an overlay never changes the next one's base)."""
    return copy.deepcopy(_default_doc())


@functools.cache
def _default_doc() -> dict:
    return tomllib.loads(default_text())


def overlay_text(patch: dict | None = None, delete: list[str] | None = None, base: str | None = None) -> str:
    """The default cluster file (or `base`) with the overlay applied, as TOML text."""
    doc = tomllib.loads(base) if base is not None else _default_doc()  # apply_patch copies it
    return tomli_w.dumps(apply_patch(doc, patch, delete))


def load_cases(path: Path) -> list[dict]:
    """The `[[case]]` tables of a case file, each with a `name`."""
    cases = tomllib.loads(path.read_text(encoding="utf-8"))["case"]
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"{path}: case names used twice: {sorted(dup)}")
    return cases
