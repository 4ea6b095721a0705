"""Kill `bringup run --root` at every durable write (and at random moments): each managed file
is then the old or the new content byte for byte, never torn, and a rerun converges."""

import os
import random
import signal
import subprocess
import sys
import tempfile
import time

from bringup_helpers import SECRET, seed_old_root, snapshot

ARGS = ["run", "--node", "master"]


def leftovers(root, tmp) -> list[str]:
    """What a killed run may leave: temp files anywhere in the root (the journal too), run
    folders without a manifest, checker folders in the temp folder."""
    out = [str(p) for p in root.rglob("*.tmp")]
    runs = root / "var/lib/pirack/runs"
    out += [str(p) for p in (runs.iterdir() if runs.is_dir() else []) if p.is_dir() and not (p / "manifest.json").exists()]
    return out + [str(p) for p in tmp.glob("pirack-check-*")]


def fork_run(root, crash_after, tmp):
    """`bringup run` in a forked child that SIGKILLs itself after `crash_after` durable writes.
    The daemons' checkers are not on its PATH: they run before the first write and remove their
    folders as they finish, so no kill point falls among them (the random kills below do), and
    each checker here would cost the same ~50 ms at every one of the ~40 points. The run then
    writes exactly what a checked run writes ("not checked: ..." in its log); the reference run
    and the reruns check every file."""
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        try:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            tempfile.tempdir = str(tmp)
            os.environ["PIRACK_BRINGUP_CRASH_AFTER"] = str(crash_after)
            os.environ["PIRACK_SNMP_COMMUNITY"] = SECRET
            os.environ["PATH"] = str(tmp / "no-checkers")  # an empty folder
            sys.argv = ["bringup", *ARGS, "--root", str(root)]
            import bringup.engine.journal as journal
            from bringup.cli import main

            journal._writes = 0  # the count is per process; this one forked from pytest's
            main()
        except SystemExit as exc:
            os._exit(exc.code if isinstance(exc.code, int) else 0)
        except BaseException:
            os._exit(99)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return status


def assert_old_or_new(now: dict, old: dict, new: dict, n: int) -> None:
    """Every file of a killed run's root is the old or the new content byte for byte."""
    for path, data in now.items():
        if "/." in "/" + path and path.endswith(".tmp"):
            continue  # a temp file from the write that was cut short; the next run removes it
        assert data in (old.get(path), new.get(path)), f"after {n} writes: {path} is torn"


def assert_rerun_converges(bringup_cli, root, tmp, new: dict, killed_at: int) -> None:
    """The rerun converges to exactly the reference, leaves nothing behind, and then idles."""
    code, out, err = bringup_cli("run", "--node", "master", "--root", str(root))
    assert code == 0, err
    assert snapshot(root) == new, f"after a kill at write {killed_at}, the rerun did not converge"
    assert not leftovers(root, tmp), f"after a kill at write {killed_at}, the rerun left these"
    assert "no changes" in bringup_cli("run", "--node", "master", "--root", str(root))[1]


def test_killed_at_every_write(tmp_path, bringup_cli, monkeypatch):
    monkeypatch.setenv("PIRACK_SNMP_COMMUNITY", SECRET)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    ref = tmp_path / "ref"
    ref.mkdir()
    seed_old_root(ref)
    old = snapshot(ref)
    assert bringup_cli("run", "--node", "master", "--root", str(ref))[0] == 0
    new = snapshot(ref)
    (tmp / "no-checkers").mkdir()
    n, killed = 1, 0
    while n < 300:
        root = tmp_path / f"r{n}"
        root.mkdir()
        seed_old_root(root)
        status = fork_run(root, n, tmp)
        now = snapshot(root)
        assert_old_or_new(now, old, new, n)
        if not os.WIFSIGNALED(status):
            assert os.WEXITSTATUS(status) == 0 and now == new
            break
        assert os.WTERMSIG(status) == signal.SIGKILL
        killed += 1
        # The rerun costs every checker again: every 7th point (the writes cycle through journal
        # entries, backups and files, so each kind is sampled), and the last point below.
        if n % 7 == 1:
            assert_rerun_converges(bringup_cli, root, tmp, new, n)
        n += 1
    else:
        raise AssertionError("the run never finished")
    if (n - 1) % 7 != 1:  # and after the last write that was killed
        assert_rerun_converges(bringup_cli, tmp_path / f"r{n - 1}", tmp, new, n - 1)
    assert killed >= 20  # every file, its backup and its manifest entry were a kill point


def test_killed_at_random_moments(tmp_path, bringup_cli, monkeypatch):
    """Real processes killed from outside at random moments (starting, checking, writing); the
    reference run and the reruns, which need no real process, run in-process."""
    monkeypatch.setenv("PIRACK_SNMP_COMMUNITY", SECRET)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    env = dict(os.environ, PIRACK_SNMP_COMMUNITY=SECRET, TMPDIR=str(tmp))
    rng = random.Random(4)
    ref = tmp_path / "ref"
    ref.mkdir()
    seed_old_root(ref)
    old = snapshot(ref)
    argv = [sys.executable, "-m", "bringup.cli", *ARGS, "--root"]
    assert bringup_cli(*ARGS, "--root", str(ref))[0] == 0
    new = snapshot(ref)
    for i in range(3):
        root = tmp_path / f"k{i}"
        root.mkdir()
        seed_old_root(root)
        p = subprocess.Popen(argv + [str(root)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 0.9))
        p.send_signal(signal.SIGKILL)
        p.wait()
        for path, data in snapshot(root).items():
            if not path.endswith(".tmp"):
                assert data in (old.get(path), new.get(path)), path
        code, out, err = bringup_cli(*ARGS, "--root", str(root))
        assert code == 0, err
        assert snapshot(root) == new
        assert not leftovers(root, tmp)


def test_the_next_run_removes_what_a_kill_left(tmp_path, bringup_cli, monkeypatch):
    """Planted as a kill would leave them: a checker folder of a process that is gone (with a
    candidate snmpd.conf: the community), a temp file beside a managed file, a run folder that
    never got its manifest. The next run removes exactly these."""
    from bringup.engine.facts import process_start

    monkeypatch.setenv("PIRACK_SNMP_COMMUNITY", SECRET)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    gone = tmp / f"pirack-check-{os.getpid()}-1-k1ll3d00"  # this PID, another start time: not us
    gone.mkdir()
    (gone / "snmpd.conf").write_text(f"rocommunity {SECRET} 192.168.50.0/24\n")
    running = tmp / f"pirack-check-{os.getpid()}-{process_start(os.getpid())}-l1v3l1v3"  # ours, alive
    running.mkdir()
    strange = tmp / "pirack-check-not-a-checker-folder"
    strange.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    seed_old_root(root)
    (root / "etc/.hostname.0123abcd.tmp").write_text("half a hostname")
    (root / "etc/.hostname.notours.tmp").write_text("someone else's")
    (root / "var/lib/pirack/runs/20250101T000000.000000Z/old").mkdir(parents=True)
    (root / "var/lib/pirack/runs/20250101T000000.000000Z/old/0").write_text("a backup never recorded")
    code, out, err = bringup_cli("run", "--node", "master", "--root", str(root))
    assert code == 0, err
    assert not gone.exists() and running.exists() and strange.exists()
    assert not (root / "etc/.hostname.0123abcd.tmp").exists() and (root / "etc/.hostname.notours.tmp").exists()
    assert not (root / "var/lib/pirack/runs/20250101T000000.000000Z").exists()
    assert "removed /etc/.hostname.0123abcd.tmp (left by an interrupted run)" in out
