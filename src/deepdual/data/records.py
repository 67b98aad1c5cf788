"""The records every data source returns: :class:`Dataset`, :class:`RankOneDataset`,
:class:`OneHot` and :class:`Split` (frozen dataclasses of float64 arrays)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .._validation import check_array
from ..whitening import Whitener

__all__ = ["OneHot", "Dataset", "RankOneDataset", "Split"]


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy of ``mapping`` (empty for ``None``), for the ``extras`` of a record."""
    return MappingProxyType(dict(mapping or {}))


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
