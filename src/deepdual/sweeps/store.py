"""The results store of a sweep: an append-only JSON-lines file, safe against crashes mid-write."""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from .._io import json_default

__all__ = ["ResultsStore"]


@contextlib.contextmanager
def _locked(lock_path: str) -> Iterator[None]:
    """Exclusive advisory lock on ``lock_path`` (``fcntl.flock``; a no-op where unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class ResultsStore:
    """Append-only JSON-lines store of run records, safe against crashes mid-write.

    Each record is a dict with a ``"key"``. :meth:`append` writes one line with a single ``write``
    call, then flushes and fsyncs, under an exclusive lock on ``<path>.lock``. A line is complete
    only once its ``"\\n"`` is on disk: on :meth:`load`, a trailing line without newline (or that is
    not valid JSON) is ignored, and the next :meth:`append` truncates it first, so earlier lines are
    never touched. Records whose key is already stored are not appended again.

    Parameters
    ----------
    path : str or path-like
        The ``.jsonl`` file (created on the first append). Its folder must exist.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"Results store {self.path!r}: folder {folder!r} does not exist.")
        self.lock_path = self.path + ".lock"
        self._known: set[str] = set()  # keys of the complete lines before byte self._offset
        self._offset = 0

    def __repr__(self) -> str:
        return f"ResultsStore({self.path!r})"

    # ---------------------------------------------------------------- reading
    def _scan(self, start: int = 0, seen: set[str] | None = None) -> tuple[list[dict], int, int]:
        """``(records, good_bytes, skipped)``: the complete, valid records from byte ``start`` on whose
        keys are not in ``seen`` (updated in place), and the byte offset after the last complete line."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(start)
                raw = fh.read()
        except FileNotFoundError:
            return [], 0, 0
        records: list[dict] = []
        seen = set() if seen is None else seen
        good = 0
        skipped = 0
        pos = 0
        lineno = 0
        while pos < len(raw):
            end = raw.find(b"\n", pos)
            if end < 0:  # trailing partial line: the write of a killed process
                break
            lineno += 1
            line = raw[pos:end]
            pos = end + 1
            if not line.strip():
                good = pos
                continue
            try:
                rec = json.loads(line.decode("utf-8"))
                if not isinstance(rec, dict) or not isinstance(rec.get("key"), str):
                    raise ValueError("not a record with a 'key'")
            except (ValueError, UnicodeDecodeError) as exc:
                warnings.warn(f"{self.path}: line {lineno} is not a valid record ({exc}); ignored.",
                              RuntimeWarning, stacklevel=3)
                skipped += 1
                good = pos
                continue
            good = pos
            if rec["key"] in seen:
                skipped += 1
                continue
            seen.add(rec["key"])
            records.append(rec)
        return records, start + good, skipped

    def _refresh(self) -> int:
        """Bring the cached keys up to date (reading only new bytes); returns the file size."""
        try:
            size = os.path.getsize(self.path)
        except FileNotFoundError:
            size = 0
        if size < self._offset:  # truncated or replaced by someone else: start over
            self._known, self._offset = set(), 0
        if size > self._offset:
            _, self._offset, _ = self._scan(self._offset, self._known)
        return size

    def load(self) -> list[dict]:
        """Every complete record, in the order written (first occurrence of each key)."""
        return self._scan()[0]

    def keys(self) -> set[str]:
        """The keys of the stored records."""
        return {rec["key"] for rec in self.load()}

    def __len__(self) -> int:
        return len(self.load())

    def __contains__(self, key) -> bool:
        return key in self.keys()

    # ---------------------------------------------------------------- writing
    def repair(self) -> int:
        """Truncate a trailing partial line left by a crash; returns the number of bytes removed."""
        with _locked(self.lock_path):
            return self._repair()

    def _repair(self) -> int:
        if not os.path.exists(self.path):
            return 0
        _, good, _ = self._scan()
        size = os.path.getsize(self.path)
        if size > good:
            with open(self.path, "r+b") as fh:
                fh.truncate(good)
                fh.flush()
                os.fsync(fh.fileno())
            return size - good
        return 0

    def append(self, record: Mapping[str, Any]) -> bool:
        """Append ``record`` durably unless its key is stored already; True if it was written."""
        if not isinstance(record, Mapping) or not isinstance(record.get("key"), str):
            raise TypeError("`record` must be a dict with a string 'key'.")
        line = json.dumps(record, sort_keys=True, default=json_default, allow_nan=True)
        if "\n" in line:  # pragma: no cover - json.dumps escapes newlines
            raise ValueError("`record` serializes to more than one line.")
        data = (line + "\n").encode("utf-8")
        with _locked(self.lock_path):
            size = self._refresh()
            if record["key"] in self._known:
                return False
            if size > self._offset:  # a trailing partial line left by a crash
                self._repair()
                self._offset = os.path.getsize(self.path)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            self._known.add(record["key"])
            self._offset += len(data)
        return True
