"""Small helpers every renderer shares."""

from __future__ import annotations

from pirack.spec import Cluster


def header(spec: Cluster, comment: str = "#") -> str:
    return (f"{comment} Managed by pirack `bringup` from the cluster file ({spec.cluster.name}).\n"
            f"{comment} Local edits are overwritten by the next `bringup run`.\n")


def drive_path(spec: Cluster, *parts: str) -> str:
    """A path on the SSD, like /mnt/usb/tftpboot/1234abcd."""
    assert spec.storage is not None
    return "/".join([spec.storage.mount_point, *[p.strip("/") for p in parts if p]])


def prefixed(prefix: str, path: str) -> str:
    """A path as a daemon should see it (the lab runs daemons against a --root tree)."""
    return prefix.rstrip("/") + path if prefix else path
