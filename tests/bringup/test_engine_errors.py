"""A file system that fights back: failed reads and writes are failed steps (exit 1, one message,
no traceback), and a write that fails midway leaves the live config as it was."""

import json

from bringup_helpers import seed_old_root, snapshot


def test_a_folder_where_a_file_should_be(bringup_cli, tmp_path, secret_env):
    (tmp_path / "etc/chrony/chrony.conf").mkdir(parents=True)
    code, out, err = bringup_cli("run", "--node", "master", "--root", str(tmp_path), "--json")
    assert code == 1 and "Traceback" not in err
    res = json.loads(out)
    assert res["failed"]["step"] == "read /etc/chrony/chrony.conf"
    host = str(tmp_path / "etc/chrony/chrony.conf")
    assert res["failed"]["message"] == f"{host}: is a folder, expected a file"
    code, out, err = bringup_cli("plan", "--node", "master", "--root", str(tmp_path))
    assert code == 1 and "read /etc/chrony/chrony.conf" in err and "Traceback" not in err


def test_a_folder_at_etc_hosts_names_the_path_not_an_fd(bringup_cli, tmp_path, secret_env):
    """`mkdir -p r/etc/hosts; bringup run --root r` once said "read /etc/hosts: Is a directory: 4":
    open() on the folder's fd put the fd's number where the path belongs."""
    (tmp_path / "etc/hosts").mkdir(parents=True)
    for command in ("run", "plan"):
        code, out, err = bringup_cli(command, "--node", "master", "--root", str(tmp_path))
        assert code == 1 and "Traceback" not in err, err
        line = next(ln for ln in err.splitlines() if ln.startswith("error: "))
        assert line == f"error: read /etc/hosts: {tmp_path / 'etc/hosts'}: is a folder, expected a file", line
    assert (tmp_path / "etc/hosts").is_dir() and not any((tmp_path / "etc/hosts").iterdir())


def test_a_write_that_fails_midway_puts_back_the_others(bringup_cli, tmp_path, secret_env, monkeypatch):
    from bringup.engine import resources

    seed_old_root(tmp_path)
    before = snapshot(tmp_path)
    real = resources.FileResource.apply
    calls = []

    def apply(self, ctx, journal, change):
        calls.append(self.mf.path)
        if len(calls) == 5:  # four files already replaced, then the disk says no
            raise PermissionError(1, "Operation not permitted", str(ctx.at(self.mf.path)))
        return real(self, ctx, journal, change)

    monkeypatch.setattr(resources.FileResource, "apply", apply)
    code, out, err = bringup_cli("run", "--node", "master", "--root", str(tmp_path), "--json")
    assert code == 1 and "Traceback" not in err
    res = json.loads(out)
    assert res["failed"]["step"] == f"write {calls[4]}" or calls[4] in res["failed"]["step"]
    assert "Operation not permitted" in res["failed"]["message"] and "rolled back" in res["failed"]["message"]
    assert len(calls) == 5
    assert snapshot(tmp_path) == before  # every file byte for byte as it was
    assert res["changed"] == []  # and the summary says so: what was written was put back
