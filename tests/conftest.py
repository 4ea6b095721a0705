import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import run_main

# pytest keeps each test module with its assertions rewritten in __pycache__ (outside git), unless
# PYTHONDONTWRITEBYTECODE is set, as it is on these machines: then every run (every xdist worker)
# rewrites and compiles all of them again, 3-4 s of a quick run. The suite keeps its copies.
sys.dont_write_bytecode = False


@pytest.fixture(scope="session", autouse=True)
def _cache_in_tmp(tmp_path_factory):
    """The export cache lives in the user's cache folder: tests (and the commands they start)
    keep theirs in a scratch folder, never in the home of whoever runs them."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


# --- the CAD-free lane --------------------------------------------------------------------------
# A test not marked `cad` says it needs no CAD stack: it runs as on a Pi without the [rack] extra,
# CadQuery and OCP blocked in this process and in every command it starts. So the marker is
# checked, not trusted (a test that needs the stack without the marker fails), the fallbacks
# (collision checks skipped with a warning, a clear message where a command needs the stack) are
# what these tests see, and `pytest -m "not root and not cad"` never waits on OpenCascade.
CAD_STACK = ("cadquery", "OCP")
# our modules that import the stack when they are imported: a copy already in sys.modules (from a
# `cad` test earlier in the session) would hand it over without an import to block
CAD_IMPORTERS = ("rackdesign.model", "rackdesign.checks.collisions")


class _BlockCad:
    """A meta-path finder that refuses the CAD stack, as an import of a missing package would."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in CAD_STACK:
            raise ModuleNotFoundError(f"No module named '{name}' (the CAD stack is blocked in tests not marked cad)", name=name)


def _blocker_folder(config) -> str:
    """A folder that, first on PYTHONPATH, makes `import cadquery` / `import OCP` fail in a child
    process; one per pytest process (each xdist worker has its own), removed at the end."""
    if not hasattr(config, "_pirack_cad_free"):
        d = Path(tempfile.mkdtemp(prefix="pirack-cad-free-"))
        for pkg in CAD_STACK:
            (d / pkg).mkdir()
            (d / pkg / "__init__.py").write_text(
                f"raise ModuleNotFoundError(\"No module named '{pkg}' (the CAD stack is blocked in tests not marked cad)\", "
                f"name={pkg!r})\n")
        config._pirack_cad_free = str(d)
    return config._pirack_cad_free


def pytest_unconfigure(config):
    if hasattr(config, "_pirack_cad_free"):
        shutil.rmtree(config._pirack_cad_free, ignore_errors=True)


@contextlib.contextmanager
def _cad_blocked(item):
    """The CAD stack out of reach for the duration of one phase of a test not marked cad. A
    hook, not a fixture: a module- or session-scoped fixture is set up inside the setup phase of
    the first test that asks, before any function-scoped fixture could block anything."""
    if item.get_closest_marker("cad"):
        yield
        return
    mp = pytest.MonkeyPatch()
    try:
        loaded = any(sys.modules.get(pkg) is not None for pkg in CAD_STACK)  # a cad test ran before
        names = [m for m in sys.modules if m.split(".")[0] in CAD_STACK] if loaded else []
        for name in names + [m for m in CAD_IMPORTERS if m in sys.modules]:
            mp.setitem(sys.modules, name, None)  # None in sys.modules: the import raises
        for name in CAD_IMPORTERS:
            parent, _, attr = name.rpartition(".")
            if sys.modules.get(parent) is not None:
                mp.delattr(sys.modules[parent], attr, raising=False)  # `from . import x` reads it first
        mp.setattr(sys, "meta_path", [_BlockCad(), *sys.meta_path])
        paths = [_blocker_folder(item.config), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        mp.setenv("PYTHONPATH", os.pathsep.join(paths))
        yield
    finally:
        mp.undo()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    with _cad_blocked(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with _cad_blocked(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    with _cad_blocked(item):
        yield


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


@pytest.fixture(scope="session")
def default_rack():
    """The built-in default cluster's layout and CadQuery assembly, built once per session.
    Returns (loaded cluster, layout, assembly)."""
    pytest.importorskip("cadquery")
    from pirack.load import load_cluster
    from rackdesign.layout import build_layout
    from rackdesign.model import build_assembly

    lc = load_cluster(None)
    lay = build_layout(lc)
    return lc, lay, build_assembly(lay, lc.catalog)


# CI installs every tool the suite uses (tools/install.sh --test): there, a test that skips
# because a browser, a daemon or a library is missing has not run, and must not pass as green.
# Skips a test declares on purpose carry ALLOWED_SKIP in their reason.
ALLOWED_SKIP = "[skip allowed in CI]"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") != "true" or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if ALLOWED_SKIP in reason:
        return
    report.outcome = "failed"
    report.longrepr = f"skipped in CI, where every tool is installed: {reason}"
