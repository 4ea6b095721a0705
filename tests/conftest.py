import os

import pytest

from helpers import run_main


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
