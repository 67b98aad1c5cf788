"""Deep linear networks for regression (Sections 2-3): the closed forms of Theorems 2.3, 2.4, 3.3 and 3.6."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .. import _validation as V
from ._common import check_params, check_scale, end_to_end_map, numeric_targets, validate_data

__all__ = ["DeepLinearRegressor"]


class DeepLinearRegressor(RegressorMixin, BaseEstimator):
    r"""Globally optimal deep linear network for regression (Sections 2-3), no training.

    Minimizes, over parallel linear networks of depth ``L``,

    .. math::

        \tfrac12\|f_\theta(X) - Y\|_F^2 + \tfrac{\beta}{2}\sum_{j,l}\|W_{l,j}\|_F^2
        \;=\; \min_W \tfrac12\|XW - Y\|_F^2 + \tfrac{\beta L}{2}\sum_i \sigma_i(W)^{2/L}.

    With ``fit_intercept=True`` the columns of ``X`` and ``Y`` are centred first (an unregularized
    output bias; the problem with a free bias is exactly the centred problem), and ``solution_``
    is the solution of the centred problem.

    Parameters
    ----------
    depth : int, default 2
        ``L >= 2``. Scalar targets: exact for any ``X`` (Theorem 3.3). Several targets: depth 2 is
        solved to a certified tolerance for any ``X`` (Theorem 2.4); depth > 2 needs orthonormal
        columns or rows of ``X`` (Theorem 3.6) and otherwise raises.
    beta : float, default 1e-3
        Regularization ``β >= 0`` (``0``: minimum-norm interpolation).
    fit_intercept : bool, default True
    tol : float, default 1e-8
        Relative duality-gap tolerance of the iterative certified solver used for several targets
        at depth 2 on general ``X`` (Theorem 2.4); every other case is exact.

    Attributes
    ----------
    solution_ : Solution
    network_ : ParallelNet
        Acts on centred inputs ``X − x_mean_`` (and outputs centred targets).
    coef_ : ndarray of shape (n_features,) or (n_features, n_targets)
        End-to-end linear map of the network.
    intercept_ : float or ndarray of shape (n_targets,)
    x_mean_, y_mean_ : ndarray
        The centring offsets (zeros when ``fit_intercept=False``).
    n_features_in_ : int

    References
    ----------
    Ergen & Pilanci (2021), Theorems 2.1-2.4 and 3.1-3.6.
    """

    def __init__(self, depth: int = 2, beta: float = 1e-3, fit_intercept: bool = True, tol: float = 1e-8):
        self.depth = depth
        self.beta = beta
        self.fit_intercept = fit_intercept
        self.tol = tol

    def fit(self, X, y):
        """Compute the optimal network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self
        """
        from ..theorems import closed_form

        depth, beta = check_params(self)
        tol = V.check_scalar(self.tol, "tol", min_val=0.0, include_boundaries="neither")
        y = numeric_targets(y)
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        check_scale(X, Y)
        if self.fit_intercept:
            self.x_mean_ = X.mean(axis=0)
            self.y_mean_ = Y.mean(axis=0)
        else:
            self.x_mean_ = np.zeros(X.shape[1])
            self.y_mean_ = np.zeros(Y.shape[1])
        self.solution_ = closed_form(X - self.x_mean_, Y - self.y_mean_, beta=beta, depth=depth,
                                     activation="linear", tol=tol)
        self.network_ = self.solution_.network
        coef = end_to_end_map(self.network_)  # (n_features, n_targets), without an identity matrix
        self._single_output = y.ndim == 1
        self.coef_ = coef[:, 0] if self._single_output else coef
        intercept = self.y_mean_ - self.x_mean_ @ coef
        self.intercept_ = float(intercept[0]) if self._single_output else intercept
        return self

    def predict(self, X):
        """Network output (plus the intercept) for ``X`` of shape (n_samples, n_features)."""
        check_is_fitted(self, "solution_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = self.solution_.predict(X - self.x_mean_) + self.y_mean_
        return out[:, 0] if self._single_output else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
