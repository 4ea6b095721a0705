"""plan / run / verify for one node.

run: facts -> diffs -> (live) packages -> every changed config checked by its daemon's checker
-> only then, journal + atomic writes -> (live) after-commands -> commands (live state: the
cluster address up, forwarding, the firewall loaded, the SSD mounted, ...) -> what lives on the
SSD, once it is mounted -> daemons restarted, after the addresses they bind exist.
A failing check stops the run before anything is written. A step that fails after something was
changed rolls the whole run back, files and live state (journal.revert): the node is left as it
was, never with new files and old daemons (which the next run would call "no changes").
"""

from __future__ import annotations

import fcntl
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pirack.fsutil import LinkRefused

from .. import checks
from ..render.model import NodePlan
from . import facts
from .journal import LOCK, Journal, revert, sweep
from .resources import (Change, CommandResource, Context, DirResource, FileResource, PackageResource,
                        ServiceResource, StepFailed)

if TYPE_CHECKING:
    from .resources import Resource


@dataclass
class RunResult:
    node: str
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    run_id: str | None = None  # None: nothing was written (no journal to revert)
    failed: StepFailed | None = None
    rolled_back: bool = False  # a write failed and what the run had written was put back
    recorded: list[str] = field(default_factory=list)  # commands shown, not run (--root)
    services: list[str] = field(default_factory=list)  # reloaded, or to restart by hand
    skipped: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        failed = {"step": self.failed.step, "message": self.failed.message} if self.failed else None
        return {"node": self.node, "changed": self.changed, "unchanged": self.unchanged,
                "run_id": self.run_id, "failed": failed, "recorded": self.recorded,
                "services": self.services, "skipped": self.skipped}


def make_context(root: Path | None, plan: NodePlan) -> Context:
    live = root is None
    return Context(root=Path("/") if live else root.resolve(), live=live, redact=plan.redact,
                   systemd=live and facts.has_systemd())


def resources(plan: NodePlan, ctx: Context):
    out = []
    if plan.packages:
        out.append(PackageResource(plan.packages, ctx))
    out += [DirResource(d, ctx) for d in sorted(plan.directories, key=lambda d: d.path)]
    out += [FileResource(f, ctx) for f in plan.files]
    out += [CommandResource(c, ctx) for c in plan.commands]
    out += [ServiceResource(unit, paths, ctx) for unit, paths in _restarted_by(plan).items()]
    return out


def _restarted_by(plan: NodePlan) -> dict[str, list[str]]:
    """unit -> the files whose change restarts it (a reload does not show in its start time)."""
    units: dict[str, list[str]] = {}
    for f in plan.files:
        if f.service and f.action == "restart":
            units.setdefault(f.service, []).append(f.path)
    return units


def _needs_drive(r: Resource) -> bool:
    thing = getattr(r, "mf", None) or getattr(r, "md", None)
    return thing is not None and (thing.on_drive or getattr(thing, "needs_drive", False))


def _drive_missing(ctx: Context, needs: bool, mount_point: str | None) -> bool:
    """Live only: the SSD is not mounted, so its folders must not be written onto the SD card
    (nor exports naming them: exportfs fails on a missing folder)."""
    if not (ctx.live and needs and mount_point):
        return False
    return not facts.is_mounted(ctx.at(mount_point))


def _diff_one(r: Resource) -> Change | None:
    thing = getattr(r, "mf", None) or getattr(r, "md", None)
    try:
        return r.diff()
    except LinkRefused as exc:
        raise StepFailed(f"refuse {thing.path}", f"{exc.filename} {exc.strerror}: bringup writes no file "
                         "through a link. Make it a regular file (or folder), or remove it, then run again") from None
    except OSError as exc:  # e.g. a folder where a file should be, a file we may not read
        raise StepFailed(f"read {getattr(thing, 'path', r)}", _os_message(exc)) from None


def diff_all(plan: NodePlan, ctx: Context, mount_point: str | None = None) -> tuple[list[Change], int, list[str]]:
    changes, unchanged, skipped = [], 0, []
    for r in resources(plan, ctx):
        thing = getattr(r, "mf", None) or getattr(r, "md", None)
        if _drive_missing(ctx, _needs_drive(r), mount_point):
            skipped.append(f"{thing.path} (the drive is not mounted at {mount_point})")
            continue
        c = _diff_one(r)
        if c is None:
            unchanged += 1
        else:
            changes.append(c)
    return changes, unchanged, skipped


def check_changes(changes: list[Change], ctx: Context, log: list[str]) -> None:
    """Every changed config through its daemon's checker; raise StepFailed on the first failure.
    What is checked is exactly what will be written (the change's bytes)."""
    for c in changes:
        if c.kind != "file" or not c.resource.mf.check:
            continue
        mf = c.resource.mf
        if c.before.exists and c.before.data == c.after:
            continue  # mode/owner only
        tool = checks.BINARIES[mf.check] or mf.check
        try:
            ok, msg = checks.run_check(mf.check, c.after, mf.path, ctx.root)
        except checks.CheckerMissing as exc:
            if ctx.live:
                raise StepFailed(f"check {mf.path}", f"{exc} is not installed: cannot check the file") from None
            log.append(f"not checked: {mf.path} ({exc} is not installed here)")
            continue
        if not ok:
            raise StepFailed(f"check {mf.path} with {tool}", ctx.redact(msg))
        log.append(f"checked {mf.path} with {tool}: ok")


def _os_message(exc: OSError) -> str:
    """The path, then what is wrong with it (as `cat: x: Is a directory` says it)."""
    return f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc)


def sweep_leftovers(plan: NodePlan, ctx: Context) -> list[str]:
    """What a run killed mid-way left behind (holding the run lock, so no other run is writing):
    temp files beside every managed file and in the journal, and checker folders (a candidate
    snmpd.conf there holds the community)."""
    gone = []
    for f in plan.files:
        folder, name = posixpath.split(f.path)
        gone += [f"{folder}/{t}" for t in ctx.tree.remove_temps(folder, name)]
    return gone + sweep(ctx.tree) + checks.sweep_stale()


def run(plan: NodePlan, ctx: Context, mount_point: str | None = None) -> RunResult:
    """Apply the plan. A failed step is in the result (`failed`), not raised: the caller reports
    what was done, then raises it."""
    res = RunResult(plan.node)
    lock = ctx.tree.open_lock(LOCK)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        res.log += [f"removed {p} (left by an interrupted run)" for p in sweep_leftovers(plan, ctx)]
        _run_locked(plan, ctx, mount_point, res)
    except StepFailed as exc:
        res.failed = exc
    finally:
        os.close(lock)
    return res


@dataclass
class _Progress:
    """What a run has done so far, so a failure can take all of it back."""

    plan: NodePlan
    ctx: Context
    journal: Journal | None = None
    services: dict[str, str] = field(default_factory=dict)  # unit -> reload | restart

    def journal_for(self, res: RunResult) -> Journal:
        if self.journal is None:
            self.journal = Journal.start(self.ctx.tree, self.plan.node)
            res.run_id = self.journal.run_id
        return self.journal


def _run_locked(plan: NodePlan, ctx: Context, mount_point: str | None, res: RunResult) -> None:
    changes, res.unchanged, res.skipped = diff_all(plan, ctx, mount_point)
    res.recorded += [c.detail for c in changes if c.recorded_only]
    todo = [c for c in changes if not c.recorded_only]
    if not todo:
        return
    prog = _Progress(plan, ctx)
    try:
        _write(_packages(todo, ctx, res), prog, res)
        _commands([c for c in todo if c.kind == "command"], prog, res)
        _drive_phase(prog, mount_point, res)
        prog.services.update({c.name: "restart" for c in todo if c.kind == "service"})
        _services(prog.services, ctx, res)
    except (OSError, StepFailed) as exc:
        if isinstance(exc, OSError):
            exc = StepFailed("write", _os_message(exc))
        if prog.journal is None or not prog.journal.entries:
            raise exc from None
        undo = _roll_back(prog, res)
        if res.rolled_back:
            res.changed = []  # all of it was taken back
        raise StepFailed(exc.step, exc.message + undo) from None


def _packages(todo: list[Change], ctx: Context, res: RunResult) -> list[Change]:
    """Install what is missing; returns the file and folder changes, planned again if a package
    brought its own default configs."""
    pkgs = [c for c in todo if c.kind == "package"]
    for c in pkgs:
        c.apply(ctx, None)
        res.changed.append(f"packages: {c.name}")
    writes = [c for c in todo if c.kind in ("dir", "file")]
    if pkgs:
        writes = [c for c in (_diff_one(c.resource) for c in writes) if c is not None]
    return writes


def _write(writes: list[Change], prog: _Progress, res: RunResult) -> None:
    check_changes(writes, prog.ctx, res.log)
    if not writes:
        return
    journal = prog.journal_for(res)
    for c in writes:
        try:
            c.apply(prog.ctx, journal)
        except OSError as exc:
            raise StepFailed(f"write {c.name}", _os_message(exc)) from None
        res.changed.append(c.name)
    _after(writes, prog, res)


def _commands(cmds: list[Change], prog: _Progress, res: RunResult) -> None:
    for c in cmds:
        try:
            c.apply(prog.ctx, prog.journal_for(res))
        except StepFailed as exc:
            if not c.resource.cmd.optional:
                raise
            res.skipped.append(f"{c.name}: {exc.message.strip()[-200:]}")
            continue
        res.changed.append(f"command: {c.name}")


def _drive_phase(prog: _Progress, mount_point: str | None, res: RunResult) -> None:
    """What lives on the SSD (and the exports naming it), now that a command of this run may
    have mounted it."""
    ctx = prog.ctx
    if not (ctx.live and mount_point) or not facts.is_mounted(ctx.at(mount_point)):
        return
    drive = [r for r in resources(prog.plan, ctx) if _needs_drive(r)]
    names = {(getattr(r, "mf", None) or r.md).path for r in drive}
    if not any(s.split(" (")[0] in names for s in res.skipped):
        return
    res.skipped = [s for s in res.skipped if s.split(" (")[0] not in names]
    changes = [c for c in (_diff_one(r) for r in drive) if c is not None]
    res.unchanged += len(drive) - len(changes)
    _write(changes, prog, res)


def _roll_back(prog: _Progress, res: RunResult) -> str:
    """Take the failed run back, files and live state; the words to add to the failure."""
    try:
        r = revert(prog.ctx.tree, prog.journal.run_id, live=prog.ctx.live, systemd=prog.ctx.systemd)
    except Exception as exc:  # the rollback itself failed: say so, with the run to revert by hand
        return f"; rolling this run back failed too ({exc}): bringup revert {prog.journal.run_id}"
    res.rolled_back = True
    return (f"; rolled back: the node is as it was before this run ({len(r.restored)} file(s) put back"
            f"{f', {len(r.live)} live step(s)' if r.live else ''})")


def _after(writes: list[Change], prog: _Progress, res: RunResult) -> None:
    """Run each changed file's after-command; note the daemons that read it."""
    import subprocess

    ctx = prog.ctx
    for c in writes:
        if c.kind != "file":
            continue
        mf = c.resource.mf
        if mf.after and ctx.live:
            r = subprocess.run(list(mf.after), capture_output=True, text=True)
            if r.returncode != 0:
                raise StepFailed(f"apply {mf.path} ({' '.join(mf.after)})", ctx.redact((r.stderr or r.stdout)[-800:]))
            res.log.append(f"ran {' '.join(mf.after)}")
        if mf.service and prog.services.get(mf.service) != "restart":
            prog.services[mf.service] = mf.action


def _services(services: dict[str, str], ctx: Context, res: RunResult) -> None:
    """Reload or restart what read the changed files (and daemons found on old configs)."""
    import subprocess

    for unit, action in services.items():
        if not ctx.live:
            res.services.append(f"{unit} ({action}; not under --root)")
        elif ctx.systemd:
            verb = "reload-or-restart" if action == "reload" else "restart"
            r = subprocess.run(["systemctl", verb, unit], capture_output=True, text=True)
            if r.returncode != 0:
                raise StepFailed(f"systemctl {verb} {unit}", (r.stderr or r.stdout)[-800:])
            res.services.append(f"{unit} ({verb})")
        else:
            res.services.append(f"{unit} (no systemd here: {action} it yourself)")
