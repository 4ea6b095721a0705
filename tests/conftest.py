import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.fixture
def rack(monkeypatch, capsys):
    from rackdesign.cli import main

    return lambda *args: run_main(main, ["rack", *args], monkeypatch, capsys)


@pytest.fixture
def bringup_cli(monkeypatch, capsys):
    from bringup.cli import main

    return lambda *args: run_main(main, ["bringup", *args], monkeypatch, capsys)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty folder, so ./cluster.toml of the checkout is never picked up."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


CLIS = {"rack": "rackdesign.cli", "bringup": "bringup.cli"}


def sh(*args, cwd=None, env=None, timeout=600):
    """Run a command as a user would; `rack`/`bringup` run with this interpreter."""
    e = dict(os.environ, COLUMNS="200")
    e.update(env or {})
    if args[0] in CLIS:
        args = (sys.executable, "-m", CLIS[args[0]], *args[1:])
    return subprocess.run(args, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def default_rack():
    """The built-in default cluster's layout and CadQuery assembly, built once per session.
    Returns (loaded cluster, layout, assembly, assembly build seconds)."""
    import time

    pytest.importorskip("cadquery")
    from pirack.load import load_cluster
    from rackdesign.layout import build_layout
    from rackdesign.model import build_assembly

    lc = load_cluster(None)
    lay = build_layout(lc)
    t0 = time.perf_counter()
    assy = build_assembly(lay, lc.catalog)
    return lc, lay, assy, time.perf_counter() - t0
