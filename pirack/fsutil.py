"""Files written safely: atomically, and (for a node's tree) never through a link out of it.

atomic_write(path, ...): a reader sees the old file or the new one, never a torn one.

NodeTree(root): a node's file system seen from its root (`/` on the node, or `--root DIR`).
Every path is walked one folder at a time from an open folder (openat), so a symbolic link on
the way is resolved *inside* the root as a chroot would see it (an absolute target starts again
at the root, `..` never climbs above it): nothing outside the root is ever read or written. The
last component is never followed: a link where a file is read or written is refused
(LinkRefused), so a file's contents and mode always come from the file itself, never through a
link or from the link's own 0777.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path, PurePosixPath

MAX_LINKS = 40  # as the kernel's own limit (ELOOP)
TEMP_SUFFIX = ".tmp"


class LinkRefused(OSError):
    """A symbolic link stands where a file (or folder) is to be read or written."""

    def __init__(self, path: str, target: str):
        super().__init__(errno.ELOOP, f"is a symbolic link (to {target}): not followed", path)
        self.target = target


def temp_name(name: str) -> str:
    """The temp file atomic writes use beside `name`: `.NAME.<random>.tmp`."""
    return f".{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"


def temp_of(entry: str) -> str | None:
    """The file name `entry` is a temp file of (as temp_name() makes them), or None."""
    if not (entry.startswith(".") and entry.endswith(TEMP_SUFFIX)):
        return None
    name, _, rand = entry[1:-len(TEMP_SUFFIX)].rpartition(".")
    if name and len(rand) == 8 and all(c in "0123456789abcdef" for c in rand):
        return name
    return None


def _write_at(dir_fd: int, name: str, data: bytes, mode: int | None, uid: int | None, gid: int | None,
              shown: str | None = None) -> None:
    """The one atomic write: a temp file beside `name` in the open folder `dir_fd` (created
    0600, so a secret is never readable on the way), fsync, owner and mode set, rename, fsync
    of the folder. A failure removes the temp file; its OSError names `shown` (the file the
    person asked for), never the temp file."""
    try:
        _write_via_temp(dir_fd, name, data, mode, uid, gid)
    except OSError as exc:
        if exc.errno is None:
            raise
        raise type(exc)(exc.errno, exc.strerror, shown or name) from None


def _write_via_temp(dir_fd: int, name: str, data: bytes, mode: int | None, uid: int | None, gid: int | None) -> None:
    for _ in range(100):
        tmp = temp_name(name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                         dir_fd=dir_fd)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(errno.EEXIST, "no free temp file name", name)
    try:
        with open(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fd)
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            if mode is not None:
                os.fchmod(fd, mode)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


def atomic_write(path: str | Path, data: bytes | str, mode: int | None = None,
                 uid: int | None = None, gid: int | None = None) -> None:
    """Write via a temp file in the same folder, fsync, rename. mode/uid/gid are set on the temp
    file before the rename, so the new file never appears with the wrong owner or mode (without
    `mode` it stays 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _write_at(dfd, path.name, data, mode, uid, gid, shown=str(path))
    finally:
        os.close(dfd)


def user_mode(path: str | Path) -> int:
    """The mode for a file a person asked for (`rack init`, `--out`): the mode of the file it
    replaces, else 0666 less the umask, as the shell's `>` gives (atomic_write alone gives 0600)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0o022)  # read it back: the only portable way to learn the umask
        os.umask(mask)
        return 0o666 & ~mask


def _parts(path: str) -> list[str]:
    """A node path's components; only absolute, normalised paths (no '.', '..', '//')."""
    p = PurePosixPath(path)
    parts = list(p.parts[1:]) if p.is_absolute() else []
    if not p.is_absolute() or str(p) != (path.rstrip("/") or "/") or any(x in (".", "..") for x in parts):
        raise OSError(errno.EINVAL, "not an absolute, normalised path", path)
    return parts


class NodeTree:
    """A node's file system under `root`; every path given is the node's own ("/etc/hosts")."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def host_path(self, path: str) -> Path:
        """Where `path` is on this machine, for messages and for tools that take a path."""
        return self.root / path.lstrip("/")

    # --- walking -------------------------------------------------------------------------------
    def _walk(self, parts: list[str], create: bool, mode: int, path: str, made: list[str] | None = None) -> int:
        """An open fd of the folder `parts`, resolved inside the root (see the module's doc).
        Folders it makes (`create`) are appended to `made` as node paths."""
        return _Walk(self, path, create, mode, made).down(parts)

    @staticmethod
    def _stat_or_make(dir_fd: int, name: str, create: bool, mode: int) -> tuple[os.stat_result, bool]:
        """The entry's status, and whether it was made now (a missing folder, if `create`)."""
        try:
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False), False
        except FileNotFoundError:
            if not create:
                raise
        try:
            os.mkdir(name, mode, dir_fd=dir_fd)
            made = True
        except FileExistsError:
            made = False
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False), made

    @contextlib.contextmanager
    def folder(self, path: str, create: bool = False, mode: int = 0o755):
        """The open folder `path` (an fd), its missing folders made if `create`."""
        fd = self._walk(_parts(path), create, mode, path)
        try:
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _parent(self, path: str, create: bool = False):
        parts = _parts(path)
        if not parts:
            raise OSError(errno.EINVAL, "the root itself is no file", str(self.root))
        fd = self._walk(parts[:-1], create, 0o755, path)
        try:
            yield fd, parts[-1]
        finally:
            os.close(fd)

    def _refuse_link(self, dir_fd: int, name: str, path: str, st: os.stat_result | None) -> None:
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise LinkRefused(str(self.host_path(path)), os.readlink(name, dir_fd=dir_fd))

    # --- reading -------------------------------------------------------------------------------
    def lstat(self, path: str) -> os.stat_result | None:
        """The entry itself (a link is not followed); None if it is missing (or what should be a
        folder on the way is missing or a file)."""
        try:
            with self._parent(path) as (dfd, name):
                return os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read(self, path: str) -> tuple[bytes, os.stat_result] | None:
        """A regular file's bytes and status, or None if it is missing. A link, a folder or a
        device/FIFO there raises (never followed, never blocked on)."""
        try:
            with self._parent(path) as (dfd, name):
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        self._refuse_link(dfd, name, path, os.stat(name, dir_fd=dfd, follow_symlinks=False))
                    raise OSError(exc.errno, exc.strerror, str(self.host_path(path))) from None
        except FileNotFoundError:
            return None
        # The kind is checked on the bare fd, before open() wraps it: open() refuses a folder
        # itself, with the fd's number where the path belongs ("Is a directory: 4"), and leaves
        # the fd open.
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, "is a folder, expected a file", str(self.host_path(path)))
            if not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EINVAL, "is not a regular file", str(self.host_path(path)))
        except BaseException:
            os.close(fd)
            raise
        with open(fd, "rb") as fh:
            return fh.read(), st

    def readlink(self, path: str) -> str:
        with self._parent(path) as (dfd, name):
            return os.readlink(name, dir_fd=dfd)

    def listdir(self, path: str) -> list[str]:
        """The names in folder `path`; [] if it is missing."""
        try:
            with self.folder(path) as fd:
                return sorted(os.listdir(fd))
        except FileNotFoundError:
            return []

    # --- changing ------------------------------------------------------------------------------
    def make_parents(self, path: str) -> list[str]:
        """Make the missing folders above `path` (mode 0755); the node paths of those made, in
        the order they were made (so a journal can remove them again, last first)."""
        made: list[str] = []
        os.close(self._walk(_parts(path)[:-1], True, 0o755, path, made))
        return made

    def write(self, path: str, data: bytes, mode: int | None = None, uid: int | None = None,
              gid: int | None = None) -> None:
        """Atomically replace the file `path` (its folders made as needed). A link there is refused."""
        with self._parent(path, create=True) as (dfd, name):
            with contextlib.suppress(FileNotFoundError):
                self._refuse_link(dfd, name, path, os.stat(name, dir_fd=dfd, follow_symlinks=False))
            _write_at(dfd, name, data, mode, uid, gid, shown=str(self.host_path(path)))

    def makedirs(self, path: str, mode: int, uid: int | None = None, gid: int | None = None) -> bool:
        """Folder `path` exists with `mode` (and owner); True if it was made now. A link there is refused."""
        with self._parent(path, create=True) as (dfd, name):
            made = False
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                os.mkdir(name, mode, dir_fd=dfd)
                made = True
            else:
                self._refuse_link(dfd, name, path, st)
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            try:
                os.fchmod(fd, mode)
                if uid is not None or gid is not None:
                    os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            finally:
                os.close(fd)
            return made

    def unlink(self, path: str) -> bool:
        """Remove the file (or link) `path`; False if it was not there."""
        try:
            with self._parent(path) as (dfd, name):
                os.unlink(name, dir_fd=dfd)
                return True
        except FileNotFoundError:
            return False

    def rmdir(self, path: str) -> bool:
        """Remove folder `path` if it is empty; False if it is missing or not empty."""
        try:
            with self._parent(path) as (dfd, name):
                os.rmdir(name, dir_fd=dfd)
                return True
        except OSError:
            return False

    def remove_temps(self, folder: str, name: str | None = None) -> list[str]:
        """Temp files interrupted atomic writes left in `folder` (of file `name`, or of any file):
        regular files named like temp_name(), nothing else."""
        gone = []
        try:
            with self.folder(folder) as dfd:
                for entry in os.listdir(dfd):
                    of = temp_of(entry)
                    if of is None or (name is not None and of != name):
                        continue
                    if stat.S_ISREG(os.stat(entry, dir_fd=dfd, follow_symlinks=False).st_mode):
                        os.unlink(entry, dir_fd=dfd)
                        gone.append(entry)
        except (FileNotFoundError, NotADirectoryError):
            pass
        return gone

    def open_lock(self, path: str) -> int:
        """An fd of the lock file `path` (made 0600 if missing; a link there is refused)."""
        with self._parent(path, create=True) as (dfd, name):
            try:
                return os.open(name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    self._refuse_link(dfd, name, path, os.stat(name, dir_fd=dfd, follow_symlinks=False))
                raise


class _Walk:
    """One walk from a node's root down to a folder, one component at a time from an open
    folder (openat), with symbolic links resolved inside the root (see the module's doc)."""

    def __init__(self, tree: NodeTree, path: str, create: bool, mode: int, made: list[str] | None):
        self.tree, self.path, self.create, self.mode, self.made = tree, path, create, mode, made
        # the root, then each folder entered; fds[-1] is where the walk has got
        self.fds = [os.open(tree.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
        self.names: list[str] = []  # the node path of fds[-1], as resolved so far
        self.links = 0

    def down(self, parts: list[str]) -> int:
        """The open fd of the folder `parts`; every other folder opened on the way is closed."""
        todo = [(p, False) for p in reversed(parts)]  # (name, from a link's target), popped from the end
        try:
            while todo:
                name, from_link = todo.pop()
                todo += self._step(name, from_link)
            return self.fds.pop()
        except OSError as exc:
            if exc.filename and str(exc.filename).startswith(str(self.tree.root)):
                raise
            raise OSError(exc.errno, exc.strerror, self._where()) from None
        finally:
            for fd in self.fds:
                os.close(fd)

    def _step(self, name: str, from_link: bool) -> list[tuple[str, bool]]:
        """Take one component of the path; the components a link there adds to the walk."""
        if name in ("", "."):
            return []
        if name == "..":
            self._up()
            return []
        st = self._entry(name, from_link)
        if stat.S_ISLNK(st.st_mode):
            return self._follow(name)
        self.fds.append(os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                dir_fd=self.fds[-1]))
        self.names.append(name)
        return []

    def _up(self) -> None:
        """`..`: one folder up, never above the root."""
        if len(self.fds) > 1:
            os.close(self.fds.pop())
            self.names.pop()

    def _entry(self, name: str, from_link: bool) -> os.stat_result:
        """The status of `name` in the folder reached so far, made first if missing and `create`."""
        try:  # a link's target is never made: the link says where something is, not what to make
            st, new = self.tree._stat_or_make(self.fds[-1], name, self.create and not from_link, self.mode)
        except FileNotFoundError:
            if not from_link:
                raise
            raise FileNotFoundError(errno.ENOENT, "a link on the way points to a folder that is not "
                                    "there (inside the root)", self._where()) from None
        if new and self.made is not None:
            self.made.append("/" + "/".join([*self.names, name]))
        return st

    def _follow(self, name: str) -> list[tuple[str, bool]]:
        """The link `name`'s target, as components to walk next (an absolute one from the root)."""
        self.links += 1
        if self.links > MAX_LINKS:
            raise OSError(errno.ELOOP, "too many symbolic links", self._where())
        target = os.readlink(name, dir_fd=self.fds[-1])
        if target.startswith("/"):  # absolute: from the node's root, never this machine's
            for fd in self.fds[1:]:
                os.close(fd)
            del self.fds[1:]
            self.names.clear()
        return [(p, True) for p in reversed(target.split("/"))]

    def _where(self) -> str:
        return str(self.tree.host_path(self.path))
