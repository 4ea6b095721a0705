"""Bad input: one clear message naming the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path


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
        where = ": ".join(p for p in (self.file, self.key) if p)
        head = f"{where}: {self.message}" if where else self.message
        if self.more:
            head += "".join(f"\n  also: {m}" for m in self.more)
        return head


def key_path(loc: tuple) -> str:
    """('nodes', 1, 'mac') -> 'nodes[1].mac'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def from_validation_error(file, exc, prefix: str = "", skip: int = 0) -> InputError:
    """Turn a pydantic ValidationError into an InputError naming the key of the first problem.
    `skip` drops leading location parts (a discriminated union's tag)."""
    msgs = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"][skip:] if not (isinstance(p, str) and p.startswith(("function-", "tagged-union"))))
        key = key_path(loc)
        if prefix:
            key = prefix + ("." + key if key and not key.startswith("[") else key)
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] == "missing":
            msg = "missing: this key is required"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            key = key_path(loc + ("kind",))
            msg = f"unknown kind: expected one of {err.get('ctx', {}).get('expected_tags', '')}"
        msgs.append((key, msg))
    key, msg = msgs[0]
    return InputError(file, key or None, msg, more=[f"{k}: {m}" for k, m in msgs[1:6]])
