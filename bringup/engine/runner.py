"""plan / run / verify for one node.

run: facts -> diffs -> (live) packages -> every changed config checked by its daemon's checker
-> only then, journal + atomic writes -> (live) after-commands and service reloads -> commands.
A failing check stops the run before anything is written.
"""

from __future__ import annotations

import fcntl
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from pirack.fsutil import LinkRefused

from .. import checks
from ..render.model import NodePlan
from . import facts
from .journal import LOCK, Journal, revert, sweep
from .resources import (Change, CommandResource, Context, DirResource, FileResource, PackageResource,
                        StepFailed)


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
    return out


def _drive_missing(ctx: Context, on_drive: bool, mount_point: str | None) -> bool:
    """Live only: the SSD is not mounted, so its folders must not be written onto the SD card."""
    if not (ctx.live and on_drive and mount_point):
        return False
    return not facts.is_mounted(ctx.at(mount_point))


def _diff_one(r) -> Change | None:
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
        if thing is not None and _drive_missing(ctx, thing.on_drive, mount_point):
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
    return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)


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


def _run_locked(plan: NodePlan, ctx: Context, mount_point: str | None, res: RunResult) -> None:
    changes, res.unchanged, res.skipped = diff_all(plan, ctx, mount_point)
    res.recorded += [c.detail for c in changes if c.recorded_only]
    todo = [c for c in changes if not c.recorded_only]
    if not todo:
        return
    pkgs = [c for c in todo if c.kind == "package"]
    for c in pkgs:
        c.apply(ctx, None)
        res.changed.append(f"packages: {c.name}")
    writes = [c for c in todo if c.kind in ("dir", "file")]
    if pkgs:  # the packages brought their own default configs: plan the writes again from them
        writes = [c for c in (_diff_one(c.resource) for c in writes) if c is not None]
    check_changes(writes, ctx, res.log)
    if writes:
        _write_all(writes, plan, ctx, res)
        _after(writes, ctx, res)
    for c in todo:
        if c.kind == "command":
            c.apply(ctx, None)
            res.changed.append(f"command: {c.name}")


def _write_all(writes: list[Change], plan: NodePlan, ctx: Context, res: RunResult) -> None:
    journal = Journal.start(ctx.tree, plan.node)
    res.run_id = journal.run_id
    written: list[str] = []
    for c in writes:
        try:
            c.apply(ctx, journal)
        except (OSError, StepFailed) as exc:
            undo = _roll_back(ctx, journal, res)
            if not res.rolled_back:
                res.changed += written  # still on disk: the run to revert by hand names them
            if isinstance(exc, StepFailed):
                raise StepFailed(exc.step, exc.message + undo) from None
            raise StepFailed(f"write {c.name}", _os_message(exc) + undo) from None
        written.append(c.name)
    res.changed += written


def _roll_back(ctx: Context, journal: Journal, res: RunResult) -> str:
    """A failed write leaves the live config as it was: put back what this run wrote. Returns
    the words to add to the failure."""
    try:
        restored = revert(ctx.tree, journal.run_id).restored if journal.entries else []
    except Exception as exc:  # the revert itself failed: say so, with the run to revert by hand
        return f"; putting back this run's files failed too ({exc}): bringup revert {journal.run_id}"
    res.rolled_back = True
    return f"; put back {len(restored)} file(s) this run had written" if restored else ""


def _after(writes: list[Change], ctx: Context, res: RunResult) -> None:
    """Reload what read the changed files, and only that."""
    import subprocess

    services: dict[str, str] = {}
    for c in writes:
        if c.kind != "file":
            continue
        mf = c.resource.mf
        if mf.after and ctx.live:
            r = subprocess.run(list(mf.after), capture_output=True, text=True)
            if r.returncode != 0:
                raise StepFailed(f"apply {mf.path} ({' '.join(mf.after)})", ctx.redact((r.stderr or r.stdout)[-800:]))
            res.log.append(f"ran {' '.join(mf.after)}")
        if mf.service:
            if services.get(mf.service) != "restart":
                services[mf.service] = mf.action
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
