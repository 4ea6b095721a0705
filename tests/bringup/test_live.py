"""A live `bringup` (no --root) reads the file given or /etc/pirack/cluster.toml, never
./cluster.toml or the built-in default: that would reconfigure the node to another network."""

from pathlib import Path

import pytest

from bringup import target
from pirack.paths import default_text


@pytest.fixture
def no_live_file(tmp_path, monkeypatch):
    monkeypatch.setattr(target, "LIVE_CLUSTER", tmp_path / "etc/pirack/cluster.toml")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.toml").write_text(default_text())  # a file here must not be taken either
    return tmp_path / "etc/pirack/cluster.toml"


@pytest.mark.parametrize("args", [["plan", "--node", "master"], ["run", "--node", "master"], ["verify"],
                                  ["netboot", "prepare", "--node", "slave1", "--from", "."],
                                  ["netboot", "eeprom", "--node", "slave1"],
                                  ["storage", "format", "--device", "/dev/null"]])
def test_live_without_a_file_stops(args, no_live_file, bringup_cli, secret_env):
    code, out, err = bringup_cli(*args)
    assert code == 2 and "Traceback" not in err
    assert str(no_live_file) in err and "never falls back" in err
    assert out == ""


def test_which_file_is_read(no_live_file, tmp_path):
    given = tmp_path / "given.toml"
    assert target.cluster_file(given, None) == given  # the file given, live or not
    assert target.cluster_file(None, tmp_path) is None  # --root: ./cluster.toml or the default, as rack
    no_live_file.parent.mkdir(parents=True)
    no_live_file.write_text(default_text())
    assert target.cluster_file(None, None) == no_live_file


def test_the_run_message_when_no_file_was_written(capsys):
    """Only packages or commands changed: no journal, so no `bringup revert None` to offer."""
    from bringup.cli import _show_run
    from bringup.engine.runner import RunResult

    _show_run(RunResult("master", changed=["command: add 192.168.11.211/24 to the wlan0 connection"], unchanged=20),
              None)
    out = capsys.readouterr().out
    assert "None" not in out and "no file was written" in out
    _show_run(RunResult("master", changed=["/etc/hosts"], run_id="20260101T000000.000000Z"), Path("/r"))
    assert "bringup revert 20260101T000000.000000Z --root /r" in capsys.readouterr().out
