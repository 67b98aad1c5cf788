"""Files and records: the one atomic writer, the one JSON converter and the one description of the
environment, shared by sweeps, ``reproduce``, the report and the command line.

* :func:`atomic_write` / :func:`atomic_write_json`: temp file beside the target, fsync of the file,
  ``os.replace``, fsync of the folder. Readers see the old file or the complete new one, never a
  partial write, and a finished write survives a crash.
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
import tempfile
from collections.abc import Mapping

import numpy as np

__all__ = ["atomic_write", "atomic_write_json", "to_jsonable", "json_default", "environment", "fsync_dir",
           "PACKAGES"]

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
