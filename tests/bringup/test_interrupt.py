"""Kill `bringup run --root` at every durable write (and at random moments): each managed file
is then the old or the new content byte for byte, never torn, and a rerun converges."""

import os
import random
import signal
import subprocess
import sys
import time

from bringup_helpers import SECRET, seed_old_root, snapshot

ARGS = ["run", "--node", "master"]


def fork_run(root, crash_after):
    """`bringup run` in a forked child that SIGKILLs itself after `crash_after` durable writes."""
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        try:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.environ["PIRACK_BRINGUP_CRASH_AFTER"] = str(crash_after)
            os.environ["PIRACK_SNMP_COMMUNITY"] = SECRET
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


def test_killed_at_every_write(tmp_path, bringup_cli, monkeypatch):
    monkeypatch.setenv("PIRACK_SNMP_COMMUNITY", SECRET)
    ref = tmp_path / "ref"
    ref.mkdir()
    seed_old_root(ref)
    old = snapshot(ref)
    assert bringup_cli("run", "--node", "master", "--root", str(ref))[0] == 0
    new = snapshot(ref)
    n, killed = 1, 0
    while n < 300:
        root = tmp_path / f"r{n}"
        root.mkdir()
        seed_old_root(root)
        status = fork_run(root, n)
        now = snapshot(root)
        for path, data in now.items():
            if "/." in "/" + path and path.endswith(".tmp"):
                continue  # a temp file from the write that was cut short; the next run removes it
            assert data in (old.get(path), new.get(path)), f"after {n} writes: {path} is torn"
        if os.WIFSIGNALED(status):
            assert os.WTERMSIG(status) == signal.SIGKILL
            killed += 1
            n += 1
            if n % 4 != 2:
                continue  # the rerun below costs every checker again: a quarter of the points is plenty
            # the rerun converges to exactly the reference, and then idles
            code, out, err = bringup_cli("run", "--node", "master", "--root", str(root))
            assert code == 0, err
            assert snapshot(root) == new, f"after a kill at write {n - 1}, the rerun did not converge"
            assert "no changes" in bringup_cli("run", "--node", "master", "--root", str(root))[1]
            continue
        assert os.WEXITSTATUS(status) == 0 and now == new
        break
    else:
        raise AssertionError("the run never finished")
    assert killed >= 20  # every file, its backup and its manifest entry were a kill point


def test_killed_at_random_moments(tmp_path):
    env = dict(os.environ, PIRACK_SNMP_COMMUNITY=SECRET)
    rng = random.Random(4)
    ref = tmp_path / "ref"
    ref.mkdir()
    seed_old_root(ref)
    old = snapshot(ref)
    argv = [sys.executable, "-m", "bringup.cli", *ARGS, "--root"]
    assert subprocess.run(argv + [str(ref)], env=env, capture_output=True).returncode == 0
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
        r = subprocess.run(argv + [str(root)], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert snapshot(root) == new
