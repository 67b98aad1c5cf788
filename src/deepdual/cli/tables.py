"""The data files of ``deepdual fit`` and ``deepdual certify``: CSV or NPZ, read into a :class:`Table`.

* **CSV** (any extension but ``.npz``): UTF-8 text, a header row of column names, one sample per
  row. The target column may hold strings (class labels) or numbers; every other column is a
  numeric feature.
* **NPZ** (``.npz``, :func:`numpy.savez`): the target array is 1-D, one entry per sample. The
  features are the array ``X`` when the file has one, otherwise every other array (1-D arrays
  become one column each, 2-D arrays are appended column-wise, in file order).

Every problem with a file raises :class:`UsageError` with one line naming the file and what to fix.
Only regular files are read (a FIFO or device could block forever), NPZ members are never unpickled
(``allow_pickle=False``), and a file whose contents would not fit in memory (a large CSV, an NPZ whose
members decompress to more than the memory available) is refused before it is read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from .._validation import available_memory
from ._errors import UsageError

__all__ = ["Table", "read_table"]

#: Parsing a CSV keeps every cell as a Python string for a moment: about this many bytes per byte of file.
_CSV_MEMORY_FACTOR = 16


@dataclass(frozen=True)
class Table:
    """Features, target and provenance read from a data file.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Float64 features, all finite.
    target : ndarray of shape (n_samples,)
        Integers when every entry is integral, floats when numeric, else stripped strings.
    feature_names : list of str
    target_name : str
    path : str
    sha256 : str
        Hex digest of the file's bytes (``certify`` checks it against the fitted model's).
    """

    X: np.ndarray
    target: np.ndarray
    feature_names: list
    target_name: str
    path: str
    sha256: str

    @property
    def n_rows(self) -> int:
        return self.X.shape[0]


def _parse_target(path: str, values: list[str], name: str, where) -> np.ndarray:
    """Numbers when every entry parses as a float (ints when all integral), else stripped strings."""
    for i, v in enumerate(values):
        if v.strip() == "":
            raise UsageError(f"{path}: target column {name!r} has an empty value ({where(i)}); every sample needs "
                             "a target.")
    try:
        nums = np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return np.array([v.strip() for v in values])
    if not np.all(np.isfinite(nums)):
        raise UsageError(f"{path}: target column {name!r} has NaN or infinite values; remove those rows.")
    if np.all(nums == np.round(nums)) and np.all(np.abs(nums) < 2**53):
        return nums.astype(np.int64)
    return nums


def _read_csv(path: str, raw: bytes, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text; pass a CSV file (header row, comma-separated) or a .npz "
                         "file.") from None
    if "\x00" in text:
        raise UsageError(f"{path}: holds NUL bytes, so it is not a text CSV (a binary or UTF-16 file?); pass a UTF-8 "
                         "CSV file or a .npz file.")
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        rows = [(reader.line_num, r) for r in reader if r and any(c.strip() for c in r)]
    except csv.Error as exc:
        raise UsageError(f"{path}: malformed CSV near line {reader.line_num}: {exc}.") from None
    if not rows:
        raise UsageError(f"{path}: the file is empty; a CSV needs a header row and at least one data row.")
    header = [h.strip() for h in rows[0][1]]
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise UsageError(f"{path}: repeated column name(s) in the header: {', '.join(map(repr, dup))}.")
    if target not in header:
        shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
        raise UsageError(f"{path}: no target column {target!r}; the header has: {shown}.")
    data = rows[1:]
    if not data:
        raise UsageError(f"{path}: only a header row; no data rows.")
    for ln, r in data:
        if len(r) != len(header):
            raise UsageError(f"{path}: malformed CSV: line {ln} has {len(r)} fields but the header has {len(header)}.")
    t = header.index(target)
    features = [h for i, h in enumerate(header) if i != t]
    if not features:
        raise UsageError(f"{path}: no feature columns besides the target {target!r}.")
    X = np.empty((len(data), len(features)), dtype=np.float64)
    cols = [i for i in range(len(header)) if i != t]
    for row_i, (ln, r) in enumerate(data):
        for j, c in enumerate(cols):
            cell = r[c].strip()
            try:
                X[row_i, j] = float(cell)
            except ValueError:
                what = "an empty value" if cell == "" else f"the non-numeric value {cell!r}"
                raise UsageError(f"{path}: feature column {header[c]!r} has {what} on line {ln}; features must be "
                                 "numbers (encode or drop that column).") from None
    if not np.all(np.isfinite(X)):
        bad = [features[j] for j in range(X.shape[1]) if not np.all(np.isfinite(X[:, j]))]
        raise UsageError(f"{path}: feature column(s) {', '.join(map(repr, bad[:5]))} hold NaN or infinite values.")
    y = _parse_target(path, [r[t] for _, r in data], target, lambda i: f"line {data[i][0]}")
    return X, y, features


def _member_bytes(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> int | None:
    """The bytes the ``.npy`` member ``info`` declares in its header (None when it has no valid header)."""
    from numpy.lib import format as npy

    try:
        with z.open(info) as fh:
            version = npy.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = npy.read_array_header_1_0(fh, max_header_size=10_000)
            elif version == (2, 0):
                shape, _, dtype = npy.read_array_header_2_0(fh, max_header_size=10_000)
            else:
                return None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, SyntaxError):
        return None
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def _check_npz_size(path: str) -> None:
    """Refuse, before loading, an NPZ archive that decompresses to more than the available memory (a zip
    bomb), or whose member declares a shape larger than the data it holds (which would allocate it)."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(info.file_size for info in infos)
            have = available_memory()
            if total > have // 2:
                raise UsageError(f"{path}: the NPZ members decompress to {total / 2**30:.3g} GiB, more than the "
                                 f"memory available ({have / 2**30:.3g} GiB); pass a smaller file.")
            for info in infos:
                declared = _member_bytes(z, info) if info.filename.endswith(".npy") else None
                if declared is not None and declared > info.file_size:
                    raise UsageError(f"{path}: member {info.filename!r} declares {declared} bytes of data but holds "
                                     f"{info.file_size}; the file is damaged.")
    except UsageError:
        raise
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return  # not a zip: np.load says so below


def _load_npz(path: str) -> dict[str, np.ndarray]:
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic != b"\x93NUMPY" and not zipfile.is_zipfile(path):  # np.load would try to unpickle it
        raise UsageError(f"{path}: not a valid NPZ file (not a zip archive); save the file with "
                         "numpy.savez(path, X=features, name=target).")
    _check_npz_size(path)
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise UsageError(f"{path}: holds a single array (.npy), not an NPZ archive; save the file with "
                             "numpy.savez(path, X=features, name=target).")
        with loaded as f:
            arrays = {k: f[k] for k in f.files}
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(f"{path}: cannot read the NPZ file ({str(exc).splitlines()[0]}); object arrays are not "
                         "supported.") from None
    except (OSError, EOFError, zipfile.BadZipFile, MemoryError) as exc:
        raise UsageError(f"{path}: not a valid NPZ file ({type(exc).__name__}).") from None
    for k, a in arrays.items():
        if not isinstance(a, np.ndarray):  # NpzFile hands back the raw bytes of a member that is not a .npy
            raise UsageError(f"{path}: member {k!r} is not a NumPy array; save the file with numpy.savez.")
    return arrays


def _read_npz(path: str, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    arrays = _load_npz(path)
    if target not in arrays:
        raise UsageError(f"{path}: no target array {target!r}; the file has: {', '.join(arrays) or 'no arrays'}.")
    y = arrays.pop(target)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise UsageError(f"{path}: target array {target!r} has shape {y.shape}; pass one target per sample (1-D).")
    n = y.shape[0]
    if "X" in arrays:
        arrays = {"X": arrays["X"]}
    if not arrays:
        raise UsageError(f"{path}: no feature arrays besides the target {target!r}.")
    cols, names = [], []
    for k, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise UsageError(f"{path}: feature array {k!r} has dtype {a.dtype}; features must be numbers.")
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[0] != n:
            raise UsageError(f"{path}: feature array {k!r} has shape {a.shape}; expected ({n},) or ({n}, d) to match "
                             f"the {n} targets.")
        cols.append(a.astype(np.float64))
        names += [k] if a.shape[1] == 1 and arrays[k].ndim == 1 else [f"{k}[{j}]" for j in range(a.shape[1])]
    X = np.hstack(cols)
    if not np.all(np.isfinite(X)):
        raise UsageError(f"{path}: the features hold NaN or infinite values.")
    if y.dtype.kind in "US":
        y = np.array([str(v).strip() for v in y])
    elif y.dtype.kind in "biuf":
        y = _parse_target(path, [repr(float(v)) for v in y], target, lambda i: f"entry {i}")
    else:
        raise UsageError(f"{path}: target array {target!r} has dtype {y.dtype}; pass numbers or strings.")
    return X, y, names


def read_table(path, target: str) -> Table:
    """Read a CSV or NPZ data file (see the module docstring for the formats).

    Raises
    ------
    UsageError
        No such file, not a regular file, too large for memory, or a file that is not a data file of
        this form; one line naming the file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UsageError(f"No data file {path!r}.")
    if not os.path.isfile(path):  # a folder, or a FIFO / device that could block or never end
        raise UsageError(f"Data file {path!r} is not a regular file; pass a CSV or NPZ file.")
    size = os.path.getsize(path)
    if not path.lower().endswith(".npz") and size * _CSV_MEMORY_FACTOR > available_memory():
        raise UsageError(f"{path}: a CSV file of {size / 2**30:.3g} GiB is too large to parse in the memory "
                         "available; pass fewer rows, or save the data as a .npz file.")
    with open(path, "rb") as f:
        raw = f.read()
    sha = hashlib.sha256(raw).hexdigest()
    if path.lower().endswith(".npz"):
        X, y, names = _read_npz(path, target)
    else:
        X, y, names = _read_csv(path, raw, target)
    return Table(X, y, names, target, path, sha)
