"""Resources: each managed thing asks its fact (current), knows its goal (desired), says what
differs (diff) and makes it so (apply). Reading and changing never mix: only apply() writes."""

from __future__ import annotations

import difflib
import hashlib
import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pirack.errors import WorkFailed
from pirack.fsutil import NodeTree

from ..render.model import REDACTED, Command, ManagedDir, ManagedFile, merge_block
from . import facts
from .journal import Journal, durable_step, write


@dataclass
class Context:
    root: Path  # "/" on a live node
    live: bool  # False under --root: no services, no commands, no packages
    redact: Callable[[str], str] = lambda s: s
    systemd: bool = False

    @property
    def tree(self) -> NodeTree:
        """The node's files: every read and write goes through it, never through a link out of root."""
        return NodeTree(self.root)

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/")


@dataclass
class Change:
    """One difference between the node and the plan, with the facts it was found from."""

    kind: str  # file | dir | package | command
    name: str  # the path, package list or command name
    summary: str  # one line for people
    detail: str = ""  # a unified diff, or the command line
    resource: "Resource | None" = None
    recorded_only: bool = False  # shown, but not run under --root
    before: facts.FileState | None = None  # a file: what the diff saw on disk
    after: bytes | None = None  # a file: the bytes that replace it (what the checker checks)
    meta: tuple[int, int, int] | None = None  # a file: mode, uid, gid to give it

    def apply(self, ctx: Context, journal: Journal | None) -> None:
        self.resource.apply(ctx, journal, self)


class Resource:
    """current() reads the fact fresh every time; diff() compares one reading with the goal;
    apply() makes exactly the change that diff found."""

    def current(self): ...
    def diff(self) -> Change | None: ...
    def apply(self, ctx: Context, journal: Journal | None, change: Change) -> None: ...


def _mode_owner(mode: int, owner: str, group: str) -> str:
    return f"{mode:04o} {owner}:{group}"


class FileResource(Resource):
    def __init__(self, mf: ManagedFile, ctx: Context):
        self.mf, self.ctx = mf, ctx
        self.target = ctx.at(mf.path)

    def current(self) -> facts.FileState:
        """Read now: never a copy from before (a package install may have written the file)."""
        return facts.file_state(self.ctx.tree, self.mf.path)

    def desired(self, cur: facts.FileState) -> bytes:
        if self.mf.kind == "block":
            old = cur.data.decode("utf-8", errors="surrogateescape") if cur.exists else None
            return merge_block(old, self.mf.content).encode("utf-8", errors="surrogateescape")
        return self.mf.content.encode()

    def _want_meta(self, cur: facts.FileState) -> tuple[int, int, int]:
        if self.mf.kind == "block" and cur.exists:
            # A file we only hold a block of keeps its owner's mode and ownership.
            return cur.mode, cur.uid, cur.gid
        return self.mf.mode, facts.uid_of(self.mf.owner), facts.gid_of(self.mf.group)

    def diff(self) -> Change | None:
        cur = self.current()
        new = self.desired(cur)
        mode, uid, gid = self._want_meta(cur)
        owner_differs = os.geteuid() == 0 and cur.exists and (cur.uid, cur.gid) != (uid, gid)
        if cur.exists and cur.data == new and cur.mode == mode and not owner_differs:
            return None
        what = "create" if not cur.exists else ("update" if cur.data != new else "set mode/owner of")
        summary = f"{what} {self.mf.path} ({_mode_owner(mode, self.mf.owner, self.mf.group)})"
        if self.mf.why:
            summary += f" — {self.mf.why}"
        return Change("file", self.mf.path, summary, self._detail(cur, new, mode, owner_differs), self,
                      before=cur, after=new, meta=(mode, uid, gid))

    def _detail(self, cur: facts.FileState, new: bytes, mode: int, owner_differs: bool) -> str:
        if cur.exists and cur.data == new:
            return f"mode {cur.mode:04o} -> {mode:04o}" + (", owner" if owner_differs else "")
        if self.mf.secret:
            # Neither side is shown: the old file may hold an old secret we do not know to redact.
            return (f"{REDACTED} (holds a secret; sha256 {cur.sha256[:12]} -> "
                    f"{hashlib.sha256(new).hexdigest()[:12]})")
        old_text = cur.data.decode("utf-8", "replace") if cur.exists else ""
        detail = "".join(difflib.unified_diff(
            old_text.splitlines(keepends=True), new.decode("utf-8", "replace").splitlines(keepends=True),
            fromfile=f"{self.mf.path}" + ("" if cur.exists else " (absent)"), tofile=self.mf.path))
        return self.ctx.redact(detail)

    def apply(self, ctx: Context, journal: Journal | None, change: Change) -> None:
        # The journal keeps what is on disk *now*, and only if it is still what the plan was
        # made from: a file someone (or something) changed meanwhile is never lost.
        if self.current() != change.before:
            raise StepFailed(f"write {self.mf.path}", "it changed on disk after the plan was made (another "
                             "program?): not written. Run again to plan from what is there now")
        mode, uid, gid = change.meta
        made = ctx.tree.make_parents(self.mf.path)
        if journal is not None:
            journal.record_dirs(made)
            journal.record_file(self.mf.path, change.before, hashlib.sha256(change.after).hexdigest(), mode,
                                f"{self.mf.owner}:{self.mf.group}", live=self._live_undo(ctx))
        write(ctx.tree, self.mf.path, change.after, mode, uid, gid)

    def _live_undo(self, ctx: Context) -> dict:
        """What revert does live after putting this file back: its command (with the live value
        from before this run), and the service to restart."""
        if not ctx.live:
            return {}
        out: dict = {}
        if self.mf.revert:
            before = facts.command_output(self.mf.live_fact) if self.mf.live_fact else None
            before = (before or "").strip().splitlines()[0] if (before or "").strip() else ""
            out["revert"] = [a.replace("{before}", before) for a in self.mf.revert]
        if self.mf.service:
            out["service"] = self.mf.service
        return out


class DirResource(Resource):
    def __init__(self, md: ManagedDir, ctx: Context):
        self.md, self.ctx = md, ctx
        self.target = ctx.at(md.path)

    def current(self) -> facts.FileState:
        return facts.dir_state(self.ctx.tree, self.md.path)

    def diff(self) -> Change | None:
        cur = self.current()
        if cur.exists and cur.mode == self.md.mode:
            return None
        what = "create folder" if not cur.exists else f"set mode {self.md.mode:04o} on"
        return Change("dir", self.md.path, f"{what} {self.md.path}" + (f" — {self.md.why}" if self.md.why else ""),
                      "", self, before=cur)

    def apply(self, ctx: Context, journal: Journal | None, change: Change) -> None:
        made = ctx.tree.make_parents(self.md.path)
        if not self.current().exists:
            made.append(self.md.path)
        if journal is not None:
            journal.record_dirs(made)
        owner = (facts.uid_of(self.md.owner), facts.gid_of(self.md.group)) if os.geteuid() == 0 else (None, None)
        ctx.tree.makedirs(self.md.path, self.md.mode, *owner)
        durable_step()


class PackageResource(Resource):
    """apt packages; the fact is dpkg-query. Under --root: read from the root's dpkg database
    if it has one, and recorded, never installed."""

    def __init__(self, names: tuple[str, ...], ctx: Context):
        self.names, self.ctx = names, ctx

    def current(self):
        admin = None if self.ctx.live else self.ctx.at("/var/lib/dpkg")
        return facts.installed_packages(self.names, admin)

    def missing(self) -> list[str]:
        cur = self.current()
        return list(self.names) if cur is None else [n for n, ok in cur.items() if not ok]

    def argv(self, names: list[str]) -> list[str]:
        return ["apt-get", "install", "-y", "--no-install-recommends", *names]

    def diff(self) -> Change | None:
        miss = self.missing()
        if not miss:
            return None
        return Change("package", " ".join(miss), f"install {', '.join(miss)}", shlex.join(self.argv(miss)),
                      self, recorded_only=not self.ctx.live)

    def apply(self, ctx: Context, journal: Journal | None, change: Change) -> None:
        r = subprocess.run(self.argv(self.missing()), capture_output=True, text=True,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if r.returncode != 0:
            raise StepFailed("install packages", (r.stderr or r.stdout)[-800:])


class CommandResource(Resource):
    def __init__(self, cmd: Command, ctx: Context):
        self.cmd, self.ctx = cmd, ctx

    def current(self) -> str | None:
        return facts.command_output(self.cmd.fact) if (self.cmd.fact and self.ctx.live) else None

    def diff(self) -> Change | None:
        from .livefacts import satisfied

        if self.ctx.live:
            out = self.current()
            if out is not None and self.cmd.done_if and satisfied(self.cmd.parse, out, self.cmd.done_if):
                return None
        return Change("command", self.cmd.name, self.cmd.name + (f" — {self.cmd.why}" if self.cmd.why else ""),
                      self.ctx.redact(shlex.join(self.cmd.argv)), self, recorded_only=not self.ctx.live)

    def apply(self, ctx: Context, journal: Journal | None, change: Change) -> None:
        r = subprocess.run(list(self.cmd.argv), capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise StepFailed(self.cmd.name, ctx.redact((r.stderr or r.stdout)[-800:]))
        if journal is not None:
            journal.record_command(self.cmd.name, list(self.cmd.undo) if self.cmd.undo else None)


class ServiceResource(Resource):
    """A daemon whose configuration the plan writes: running, and started after its files last
    changed (a daemon started before is running an older configuration, whatever the files
    say). Live with systemd only; the fact is `systemctl show`, the files' mtimes."""

    def __init__(self, unit: str, paths: list[str], ctx: Context):
        self.unit, self.paths, self.ctx = unit, paths, ctx

    def current(self) -> tuple[str, int | None]:
        from .livefacts import unit_start

        out = facts.command_output(("systemctl", "show", self.unit, "-p", "ActiveState",
                                    "-p", "ExecMainStartTimestamp", "--timestamp=unix"))
        return unit_start(out or "")

    def newest(self) -> tuple[float, str] | None:
        times = [(st.st_mtime, p) for p in self.paths if (st := self.ctx.tree.lstat(p)) is not None]
        return max(times) if times else None

    def diff(self) -> Change | None:
        if not (self.ctx.live and self.ctx.systemd):
            return None
        state, started = self.current()
        newest = self.newest()
        if state == "active" and (newest is None or (started is not None and started >= int(newest[0]))):
            return None
        why = (f"{self.unit} is {state}" if state != "active"
               else f"{self.unit} runs an older configuration (started before {newest[1]} changed)")
        return Change("service", self.unit, f"restart {self.unit} — {why}", f"systemctl restart {self.unit}", self)

    def apply(self, ctx: Context, journal: Journal | None, change: Change) -> None:
        r = subprocess.run(["systemctl", "restart", self.unit], capture_output=True, text=True, timeout=180)
        if r.returncode != 0:
            raise StepFailed(f"systemctl restart {self.unit}", ctx.redact((r.stderr or r.stdout)[-800:]))


class StepFailed(WorkFailed):
    def __init__(self, step: str, message: str):
        super().__init__(f"{step}: {message}", data={"step": step, "message": message})
        self.step, self.message = step, message
