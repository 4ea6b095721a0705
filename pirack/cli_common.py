"""What both CLIs share: exit codes, error printing, the cluster-file argument."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from .errors import InputError, Interrupt, WorkFailed

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT = 0, 1, 2

ClusterFile = Annotated[
    Optional[Path],
    typer.Argument(
        help="The cluster file. Default: ./cluster.toml if it exists, else the built-in default "
             "(two Pi 4B on PoE+, a 5-port switch, an SSD: `rack init` writes it out).",
        show_default=False,
        dir_okay=False,
    ),
]


def version_text(prog: str) -> str:
    """'rack 0.1.0 (pirack)': the installed distribution's version, from its metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("pirack")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from . import __version__

        v = f"{__version__} (source, not installed)"
    return f"{prog} {v} (pirack)"


def _print_version(ctx: typer.Context, value: bool) -> None:
    if value:
        root = ctx.find_root()
        print(version_text(root.command.name or root.info_name or "pirack"))
        raise typer.Exit()


def add_version_option(app: typer.Typer) -> None:
    """`PROG --version`: print the version and exit 0, before any command runs."""

    @app.callback()
    def _options(
        version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                              callback=_print_version)] = False,
    ) -> None:
        pass


def _flags_take_no_value(params: list) -> list:
    """typer 0.29 shows a flag's type in --help (`--force <bool>`), as if it took a value; a
    person then types `--force true` and "true" is read as the FILE argument. A flag shows none."""
    for p in params:
        if getattr(p, "is_flag", False) and p.metavar is None:
            p.metavar = ""
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: typer.Context) -> list:
        return _flags_take_no_value(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx: typer.Context) -> list:
        return _flags_take_no_value(super().get_params(ctx))


class App(typer.Typer):
    """A typer app, group or sub-group, whose commands' flags show no value type in --help."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cls=_Group, **kwargs)

    def command(self, *args, **kwargs):
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


def make_app(name: str, help: str) -> App:
    """A CLI as both of ours are: no arguments shows the help, -h/--help, rich markup, --version."""
    app = App(name=name, help=help, no_args_is_help=True, rich_markup_mode="rich",
              context_settings={"help_option_names": ["-h", "--help"]})
    add_version_option(app)
    return app


def _interrupted() -> None:
    print("interrupted", file=sys.stderr)
    sys.exit(130)


def run_app(app: typer.Typer) -> None:
    """Run a typer app; bad input exits 2, failed work 1, each with one message and no traceback;
    Ctrl-C exits 130 with "interrupted"."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, Interrupt.handler)
    try:
        app()
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as exc:
        # typer turns a KeyboardInterrupt inside a command into a silent exit 130: say why.
        if exc.code == 130 and Interrupt.seen:
            _interrupted()
        raise
    except Exception as exc:
        if Interrupt.seen:  # e.g. an ImportError from an interrupted import: Ctrl-C, not a bug
            _interrupted()
        _report(exc)
        raise  # not ours to word: a bug, with its traceback


def _report(exc: Exception) -> None:
    """Bad input exits 2, failed work 1, each as one line; anything else returns."""
    if isinstance(exc, InputError):
        print(f"error: {exc.render()}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    if isinstance(exc, WorkFailed):
        print(f"error: {exc.render()}", file=sys.stderr)
        sys.exit(EXIT_PROBLEMS)
    if isinstance(exc, OSError):
        # A file or folder we could not read or write (a full disk, /proc, no permission):
        # the work failed; one line naming the path, no traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(EXIT_PROBLEMS)
