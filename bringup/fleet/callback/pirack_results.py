"""An Ansible callback (notification type) that writes one JSON line per task result to the file
named by $PIRACK_FLEET_RESULTS, for `bringup fleet run`'s per-node summary.

Ansible's own `json` callback lives in the ansible.posix collection (not in ansible-core) and
replaces the streamed output; this one runs beside the default output, so people still watch
the play as it happens. Loaded by Ansible from this folder (ANSIBLE_CALLBACK_PLUGINS).
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING

from ansible.plugins.callback import CallbackBase

if TYPE_CHECKING:
    from ansible.executor.task_result import CallbackTaskResult  # TaskResult before ansible-core 2.19

DOCUMENTATION = """
    name: pirack_results
    type: notification
    short_description: task results as JSON lines for bringup fleet run
    description: One JSON object per task result, appended to the file $PIRACK_FLEET_RESULTS.
    requirements: [enabled in callbacks_enabled]
"""

KEEP = ("rc", "stdout", "stderr", "msg", "changed", "skip_reason")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "pirack_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("PIRACK_FLEET_RESULTS")

    def _write(self, result: CallbackTaskResult, status: str) -> None:
        if not self._path:
            return
        # ansible-core 2.19 has .host/.task/.result; older releases only the underscored names.
        host = getattr(result, "host", None) or result._host
        task = getattr(result, "task", None) or result._task
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        rec = {"host": host.get_name(), "task": task.get_name(), "status": status, "at": round(time.time(), 3)}
        rec.update({k: data[k] for k in KEEP if k in data})
        with open(self._path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec, default=str) + "\n")

    def v2_runner_on_ok(self, result: CallbackTaskResult):
        self._write(result, "changed" if result.is_changed() else "ok")

    def v2_runner_on_failed(self, result: CallbackTaskResult, ignore_errors: bool = False):
        self._write(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_unreachable(self, result: CallbackTaskResult):
        self._write(result, "unreachable")

    def v2_runner_on_skipped(self, result: CallbackTaskResult):
        self._write(result, "skipped")
