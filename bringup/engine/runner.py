"""plan / run / verify for one node.

run: facts -> diffs -> (live) packages -> every changed config checked by its daemon's checker
-> only then, journal + atomic writes -> (live) after-commands -> commands (live state: the
cluster address up, forwarding, the firewall loaded, the SSD mounted, ...) -> what lives on the
SSD, once it is mounted -> daemons restarted, after the addresses they bind exist.
A failing check stops the run before anything is written. A step that fails after something was
written rolls the whole run back, files and live state (journal.revert): the node is left as it
was, never with new files and old daemons (which the next run would call "no changes").
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import checks
from ..render.model import NodePlan
from . import facts
from .journal import RUNS, Journal, revert
from .resources import (Change, CommandResource, Context, DirResource, FileResource, PackageResource, ServiceResource,
                        StepFailed)


@dataclass
class RunResult:
    node: str
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    run_id: str | None = None
    failed: dict | None = None
    recorded: list[str] = field(default_factory=list)  # commands shown, not run (--root)
    services: list[str] = field(default_factory=list)  # reloaded, or to restart by hand
    skipped: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {"node": self.node, "changed": self.changed, "unchanged": self.unchanged,
                "run_id": self.run_id, "failed": self.failed, "recorded": self.recorded,
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


def _needs_drive(r) -> bool:
    thing = getattr(r, "mf", None) or getattr(r, "md", None)
    return thing is not None and (thing.on_drive or getattr(thing, "needs_drive", False))


def _drive_missing(ctx: Context, needs: bool, mount_point: str | None) -> bool:
    """Live only: the SSD is not mounted, so its folders must not be written onto the SD card
    (nor exports naming them)."""
    if not (ctx.live and needs and mount_point):
        return False
    return not facts.is_mounted(ctx.at(mount_point))


def diff_all(plan: NodePlan, ctx: Context, mount_point: str | None = None) -> tuple[list[Change], int, list[str]]:
    changes, unchanged, skipped = [], 0, []
    for r in resources(plan, ctx):
        thing = getattr(r, "mf", None) or getattr(r, "md", None)
        if _drive_missing(ctx, _needs_drive(r), mount_point):
            skipped.append(f"{thing.path} (the drive is not mounted at {mount_point})")
            continue
        try:
            c = r.diff()
        except OSError as exc:  # e.g. a folder where a file should be, a file we may not read
            raise StepFailed(f"read {getattr(thing, 'path', r)}", _os_message(exc)) from None
        if c is None:
            unchanged += 1
        else:
            changes.append(c)
    return changes, unchanged, skipped


def check_changes(changes: list[Change], ctx: Context, log: list[str]) -> None:
    """Every changed config through its daemon's checker; raise StepFailed on the first failure."""
    for c in changes:
        if c.kind != "file" or not c.resource.mf.check:
            continue
        r: FileResource = c.resource
        if r.current().exists and r.current().data == r.desired():
            continue  # mode/owner only
        try:
            ok, msg = checks.run_check(r.mf.check, r.desired(), Path(r.mf.path).name, ctx.root)
        except checks.CheckerMissing as exc:
            if ctx.live:
                raise StepFailed(f"check {r.mf.path}", f"{exc} is not installed: cannot check the file") from None
            log.append(f"not checked: {r.mf.path} ({exc} is not installed here)")
            continue
        if not ok:
            raise StepFailed(f"check {r.mf.path} with {checks.BINARIES[r.mf.check] or r.mf.check}", ctx.redact(msg))
        log.append(f"checked {r.mf.path} with {checks.BINARIES[r.mf.check] or r.mf.check}: ok")


def _os_message(exc: OSError) -> str:
    return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)


def _clean_stale_temps(changes: list[Change]) -> None:
    """Temp files left by a run that was killed mid-write (atomic_write's `.NAME.*.tmp`)."""
    for c in changes:
        if c.kind == "file":
            t = c.resource.target
            if t.parent.is_dir():
                for stale in t.parent.glob(f".{t.name}.*.tmp"):
                    stale.unlink(missing_ok=True)


def run(plan: NodePlan, ctx: Context, mount_point: str | None = None) -> RunResult:
    res = RunResult(plan.node)
    lockdir = ctx.at("/" + RUNS)
    lockdir.mkdir(parents=True, exist_ok=True)
    with open(lockdir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _run_locked(plan, ctx, mount_point, res)
        except StepFailed as exc:
            res.failed = {"step": exc.step, "message": exc.message}
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
            self.journal = Journal.start(self.ctx.root, self.plan.node)
            res.run_id = self.journal.run_id
        return self.journal


def _run_locked(plan: NodePlan, ctx: Context, mount_point: str | None, res: RunResult) -> None:
    changes, res.unchanged, res.skipped = diff_all(plan, ctx, mount_point)
    res.recorded = [c.detail for c in changes if c.recorded_only]
    todo = [c for c in changes if not c.recorded_only]
    if not todo:
        return
    prog = _Progress(plan, ctx)
    try:
        writes = _packages(todo, ctx, res)
        _write(writes, prog, res)
        _commands([c for c in todo if c.kind == "command"], prog, res)
        _drive_phase(prog, mount_point, res)
        for c in todo:
            if c.kind == "service":
                prog.services[c.name] = "restart"
        _services(prog.services, ctx, res)
    except StepFailed as exc:
        if prog.journal is None:
            raise
        raise StepFailed(exc.step, exc.message + _rollback(prog)) from None


def _packages(todo: list[Change], ctx: Context, res: RunResult) -> list[Change]:
    """Install what is missing; returns the file and folder changes, looked at again if a package
    brought its own default configs (the facts read before the install are stale)."""
    pkgs = [c for c in todo if c.kind == "package"]
    for c in pkgs:
        c.resource.apply(ctx, None)
        res.changed.append(f"packages: {c.name}")
    writes = [c for c in todo if c.kind in ("dir", "file")]
    if pkgs:
        fresh = (getattr(c.resource, "refresh", lambda: c.resource)() for c in writes)
        writes = [c for c in (r.diff() for r in fresh) if c is not None]
    return writes


def _write(writes: list[Change], prog: _Progress, res: RunResult) -> None:
    check_changes(writes, prog.ctx, res.log)
    if not writes:
        return
    _clean_stale_temps(writes)
    journal = prog.journal_for(res)
    for c in writes:
        try:
            c.resource.apply(prog.ctx, journal)
        except OSError as exc:
            raise StepFailed(f"write {c.name}", _os_message(exc)) from None
        res.changed.append(c.name)
    _after(writes, prog, res)


def _commands(cmds: list[Change], prog: _Progress, res: RunResult) -> None:
    for c in cmds:
        try:
            c.resource.apply(prog.ctx, prog.journal_for(res))
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
    changes = [c for c in (r.diff() for r in drive) if c is not None]
    res.unchanged += len(drive) - len(changes)
    _write(changes, prog, res)


def _rollback(prog: _Progress) -> str:
    """Take the failed run back, files and live state; say what happened, for the message."""
    try:
        _, done = revert(prog.ctx.root, prog.journal.run_id, live=prog.ctx.live, systemd=prog.ctx.systemd)
    except Exception as exc:  # the rollback itself failed: say so, with the run to revert by hand
        return f"; rolling this run back failed too ({exc}): bringup revert {prog.journal.run_id}"
    return f"; rolled back: the node is as it was before this run ({len(done)} step(s) undone)"


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
