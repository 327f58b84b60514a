"""Where advlib keeps downloaded data and trained models, and how it writes files."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def cache_dir() -> Path:
    """Root of advlib's caches: ``$ADVLIB_CACHE`` if set, else the user cache directory
    (``$XDG_CACHE_HOME/advlib`` or ``~/.cache/advlib``).

    ``$ADVLIB_CACHE`` must name a folder advlib can read and write; a missing one is created
    (with its parents). One that names a file, cannot be read or written, or cannot be created
    is a ValueError, never a silent fall-back to another folder.
    """
    from advlib.checks import check_folder

    env = os.environ.get("ADVLIB_CACHE")
    if env:
        folder = check_folder(env, where="cache_dir", name="$ADVLIB_CACHE", create=True)
        if not os.access(folder, os.W_OK):
            raise ValueError(
                f"cache_dir: $ADVLIB_CACHE names the folder {folder}, which cannot "
                "be written (permission denied); it must be a folder advlib may "
                "write to"
            )
        return folder.resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "advlib"


# --------------------------------------------------------------------------------------------
# Writes: every file advlib writes goes through write_atomic (or replace_atomic)

STALE_SECONDS = 3600
"""A temporary file older than this is stale whoever wrote it (a write takes seconds)."""

_TEMPORARY = re.compile(
    r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9_-]+)-(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$"
)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40] or "host"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(folder: Path | str, name: str | None = None) -> list[Path]:
    """Delete the temporary files that writers killed mid-write left in ``folder`` (of the file
    ``name`` only, when given); return them.

    :func:`write_atomic` names its temporary file ``.<name>.<host>-<pid>.<random>.tmp``. One
    is stale when its writer ran on this host and that process is gone, or when it is older
    than :data:`STALE_SECONDS` (a writer on another host sharing the folder, or a reused pid).
    A live writer's file is never touched."""
    folder, now, host = Path(folder), time.time(), _host()
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS
            if old or (match["host"] == host and not _running(int(match["pid"]))):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except FileNotFoundError:  # its writer renamed it, or another cleaner got there first
            pass
    return removed


def temporary_path(path: Path | str) -> Path:
    """A fresh, empty temporary file beside ``path`` (created 0600), named so that
    :func:`remove_stale_temporaries` recognises it once its writer is gone."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{_host()}-{os.getpid()}.", suffix=".tmp"
    )
    os.close(fd)
    return Path(tmp)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomic(source: Path | str, path: Path | str) -> None:
    """Move the finished file ``source`` over ``path`` (same file system): its bytes are flushed
    to disk first, the rename is atomic, then the folder is flushed. Readers see the old file
    or the new one, never a partial one; the file becomes world-readable (0644)."""
    source = Path(source)
    with open(source, "rb+") as f:
        os.fsync(f.fileno())
    _rename(source, Path(path))


def _rename(source: Path, path: Path) -> None:
    os.chmod(source, 0o644)  # mkstemp makes 0600
    os.replace(source, path)
    _fsync_folder(path.parent)


@contextlib.contextmanager
def locked_folder(folder: Path | str) -> Iterator[Path]:
    """Hold an exclusive lock on ``folder`` (which must exist) for the ``with`` block: another
    process asking for it waits. The lock is ``flock`` on the folder itself, so it leaves no
    file behind and the system releases it when its holder dies, even by SIGKILL."""
    folder = Path(folder)
    try:
        import fcntl
    except ImportError:  # not POSIX: a lock file inside the folder
        from filelock import FileLock

        with FileLock(str(folder / ".lock")):
            yield folder
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def write_atomic(path: Path | str, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically: a temporary file in the
    same folder, fsync, rename over ``path``, fsync of the folder. Readers never see a partial
    file; a failed write leaves nothing behind, and a killed writer's temporary file is removed
    by the next write of ``path`` (:func:`remove_stale_temporaries`). The file is 0644."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.name)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        _rename(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
