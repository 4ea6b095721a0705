"""Every `--help` of `rack` and `bringup`, as a person reads it: the command lists show each
command's first line whole, and nothing written in square brackets is eaten as rich markup."""

import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

import bringup.cli
import rackdesign.cli

APPS = {"bringup": bringup.cli.app, "rack": rackdesign.cli.app}
# `[word]` as a person wrote it (pip's extras, TOML tables); `\[` is rich's escape for it.
BRACKETED = re.compile(r"\\?\[([a-z][a-z0-9_.-]*)\]")


def _commands(cmd, path):
    yield path, cmd
    for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
        yield from _commands(sub, [*path, name])


def _all():
    return [(" ".join(p), c) for name, app in APPS.items() for p, c in _commands(get_command(app), [name])]


def _texts(cmd):
    return [cmd.help or ""] + [getattr(p, "help", None) or "" for p in cmd.params]


ALL = _all()
WITH_BRACKETS = [(n, c, w) for n, c in ALL
                 if (w := sorted({m.group(1) for t in _texts(c) for m in BRACKETED.finditer(t)}))]


def test_every_command_is_found():
    names = {n for n, _ in ALL}
    assert {"bringup revert", "bringup fleet run", "bringup lab up", "rack export", "rack serve"} <= names


@pytest.mark.parametrize("name,cmd", ALL, ids=[n for n, _ in ALL])
def test_first_paragraph_is_one_line(name, cmd):
    """A group's list shows a command's first paragraph with its line breaks kept (typer): a
    docstring wrapped there lists as broken fragments ("and live" / "the state ..."). The first
    paragraph is one line; the rest goes after a blank line."""
    first = (cmd.help or "").strip().split("\n\n")[0]
    assert "\n" not in first, first


def test_some_help_has_brackets():
    assert {"bringup fleet", "rack serve"} <= {n for n, _, _ in WITH_BRACKETS}


@pytest.mark.parametrize("name,cmd,words", WITH_BRACKETS, ids=[n for n, _, _ in WITH_BRACKETS])
def test_square_brackets_survive_rich_markup(name, cmd, words, monkeypatch):
    """`pip install 'pirack[fleet]'` printed as `pip install 'pirack'`: rich read `[fleet]` as
    a style tag. Every bracketed word in a help text is on the screen as written."""
    monkeypatch.setenv("COLUMNS", "200")  # one line per sentence, so a word is not split
    top, *rest = name.split()
    out = CliRunner().invoke(APPS[top], [*rest, "--help"]).output
    parent = CliRunner().invoke(APPS[top], [*rest[:-1], "--help"]).output if rest else ""
    for w in words:
        assert f"[{w}]" in out + parent, f"{name}: [{w}] is not shown"


FLAGGED = [(n, c) for n, c in ALL if any(getattr(p, "is_flag", False) for p in c.params)]


@pytest.mark.parametrize("name,cmd", FLAGGED, ids=[n for n, _ in FLAGGED])
def test_a_flag_shows_no_value_type(name, cmd, monkeypatch):
    """typer 0.29 printed `--force <bool>`, as if the flag took a value (`--force true` then
    read "true" as the FILE argument). A flag's row shows no type; an option with a value does."""
    monkeypatch.setenv("COLUMNS", "200")
    top, *rest = name.split()
    out = CliRunner().invoke(APPS[top], [*rest, "--help"]).output
    flags = [o for p in cmd.params if getattr(p, "is_flag", False) for o in p.opts if o.startswith("--")]
    rows = {ln.split()[1]: ln for ln in out.splitlines() if ln.startswith("│ --")}
    for flag in [*flags, "--help"]:
        assert "<bool>" not in rows[flag], rows[flag]
    valued = [o for p in cmd.params if not getattr(p, "is_flag", True) and p.param_type_name == "option"
              and p.metavar is None for o in p.opts if o.startswith("--")]
    for opt in valued:
        assert "<" in rows[opt], f"{opt} lost its type: {rows[opt]}"


@pytest.mark.parametrize("argv,has_root", [
    (["plan"], True), (["run"], True), (["netboot", "prepare", "--node", "slave1", "--from", "/x"], True),
    (["netboot", "eeprom", "--node", "slave1"], False),
    (["storage", "format", "--device", "/dev/null", "--yes-i-am-sure", "/dev/null"], False),
])
def test_no_cluster_file_on_a_node_suggests_only_options_the_command_has(bringup_cli, monkeypatch, tmp_path,
                                                                         argv, has_root):
    import bringup.target

    monkeypatch.setattr(bringup.target, "LIVE_CLUSTER", tmp_path / "cluster.toml")
    code, _out, err = bringup_cli(*argv)
    assert code == 2 and "no cluster file" in err, err
    assert ("--root" in err) == has_root
    cmd = get_command(bringup.cli.app)
    for word in (w for w in argv[:2] if not w.startswith("-")):
        cmd = cmd.commands[word]
    assert has_root == any("--root" in p.opts for p in cmd.params)
