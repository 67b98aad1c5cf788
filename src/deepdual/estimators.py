"""scikit-learn estimators: the paper's closed forms as training-free models.

Each estimator is a thin wrapper over :func:`deepdual.closed_form`: ``fit`` computes the globally
optimal network of problem (2) for the training data, ``predict`` evaluates it. The fitted
estimator keeps the whole :class:`~deepdual.Solution` record (objective, optimum, certificate,
theorem) in ``solution_`` and the PyTorch module in ``network_``.

* :class:`DeepReLUClassifier` - deep ReLU parallel network on whitened data with one-hot labels
  (Theorem 4.3). Needs ``n_samples <= n_features``: whitening makes the training rows orthonormal.
* :class:`DeepLinearRegressor` - deep linear network (Sections 2-3, Theorems 2.3, 2.4, 3.3, 3.6).
* :class:`SplineReLURegressor` - two-layer ReLU network with biases on 1-D inputs (Theorem 4.2,
  Corollary 4.1): the optimal model is a linear spline with kinks at data points.

They follow scikit-learn's conventions (parameters stored in ``__init__``, learned attributes end
in ``_``, ``fit`` returns ``self``) and so work with ``clone``, ``Pipeline`` and ``GridSearchCV``.
"""

from __future__ import annotations

import re

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted
from sklearn.utils.validation import validate_data as _sk_validate_data

from . import _validation as V


def validate_data(estimator, X, y="no_validation", **kwargs):
    """scikit-learn's ``validate_data`` with its error messages folded into one line naming the argument.

    scikit-learn's estimator checks look for its own phrases, so they are kept verbatim.
    """
    try:
        if isinstance(y, str) and y == "no_validation":
            return _sk_validate_data(estimator, X, **kwargs)
        return _sk_validate_data(estimator, X, y, **kwargs)
    except (ValueError, TypeError) as exc:
        text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        if not re.search(r"\b[Xy]\b", text):
            text = f"`X`: {text}"
        raise type(exc)(text) from None


def _numeric_targets(y):
    """Regression targets as numbers: numeric strings ("1.5") become floats, as in :func:`deepdual.closed_form`;
    anything else non-numeric is a one-line TypeError naming `y`."""
    if y is None or hasattr(y, "detach"):  # torch tensors are numeric (or refused by the checks that follow)
        return y
    arr = np.asarray(y)  # lists, arrays, pandas objects
    if arr.dtype.kind in "USO":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError("`y` has non-numeric entries; regression needs numeric targets "
                            "(use DeepReLUClassifier for class labels).") from None
    return y


def _check_scale(X, Y) -> None:
    """The value range of :data:`deepdual._validation.DATA_RANGE`, named as scikit-learn names the arguments."""
    V.check_data_range(X, "X")
    V.check_data_range(Y, "y")


def _end_to_end_map(network) -> np.ndarray:
    """``W = Σ_j W_{1,j} ⋯ w_{L,j}`` of shape (n_features, n_outputs) of a linear ParallelNet, in float64.

    The product is taken branch by branch from the input side, so it costs ``O(m·d·width)`` memory:
    no ``d × d`` identity is pushed through the network.
    """
    import torch

    with torch.no_grad():
        M = network.weights[0].detach().double()
        for W in network.weights[1:]:
            M = torch.matmul(M, W.detach().double())
        return M.sum(dim=0).cpu().numpy()

__all__ = ["DeepReLUClassifier", "DeepLinearRegressor", "SplineReLURegressor"]


def _check_params(est) -> tuple[int, float]:
    depth = V.check_layer_count(V.check_depth(est.depth)) if hasattr(est, "depth") else 2
    beta = V.check_beta(est.beta)
    for name in ("whiten", "fit_intercept"):
        if hasattr(est, name):
            V.check_bool(getattr(est, name), name)
    return depth, beta


class DeepReLUClassifier(ClassifierMixin, BaseEstimator):
    r"""Globally optimal deep ReLU network for classification (Theorem 4.3), no training.

    The labels (any hashable values: ints, strings, ...) are one-hot encoded into ``Y`` of shape
    ``(n, K)``; the rows of ``X`` are whitened so that :math:`XX^\top = I_n`; the closed form gives
    the parallel ReLU network of depth ``L`` minimizing

    .. math::

        P(\theta) = \tfrac12\|f_\theta(X) - Y\|_F^2 + \tfrac{\beta}{2}\sum_{j,l}\|W_{l,j}\|_F^2 ,

    one branch per class along :math:`X^\top y_k`. ``predict`` returns the class with the largest
    output.

    Parameters
    ----------
    depth : int, default 3
        Number of layers ``L >= 2``.
    beta : float, default 1e-3
        Regularization strength ``β > 0``.
    whiten : bool, default True
        Whiten the training rows (:class:`deepdual.Whitener`), and map test points the same way.
        Requires ``n_samples <= n_features`` and linearly independent samples. With ``False`` the
        input must already satisfy :math:`XX^\top = I` (or have rank one, Theorem 4.1).

    Attributes
    ----------
    solution_ : Solution
        Objective, optimum, certificate (``lower_bound``, ``gap``) and ``theorem``.
    network_ : ParallelNet
        The optimal network; it acts on whitened inputs (``solution_.whitener.transform(X)``).
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.3 (and Theorem 4.1 for rank-one data).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((6, 10))
    >>> clf = DeepReLUClassifier(depth=3, beta=1e-3).fit(X, ["a", "b", "c", "a", "b", "c"])
    >>> clf.predict(X).tolist()
    ['a', 'b', 'c', 'a', 'b', 'c']
    """

    def __init__(self, depth: int = 3, beta: float = 1e-3, whiten: bool = True):
        self.depth = depth
        self.beta = beta
        self.whiten = whiten

    def fit(self, X, y):
        """Compute the optimal network for training rows ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            With ``whiten=True``: ``n_samples <= n_features``, linearly independent rows.
        y : array-like of shape (n_samples,)
            Class labels of any type.

        Returns
        -------
        self
        """
        from .data import one_hot
        from .theorems import closed_form

        depth, beta = _check_params(self)
        X, y = validate_data(self, X, y, dtype=np.float64)
        try:
            check_classification_targets(y)
        except ValueError:
            raise ValueError(f"`y` must hold class labels (strings or integers), got {type_of_target(y)} "
                             "values; use DeepLinearRegressor for continuous targets.") from None
        V.check_data_range(X, "X")
        n, d = X.shape
        if self.whiten and n > d:
            raise ValueError(
                f"DeepReLUClassifier(whiten=True) needs n_samples <= n_features: Theorem 4.3 whitens the "
                f"rows so that X Xᵀ = I, impossible with n_samples = {n} > n_features = {d}. "
                f"Fit on at most {d} samples (subsample the training set)."
            )
        enc = one_hot(y)
        self.classes_ = enc.classes
        self.solution_ = closed_form(X, enc.Y, beta=beta, depth=depth, activation="relu",
                                     whiten=bool(self.whiten))
        self.network_ = self.solution_.network
        return self

    def decision_function(self, X):
        """Network outputs: shape (n_samples, n_classes), or (n_samples,) for two classes
        (output of ``classes_[1]`` minus output of ``classes_[0]``).
        """
        check_is_fitted(self, "solution_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = self.solution_.predict(X)
        if out.shape[1] == 2:
            return out[:, 1] - out[:, 0]
        return out

    def predict(self, X):
        """Label of the largest output, for ``X`` of shape (n_samples, n_features)."""
        check_is_fitted(self, "solution_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = self.solution_.predict(X)
        return self.classes_[np.argmax(out, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


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
        from .theorems import closed_form

        depth, beta = _check_params(self)
        tol = V.check_scalar(self.tol, "tol", min_val=0.0, include_boundaries="neither")
        y = _numeric_targets(y)
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        _check_scale(X, Y)
        if self.fit_intercept:
            self.x_mean_ = X.mean(axis=0)
            self.y_mean_ = Y.mean(axis=0)
        else:
            self.x_mean_ = np.zeros(X.shape[1])
            self.y_mean_ = np.zeros(Y.shape[1])
        self.solution_ = closed_form(X - self.x_mean_, Y - self.y_mean_, beta=beta, depth=depth,
                                     activation="linear", tol=tol)
        self.network_ = self.solution_.network
        coef = _end_to_end_map(self.network_)  # (n_features, n_targets), without an identity matrix
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
        from .theorems import closed_form

        _, beta = _check_params(self)
        y = _numeric_targets(y)
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        _check_scale(X, y)
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
