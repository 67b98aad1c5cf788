"""Two-layer ReLU networks with biases on 1-D inputs (Theorem 4.2, Corollary 4.1): exact linear splines."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._common import check_params, check_scale, numeric_targets, validate_data

__all__ = ["SplineReLURegressor"]


class SplineReLURegressor(RegressorMixin, BaseEstimator):
    r"""Globally optimal two-layer ReLU network with biases on 1-D inputs (Theorem 4.2, Cor. 4.1).

    Solves exactly

    .. math::

        \min \tfrac12\|f(x) - y\|^2 + \tfrac{\beta}{2}\sum_i (w_i^2 + v_i^2),\qquad
        f(x) = \sum_i v_i (w_i x + b_i)_+ + c ,

    (biases unregularized) through its equivalent Lasso over ReLU atoms with kinks at the data
    points. The fitted model is a linear spline with kinks at data points; as ``β → 0`` it tends to
    the linear spline interpolant.

    Parameters
    ----------
    beta : float, default 1e-3
        Regularization ``β >= 0``.

    Attributes
    ----------
    solution_ : Solution
    network_ : ParallelNet
        Two-layer ReLU network with biases; acts on raw 1-D inputs.
    n_features_in_ : int
        Always 1.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.2 and Corollary 4.1.
    """

    def __init__(self, beta: float = 1e-3):
        self.beta = beta

    def fit(self, X, y):
        """Fit the exact spline network.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
            One feature: Theorem 4.2 is a result about 1-D inputs.
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        from ..theorems import closed_form

        _, beta = check_params(self)
        y = numeric_targets(y)
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        check_scale(X, y)
        if X.shape[1] != 1:
            raise ValueError(
                f"SplineReLURegressor needs exactly 1 feature: Theorem 4.2 (the exact two-layer ReLU "
                f"solver with biases) is for 1-D inputs; got X with {X.shape[1]} features. Pass one "
                "column, e.g. X[:, [j]]."
            )
        self.solution_ = closed_form(X, y, beta=beta, depth=2, activation="relu", bias=True)
        self.network_ = self.solution_.network
        return self

    def predict(self, X):
        """Spline network output for ``X`` of shape (n_samples, 1)."""
        check_is_fitted(self, "solution_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.solution_.predict(X)[:, 0]
