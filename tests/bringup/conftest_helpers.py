"""Run `bringup` as a user would (a subprocess in an empty folder, no TTY)."""

import subprocess
import sys


def sh_bringup(*args, cwd=None, env=None, timeout=120):
    import os

    e = dict(os.environ, COLUMNS="200", **(env or {}))
    return subprocess.run([sys.executable, "-m", "bringup.cli", *args], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
