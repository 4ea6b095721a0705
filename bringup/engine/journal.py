"""The journal: every run that changes something keeps the old files, so it can be undone.

<root>/var/lib/pirack/runs/<run-id>/manifest.json   path, old sha256 (or "absent"), new sha256,
                                                     mode, owner of every file the run replaced
<root>/var/lib/pirack/runs/<run-id>/old/<n>          the old bytes (folder mode 0700)

The manifest names files and hashes only: no contents, so no secrets. Each entry is written
(atomically) before its file is replaced, so even a run killed half-way can be reverted.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from pirack.errors import InputError
from pirack.fsutil import atomic_write

from .facts import FileState, file_state

RUNS = "var/lib/pirack/runs"

_writes = 0


def durable_step() -> None:
    """Count one durable write; the interruption test kills us after N of them."""
    global _writes
    _writes += 1
    limit = os.environ.get("PIRACK_BRINGUP_CRASH_AFTER")
    if limit is not None and _writes >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


def write(path: Path, data: bytes, mode: int, uid: int | None, gid: int | None) -> None:
    if os.geteuid() != 0:
        uid = gid = None  # only root can give files away; tests as a user still work
    atomic_write(path, data, mode=mode, uid=uid, gid=gid)
    durable_step()


def new_run_id() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S.%f") + "Z"


@dataclass
class Journal:
    root: Path
    run_id: str
    node: str
    entries: list[dict] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.root / RUNS / self.run_id

    @classmethod
    def start(cls, root: Path, node: str) -> "Journal":
        j = cls(root, new_run_id(), node)
        (j.folder / "old").mkdir(parents=True, mode=0o700)
        os.chmod(j.folder, 0o700)
        return j

    def _save(self) -> None:
        doc = {"run_id": self.run_id, "node": self.node, "entries": self.entries}
        write(self.folder / "manifest.json", (json.dumps(doc, indent=1) + "\n").encode(), 0o600, None, None)

    def record_file(self, path: str, old: FileState, new_sha: str, mode: int, owner: str,
                    live: dict | None = None) -> None:
        entry = {"path": path, "kind": "file", "old_sha256": old.sha256, "new_sha256": new_sha,
                 "mode": f"{mode:04o}", "owner": owner, **(live or {})}
        if old.exists:
            backup = f"old/{len(self.entries)}"
            write(self.folder / backup, old.data, 0o600, None, None)
            entry.update(backup=backup, old_mode=f"{old.mode:04o}", old_uid=old.uid, old_gid=old.gid)
        self.entries.append(entry)
        self._save()

    def record_command(self, name: str, undo: list[str] | None) -> None:
        """A live change that is not a file (an address on the uplink, a unit enabled): revert
        runs `undo`; a command with none is listed as not undone."""
        self.entries.append({"path": name, "kind": "command", "undo": undo})
        self._save()

    def record_dir(self, path: str, existed: bool) -> None:
        if existed:
            return
        self.entries.append({"path": path, "kind": "dir", "old_sha256": "absent", "new_sha256": "dir"})
        self._save()


def runs(root: Path) -> list[str]:
    d = root / RUNS
    return sorted(p.name for p in d.iterdir() if (p / "manifest.json").exists()) if d.is_dir() else []


def revert(root: Path, run_id: str | None, live: bool = False, systemd: bool = False) -> tuple[str, list[str]]:
    """Put back what run `run_id` (default: the latest) replaced, byte for byte. Live, also the
    live state: each put-back file's revert command (the hostname, the NetworkManager profiles,
    the firewall table, forwarding), each command's undo (the uplink's SNAT address, enabled
    units), then a restart of every daemon whose files went back. Returns the run id and what
    was done; raises WorkFailed naming what could not be undone live (the files are back)."""
    all_runs = runs(root)
    if not all_runs:
        raise InputError(str(root / RUNS), None, "no runs to revert (nothing was ever changed here)")
    run_id = run_id or all_runs[-1]
    if run_id not in all_runs:
        raise InputError(str(root / RUNS), None, f"no run '{run_id}' (runs: {', '.join(all_runs[-5:])})")
    folder = root / RUNS / run_id
    doc = json.loads((folder / "manifest.json").read_text())
    done, hooks, services, problems = [], [], [], []
    for e in reversed(doc["entries"]):
        if e["kind"] == "command":
            if live and e.get("undo"):
                _live_step(e["undo"], f"undo {e['path']}", done, problems)
            elif live:
                done.append(f"not undone (no undo): {e['path']}")
            continue
        _restore(root, folder, e, done)
        if e.get("revert") and e["revert"] not in hooks:
            hooks.append(e["revert"])
        if e.get("service") and e["service"] not in services:
            services.append(e["service"])
    if live:
        for argv in hooks:
            _live_step(argv, " ".join(argv), done, problems)
        for unit in services if systemd else []:
            _live_step(["systemctl", "restart", unit], f"restart {unit}", done, problems)
    if problems:
        from pirack.errors import WorkFailed

        raise WorkFailed(f"run {run_id}: the files are back, but {len(problems)} live step(s) failed",
                         details=problems, data={"run_id": run_id, "done": done})
    return run_id, done


def _restore(root: Path, folder: Path, e: dict, done: list[str]) -> None:
    target = root / e["path"].lstrip("/")
    if e["kind"] == "dir":
        try:
            target.rmdir()  # only if the run made it and it is still empty
            done.append(e["path"] + "/")
        except OSError:
            pass
        return
    if e["old_sha256"] == "absent":
        if target.exists():
            target.unlink()
            durable_step()
            done.append(e["path"])
        return
    data = (folder / e["backup"]).read_bytes()
    if file_state(target).data != data or file_state(target).mode != int(e["old_mode"], 8):
        write(target, data, int(e["old_mode"], 8), e.get("old_uid"), e.get("old_gid"))
        done.append(e["path"])


def _live_step(argv: list[str], what: str, done: list[str], problems: list[str]) -> None:
    import subprocess

    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as exc:
        problems.append(f"{what}: {exc}")
        return
    if r.returncode != 0:
        problems.append(f"{what}: {(r.stderr or r.stdout).strip()[-300:]}")
    else:
        done.append(f"ran: {what}")
