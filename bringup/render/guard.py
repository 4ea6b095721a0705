"""The renderers' own line of defence: every value that can reach a rendered file is one line
of printable text, and every rendered path is a plain absolute path.

The cluster file is checked at load against a grammar per kind of value; this is defence in
depth, so that a field added later cannot bring a newline (an extra `dhcp-script=` line for
dnsmasq, an extra `rwcommunity` for snmpd) into a daemon's configuration. It works on the
inputs, generically: render_node walks every value of the cluster description (every field of
every section bring-up may read, whatever its name), of the render options and of the secrets
before anything is rendered. So a new field is covered the day it is added, and the refusal
names its key. Then it checks what came out (each file's path and content, each command) for
control characters a value from anywhere else might have brought.

Refused: control characters (newline, carriage return, tab, NUL, ESC...), Unicode line and
paragraph separators, and bidirectional controls (they make a line read differently from what
it is). The values are never printed: only the key and the character's code point.
"""

from __future__ import annotations

import dataclasses
import posixpath
import unicodedata

from typing import TYPE_CHECKING

from pydantic import BaseModel

from pirack.errors import InputError

if TYPE_CHECKING:
    from pirack.spec import Cluster

    from .model import NodePlan, RenderOptions, Secrets

# Parts of the cluster description bring-up never renders: the rack's design and the shopping
# list, and the free-text description (for people; a multi-line one is fine).
NOT_RENDERED = {"rack", "purchases", "cluster.description"}
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def bad_character(text: str, allow: str = "") -> str | None:
    """'U+000A LINE FEED' for the first character a one-line value must not hold, else None."""
    for ch in text:
        if ch in allow:
            continue
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in BIDI:
            name = unicodedata.name(ch, "a control character")
            return f"U+{ord(ch):04X} {name}"
    return None


def _walk(value: object, key: str):
    """(key, text) for every scalar under `value`: pydantic models and dataclasses by field,
    lists by index, dicts by key; non-text scalars (addresses, lengths) as their text."""
    if key in NOT_RENDERED or value is None or isinstance(value, (bool, int, float)):
        return
    members = _members(value, key)
    if members is None:
        yield key, value if isinstance(value, str) else str(value)
        return
    for member_key, member in members:
        yield from _walk(member, member_key)


def _members(value: object, key: str):
    """(key, value) for each member of a model, dataclass, list or dict, lazily; None for a scalar."""
    if isinstance(value, BaseModel):
        return ((_field_key(key, name), getattr(value, name)) for name in type(value).model_fields)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ((_field_key(key, f.name), getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (list, tuple)):
        return ((f"{key}[{i}]", v) for i, v in enumerate(value))
    if isinstance(value, dict):
        # a dict's keys reach files too: each key is a text member under the dict's own key
        return (member for k, v in value.items() for member in ((key, str(k)), (f"{key}.{k}", v)))
    return None


def _field_key(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def check_inputs(file: str, spec: Cluster, options: RenderOptions, secrets: Secrets) -> None:
    """Refuse (InputError, exit 2) a control character in any value the renderers may use."""
    for where, value in ((file, spec), ("render options", options), ("secrets", secrets)):
        for key, text in _walk(value, ""):
            bad = bad_character(text)
            if bad:
                shown = "a secret" if where == "secrets" else "a value written into a configuration file"
                raise InputError(where, key, f"holds {bad}: {shown} must be one line of printable text")


def check_path(path: str) -> str | None:
    """Why `path` is not a plain absolute node path, or None."""
    bad = bad_character(path)
    if bad:
        return f"holds {bad}"
    if not path.startswith("/") or posixpath.normpath(path) != path or path.startswith("//"):
        return "is not an absolute path without '.', '..' or '//'"
    return None


def check_plan(plan: NodePlan, file: str) -> None:
    """The rendered plan: file and folder paths plain, contents free of control characters
    other than the newline and tab that end and indent lines, commands one line each."""
    for f in plan.files:
        why = check_path(f.path) or _content_problem(f.content)
        if why:
            raise InputError(file, None, f"the rendered {f.path!a} {why}: refused before anything is written")
    for d in plan.directories:
        why = check_path(d.path)
        if why:
            raise InputError(file, None, f"the rendered folder {d.path!a} {why}: refused")
    for c in plan.commands:
        for arg in (*c.argv, *(c.fact or ())):
            bad = bad_character(arg)
            if bad:
                raise InputError(file, None, f"the command '{c.name}' holds {bad}: refused")


def _content_problem(content: str) -> str | None:
    bad = bad_character(content, allow="\n\t")
    return f"holds {bad}" if bad else None
