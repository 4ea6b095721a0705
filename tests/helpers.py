"""Helpers shared by the tests (plain functions; fixtures live in conftest.py)."""

import io
import os
import struct
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIS = {"rack": "rackdesign.cli", "bringup": "bringup.cli"}


def run_main(main, argv, monkeypatch, capsys):
    """Run a CLI's main() in-process; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", argv)
    code = _exit_code(main)
    out = capsys.readouterr()
    return code, out.out, out.err


def run_main_in(folder, main, argv):
    """run_main for a module- or session-scoped fixture (no monkeypatch or capsys there): in
    `folder`, argv and the working folder restored after; return (exit code, stdout, stderr)."""
    import pytest

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
        mp.chdir(folder)
        mp.setattr(sys, "argv", argv)
        code = _exit_code(main)
    return code, out.getvalue(), err.getvalue()


_ONCE: dict = {}


def once(key: str, make):
    """`make()` the first time `key` is asked for in the session, the same value after. Called
    from a function-scoped fixture, the work runs inside the first test that asks (for a test
    not marked cad: with the CAD stack blocked, see conftest.py); the tests after share it."""
    if key not in _ONCE:
        _ONCE[key] = make()
    return _ONCE[key]


def _exit_code(main) -> int:
    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def sh(*args, cwd=None, env=None, timeout=600, stdin=subprocess.DEVNULL):
    """Run a command as a user would; `rack`/`bringup` run with this interpreter. No terminal on
    stdin by default, so a command that would ask a question refuses instead of waiting."""
    e = dict(os.environ, COLUMNS="200")
    e.update(env or {})
    if args[0] in CLIS:
        args = (sys.executable, "-m", CLIS[args[0]], *args[1:])
    if args[0] == sys.executable:
        # this checkout's code, also where the editable install points at another (a git worktree)
        e["PYTHONPATH"] = os.pathsep.join([*filter(None, e.get("PYTHONPATH", "").split(os.pathsep)), str(ROOT)])
    return subprocess.run(args, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout, stdin=stdin)


def netns_unavailable() -> str | None:
    """Why the lab tests cannot run here (not root, or no network namespaces); None if they can."""
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces)"
    probe = f"pirl-probe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"`ip netns add` is not possible here: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def stl_extent(data: bytes) -> list[float]:
    """The size (x, y, z) of what a binary STL holds: an 80-byte header, a triangle count, then
    50 bytes a triangle (normal, three vertices, attributes). Fails on anything else."""
    (n,) = struct.unpack_from("<I", data, 80)
    assert n > 0 and len(data) == 84 + 50 * n, "not a binary STL"
    tris = list(struct.iter_unpack("<12f2x", data[84:]))  # normal, then three vertices
    return [max(max(t[3 + i], t[6 + i], t[9 + i]) for t in tris) - min(min(t[3 + i], t[6 + i], t[9 + i]) for t in tris)
            for i in range(3)]


def tree_state(root: Path) -> dict:
    """Every entry under `root` (files, folders, links) with what a write would change: kind,
    size, mode, mtime. Two equal states mean nothing under `root` was written or removed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def moved_part(p, dx=0.0, dy=0.0, dz=0.0):
    """A layout part (rackdesign.layout.Part) moved by (dx, dy, dz) mm: its position and box."""
    import dataclasses

    return dataclasses.replace(p, pos=(p.pos[0] + dx, p.pos[1] + dy, p.pos[2] + dz), bbox=p.bbox.moved(dx, dy, dz))


def spacer_into_drive(lay):
    """The layout with its front-left column spacer on the first plate moved 20 mm into the drive
    in x and y: a COLLISION (spacer, drive). Returns (layout, spacer as moved, drive)."""
    import dataclasses

    drive = lay.parts_of("drive")[0]
    sp = next(p for p in lay.parts if p.role == "column" and p.column == "front-left" and p.bbox.z0 == lay.thickness)
    moved = moved_part(sp, drive.pos[0] + 20 - sp.pos[0], drive.pos[1] + 20 - sp.pos[1])
    return dataclasses.replace(lay, parts=[moved if p.name == sp.name else p for p in lay.parts]), moved, drive
