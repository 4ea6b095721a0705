"""Driving `ansible-playbook`: its output streams to the terminal as usual, and a small callback
(callback/pirack_results.py) records every task result, from which we make the per-node summary."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pirack.errors import InputError, WorkFailed

from . import INSTALL_HINT
from .bundle import CONFIG, INVENTORY, PLAN_TASK, PLAYBOOK, RUN_TASK

if TYPE_CHECKING:
    from packaging.requirements import Requirement

CALLBACK_DIR = Path(__file__).with_name("callback")
RESULTS = "results.jsonl"


def find_ansible_playbook() -> str:
    """On PATH only, as a person would run it (the lab finds it the same way inside a namespace)."""
    exe = shutil.which("ansible-playbook")
    if exe is None:
        raise InputError(None, None, f"ansible-playbook is not installed (or not on PATH): {INSTALL_HINT}")
    return exe


def build_wheel(out: Path) -> Path:
    """A wheel of this checkout (hatchling, through `pip wheel --no-deps`), for the nodes: built
    in this Python when it has hatchling (the [fleet] extra brings it), isolated otherwise."""
    root = Path(__file__).resolve().parents[2]
    if not ((root / "pyproject.toml").is_file() and (root / "bringup").is_dir()):
        raise InputError(None, "--package", f"pirack here is installed, not a checkout ({root}): "
                         "give the nodes a package to install, like --package 'pirack==0.1.0'")
    wheels = out / "wheel"
    wheels.mkdir(parents=True, exist_ok=True)
    for old in wheels.glob("pirack-*.whl"):
        old.unlink()
    r = subprocess.run(pip_wheel_argv(root, wheels, isolated=not build_backend_here(root)),
                       capture_output=True, text=True)
    found = sorted(wheels.glob("pirack-*.whl"))
    if r.returncode != 0 or not found:  # the work failed (exit 1), the input was fine
        raise WorkFailed(f"{root / 'pyproject.toml'}: building the wheel failed: "
                         f"{(r.stderr or r.stdout).strip()[-600:]}")
    return found[0]


def build_backend_here(root: Path) -> bool:
    """This Python has the checkout's build backend (hatchling), at a version its pyproject.toml
    allows: pip can build in this environment. Otherwise pip isolates the build and fetches the
    backend from PyPI into a new environment (every run: ~3 s, and no wheel without network)."""
    try:
        build = tomllib.loads((root / "pyproject.toml").read_text())["build-system"]
        # found, not imported: the controller needs no build backend in its own process
        if importlib.util.find_spec(build["build-backend"].split(":")[0]) is None:  # "module[:object]"
            return False
        from packaging.requirements import Requirement  # hatchling's own dependency

        return all(_installed_satisfies(Requirement(r)) for r in build["requires"])
    except (ImportError, KeyError, ValueError):  # no backend, no packaging, no [build-system]
        return False


def _installed_satisfies(req: Requirement) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return req.specifier.contains(version(req.name), prereleases=True)
    except PackageNotFoundError:
        return False


def pip_wheel_argv(root: Path, wheels: Path, *, isolated: bool) -> list[str]:
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check"]
    return argv + ([] if isolated else ["--no-build-isolation"]) + ["-w", str(wheels), str(root)]


@dataclass
class NodeResult:
    node: str
    status: str  # changed | ok | failed | unreachable | not run
    changes: int | None  # what bringup changed (run) or would change (plan)
    other: int  # other tasks that changed (the cluster file, the install)
    detail: str


def _last_error(rec: dict, fallback: str) -> str:
    err = (rec.get("stderr") or rec.get("msg") or "").strip().splitlines()
    return err[-1] if err else fallback


def _bringup_detail(rec: dict) -> tuple[int | None, str]:
    """bringup's own words from its JSON summary (run) or its last line (plan)."""
    out = rec.get("stdout") or ""
    if rec["task"] == RUN_TASK:
        return _run_detail(rec, out)
    lines = out.strip().splitlines()
    last = lines[-1] if lines else ""
    if rec["status"] == "failed":
        return None, _last_error(rec, last)
    return (int(last.split()[0]) if last[:1].isdigit() else 0), last


def _run_detail(rec: dict, out: str) -> tuple[int | None, str]:
    """(files changed, what happened) from `bringup run --json`'s summary."""
    try:
        s = json.loads(out)
    except (json.JSONDecodeError, TypeError):
        return None, _last_error(rec, f"exit {rec.get('rc')}")
    n = len(s.get("changed") or [])
    if s.get("failed"):
        return n, f"{s['failed']['step']}: {s['failed']['message']}"
    return n, f"run {s['run_id']}" if s.get("run_id") else f"all {s.get('unchanged')} as planned"


def summarize(records: list[dict], hosts: list[str]) -> list[NodeResult]:
    """One result per host, from the task records our Ansible callback wrote."""
    return [_node_result(h, [r for r in records if r["host"] == h]) for h in hosts]


def _failure_detail(bad: dict) -> tuple[int | None, str]:
    if bad["task"] in (RUN_TASK, PLAN_TASK):
        return _bringup_detail(bad)
    return None, f"{bad['task']}: {(bad.get('msg') or bad.get('stderr') or '').strip()[:300]}"


def _node_result(host: str, mine: list[dict]) -> NodeResult:
    if not mine:
        return NodeResult(host, "not run", None, 0, "not in --limit, or the play stopped before it")
    bad = next((r for r in mine if r["status"] in ("failed", "unreachable")), None)
    main = next((r for r in mine if r["task"] in (RUN_TASK, PLAN_TASK) and r["status"] != "skipped"), None)
    other = sum(1 for r in mine if r["status"] == "changed" and r is not main)
    if bad is not None:
        n, detail = _failure_detail(bad)
        return NodeResult(host, bad["status"], n, other, detail)
    if main is None:
        return NodeResult(host, "not run", None, other, "bringup did not run")
    n, detail = _bringup_detail(main)
    return NodeResult(host, "changed" if main["status"] == "changed" else "ok", n, other, detail)


def read_records(path: Path) -> list[dict]:
    try:
        return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
    except FileNotFoundError:
        return []


def run_playbook(bundle: Path, *, check: bool = False, limit: str | None = None, extra: list[str] = (),
                 netns: str | None = None, env: dict | None = None) -> tuple[int, list[dict]]:
    """Run ansible-playbook on the bundle; its output goes straight to ours. Returns (exit code,
    the task results)."""
    exe = find_ansible_playbook()
    bundle = bundle.resolve()
    results = bundle / RESULTS
    results.unlink(missing_ok=True)
    e = dict(os.environ)
    e.update({
        "ANSIBLE_CONFIG": str(bundle / CONFIG),  # never an ansible.cfg that happens to be in cwd
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
        "ANSIBLE_CALLBACKS_ENABLED": "pirack_results",
        "PIRACK_FLEET_RESULTS": str(results),
    })
    e.update(env or {})
    argv = [exe, "-i", str(bundle / INVENTORY), str(bundle / PLAYBOOK)]
    if check:
        argv.append("--check")
    if limit:
        argv += ["--limit", limit]
    argv += list(extra)
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    sys.stdout.flush()
    rc = subprocess.run(argv, cwd=bundle, env=e).returncode
    return rc, read_records(results)
