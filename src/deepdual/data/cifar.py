"""CIFAR-10 from a folder of the standard python-pickle batch files (only NumPy arrays are unpickled)."""

from __future__ import annotations

import os
import pickle

import numpy as np

from .._validation import check_positive_int
from .labels import _classification
from .records import Dataset

__all__ = ["load_cifar10", "CIFAR10_TRAIN_FILES", "CIFAR10_TEST_FILE"]

CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
_CIFAR10_META_FILE = "batches.meta"
_CIFAR10_FEATURES = 3 * 32 * 32


class _BatchUnpickler(pickle.Unpickler):
    """Unpickler for CIFAR batch files: only NumPy array reconstruction is allowed."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only NumPy arrays allowed)")


def _read_batch(path: str, folder: str) -> dict:
    fname = os.path.basename(path)
    if not os.path.isfile(path):
        present = sorted(os.listdir(folder))
        raise FileNotFoundError(
            f"CIFAR-10 folder {folder!r} has no file {fname!r}. Expected the python-pickle batches "
            f"{', '.join(CIFAR10_TRAIN_FILES)}, {CIFAR10_TEST_FILE} (from cifar-10-python.tar.gz, "
            f"folder cifar-10-batches-py); found: {', '.join(present) or 'nothing'}."
        )
    try:
        with open(path, "rb") as fh:
            obj = _BatchUnpickler(fh, encoding="bytes").load()
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a malformed file
        raise ValueError(
            f"CIFAR-10 file {fname!r} in {folder!r} is not a readable python-pickle batch ({exc}). "
            "Use the files of cifar-10-python.tar.gz (folder cifar-10-batches-py)."
        ) from None
    if not isinstance(obj, dict):
        raise ValueError(
            f"CIFAR-10 file {fname!r} in {folder!r} holds a {type(obj).__name__}, expected a dict "
            "with keys b'data' and b'labels'."
        )
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def load_cifar10(folder, *, train=True, max_per_file=None, batches=None) -> Dataset:
    """Read CIFAR-10 from a folder of the standard python-pickle batch files.

    The folder is ``cifar-10-batches-py`` as extracted from ``cifar-10-python.tar.gz``::

        folder/
          data_batch_1 ... data_batch_5   training batches (10,000 images each)
          test_batch                      test batch (10,000 images)
          batches.meta                    optional: b'label_names'

    Each batch is a pickled dict with ``b'data'`` (uint8 array of shape (N, 3072): 1024 red, then
    1024 green, then 1024 blue pixel values of a 32x32 image, row-major) and ``b'labels'``
    (list of N ints in 0-9). Only NumPy arrays are unpickled (no arbitrary code).

    Parameters
    ----------
    folder : str or path-like
    train : bool, default=True
        Read the training batches (else ``test_batch``).
    max_per_file : int, optional
        Keep only the first ``max_per_file`` images of each file.
    batches : sequence of int, optional
        Training batch numbers to read (default all five, ``(1, 2, 3, 4, 5)``); ignored for the test set.

    Returns
    -------
    Dataset
        ``X`` of shape (N, 3072) = pixel value / 255 (float64 in [0, 1]), ``labels`` ints,
        ``Y`` one-hot over the 10 classes 0-9, ``extras["label_names"]`` when ``batches.meta``
        is present.

    Raises
    ------
    FileNotFoundError
        The folder or one of the needed files is missing (the message names it).
    ValueError
        A file is not a valid batch (the message names it and what is wrong).
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"CIFAR-10 folder {folder!r} does not exist or is not a directory. Pass the extracted "
            "cifar-10-batches-py folder (with data_batch_1..5 and test_batch)."
        )
    if not isinstance(train, (bool, np.bool_)):
        raise TypeError(f"`train` must be True or False, got {train!r}.")
    if max_per_file is not None:
        max_per_file = check_positive_int(max_per_file, "max_per_file")
    if train:
        numbers = (1, 2, 3, 4, 5) if batches is None else tuple(batches)
        for b in numbers:
            if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 1 <= b <= 5:
                raise ValueError(f"`batches` entries must be ints in 1..5, got {b!r}.")
        if not numbers or len(set(numbers)) != len(numbers):
            raise ValueError(f"`batches` == {batches!r}, must list distinct batch numbers in 1..5.")
        files = [f"data_batch_{int(b)}" for b in numbers]
    else:
        files = [CIFAR10_TEST_FILE]

    Xs, ys = [], []
    for fname in files:
        batch = _read_batch(os.path.join(folder, fname), folder)
        missing = [k for k in ("data", "labels") if k not in batch]
        if missing:
            raise ValueError(
                f"CIFAR-10 file {fname!r} in {folder!r} lacks key(s) "
                f"{', '.join('b' + repr(m) for m in missing)}; expected b'data' and b'labels'."
            )
        data = np.asarray(batch["data"])
        labels = np.asarray(batch["labels"])
        if data.ndim != 2 or data.shape[1] != _CIFAR10_FEATURES or data.dtype.kind not in "ui":
            raise ValueError(
                f"CIFAR-10 file {fname!r} in {folder!r}: b'data' has shape {data.shape} and dtype "
                f"{data.dtype}; expected uint8 of shape (N, {_CIFAR10_FEATURES})."
            )
        if labels.ndim != 1 or labels.shape[0] != data.shape[0] or labels.dtype.kind not in "ui":
            raise ValueError(
                f"CIFAR-10 file {fname!r} in {folder!r}: b'labels' must be {data.shape[0]} ints "
                f"(one per image), got shape {labels.shape} and dtype {labels.dtype}."
            )
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise ValueError(
                f"CIFAR-10 file {fname!r} in {folder!r}: labels must lie in 0-9, got range "
                f"{labels.min()}..{labels.max()}."
            )
        if data.size and (data.min() < 0 or data.max() > 255):
            raise ValueError(
                f"CIFAR-10 file {fname!r} in {folder!r}: pixel values must lie in 0-255."
            )
        if max_per_file is not None:
            data, labels = data[:max_per_file], labels[:max_per_file]
        Xs.append(data.astype(np.float64) / 255.0)
        ys.append(labels.astype(np.int64))
    X = np.concatenate(Xs, axis=0)
    labels = np.concatenate(ys)
    if X.shape[0] == 0:
        raise ValueError(f"CIFAR-10 files {', '.join(files)} in {folder!r} hold no images.")

    extras = {}
    meta_path = os.path.join(folder, _CIFAR10_META_FILE)
    if os.path.isfile(meta_path):
        meta = _read_batch(meta_path, folder)
        names = meta.get("label_names")
        if names is not None:
            extras["label_names"] = tuple(
                n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names
            )
    split = "train" if train else "test"
    cap = f", first {max_per_file} images per file" if max_per_file is not None else ""
    desc = (
        f"CIFAR-10 {split} images from {', '.join(files)} in {folder}{cap}: {X.shape[0]} 32x32 RGB "
        "images as 3072 features (R, G, B planes), pixel values divided by 255 to [0, 1]."
    )
    return _classification(X, labels, f"cifar10-{split}", desc, classes=np.arange(10), extras=extras)
