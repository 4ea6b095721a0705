"""From the command line to a node plan: load the file, find the node, secrets, facts, render."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pirack.errors import InputError
from pirack.load import LoadedCluster, load_cluster

from .render import NodePlan, RenderOptions, render_node


LIVE_CLUSTER_FILE = Path("/etc/pirack/cluster.toml")


def cluster_file_for(file: Path | None, root: Path | None) -> Path | None:
    """The cluster file to read. Under --root: the one given, ./cluster.toml, or the built-in
    default (a lab, a test). Live: the one given or /etc/pirack/cluster.toml, never the
    built-in default: the seed's network on a real machine would be the wrong network."""
    if file is not None or root is not None:
        return file
    if LIVE_CLUSTER_FILE.is_file():
        return LIVE_CLUSTER_FILE
    raise InputError(str(LIVE_CLUSTER_FILE), None,
                     "no cluster file: a live run never falls back to the built-in default. Copy your "
                     "cluster.toml there, or give its path (bringup run PATH)")


@dataclass
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


def load_target(file: Path | None, node: str | None, root: Path | None,
                options: RenderOptions | None = None) -> Target:
    from .credentials import load_secrets
    from .engine import facts
    from .identity import find_node, read_identity

    root = check_root(root)
    lc = load_cluster(cluster_file_for(file, root))
    if node is None:
        node = find_node(lc.spec, read_identity(root), lc.display).name
    elif lc.spec.node(node) is None:
        raise InputError(lc.display, "nodes", f"no node named '{node}' (nodes: {', '.join(n.name for n in lc.spec.nodes)})")
    fs_root = root or Path("/")
    base = options or RenderOptions()
    opts = RenderOptions(**{**base.__dict__, "admin_has_key": base.admin_has_key or facts.admin_has_key(fs_root)})
    is_master = lc.spec.node(node).role == "master"
    secrets, secrets_file = load_secrets(fs_root) if is_master else (None, None)
    plan = render_node(lc, node, secrets=secrets, options=opts)
    if secrets_file is not None:
        plan.files.insert(0, secrets_file)
    return Target(lc, node, plan, root)
