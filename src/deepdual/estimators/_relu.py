"""Deep ReLU networks for classification on whitened rows (Theorem 4.3), with the remedy for ordinary data."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from .. import _validation as V
from ._common import check_params, validate_data
from ._rows import DependentRowsWarning, independent_rows

__all__ = ["DeepReLUClassifier"]

_INTERCEPT = ("auto", True, False)


def _check_intercept(value):
    if isinstance(value, str) and value == "auto":
        return "auto"
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"`intercept_feature` == {value!r}, must be 'auto', True or False.")


def _with_constant(X: np.ndarray) -> np.ndarray:
    return np.hstack([X, np.ones((X.shape[0], 1))])


class DeepReLUClassifier(ClassifierMixin, BaseEstimator):
    r"""Globally optimal deep ReLU network for classification (Theorem 4.3), no training.

    The labels (any hashable values: ints, strings, ...) are one-hot encoded into ``Y`` of shape
    ``(n, K)``; the rows of ``X`` are whitened so that :math:`XX^\top = I_n`; the closed form gives
    the parallel ReLU network of depth ``L`` minimizing

    .. math::

        P(\theta) = \tfrac12\|f_\theta(X) - Y\|_F^2 + \tfrac{\beta}{2}\sum_{j,l}\|W_{l,j}\|_F^2 ,

    one branch per class along :math:`X^\top y_k`. ``predict`` returns the class with the largest
    output.

    **Ordinary data.** Whitening needs linearly independent rows. Two remedies (both on by default,
    both deterministic):

    * centred rows (e.g. after ``StandardScaler``) have rank ``n − 1``: a constant feature (a column
      of ones) restores the rank, since ``1ᵀX = 0`` puts ``1`` outside the range of ``X``
      (``intercept_feature``);
    * rows that stay dependent (duplicates, constant pixels, ``n_samples > n_features``) cannot be
      whitened: a maximal linearly independent subset is kept — each step keeps the row farthest from
      the span of those kept (pivoted Gram-Schmidt, tolerance :data:`ROW_RTOL` × the largest row norm),
      the classes taken in turn — and the other rows are dropped with a :class:`DependentRowsWarning`
      (``dependent_rows``). The model is then the exact optimum *for the kept rows* (``support_``).
      At most ``n_features + 1`` rows are kept, so for ``n_samples ≫ n_features`` use
      :class:`ConvexReLUClassifier`, which uses every row.

    Parameters
    ----------
    depth : int, default 3
        Number of layers ``L >= 2``.
    beta : float, default 1e-3
        Regularization strength ``β > 0``.
    whiten : bool, default True
        Whiten the training rows (:class:`deepdual.Whitener`), and map test points the same way.
        With ``False`` the input must already satisfy :math:`XX^\top = I` (or have rank one,
        Theorem 4.1), and neither remedy applies.
    intercept_feature : {"auto", True, False}, default "auto"
        Append a constant feature (ones) before whitening: ``"auto"`` when the rows are dependent and
        the constant raises their rank (centred data), ``True`` always, ``False`` never.
    dependent_rows : {"drop", "raise"}, default "drop"
        What to do with rows that remain linearly dependent: keep a maximal independent subset and
        warn, or raise a ``ValueError`` (the behaviour before this option existed).

    Attributes
    ----------
    solution_ : Solution
        Objective, optimum, certificate (``lower_bound``, ``gap``) and ``theorem``, for the kept rows.
    network_ : ParallelNet
        The optimal network; it acts on :meth:`network_input` of the raw features.
    classes_ : ndarray of shape (n_classes,)
    support_ : ndarray of int
        Indices of the training rows the network was fitted on (every row unless some were dropped).
    intercept_feature_ : bool
        Whether a constant feature was appended.
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

    def __init__(self, depth: int = 3, beta: float = 1e-3, whiten: bool = True, intercept_feature="auto",
                 dependent_rows: str = "drop"):
        self.depth = depth
        self.beta = beta
        self.whiten = whiten
        self.intercept_feature = intercept_feature
        self.dependent_rows = dependent_rows

    def fit(self, X, y):
        """Compute the optimal network for training rows ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type.

        Returns
        -------
        self

        Warns
        -----
        DependentRowsWarning
            When rows were dropped (``dependent_rows="drop"``); the message says how many and why.
        """
        from ..data import one_hot
        from ..theorems import closed_form

        depth, beta = check_params(self)
        intercept = _check_intercept(self.intercept_feature)
        policy = V.check_choice(self.dependent_rows, "dependent_rows", ("drop", "raise"))
        X, y = validate_data(self, X, y, dtype=np.float64)
        try:
            check_classification_targets(y)
        except ValueError:
            raise ValueError(f"`y` must hold class labels (strings or integers); Unknown label type: "
                             f"{type_of_target(y)!r}. Use DeepLinearRegressor for continuous targets.") from None
        V.check_data_range(X, "X")
        n, d = X.shape
        enc = one_hot(y)
        self.classes_ = enc.classes
        if not self.whiten and intercept is True:
            raise ValueError("`intercept_feature`=True needs whiten=True: a constant feature would break the "
                             "orthonormal rows (X Xᵀ = I) that whiten=False requires.")
        room = d + int(intercept is not False)  # whitenable rows at most (with the constant feature)
        if policy == "raise" and self.whiten and n > room:
            extra = " plus a constant feature" if room > d else ""
            raise ValueError(
                f"DeepReLUClassifier(whiten=True) needs n_samples <= n_features: Theorem 4.3 whitens the "
                f"rows so that X Xᵀ = I, impossible with n_samples = {n} > n_features = {d}{extra}. Fit on at "
                f"most {room} samples (subsample the training set), pass dependent_rows='drop', or use "
                "ConvexReLUClassifier."
            )
        add, rows = intercept is True, np.arange(n)
        if self.whiten:
            add, rows = self._remedy(X, np.argmax(enc.Y, axis=1), intercept, policy)
        Xa = _with_constant(X) if add else X
        self.intercept_feature_ = bool(add)
        self.support_ = rows
        self.solution_ = closed_form(Xa[rows], enc.Y[rows], beta=beta, depth=depth, activation="relu",
                                     whiten=bool(self.whiten))
        self.network_ = self.solution_.network
        return self

    def _remedy(self, X, codes, intercept, policy):
        """``(add the constant feature?, rows to fit on)``; warns about dropped rows."""
        n = X.shape[0]
        if intercept is False and policy == "raise":
            return False, np.arange(n)
        base = _with_constant(X) if intercept is True else X
        kept = independent_rows(base, codes)
        add = intercept is True
        if intercept == "auto" and kept.size < n:
            more = independent_rows(_with_constant(X), codes)
            if more.size > kept.size:
                add, kept = True, more
        if policy == "raise" or kept.size == n:
            return add, np.arange(n)
        dropped = n - kept.size
        why = f"n_samples = {n} > {X.shape[1] + int(add)} features" if n > X.shape[1] + int(add) else \
            f"the rows span only {kept.size} dimensions"
        warnings.warn(
            f"DeepReLUClassifier: {dropped} of {n} training rows are linearly dependent on the others ({why}"
            f"{', after appending a constant feature' if add else ''}); Theorem 4.3 whitens the rows (X Xᵀ = I), "
            f"which needs independent rows, so the network is fitted on the {kept.size} rows in `support_`. "
            "Pass dependent_rows='raise' to get an error instead; for n_samples >> n_features use "
            "ConvexReLUClassifier, which fits every row.",
            DependentRowsWarning, stacklevel=3)
        return add, kept

    def network_input(self, X):
        """The input of ``network_`` for raw rows ``X``: the constant feature (if added), then the whitening.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_network_features)
        """
        check_is_fitted(self, "solution_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Xa = _with_constant(X) if self.intercept_feature_ else X
        return Xa if self.solution_.whitener is None else self.solution_.whitener.transform(Xa)

    def _outputs(self, X):
        check_is_fitted(self, "solution_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.solution_.predict(_with_constant(X) if self.intercept_feature_ else X)

    def decision_function(self, X):
        """Network outputs: shape (n_samples, n_classes), or (n_samples,) for two classes
        (output of ``classes_[1]`` minus output of ``classes_[0]``).
        """
        out = self._outputs(X)
        if out.shape[1] == 2:
            return out[:, 1] - out[:, 0]
        return out

    def predict(self, X):
        """Label of the largest output, for ``X`` of shape (n_samples, n_features)."""
        out = self._outputs(X)  # first: NotFittedError before any fitted attribute is read
        return self.classes_[np.argmax(out, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
