"""The results store of a sweep: an append-only JSON-lines file, safe against crashes mid-write.

The first line of a store is its header, ``{"format": "deepdual-sweep-results", "version": 1}``;
every further line is one record. A store only ever writes into a file that is new, empty, or
starts with that header: any other file (a CSV, the sweep's own config, a device) is refused
before anything is written, so a wrong ``--out`` cannot damage it.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .._io import check_output_file, json_default

__all__ = ["ResultsStore", "STORE_FORMAT", "STORE_VERSION"]

#: The ``format`` of a results store's header line.
STORE_FORMAT = "deepdual-sweep-results"
#: The newest store version this deepdual reads and writes.
STORE_VERSION = 1
_HEADER = (json.dumps({"format": STORE_FORMAT, "version": STORE_VERSION}) + "\n").encode("utf-8")


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


def _header_problem(line: bytes) -> str | None:
    """Why a complete first line is not our header (None when it is)."""
    try:
        head = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):
        return "its first line is not the deepdual-sweep-results header"
    if not isinstance(head, dict) or head.get("format") != STORE_FORMAT:
        return "its first line is not the deepdual-sweep-results header"
    version = head.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"its header has no valid version ({version!r})"
    if version > STORE_VERSION:
        return f"it has store version {version}; this deepdual reads up to {STORE_VERSION} (upgrade deepdual)"
    return None


class ResultsStore:
    """Append-only JSON-lines store of run records, safe against crashes mid-write.

    Each record is a dict with a ``"key"``. :meth:`append` writes one line with a single ``write``
    call, then fsyncs, under an exclusive lock on ``<path>.lock``; the header line goes out with
    the first record. A line is complete only once its ``"\\n"`` is on disk: on :meth:`load`, a
    trailing line without newline is ignored, and the next :meth:`append` truncates it first, so
    earlier lines are never touched. An interior line that is not valid JSON, not a record, or
    that ``validate`` rejects is skipped with one ``RuntimeWarning`` naming the file, the line and
    the field, so a sweep recomputes its run. Records whose key is already stored are not
    appended again.

    Parameters
    ----------
    path : str or path-like
        The ``.jsonl`` file (created on the first append). Its folder must exist; an existing file
        must be empty or a results store.
    validate : callable, optional
        ``validate(record)`` raises ``ValueError`` naming the field when a stored record is not
        usable (see :func:`deepdual.sweeps.check_record`).

    Raises
    ------
    FileNotFoundError
        The folder of ``path`` does not exist.
    ValueError
        ``path`` holds something other than a results store (its first line is not the header), or
        is a device, FIFO or socket.
    IsADirectoryError, PermissionError
        ``path`` is a folder or a read-only file.
    """

    def __init__(self, path, *, validate: Callable[[Mapping[str, Any]], None] | None = None):
        self.path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"Results store {self.path!r}: folder {folder!r} does not exist.")
        self.validate = validate
        self.lock_path = self.path + ".lock"
        self._known: set[str] = set()  # keys of the valid complete lines before byte self._offset
        self._offset = 0
        self._lines = 0
        self._warned: set[tuple[int, str]] = set()
        self.check()

    def __repr__(self) -> str:
        return f"ResultsStore({self.path!r})"

    # ---------------------------------------------------------------- ownership
    def check(self) -> None:
        """Refuse (``ValueError``) a file that is not ours before anything is written; see the class."""
        check_output_file(self.path, "store")
        try:
            with open(self.path, "rb") as fh:
                first = fh.readline(len(_HEADER) + 1024)
        except FileNotFoundError:
            return
        self._check_first_line(first)

    def _check_first_line(self, first: bytes) -> None:
        if not first:
            return  # new or empty
        if first.endswith(b"\n"):
            problem = _header_problem(first)
        else:  # no complete line yet: a crash while the first line was written leaves a prefix of it
            problem = None if _HEADER.startswith(first) else "its first line is not the deepdual-sweep-results header"
        if problem:
            raise ValueError(f"{self.path!r} is not a deepdual results store ({problem}), so the sweep will not "
                             "write into it; pass a new or empty file (--out / `store`), or the store of an earlier "
                             "sweep.")

    # ---------------------------------------------------------------- reading
    def _warn(self, lineno: int, offset: int, why: str) -> None:
        if (offset, why) in self._warned:
            return
        self._warned.add((offset, why))
        warnings.warn(f"{self.path}: line {lineno} {why}; ignored (its run is recomputed).", RuntimeWarning,
                      stacklevel=4)

    def _scan(self, start: int = 0, seen: set[str] | None = None, lines_before: int = 0
              ) -> tuple[list[dict], int, int]:
        """``(records, good_bytes, lines)``: the complete, valid records from byte ``start`` on (after
        ``lines_before`` lines) whose keys are not in ``seen`` (updated in place), the byte offset after
        the last complete line and the number of complete lines up to it."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(start)
                raw = fh.read()
        except FileNotFoundError:
            return [], 0, 0
        records: list[dict] = []
        seen = set() if seen is None else seen
        good = 0
        pos = 0
        lineno = lines_before
        if start == 0:
            end = raw.find(b"\n")
            self._check_first_line(raw if end < 0 else raw[: end + 1])
            if end < 0:
                return [], 0, 0
            good = pos = end + 1
            lineno = 1
        while pos < len(raw):
            end = raw.find(b"\n", pos)
            if end < 0:  # trailing partial line: the write of a killed process
                break
            lineno += 1
            line = raw[pos:end]
            offset = start + pos
            pos = end + 1
            good = pos
            if not line.strip():
                continue
            try:
                rec = json.loads(line.decode("utf-8"))
                if not isinstance(rec, dict) or not isinstance(rec.get("key"), str):
                    raise ValueError("not a record with a string 'key'")
                if self.validate is not None:
                    self.validate(rec)
            except RecursionError:
                self._warn(lineno, offset, "is nested too deeply to be a record")
                continue
            except (ValueError, TypeError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
                self._warn(lineno, offset, f"is not a valid record ({exc})")
                continue
            if rec["key"] in seen:
                continue
            seen.add(rec["key"])
            records.append(rec)
        return records, start + good, lineno

    def _refresh(self) -> int:
        """Bring the cached keys up to date (reading only new bytes); returns the file size."""
        try:
            size = os.path.getsize(self.path)
        except FileNotFoundError:
            size = 0
        if size < self._offset:  # truncated or replaced by someone else: start over
            self._known, self._offset, self._lines = set(), 0, 0
        if size > self._offset:
            _, self._offset, self._lines = self._scan(self._offset, self._known, self._lines)
        return size

    def load(self) -> list[dict]:
        """Every complete valid record, in the order written (first occurrence of each key).

        Raises
        ------
        ValueError
            The file is no longer a results store (replaced by another file).
        """
        return self._scan()[0]

    def keys(self) -> set[str]:
        """The keys of the stored valid records."""
        return {rec["key"] for rec in self.load()}

    def __len__(self) -> int:
        return len(self.load())

    def __contains__(self, key) -> bool:
        return key in self.keys()

    # ---------------------------------------------------------------- writing
    def repair(self) -> int:
        """Truncate a trailing partial line left by a crash; returns the number of bytes removed."""
        if not os.path.exists(self.path):
            return 0
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
            self.check()  # still ours: nobody replaced the file since
            size = self._refresh()
            if record["key"] in self._known:
                return False
            if size > self._offset:  # a trailing partial line left by a crash
                self._repair()
                size = os.path.getsize(self.path)
                if size == 0:
                    self._offset, self._lines = 0, 0
            if size == 0:  # a new store: the header goes out with the first record
                data = _HEADER + data
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
            self._lines += data.count(b"\n")
        return True
