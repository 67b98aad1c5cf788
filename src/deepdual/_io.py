"""Files and records: the one atomic writer, the one JSON converter and the one description of the
environment, shared by sweeps, ``reproduce``, the report and the command line.

* :func:`atomic_write` / :func:`atomic_write_json`: temp file beside the target, fsync of the file,
  ``os.replace``, fsync of the folder. Readers see the old file or the complete new one, never a
  partial write, and a finished write survives a crash. :func:`check_output_file` is the check it
  makes first (no folder, device, FIFO or read-only file is ever replaced); :func:`same_file` tells
  whether an output would land on an input.
* :func:`loads_strict`: JSON parsing that refuses ``NaN`` / ``Infinity`` literals (records we read back).
* :func:`to_jsonable` (a whole value) and :func:`json_default` (the ``default=`` hook of
  :func:`json.dumps`): NumPy arrays and scalars, tensors, dataclasses, named tuples and paths as JSON
  types, built from the same conversion of one value.
* :func:`environment`: versions, machine and process, recorded with every result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
import platform
import socket
import stat
import tempfile
from collections.abc import Mapping

import numpy as np

__all__ = ["atomic_write", "atomic_write_json", "to_jsonable", "json_default", "environment", "fsync_dir",
           "check_output_file", "same_file", "loads_strict", "PACKAGES"]

#: Distributions whose versions :func:`environment` records.
PACKAGES = ("deepdual", "numpy", "scipy", "torch", "scikit-learn", "matplotlib", "mlxtend")


# ------------------------------------------------------------------------------------------ writing
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


def check_output_file(path, name: str = "path") -> str:
    """Refuse to write a file at ``path`` that is a folder, not a regular file, or read-only.

    A missing ``path`` is fine (it will be created); a symbolic link is judged by what it points to.
    This is what :func:`atomic_write` checks before it writes; commands call it up front so that a
    refused run writes nothing.

    Parameters
    ----------
    path : str or path-like
    name : str, default "path"
        How the message names the argument (``"--out"``, ``"store"``).

    Returns
    -------
    str
        ``os.fspath(path)``.

    Raises
    ------
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        ``path`` is a device, FIFO or socket (replacing it could break the system, reading it could hang).
    PermissionError
        ``path`` is a read-only file (no write permission bit set): it is left alone.
    """
    path = os.fspath(path)
    label = name if name.startswith("-") else f"`{name}`"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:  # a loop of links, a path through a file, ...
        raise ValueError(f"{label} {path!r} cannot be written ({exc.strerror or type(exc).__name__}).") from None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{label} {path!r} is a folder; pass a file name.")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{label} {path!r} is not a regular file (a device, FIFO or socket); pass a file name.")
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(f"{label} {path!r} is a read-only file; deepdual leaves it alone (make it "
                              "writable, or pass another file name).")
    return path


def same_file(a, b) -> bool:
    """Whether the paths ``a`` and ``b`` name the same existing file (through links, ``..``, hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def atomic_write(path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably.

    The data go to a temp file beside ``path``, which is fsync'ed and renamed over ``path``
    (``os.replace``); then the folder is fsync'ed. Readers see either the old file or the complete
    new one, never a partial write. On failure the temp file is removed and the old file kept.

    Parameters
    ----------
    path : str or path-like
        The file to write. Its folder must exist.
    data : str or bytes
        ``str`` is written as UTF-8.

    Raises
    ------
    FileNotFoundError
        The folder of ``path`` does not exist.
    IsADirectoryError, PermissionError, ValueError
        ``path`` is a folder, a read-only file, or not a regular file (:func:`check_output_file`);
        nothing is written.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot write {path!r}: folder {folder!r} does not exist.")
    check_output_file(path)
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


def atomic_write_json(path, obj, *, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON to ``path`` with :func:`atomic_write`.

    Parameters
    ----------
    path : str or path-like
        The file to write. Its folder must exist.
    obj : object
        JSON types, plus whatever :func:`json_default` converts. NaN and ±inf are written as
        ``NaN`` / ``Infinity``; convert with ``to_jsonable(obj, allow_nan=False)`` first for strict JSON.
    indent : int or None, default 2

    Raises
    ------
    TypeError
        ``obj`` holds a value that is not JSON-serializable (the old file is kept).
    FileNotFoundError
        The folder of ``path`` does not exist.
    """
    text = json.dumps(obj, indent=indent, default=json_default)
    atomic_write(path, text + "\n")


# ------------------------------------------------------------------------------------------ JSON
_NOT_JSON = object()


def _no_constant(name: str):
    raise ValueError(f"holds the non-JSON literal {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"holds the number {text}, which overflows float64")
    return value


def loads_strict(text: str | bytes):
    """Parse JSON text, refusing the ``NaN``, ``Infinity`` and ``-Infinity`` literals Python writes,
    and numbers such as ``1e999`` that overflow to infinity: every float it returns is finite.

    Raises
    ------
    ValueError
        Invalid JSON (``json.JSONDecodeError``), such a value, or nesting too deep for the parser;
        ``UnicodeDecodeError`` (a ``ValueError``) for bytes that are not UTF-8.
    """
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("is nested too deeply to be a deepdual record") from None


def _convert(value):
    """The JSON-ready form of one NumPy, PyTorch, path or dataclass value, else ``_NOT_JSON``."""
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return _NOT_JSON


def json_default(value):
    """The ``default=`` hook of :func:`json.dumps` for arrays, NumPy scalars, tensors, paths and dataclasses.

    Raises
    ------
    TypeError
        For any other type (as :func:`json.dumps` expects of the hook).
    """
    out = _convert(value)
    if out is _NOT_JSON:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return out


def to_jsonable(value, *, allow_nan: bool = True):
    """``value`` with every part made a JSON type (dict, list, str, int, float, bool, None).

    Arrays and tensors become (nested) lists, NumPy scalars Python numbers, dataclasses and named
    tuples dicts, paths strings, mapping keys strings; anything else its ``repr``.

    Parameters
    ----------
    value : object
    allow_nan : bool, default True
        False turns NaN and ±inf into None, so that the result is strict JSON.
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, allow_nan=allow_nan) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a named tuple
        return to_jsonable(value._asdict(), allow_nan=allow_nan)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, allow_nan=allow_nan) for v in value]
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        value = float(value)
        return value if allow_nan or math.isfinite(value) else None
    out = _convert(value)
    return repr(value) if out is _NOT_JSON else to_jsonable(out, allow_nan=allow_nan)


# ------------------------------------------------------------------------------------------ environment
@functools.lru_cache(maxsize=1)
def _machine() -> dict:
    import importlib.metadata as md

    from . import __version__

    versions: dict[str, str | None] = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = __version__ if pkg == "deepdual" else md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {"python": platform.python_version(), "packages": versions, "platform": platform.platform(),
            "machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "hostname": socket.gethostname()}


def environment() -> dict:
    """Where a result was computed: package versions, machine and process.

    Returns
    -------
    dict
        ``python``, ``packages`` (distribution name -> version, None when not installed; see
        :data:`PACKAGES`), ``platform``, ``machine``, ``processor``, ``cpu_count``, ``hostname``
        and ``pid``.
    """
    static = _machine()
    return {**static, "packages": dict(static["packages"]), "pid": os.getpid()}
