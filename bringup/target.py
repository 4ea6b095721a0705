"""From the command line to a node plan: load the file, find the node, secrets, facts, render.

Which cluster file: the one given; else, on a live node (no --root), /etc/pirack/cluster.toml
or nothing (exit 2): a live run never falls back to ./cluster.toml or to the built-in default,
which would reconfigure the machine to someone else's network. Under --root (a rehearsal in a
folder) ./cluster.toml or the built-in default are fine, as for `rack`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pirack.errors import InputError
from pirack.fsutil import NodeTree
from pirack.load import LoadedCluster, load_cluster

from .render import NodePlan, RenderOptions, node_named, render_node

LIVE_CLUSTER = Path("/etc/pirack/cluster.toml")


@dataclasses.dataclass
class Target:
    lc: LoadedCluster
    node_name: str
    plan: NodePlan
    root: Path | None  # None: the live machine

    @property
    def fs_root(self) -> Path:
        return self.root or Path("/")

    @property
    def mount_point(self) -> str | None:
        st = self.lc.spec.storage
        return st.mount_point if st else None


def check_root(root: Path | None) -> Path | None:
    if root is None:
        return None
    if not root.is_dir():
        raise InputError(root, None, "--root must be an existing folder (it stands for / of the node)")
    return root.resolve()


def cluster_file(file: Path | None, root: Path | None, has_root: bool = True) -> Path | None:
    """The cluster file a command reads: `file`; live, /etc/pirack/cluster.toml or exit 2; under
    --root, None (./cluster.toml or the built-in default, as load_cluster finds them).
    `has_root`: the command has a --root option to suggest."""
    if file is not None or root is not None:
        return file
    if not LIVE_CLUSTER.is_file():
        raise InputError(LIVE_CLUSTER, None, "no cluster file: on a live node bringup reads this file or the FILE "
                         "given on its command line; it never falls back to a default cluster. Copy your "
                         "cluster.toml there" + (", or try it first with --root DIR" if has_root else ""))
    return LIVE_CLUSTER


def load_target(file: Path | None, node: str | None, root: Path | None,
                options: RenderOptions | None = None) -> Target:
    from .credentials import load_secrets
    from .engine import facts
    from .identity import find_node, read_identity

    root = check_root(root)
    lc = load_cluster(cluster_file(file, root))
    if node is None:
        node = find_node(lc.spec, read_identity(root), lc.display).name
    is_master = node_named(lc.spec, node, lc.display).role == "master"
    fs_root = root or Path("/")
    opts = options or RenderOptions()
    if not opts.admin_has_key:  # keys only once an admin has a key: never lock the admin out
        opts = dataclasses.replace(opts, admin_has_key=facts.admin_key(NodeTree(fs_root)) is not None)
    secrets, secrets_file = load_secrets(fs_root) if is_master else (None, None)
    plan = render_node(lc, node, secrets=secrets, options=opts)
    if secrets_file is not None:
        plan.files.insert(0, secrets_file)
    return Target(lc, node, plan, root)
