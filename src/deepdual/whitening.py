"""Whitening of the data rows, so that X Xᵀ = I_n (Ergen & Pilanci 2021, Theorem 4.3).

Theorem 4.3 gives the optimal deep ReLU network in closed form when the *rows* of the data
matrix are orthonormal, X Xᵀ = I_n. That is possible only with at most as many samples as
features (n ≤ d) and linearly independent samples (rank X = n). For such X with thin SVD
X = U Σ Vᵀ, the feature map

.. math::

    M = V \\Sigma^{-1} V^\\top \\in \\mathbb{R}^{d \\times d},
    \\qquad (XM)(XM)^\\top = U \\Sigma V^\\top V \\Sigma^{-1} V^\\top V \\Sigma^{-1} V^\\top V \\Sigma U^\\top
    = U U^\\top = I_n,

whitens the training rows, and the same linear map ``x ↦ x M`` applies to test points.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._validation import IDENTITY_TOL, check_array, check_scalar, identity_error

__all__ = ["Whitener", "whiten_rows", "is_whitened"]


class Whitener(TransformerMixin, BaseEstimator):
    r"""Whiten the rows of a data matrix: the fitted rows satisfy X Xᵀ = I_n.

    Fitting computes the thin SVD of the training matrix,
    :math:`X = U \Sigma V^\top` with :math:`U \in \mathbb{R}^{n \times n}`,
    :math:`V \in \mathbb{R}^{d \times n}`, and the feature map

    .. math::

        M = V \Sigma^{-1} V^\top, \qquad x \mapsto x M = \big((x V)\,\Sigma^{-1}\big) V^\top,

    so that the transformed training rows are :math:`X M = U V^\top`, which has orthonormal rows:
    :math:`(XM)(XM)^\top = I_n`. ``transform`` applies the same map to any points (test points
    included). Directions orthogonal to the training rows are sent to zero.

    Whitening rows needs ``n_samples <= n_features`` and ``rank X = n_samples``: ``fit`` raises
    a ``ValueError`` otherwise. The rank is the number of singular values
    :math:`\sigma_i > \mathrm{rtol} \cdot \sigma_{\max}`.

    Parameters
    ----------
    rtol : float or None, default=None
        Relative tolerance on the singular values used to decide the rank. ``None`` means
        ``max(n_samples, n_features) * eps`` (float64 machine epsilon), NumPy's ``matrix_rank``
        default.

    Attributes
    ----------
    components_ : ndarray of shape (n_samples_fit, n_features)
        :math:`V^\top`: orthonormal rows spanning the training rows.
    singular_values_ : ndarray of shape (n_samples_fit,)
        The singular values :math:`\sigma_1 \ge \dots \ge \sigma_n > 0` of the training matrix.
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_samples_fit_ : int
        Number of training rows (= rank of the training matrix).
    condition_number_ : float
        :math:`\sigma_1 / \sigma_n`. ``transform`` on the training rows reproduces the exact
        whitened rows up to about ``condition_number_ * 1e-16``.
    matrix_ : ndarray of shape (n_features, n_features)
        The feature map :math:`M = V \Sigma^{-1} V^\top` (computed on access; ``transform`` uses the
        cheaper factored form).

    See Also
    --------
    whiten_rows : fit and transform in one call.
    is_whitened : check X Xᵀ = I.

    References
    ----------
    Ergen & Pilanci (2021), "Revealing the Structure of Deep Neural Networks via Convex Duality",
    ICML, Theorem 4.3 and Remark 4.1.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((5, 8))
    >>> W = Whitener().fit(X)
    >>> Xw = W.transform(X)
    >>> bool(np.allclose(Xw @ Xw.T, np.eye(5)))
    True
    """

    def __init__(self, rtol: float | None = None):
        self.rtol = rtol

    def fit(self, X, y=None):
        """Compute the whitening map from training rows ``X`` of shape (n_samples, n_features).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows; needs n_samples <= n_features and full row rank.
        y : ignored

        Returns
        -------
        self : Whitener
        """
        self._fit(X)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit and return the whitened training rows :math:`U V^\\top` of shape (n_samples, n_features).

        This is :math:`X M` computed without the round-off of multiplying by
        :math:`\\Sigma^{-1}`: its rows are orthonormal to machine precision.
        """
        U, Vt = self._fit(X)
        return U @ Vt

    def _fit(self, X):
        X = check_array(X, "X")
        n, d = X.shape
        if n > d:
            raise ValueError(
                f"Whitening the rows (X Xᵀ = I) needs n_samples <= n_features, got n = {n} samples > "
                f"d = {d} features: n orthonormal rows need at least n dimensions. Keep at most {d} "
                "samples, or use a network with batch normalization instead (Theorem 4.4)."
            )
        rtol = self._rtol(n, d)
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        if s[0] == 0.0:
            rank = 0
        else:
            rank = int(np.count_nonzero(s > rtol * s[0]))
        if rank < n:
            raise ValueError(
                f"Whitening the rows (X Xᵀ = I) needs linearly independent samples, but `X` "
                f"({n} x {d}) has rank {rank} < {n} samples (singular values <= {rtol:.3g} x the "
                "largest count as zero). Remove duplicated or linearly dependent samples (rows), "
                "or choose other features."
            )
        self.components_ = Vt
        self.singular_values_ = s
        self.n_features_in_ = d
        self.n_samples_fit_ = n
        self.condition_number_ = float(s[0] / s[-1])
        return U, Vt

    def _rtol(self, n: int, d: int) -> float:
        if self.rtol is None:
            return max(n, d) * np.finfo(np.float64).eps
        rtol = self.rtol
        if isinstance(rtol, bool) or not isinstance(rtol, (int, float, np.floating, np.integer)):
            raise TypeError(f"`rtol` must be a real number or None, got {type(rtol).__name__}.")
        rtol = float(rtol)
        if not (np.isfinite(rtol) and 0 <= rtol < 1):
            raise ValueError(f"`rtol` == {rtol}, must be in [0, 1).")
        return rtol

    def transform(self, X):
        """Apply the fitted map :math:`x \\mapsto ((x V)\\Sigma^{-1}) V^\\top`.

        Parameters
        ----------
        X : array-like of shape (n_points, n_features)
            Any points (training or test) with the features seen in ``fit``.

        Returns
        -------
        Xw : ndarray of shape (n_points, n_features), float64
        """
        check_is_fitted(self, ["components_", "singular_values_"])
        X = check_array(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"`X` has {X.shape[1]} features but this Whitener was fitted with "
                f"{self.n_features_in_}; pass points with the same features as the training rows."
            )
        return ((X @ self.components_.T) / self.singular_values_) @ self.components_

    @property
    def matrix_(self) -> np.ndarray:
        """The feature map :math:`M = V \\Sigma^{-1} V^\\top` of shape (n_features, n_features)."""
        if not hasattr(self, "components_"):
            raise NotFittedError(
                "This Whitener instance is not fitted yet. Call 'fit' with appropriate arguments "
                "before using this estimator."
            )
        Vt = self.components_
        return (Vt.T / self.singular_values_) @ Vt


def whiten_rows(X, *, rtol: float | None = None) -> tuple[np.ndarray, Whitener]:
    """Whiten the rows of ``X`` and return them with the fitted :class:`Whitener`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Needs n_samples <= n_features and full row rank.
    rtol : float or None, default=None
        Rank tolerance, see :class:`Whitener`.

    Returns
    -------
    Xw : ndarray of shape (n_samples, n_features)
        Whitened rows, ``Xw @ Xw.T = I``.
    whitener : Whitener
        The fitted map; ``whitener.transform(X_test)`` maps test points the same way.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.3 and Remark 4.1.
    """
    whitener = Whitener(rtol=rtol)
    Xw = whitener.fit_transform(X)
    return Xw, whitener


def is_whitened(X, tol: float = IDENTITY_TOL) -> bool:
    """Return whether the rows of ``X`` are orthonormal: :math:`\\|X X^\\top - I_n\\|_F \\le` ``tol``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    tol : float, default=1e-8
        Tolerance on the Frobenius norm of :math:`X X^\\top - I_n` (the same test as the closed forms).

    Returns
    -------
    bool
        ``False`` whenever n_samples > n_features (rows cannot be orthonormal then).

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.3.
    """
    X = check_array(X, "X")
    tol = check_scalar(tol, "tol", min_val=0.0)
    n, d = X.shape
    if n > d:
        return False
    return bool(identity_error(X @ X.T) <= tol)
