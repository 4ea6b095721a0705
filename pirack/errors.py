"""Bad input: one clear message naming the file, the key and what is wrong.

Every message that quotes a value from a user's file goes through `shown`, so a newline, a
control character or a bidi mark in that value shows as an escape and cannot reshape the
message (an extra "error:" line, text that runs right to left).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError
    from pydantic.fields import FieldInfo

SHOWN_MAX = 60  # characters of a quoted value before it is cut short


class WorkFailed(Exception):
    """The work found a problem (a failed step, a refused file, failed checks). The one way to
    say so: the CLIs print it once (run_app), without a traceback, and exit 1.

    `details` are more lines for people (each finding, say); `data` is the same as typed data
    for --json callers."""

    def __init__(self, message: str, details: list[str] | None = None, data: dict | None = None):
        self.details = list(details or [])
        self.data = data or {}
        super().__init__(message)

    def render(self) -> str:
        return str(self) + "".join(f"\n  {d}" for d in self.details)


class InputError(Exception):
    """Bad input or usage. The CLIs print it without a traceback and exit 2."""

    def __init__(self, file: str | Path | None, key: str | None, message: str, more: list[str] | None = None):
        self.file = str(file) if file is not None else None
        self.key = key
        self.message = message
        self.more = more or []
        super().__init__(self.render())

    def render(self) -> str:
        """One line, then an indented "also:" line per further problem. The file name and the
        key may come from the user (a dict key in the file): they are escaped like values."""
        where = ": ".join(escape(p) for p in (self.file, self.key) if p)
        head = f"{where}: {escape(self.message)}" if where else escape(self.message)
        return head + "".join(f"\n  also: {escape(m)}" for m in self.more)


# --- showing user values -----------------------------------------------------------------------

def escape(text: str) -> str:
    """`text` with every character that is not printable (newline, NUL, ESC, bidi and other
    format marks, line separators) written as a Python-style escape. Printable text, Japanese
    included, is left as it is."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape_char(ch) for ch in text)


def _escape_char(ch: str) -> str:
    code = ord(ch)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in named:
        return named[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shown(value: object) -> str:
    """A value from the user's file as it should appear in a message: a string quoted and
    escaped (a backslash doubled, so `\\n` typed by the user and a real newline differ) and cut
    short when long; other values as their TOML spelling or their kind."""
    if isinstance(value, str):
        text = value.replace("\\", "\\\\").replace('"', '\\"')
        cut = len(value) > SHOWN_MAX
        body = escape(text[:SHOWN_MAX] if cut else text)
        return f"\"{body}\"" + (f"… ({len(value)} characters)" if cut else "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return escape(repr(value))[:SHOWN_MAX]
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a table"
    return escape(type(value).__name__)


def what_is(value: object) -> str:
    """`value` described for a "got ..." clause: its kind, then the value."""
    if isinstance(value, str):
        return f"the text {shown(value)}"
    if isinstance(value, bool):
        return f"the boolean {shown(value)}"
    if isinstance(value, (int, float)):
        return f"the number {shown(value)}"
    return shown(value)


def unsafe_char(value: str) -> str | None:
    """The first character a configuration file or a message must never carry (a control
    character, a bidi or other format mark, a line or paragraph separator), escaped; or None."""
    if value.isprintable():  # the common case, in C: no Cc, Cf, Cs, Co, Zl or Zp in it
        return None
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") and ch not in _JOINERS:
            return _escape_char(ch)
    return None


# Zero-width joiners are format characters that scripts and emoji need; they do not reorder text.
_JOINERS = frozenset("\u200c\u200d")


# --- pydantic's errors, as messages for people ---------------------------------------------------

def key_path(loc: tuple) -> str:
    """('nodes', 1, 'mac') -> 'nodes[1].mac'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def from_validation_error(file: str | Path | None, exc: ValidationError, prefix: str = "", skip: int = 0,
                          model: type[BaseModel] | None = None) -> InputError:
    """Turn a pydantic ValidationError into an InputError naming the key of the first problem,
    each problem said as what is expected there, with an example. `skip` drops leading location
    parts (a discriminated union's tag); `model` (the validated class) gives each key's example
    and the keys known where an unknown one was found."""
    msgs = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"][skip:]
                    if not (isinstance(p, str) and (p.startswith(("function-", "tagged-union")) or p == "[key]")))
        key, msg = describe(err, loc, model)
        if prefix:
            key = prefix + ("." + key if key and not key.startswith("[") else key)
        msgs.append((key, msg))
    key, msg = msgs[0]
    return InputError(file, key or None, msg, more=[f"{k}: {m}" for k, m in msgs[1:6]])


# pydantic's error type -> what the key expects, in the words of the file
_EXPECTED = {
    "string_type": "text in quotes",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number",
    "decimal_type": "a whole number", "decimal_parsing": "a whole number",
    "list_type": "a list in brackets", "tuple_type": "a list in brackets", "set_type": "a list in brackets",
    "dict_type": "a table", "model_type": "a table", "model_attributes_type": "a table", "dataclass_type": "a table",
    "ip_v4_address": "an IPv4 address", "ip_any_address": "an IPv4 address",
    "ip_v4_network": "an IPv4 network with its prefix length",
    "ip_v4_interface": "an IPv4 address with its prefix length",
}


def describe(err: dict, loc: tuple, model: type[BaseModel] | None = None) -> tuple[str, str]:
    """(key, message) for one pydantic error: what the key expects, an example, what it got."""
    kind, key = err["type"], key_path(loc)
    name, info = _field_at(model, loc)
    like = _example(name, info)
    if kind == "missing":
        return key, "missing: this key is required" + like
    if kind == "extra_forbidden":
        return key, "unknown key (a typo?)" + _known_keys(model, loc[:-1])
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return key_path(loc + ("kind",)), f"unknown kind: expected one of {err.get('ctx', {}).get('expected_tags', '')}"
    if kind in ("value_error", "assertion_error"):
        return key, err["msg"].split(", ", 1)[1] if err["msg"].startswith(("Value error, ", "Assertion failed, ")) else err["msg"]
    return key, f"expected {_expected(kind, err.get('ctx') or {}, info)}{like}; got {what_is(err.get('input'))}"


def _expected(kind: str, ctx: dict, info: FieldInfo | None) -> str:
    if kind == "literal_error":
        choices = _literal_choices(info.annotation) if info is not None else ()
        return "one of " + (" | ".join(shown(c) for c in choices) if choices else escape(str(ctx.get("expected", ""))))
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        return f"{'at least' if kind == 'too_short' else 'at most'} {n} item{'s' if n != 1 else ''}"
    bounds = {"greater_than_equal": "≥ {ge}", "greater_than": "> {gt}", "less_than_equal": "≤ {le}", "less_than": "< {lt}"}
    if kind in bounds:
        return "a number " + bounds[kind].format(**ctx)
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    return escape(info.description) if info is not None and info.description else "another value"


def _fields(tp: object) -> dict:
    """The fields of the pydantic model in a type (list[Node] -> Node's), or {}."""
    fields = getattr(tp, "model_fields", None)
    if isinstance(fields, dict):
        return fields
    from typing import get_args

    for arg in get_args(tp):
        found = _fields(arg)
        if found:
            return found
    return {}


def _field_at(model: type[BaseModel] | None, loc: tuple):
    """The innermost model field on the way to `loc`: (its name, its FieldInfo), or (None, None)."""
    name = info = None
    tp = model
    for part in loc:
        fields = _fields(tp) if tp is not None else {}
        if isinstance(part, str) and part in fields:
            name, info = part, fields[part]
            tp = info.annotation
    return name, info


def _known_keys(model: type[BaseModel] | None, loc: tuple) -> str:
    if model is None:
        return ""
    tp = model
    for part in loc:
        fields = _fields(tp)
        if isinstance(part, str) and part in fields:
            tp = fields[part].annotation
    names = list(_fields(tp))
    return f"; the keys here are {', '.join(names)}" if names else ""


def _literal_choices(tp: object) -> tuple:
    from typing import Literal, get_args, get_origin

    if get_origin(tp) is Literal:
        return get_args(tp)
    for arg in get_args(tp):
        found = _literal_choices(arg)
        if found:
            return found
    return ()


def _example(name: str | None, info: FieldInfo | None) -> str:
    """', like owned = true': the field's first example, else its default, spelled as TOML."""
    if info is None:
        return ""
    value = (info.examples or [None])[0]
    if value is None and _plain(info.default):
        value = info.default
    return f", like {name} = {toml_value(value)}" if value is not None else ""


def _plain(v: object) -> bool:
    if isinstance(v, (list, tuple)):
        return bool(v) and all(_plain(x) for x in v)
    return isinstance(v, (str, bool, int, float)) and v != ""


def toml_value(v: object) -> str:
    """A simple value spelled as TOML (strings quoted and escaped as JSON does: TOML reads it)."""
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


class Interrupt:
    """Whether Ctrl-C came (set by the CLIs' SIGINT handler, pirack.cli_common.run_app). An
    interrupt inside a C extension's import (CadQuery's OCP) surfaces as ImportError: code that
    reads ImportError as "the extra is not installed" asks `raise_if_seen()` first."""

    seen = False

    @classmethod
    def handler(cls, signum, frame) -> None:
        cls.seen = True
        raise KeyboardInterrupt

    @classmethod
    def raise_if_seen(cls) -> None:
        if cls.seen:
            raise KeyboardInterrupt
