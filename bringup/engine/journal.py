"""The journal: every run that changes something keeps the old files, so it can be undone.

<root>/var/lib/pirack/runs/<run-id>/manifest.json   path, old sha256 (or "absent"), new sha256,
                                                     mode, owner of every file the run replaced
<root>/var/lib/pirack/runs/<run-id>/old/<n>          the old bytes (folder mode 0700)
<root>/var/lib/pirack/runs/<run-id>/edited/<n>       a file edited after the run, kept by `revert --force`

The manifest names files and hashes only: no contents, so no secrets. Each entry is written
(atomically) before its file is replaced, so even a run killed half-way can be reverted. All of
it goes through the node's tree (pirack.fsutil.NodeTree): never through a link out of the root.

Revert first compares each file with what the run wrote. A file edited since then is not
silently overwritten: revert refuses, naming every such file, and changes nothing; with
`--force` it goes on and keeps each edited file beside the run's backups. Refusing is the
default because an edit after the run is someone's work, and only they know if it should go.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import signal
import stat
from dataclasses import dataclass, field

from pirack.errors import InputError, WorkFailed
from pirack.fsutil import NodeTree

from .facts import FileState, file_state

RUNS = "/var/lib/pirack/runs"
LOCK = f"{RUNS}/.lock"

_writes = 0


def durable_step() -> None:
    """Count one durable write; the interruption test kills us after N of them."""
    global _writes
    _writes += 1
    limit = os.environ.get("PIRACK_BRINGUP_CRASH_AFTER")
    if limit is not None and _writes >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


def write(tree: NodeTree, path: str, data: bytes, mode: int, uid: int | None, gid: int | None) -> None:
    if os.geteuid() != 0:
        uid = gid = None  # only root can give files away; tests as a user still work
    tree.write(path, data, mode=mode, uid=uid, gid=gid)
    durable_step()


def new_run_id() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S.%f") + "Z"


@dataclass
class Journal:
    tree: NodeTree
    run_id: str
    node: str
    entries: list[dict] = field(default_factory=list)

    @property
    def folder(self) -> str:
        return f"{RUNS}/{self.run_id}"

    @classmethod
    def start(cls, tree: NodeTree, node: str) -> "Journal":
        j = cls(tree, new_run_id(), node)
        tree.makedirs(j.folder, 0o700)
        tree.makedirs(f"{j.folder}/old", 0o700)
        return j

    def _save(self) -> None:
        doc = {"run_id": self.run_id, "node": self.node, "entries": self.entries}
        write(self.tree, f"{self.folder}/manifest.json", (json.dumps(doc, indent=1) + "\n").encode(), 0o600, None, None)

    def record_file(self, path: str, old: FileState, new_sha: str, mode: int, owner: str,
                    live: dict | None = None) -> None:
        """`live`: what revert does on a live node after putting the file back ({"revert": argv,
        "service": unit})."""
        entry = {"path": path, "kind": "file", "old_sha256": old.sha256, "new_sha256": new_sha,
                 "mode": f"{mode:04o}", "owner": owner, **(live or {})}
        if old.exists:
            backup = f"old/{len(self.entries)}"
            write(self.tree, f"{self.folder}/{backup}", old.data, 0o600, None, None)
            entry.update(backup=backup, old_mode=f"{old.mode:04o}", old_uid=old.uid, old_gid=old.gid)
        self.entries.append(entry)
        self._save()

    def record_command(self, name: str, undo: list[str] | None) -> None:
        """A live change that is not a file (an address on the uplink, a unit enabled): revert
        runs `undo`; a command with none is listed as not undone."""
        self.entries.append({"path": name, "kind": "command", "undo": undo})
        self._save()

    def record_dirs(self, paths: list[str]) -> None:
        """Folders this run made (revert removes them again if they are still empty)."""
        if not paths:
            return
        self.entries += [{"path": p, "kind": "dir", "old_sha256": "absent", "new_sha256": "dir"} for p in paths]
        self._save()


def runs(tree: NodeTree) -> list[str]:
    return [r for r in tree.listdir(RUNS) if not r.startswith(".") and tree.lstat(f"{RUNS}/{r}/manifest.json")]


def sweep(tree: NodeTree) -> list[str]:
    """What killed runs left in the journal (call it holding the run lock): temp files of its
    writes, and run folders without a manifest (killed before their first entry: nothing of
    theirs was replaced yet)."""
    gone = []
    for r in tree.listdir(RUNS):
        folder = f"{RUNS}/{r}"
        st = tree.lstat(folder)
        if r.startswith(".") or st is None or not stat.S_ISDIR(st.st_mode):
            continue  # the lock file
        for sub in (folder, f"{folder}/old", f"{folder}/edited"):
            gone += [f"{sub}/{t}" for t in tree.remove_temps(sub)]
        if tree.lstat(f"{folder}/manifest.json") is not None:
            continue
        for sub in (f"{folder}/old", f"{folder}/edited"):
            for name in tree.listdir(sub):
                tree.unlink(f"{sub}/{name}")
            tree.rmdir(sub)
        if tree.rmdir(folder):
            gone.append(folder)
    return gone


def _load_run(tree: NodeTree, run_id: str | None) -> tuple[str, dict]:
    all_runs = runs(tree)
    where = str(tree.host_path(RUNS))
    if not all_runs:
        raise InputError(where, None, "no runs to revert (nothing was ever changed here)")
    run_id = run_id or all_runs[-1]
    if run_id not in all_runs:
        raise InputError(where, None, f"no run '{run_id}' (runs: {', '.join(all_runs[-5:])})")
    got = tree.read(f"{RUNS}/{run_id}/manifest.json")
    return run_id, json.loads(got[0])


def _now(tree: NodeTree, path: str) -> FileState | str:
    """The file as it is now, or why it cannot be compared (a link or a folder stands there)."""
    try:
        return file_state(tree, path)
    except OSError as exc:
        return exc.strerror or str(exc)


def _edited(tree: NodeTree, entries: list[dict]) -> list[tuple[int, dict, FileState | str]]:
    """The files that are neither what the run wrote nor what it replaced: edited since."""
    out = []
    for i, e in enumerate(entries):
        if e["kind"] != "file":
            continue
        now = _now(tree, e["path"])
        if isinstance(now, str) or now.sha256 not in (e["new_sha256"], e["old_sha256"]):
            out.append((i, e, now))
    return out


@dataclass
class Reverted:
    run_id: str
    restored: list[str] = field(default_factory=list)  # paths put back or removed
    kept: list[str] = field(default_factory=list)  # "PATH -> where its edited version was kept"
    live: list[str] = field(default_factory=list)  # live steps done ("ran: ...", "not undone: ...")


def revert(tree: NodeTree, run_id: str | None, force: bool = False, live: bool = False,
           systemd: bool = False) -> Reverted:
    """Put back what run `run_id` (default: the latest) replaced, byte for byte. A file edited
    since the run stops it (nothing changed) unless `force`, which keeps each edited file.
    `live` (a live node): also the live state — each command's undo (the uplink's SNAT address,
    enabled units), each put-back file's revert command (hostname, network profiles, the
    firewall table, forwarding), then a restart of every daemon whose files went back. Raises
    WorkFailed naming the live steps that failed (the files are back)."""
    run_id, doc = _load_run(tree, run_id)
    entries = doc["entries"]
    edited = _edited(tree, entries)
    if edited and not force:
        raise WorkFailed(f"revert {run_id}: {len(edited)} file(s) changed since the run wrote them; nothing was "
                         f"reverted. Look at them; `bringup revert {run_id} --force` reverts anyway and keeps "
                         f"each edited file in {tree.host_path(RUNS)}/{run_id}/edited/",
                         details=[f"{e['path']}: {now if isinstance(now, str) else 'edited'}" for _, e, now in edited],
                         data={"run_id": run_id, "edited": [e["path"] for _, e, _ in edited]})
    res = Reverted(run_id)
    for i, e, now in edited:
        res.kept.append(_keep_edit(tree, run_id, i, e, now))
    for e in reversed(entries):
        if e["kind"] == "command":
            continue
        if _revert_entry(tree, run_id, e):
            res.restored.append(e["path"] + ("/" if e["kind"] == "dir" else ""))
    if live:
        _revert_live(entries, systemd, res)
    return res


def _revert_live(entries: list[dict], systemd: bool, res: Reverted) -> None:
    problems: list[str] = []
    hooks, services = [], []
    for e in reversed(entries):
        if e["kind"] == "command":
            if e.get("undo"):
                _live_step(e["undo"], f"undo {e['path']}", res.live, problems)
            else:
                res.live.append(f"not undone (no undo): {e['path']}")
        if e.get("revert") and e["revert"] not in hooks:
            hooks.append(e["revert"])
        if e.get("service") and e["service"] not in services:
            services.append(e["service"])
    for argv in hooks:
        _live_step(argv, " ".join(argv), res.live, problems)
    for unit in services if systemd else []:
        _live_step(["systemctl", "restart", unit], f"restart {unit}", res.live, problems)
    if problems:
        raise WorkFailed(f"revert {res.run_id}: the files are back, but {len(problems)} live step(s) failed",
                         details=problems, data={"run_id": res.run_id, "restored": res.restored, "live": res.live})


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


def _keep_edit(tree: NodeTree, run_id: str, i: int, e: dict, now: FileState | str) -> str:
    if isinstance(now, str):  # a link or a folder: nothing to copy; the link itself is replaced
        return f"{e['path']} ({now}): replaced"
    keep = f"{RUNS}/{run_id}/edited/{i}"
    tree.makedirs(f"{RUNS}/{run_id}/edited", 0o700)
    write(tree, keep, now.data, 0o600, None, None)
    return f"{e['path']} -> {tree.host_path(keep)}"


def _revert_entry(tree: NodeTree, run_id: str, e: dict) -> bool:
    path = e["path"]
    if e["kind"] == "dir":
        return tree.rmdir(path)  # only if the run made it and it is still empty
    now = _now(tree, path)
    if isinstance(now, FileState) and now.sha256 == e["old_sha256"]:
        return False  # already as before the run
    if e["old_sha256"] == "absent":
        gone = tree.unlink(path)
        durable_step()
        return gone
    if not isinstance(now, FileState):
        tree.unlink(path)  # forced: a link that stands where the run's file was goes, not followed
    data = tree.read(f"{RUNS}/{run_id}/{e['backup']}")[0]
    write(tree, path, data, int(e["old_mode"], 8), e.get("old_uid"), e.get("old_gid"))
    return True
