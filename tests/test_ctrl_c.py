"""Ctrl-C: "interrupted", exit 130, never a traceback and never "carry on without the CAD stack".
An interrupt that lands inside a C extension's import (CadQuery's OCP) surfaces as ImportError."""

import pytest
import typer

from pirack.cli_common import make_app, run_app
from pirack.errors import Interrupt


@pytest.fixture
def seen(monkeypatch):
    monkeypatch.setattr(Interrupt, "seen", True)


def _app(exc: BaseException) -> typer.Typer:
    app = make_app("t", "test app")

    @app.command()
    def go() -> None:
        raise exc

    @app.command()
    def other() -> None:
        pass

    return app


@pytest.mark.parametrize("exc", [ImportError("initialization failed"), ConnectionResetError(104, "Connection reset by peer")])
def test_an_error_after_ctrl_c_is_interrupted(seen, capsys, monkeypatch, exc):
    monkeypatch.setattr("sys.argv", ["t", "go"])
    with pytest.raises(SystemExit) as ei:
        run_app(_app(exc))
    assert ei.value.code == 130 and capsys.readouterr().err.strip() == "interrupted"


def test_ctrl_c_inside_a_command_says_interrupted(capsys, monkeypatch):
    """typer turns a KeyboardInterrupt raised inside a command into a bare exit 130 (what
    `rack export` did when Ctrl-C came during the CAD work): the CLI still says why it stopped."""
    def ctrl_c():
        Interrupt.handler(2, None)

    app = make_app("t", "test app")
    app.command()(ctrl_c)
    app.command()(lambda: None)
    monkeypatch.setattr(Interrupt, "seen", False)
    monkeypatch.setattr("sys.argv", ["t", "ctrl-c"])
    with pytest.raises(SystemExit) as ei:
        run_app(app)
    assert ei.value.code == 130 and capsys.readouterr().err.strip() == "interrupted"


def test_the_same_error_without_ctrl_c_is_reported_as_before(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["t", "go"])
    with pytest.raises(SystemExit) as ei:
        run_app(_app(PermissionError(13, "Permission denied", "/x")))
    assert ei.value.code == 1 and capsys.readouterr().err.strip() == "error: /x: Permission denied"


def test_collision_checks_are_not_skipped_by_an_interrupted_import(seen, monkeypatch):
    """An ImportError from the collision module is "the [rack] extra is missing" (a SKIPPED
    warning) only when Ctrl-C did not come; after Ctrl-C it stops the checks."""
    import builtins

    from pirack.load import load_cluster
    from rackdesign.checks import run_checks
    from rackdesign.layout import build_layout

    real = builtins.__import__

    def interrupted_import(name, *a, **k):
        if name.endswith("collisions") or (a and a[2] and "collisions" in a[2]):
            raise ImportError("initialization failed")
        return real(name, *a, **k)

    lc = load_cluster(None)
    lay = build_layout(lc)
    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    with pytest.raises(KeyboardInterrupt):
        run_checks(lc, lay, geometry=True, use_cache=False)
    monkeypatch.setattr(Interrupt, "seen", False)
    r = run_checks(lc, lay, geometry=True, use_cache=False)
    assert [f.code for f in r.findings if f.code == "SKIPPED"] == ["SKIPPED"]
