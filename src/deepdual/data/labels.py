"""Labels: one-hot encoding, the check of a label vector, and classification data sets built from labels."""

from __future__ import annotations

import numpy as np

from .._validation import tensor_to_numpy
from .records import Dataset, OneHot, _frozen

__all__ = ["one_hot"]


def one_hot(labels, classes=None) -> OneHot:
    """Encode a label vector as a one-hot float64 matrix.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Any hashable labels (ints, strings, ...).
    classes : array-like of shape (n_classes,), optional
        Column order. Default: the sorted distinct labels. Every label must be among them.

    Returns
    -------
    OneHot
        ``Y`` of shape (n_samples, n_classes) and ``classes``.

    Examples
    --------
    >>> enc = one_hot(["cat", "dog", "cat"])
    >>> enc.Y.tolist(), enc.classes.tolist()
    ([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], ['cat', 'dog'])
    """
    labels = _check_labels(labels, "labels")
    if classes is None:
        classes_arr, cols = np.unique(labels, return_inverse=True)
        Y = np.zeros((labels.size, classes_arr.size), dtype=np.float64)
        Y[np.arange(labels.size), cols.ravel()] = 1.0
        return OneHot(Y=Y, classes=classes_arr)
    else:
        classes_arr = np.asarray(classes)
        if classes_arr.ndim != 1 or classes_arr.size == 0:
            raise ValueError(f"`classes` must be a non-empty 1-D sequence, got shape {classes_arr.shape}.")
        if np.unique(classes_arr).size != classes_arr.size:
            raise ValueError("`classes` has repeated entries; list every class once.")
    index = {c.item() if hasattr(c, "item") else c: k for k, c in enumerate(classes_arr)}
    cols = np.empty(labels.size, dtype=np.intp)
    unknown = []
    for i, lab in enumerate(labels):
        key = lab.item() if hasattr(lab, "item") else lab
        k = index.get(key)
        if k is None:
            unknown.append(key)
        else:
            cols[i] = k
    if unknown:
        shown = sorted(set(map(repr, unknown)))[:5]
        raise ValueError(
            f"`labels` contains {len(set(unknown))} label(s) not in `classes`: {', '.join(shown)}. "
            "Add them to `classes` or drop those samples."
        )
    Y = np.zeros((labels.size, classes_arr.size), dtype=np.float64)
    Y[np.arange(labels.size), cols] = 1.0
    return OneHot(Y=Y, classes=classes_arr)


def class_targets(labels, classes, *, encoding: str) -> np.ndarray:
    """Targets of labels among ``classes``: ``"one-hot"`` (n × K), or ``"sign"`` for two classes — one
    column, ``−1`` for ``classes[0]`` and ``+1`` for ``classes[1]`` (the two-class convex program)."""
    Y = one_hot(labels, classes).Y
    if encoding == "sign":
        if Y.shape[1] != 2:
            raise ValueError(f"the 'sign' encoding needs two classes, got {Y.shape[1]}.")
        return Y[:, 1:] - Y[:, :1]
    return Y


def _check_labels(labels, name: str) -> np.ndarray:
    arr = tensor_to_numpy(labels, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D (one label per sample), got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty; at least one label needed.")
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or infinite values; every sample needs a label.")
    return arr


def _classification(X, labels, name, description, classes=None, extras=None) -> Dataset:
    enc = one_hot(labels, classes)
    return Dataset(X=X, Y=enc.Y, labels=labels, name=name, description=description,
                   classes=enc.classes, extras=_frozen(extras))

