"""pirack.fsutil.NodeTree: paths resolved inside the root as a chroot would, never out of it."""

import errno
import os

import pytest

from pirack.fsutil import LinkRefused, NodeTree, temp_name


@pytest.fixture
def tree(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "srv").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("outside\n")
    return NodeTree(root), root, outside


def test_links_on_the_way_stay_inside(tree):
    t, root, outside = tree
    (root / "abs").symlink_to(str(outside))  # absolute: from the node's root
    (root / "climb").symlink_to("../../../../../../../../" + str(outside).lstrip("/"))  # '..' stops at the root
    (root / "srv/x").mkdir()
    (root / "etc").symlink_to("/srv/x")
    for via in ("abs", "climb"):
        assert t.read(f"/{via}/secret") is None  # not found inside the root; outside never read
        with pytest.raises(FileNotFoundError, match="a link on the way"):
            t.write(f"/{via}/new", b"x")
    t.write("/etc/hosts", b"127.0.0.1 localhost\n", mode=0o644)
    assert (root / "srv/x/hosts").read_bytes() == b"127.0.0.1 localhost\n"
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


def test_a_link_at_the_end_is_refused_and_keeps_its_target(tree):
    t, root, outside = tree
    (root / "hosts").symlink_to(outside / "secret")
    for act in (lambda: t.read("/hosts"), lambda: t.write("/hosts", b"x", 0o644),
                lambda: t.makedirs("/hosts", 0o755), lambda: t.open_lock("/hosts")):
        with pytest.raises(LinkRefused) as exc:
            act()
        assert exc.value.target == str(outside / "secret") and exc.value.errno == errno.ELOOP
    assert (outside / "secret").read_text() == "outside\n" and (root / "hosts").is_symlink()
    assert t.unlink("/hosts") and (outside / "secret").exists()  # removing a link removes the link


def test_a_link_loop_ends(tree):
    t, root, _ = tree
    (root / "a").symlink_to("b")
    (root / "b").symlink_to("a")
    with pytest.raises(OSError) as exc:
        t.write("/a/file", b"x")
    assert exc.value.errno == errno.ELOOP


def test_only_plain_absolute_paths(tree):
    t, _, _ = tree
    for bad in ("etc/hosts", "/etc/../hosts", "/etc/./hosts"):
        with pytest.raises(OSError) as exc:
            t.read(bad)
        assert exc.value.errno == errno.EINVAL


def test_folders_made_are_named_and_temps_found(tree):
    t, root, _ = tree
    assert t.make_parents("/var/lib/pirack/x") == ["/var", "/var/lib", "/var/lib/pirack"]
    assert t.make_parents("/var/lib/pirack/y") == []
    t.write("/etc/hosts", b"x", mode=0o640)
    assert oct(os.stat(root / "etc/hosts").st_mode & 0o777) == "0o640"
    ours, other = temp_name("hosts"), ".hosts.someone.tmp"
    (root / "etc" / ours).write_text("half")
    (root / "etc" / other).write_text("not ours")
    assert t.remove_temps("/etc", "hosts") == [ours]
    assert (root / "etc" / other).exists()


def test_a_failed_write_names_the_file_not_the_temp(tree, monkeypatch):
    import pirack.fsutil as fsutil

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", ".hosts.1a2b3c4d.tmp")

    t, root, _ = tree
    monkeypatch.setattr(fsutil, "_write_via_temp", full)
    with pytest.raises(OSError) as ei:
        t.write("/etc/hosts", b"x")
    assert ei.value.errno == errno.ENOSPC and ei.value.filename == str(root / "etc/hosts")


def test_reading_a_folder_names_its_path_and_closes_it(tree):
    """The kind is checked before open() wraps the fd: open() on a folder's fd said "Is a
    directory: 4" (the fd, not the path) and left the fd open."""
    t, root, _ = tree
    (root / "etc/hosts").mkdir(parents=True)
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        with pytest.raises(IsADirectoryError) as exc:
            t.read("/etc/hosts")
        assert exc.value.filename == str(root / "etc/hosts") and exc.value.strerror == "is a folder, expected a file"
    assert len(os.listdir("/proc/self/fd")) == fds
