"""Helpers shared by the tests (plain functions; fixtures live in conftest.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIS = {"rack": "rackdesign.cli", "bringup": "bringup.cli"}


def run_main(main, argv, monkeypatch, capsys):
    """Run a CLI's main() in-process; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", argv)
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return code, out.out, out.err


def sh(*args, cwd=None, env=None, timeout=600):
    """Run a command as a user would; `rack`/`bringup` run with this interpreter."""
    e = dict(os.environ, COLUMNS="200")
    e.update(env or {})
    if args[0] in CLIS:
        args = (sys.executable, "-m", CLIS[args[0]], *args[1:])
    return subprocess.run(args, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)
