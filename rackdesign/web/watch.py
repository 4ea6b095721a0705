"""Watching the cluster file (saved by any editor: written in place, or a new file renamed over
it) and the parts catalog, with watchfiles. The builder compares the file's content hash, so a
save that changes nothing costs nothing.

The file's folder is watched, not the file: an editor that renames a new file over the old
one would leave a watch on the file itself looking at a deleted inode.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from watchfiles import Change

log = logging.getLogger("pirack.web")

STEP_MS = 15  # a burst of events (write, chmod, rename) is over when this long passes quietly
DEBOUNCE_MS = 300  # ...or after this long in any case


class Watcher:
    """One thread per watched folder; `on_change(seen_at)` runs in that thread."""

    def __init__(self):
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def watch_file(self, path: Path, on_change: Callable[[float], None]) -> None:
        path = path.resolve()
        self._start(path.parent, False, lambda _c, p: Path(p) == path, on_change, f"watch {path.name}")

    def watch_tree(self, folder: Path, suffix: str, on_change: Callable[[float], None]) -> None:
        self._start(folder.resolve(), True, lambda _c, p: p.endswith(suffix), on_change, f"watch {folder.name}/")

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(2)

    def _start(self, folder: Path, recursive: bool, wanted: Callable[[Change, str], bool],
               on_change: Callable[[float], None], name: str) -> None:
        t = threading.Thread(target=self._loop, args=(folder, recursive, wanted, on_change), name=name, daemon=True)
        t.start()
        self.threads.append(t)

    def _loop(self, folder: Path, recursive: bool, wanted: Callable[[Change, str], bool],
              on_change: Callable[[float], None]) -> None:
        import time

        import watchfiles

        polling = False
        while not self.stop_event.is_set():
            try:
                for _changes in watchfiles.watch(folder, watch_filter=wanted, debounce=DEBOUNCE_MS, step=STEP_MS,
                                                 stop_event=self.stop_event, recursive=recursive,
                                                 force_polling=polling, poll_delay_ms=100, raise_interrupt=False):
                    on_change(time.perf_counter())
                return
            except (OSError, RuntimeError) as exc:  # inotify limits, a folder that went away
                if self.stop_event.wait(0.5):
                    return
                if not polling:
                    log.warning("watching %s: %s; polling instead", folder, exc)
                polling = True
