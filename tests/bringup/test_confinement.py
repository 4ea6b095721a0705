"""The apply engine stays inside its root: links planted in the node's tree are resolved inside
it or refused, never followed out; modes come from files, never from a link; revert does not
overwrite an edit; what a killed run left (temp files, checker folders) goes."""

import json
import os
import stat

import pytest

from bringup_helpers import seed_old_root, snapshot

pytestmark = pytest.mark.usefixtures("secret_env")


def tree_state(base) -> dict:
    """Every entry under base (links as links): path -> (kind, bytes or target, mode); /var left
    out (the seed root has none: there the run keeps its lock and journal)."""
    out = {}
    for dirpath, dirs, files in os.walk(base):
        if dirpath == str(base):
            dirs[:] = [d for d in dirs if d != "var"]
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, base)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p), None)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", None, stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ("file", open(p, "rb").read(), stat.S_IMODE(st.st_mode))
    return out


@pytest.fixture
def world(tmp_path):
    """A root, and beside it the 'rest of the machine' that must never be touched."""
    root = tmp_path / "root"
    root.mkdir()
    seed_old_root(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "hosts").write_text("10.0.0.1 outside-the-root\n")
    (outside / "hosts").chmod(0o644)
    return root, outside


def no_0777_files(root) -> bool:
    return not [p for p, (kind, _, mode) in tree_state(root).items() if kind == "file" and mode & 0o077 == 0o077]


@pytest.mark.parametrize("target", ["ABS", "../../../../../../../../../../ABS"])
def test_a_linked_folder_never_leads_out_of_the_root(world, bringup_cli, target):
    """ROOT/etc/dnsmasq.d -> /outside (absolute, or by climbing with '..'): resolved inside the
    root as the node would see it, where that folder does not exist: the run fails and puts back
    what it wrote; nothing is written outside."""
    root, outside = world
    (root / "etc/dnsmasq.d/pirack.conf").unlink()
    (root / "etc/dnsmasq.d").rmdir()
    (root / "etc/dnsmasq.d").symlink_to(target.replace("ABS", str(outside).lstrip("/") if ".." in target else str(outside)))
    before_out, before_root = tree_state(outside), snapshot(root)
    code, out, err = bringup_cli("run", "--node", "master", "--root", str(root), "--json")
    assert code == 1 and "Traceback" not in err
    res = json.loads(out)
    assert res["failed"]["step"] == "write /etc/dnsmasq.d/pirack.conf" and "put back" in res["failed"]["message"]
    assert tree_state(outside) == before_out
    assert snapshot(root) == before_root


def test_a_linked_folder_inside_the_root_is_where_the_file_goes(world, bringup_cli):
    """ROOT/etc/dnsmasq.d -> /srv/dnsmasq.d (a folder of the node): the file is written there,
    as dnsmasq on the node would read it; a rerun sees it and changes nothing."""
    root, outside = world
    (root / "etc/dnsmasq.d/pirack.conf").unlink()
    (root / "etc/dnsmasq.d").rmdir()
    (root / "srv/dnsmasq.d").mkdir(parents=True)
    (root / "etc/dnsmasq.d").symlink_to("/srv/dnsmasq.d")
    before_out = tree_state(outside)
    code, out, err = bringup_cli("run", "--node", "master", "--root", str(root))
    assert code == 0, err
    assert "dhcp-range=" in (root / "srv/dnsmasq.d/pirack.conf").read_text()
    assert (root / "etc/dnsmasq.d").is_symlink() and tree_state(outside) == before_out
    assert "no changes" in bringup_cli("run", "--node", "master", "--root", str(root))[1]


@pytest.mark.parametrize("path", ["/etc/hosts", "/etc/chrony/chrony.conf"])
def test_a_linked_file_is_refused_not_followed(world, bringup_cli, path):
    """A link where a managed file is (a block file like /etc/hosts, or a whole file): plan and
    run refuse it, naming it; nothing is written anywhere and no 0777 file appears."""
    root, outside = world
    p = root / path.lstrip("/")
    p.unlink()
    p.symlink_to(outside / "hosts")
    before_out, before_root = tree_state(outside), tree_state(root)
    for cmd in ("plan", "run"):
        code, out, err = bringup_cli(cmd, "--node", "master", "--root", str(root))
        assert code == 1 and "Traceback" not in err and err.count("error:") == 1
        assert f"refuse {path}" in err and "symbolic link" in err and str(outside / "hosts") in err
    assert tree_state(outside) == before_out and tree_state(root) == before_root
    assert no_0777_files(root)


def test_revert_never_recreates_a_link_as_a_0777_file(world, bringup_cli):
    root, outside = world
    (root / "etc/hosts").chmod(0o644)
    before = tree_state(root)
    assert bringup_cli("run", "--node", "master", "--root", str(root))[0] == 0
    # after the run, someone puts a link where the run wrote /etc/hosts
    (root / "etc/hosts").unlink()
    (root / "etc/hosts").symlink_to(outside / "hosts")
    code, out, err = bringup_cli("revert", "--root", str(root))
    assert code == 1 and "/etc/hosts: is a symbolic link" in err and "nothing was reverted" in err
    assert (root / "etc/hosts").is_symlink()
    code, out, err = bringup_cli("revert", "--root", str(root), "--force")
    assert code == 0, err
    assert tree_state(root) == before
    assert stat.S_IMODE(os.lstat(root / "etc/hosts").st_mode) == 0o644 and no_0777_files(root)
    assert (outside / "hosts").read_text() == "10.0.0.1 outside-the-root\n"


def test_revert_refuses_to_remove_an_edited_file_it_created(world, bringup_cli):
    root, _ = world
    assert bringup_cli("run", "--node", "master", "--root", str(root))[0] == 0
    (root / "etc/pirack/hosts").write_text("# mine now\n")
    code, out, err = bringup_cli("revert", "--root", str(root))
    assert code == 1 and "/etc/pirack/hosts" in err
    assert (root / "etc/pirack/hosts").read_text() == "# mine now\n"
    assert (root / "etc/snmp/snmpd.conf").read_text() != "agentaddress 127.0.0.1,[::1]\n"  # nothing reverted
    code, out, err = bringup_cli("revert", "--root", str(root), "--force")
    assert code == 0 and not (root / "etc/pirack/hosts").exists()
    assert "# mine now\n" in [p.read_text() for p in (root / "var/lib/pirack/runs").glob("*/edited/*")]


def test_a_fifo_is_refused_without_blocking(world, bringup_cli):
    root, _ = world
    (root / "etc/hostname").unlink()
    os.mkfifo(root / "etc/hostname")
    code, out, err = bringup_cli("plan", "--node", "master", "--root", str(root))
    assert code == 1 and "read /etc/hostname" in err and "not a regular file" in err


def test_the_journal_through_a_link_stays_inside(world, bringup_cli):
    root, outside = world
    (root / "var/lib").mkdir(parents=True)
    (root / "var/lib/pirack").symlink_to(outside)
    before_out = tree_state(outside)
    code, out, err = bringup_cli("run", "--node", "master", "--root", str(root))
    assert code == 1 and "Traceback" not in err
    assert tree_state(outside) == before_out
