"""Crash-safe file writes shared by sweeps, ``reproduce`` and the report."""

from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["atomic_write", "fsync_dir"]


def fsync_dir(folder: str) -> None:
    """Flush a folder entry (so a rename survives a crash); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file beside it, fsync, ``os.replace``.

    Readers see either the old file or the complete new one, never a partial write. The folder must
    exist.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot write {path!r}: folder {folder!r} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions of a new file
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_dir(folder)
