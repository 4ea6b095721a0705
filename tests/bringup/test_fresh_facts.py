"""Facts are read fresh after anything that may change them: a package that writes the file
between the plan and the writes, or another program, is seen; nothing of theirs is lost."""

import hashlib
import json

import pytest

from bringup.engine import facts, resources
from bringup.engine.journal import revert
from bringup.engine.resources import Context
from bringup.engine.runner import diff_all, run
from bringup.render import NodePlan
from bringup.render.nftables import main_conf_block
from pirack.fsutil import NodeTree

PACKAGE_CONF = b"#!/usr/sbin/nft -f\n# nftables' own default (the package wrote it)\nflush ruleset\n"


@pytest.fixture
def apt(tmp_path, monkeypatch):
    """A live node under tmp_path whose `apt-get install nftables` writes /etc/nftables.conf."""
    installed = {"nftables": False}
    monkeypatch.setattr(facts, "installed_packages", lambda names, admindir=None: {n: installed[n] for n in names})

    def install(self, ctx, journal, change):
        (tmp_path / "etc").mkdir(exist_ok=True)
        (tmp_path / "etc/nftables.conf").write_bytes(PACKAGE_CONF)
        installed["nftables"] = True

    monkeypatch.setattr(resources.PackageResource, "apply", install)
    plan = NodePlan(node="master", role="master", files=[main_conf_block()], packages=("nftables",))
    return plan, Context(root=tmp_path, live=True)


def test_the_package_writes_the_file_between_plan_and_apply(apt, tmp_path):
    plan, ctx = apt
    changes, _, _ = diff_all(plan, ctx)
    planned = next(c for c in changes if c.kind == "file")
    assert planned.summary.startswith("create /etc/nftables.conf")  # before the install: absent
    res = run(plan, ctx)
    assert res.failed is None and res.changed == ["packages: nftables", "/etc/nftables.conf"]
    text = (tmp_path / "etc/nftables.conf").read_bytes()
    assert text.startswith(PACKAGE_CONF) and b'include "/etc/nftables.d/pirack.nft"' in text
    manifest = json.loads((tmp_path / f"var/lib/pirack/runs/{res.run_id}/manifest.json").read_text())
    entry = next(e for e in manifest["entries"] if e["path"] == "/etc/nftables.conf")
    assert entry["old_sha256"] == hashlib.sha256(PACKAGE_CONF).hexdigest()  # not "absent"
    revert(NodeTree(tmp_path), res.run_id)
    assert (tmp_path / "etc/nftables.conf").read_bytes() == PACKAGE_CONF  # the package's file is back


def test_a_file_changed_after_the_plan_is_not_overwritten(tmp_path, monkeypatch):
    """Someone writes the file after the plan was made (here: while the checkers run): the write
    stops, naming it, and their version stays."""
    from bringup.engine import runner

    plan = NodePlan(node="master", role="master", files=[main_conf_block()])
    ctx = Context(root=tmp_path, live=False)
    theirs = b"# written by another program meanwhile\n"
    real = runner.check_changes

    def meanwhile(changes, ctx, log):
        (tmp_path / "etc").mkdir(exist_ok=True)
        (tmp_path / "etc/nftables.conf").write_bytes(theirs)
        return real(changes, ctx, log)

    monkeypatch.setattr(runner, "check_changes", meanwhile)
    res = run(plan, ctx)
    assert res.failed is not None and res.failed.step == "write /etc/nftables.conf"
    assert "changed on disk after the plan was made" in res.failed.message
    assert (tmp_path / "etc/nftables.conf").read_bytes() == theirs
