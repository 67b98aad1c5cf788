"""Two-layer ReLU networks on any data by the convex program (SPEC §6), as scikit-learn estimators."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from .. import _validation as V
from ._common import check_scale, numeric_targets, seed_of, validate_data

__all__ = ["ConvexReLURegressor", "ConvexReLUClassifier"]

_PARAMETERS = """    beta : float, default 1e-3
        Regularization strength ``β > 0`` (its scale is that of the summed squared loss: standardize
        the features, e.g. with ``StandardScaler``).
    bias : bool, default True
        Hidden biases: the program works on ``[X, 1]``, so each bias is regularized together with its
        neuron's weights (SPEC §6). The network's output bias is zero.
    patterns : {"auto", "enumerate", "sample"}, default "auto"
        The activation patterns of the program. ``"auto"`` enumerates all of them when the arrangement
        has at most ``max_patterns`` cells (the program is then exact: ``objective_`` is the global
        optimum up to ``tol``), else samples ``sampled_patterns`` and grows them by column generation.
    max_patterns : int, default 20000
        Pattern budget of the enumeration.
    sampled_patterns : int, default 100
        Patterns to start from when they are sampled.
    max_rounds : int, default 100
        Rounds of column generation at most (a deterministic budget; ``time_budget`` stops it earlier).
    time_budget : float, default 60.0
        Seconds for solving and column generation; the best network found so far is returned. A fit
        that hits it depends on the machine's speed (use ``max_rounds`` for reproducible fits).
    certificate_budget : float, default 10.0
        Seconds for the proven bound on the dual constraint (the certificate), after the solve.
    tol : float, default 1e-8
        Relative duality gap at which each restricted program counts as solved.
    random_state : int, RandomState instance or None, default 0
        Seed of the pattern sampling and of the pricing search."""

_CERTIFICATE = """    objective_ : float
        ``P(θ)`` of ``network_`` on the training data (float64).
    lower_bound_ : float
        A proven lower bound on the global optimum ``P*`` of the two-layer problem: the dual objective
        of the residual scaled to feasibility (SPEC §6), or ``0`` (``P ≥ 0``) if no dual bound was
        found within ``certificate_budget``.
    gap_ : float
        ``objective_ − lower_bound_ ≥ P(θ) − P*``: how far ``network_`` can be from the best two-layer
        network of any width.
    certificate_ : Certificate
        The same three numbers and the bound's method.
    complete_ : bool
        Whether every activation pattern was in the program (then ``network_`` is optimal up to ``tol``
        whatever ``gap_`` says about the bound's tightness).
    n_patterns_ : int
    n_neurons_ : int
    solution_ : Solution
        Everything :func:`deepdual.convex_relu` returned (``details``: rounds, bound method, times).
    network_ : ParallelNet
        Two-layer ReLU network with (penalized) hidden biases; acts on the raw features.
    n_features_in_ : int"""


class _ConvexReLU(BaseEstimator):
    """Parameters, the call to :func:`deepdual.convex_relu` and the certificate attributes."""

    def _solve(self, X: np.ndarray, Y: np.ndarray) -> None:
        from ..convex import convex_relu
        from ..solution import Certificate

        beta = V.check_beta(self.beta, allow_zero=False)
        bias = V.check_bool(self.bias, "bias")
        V.check_choice(self.patterns, "patterns", ("auto", "enumerate", "sample"))
        max_patterns = V.check_positive_int(self.max_patterns, "max_patterns")
        sampled = V.check_positive_int(self.sampled_patterns, "sampled_patterns")
        max_rounds = V.check_positive_int(self.max_rounds, "max_rounds", minimum=0)
        budgets = {name: V.check_scalar(getattr(self, name), name, min_val=0.0, include_boundaries="neither")
                   for name in ("time_budget", "certificate_budget", "tol")}
        seed = seed_of(self.random_state)
        sol = convex_relu(X, Y, beta=beta, bias=bias, patterns=self.patterns, max_patterns=max_patterns,
                          n_samples=sampled, max_rounds=max_rounds, time_budget=budgets["time_budget"],
                          bound_budget=budgets["certificate_budget"], tol=budgets["tol"], seed=seed)
        self.solution_ = sol
        self.network_ = sol.network
        self.objective_ = float(sol.objective)
        if sol.lower_bound is not None:
            lower, method = float(sol.lower_bound), f"{sol.theorem}; dual bound: {sol.details.get('bound_method')}"
        else:
            lower, method = 0.0, "P* >= 0 (no dual bound within certificate_budget)"
        self.lower_bound_ = lower
        self.gap_ = self.objective_ - lower
        self.certificate_ = Certificate(objective=self.objective_, lower_bound=lower, gap=self.gap_, method=method,
                                        exact=False)
        self.complete_ = bool(sol.details.get("complete", False))
        self.n_patterns_ = int(sol.details.get("n_patterns", 0))
        self.n_neurons_ = int(sol.details.get("n_neurons", self.network_.branches))

    def _outputs(self, X) -> np.ndarray:
        check_is_fitted(self, "solution_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.solution_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class ConvexReLURegressor(RegressorMixin, _ConvexReLU):
    __doc__ = r"""Two-layer ReLU network for regression by the convex program, with a certified gap (SPEC §6).

    Fits, for any ``n_samples`` and ``n_features``,

    .. math::

        \min_{u_j, \alpha_j}\ \tfrac12\Big\|\sum_j (\tilde X u_j)_+ \alpha_j - (y - \bar y)\Big\|^2
            + \frac{\beta}{2}\sum_j (\|u_j\|^2 + \alpha_j^2),
        \qquad \tilde X = [X, 1] \text{ (with ``bias``)},

    through its convex reformulation over activation patterns (Pilanci & Ergen 2020; the dual of the
    paper's eq. (4) with L = 2), and certifies the result: ``gap_`` bounds ``P(θ) − P*``, where ``P*``
    is the optimum over two-layer networks of *any* width. Several targets: one program per column
    (each neuron feeds one output), certified against the vector-output problem.

    Parameters
    ----------
""" + _PARAMETERS + r"""
    fit_intercept : bool, default True
        Subtract the mean target ``ȳ`` before the fit and add it back in ``predict``: an output offset
        fixed in advance, not optimized with the network. ``objective_`` and the certificate are for
        the centred targets.

    Attributes
    ----------
""" + _CERTIFICATE + r"""
    y_mean_ : ndarray of shape (n_targets,)
        The output offset (zeros when ``fit_intercept=False``).

    References
    ----------
    Pilanci & Ergen (2020), Theorem 1; Ergen & Pilanci (2021), eq. (4) with L = 2.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((12, 1))
    >>> reg = ConvexReLURegressor(beta=1e-2).fit(X, np.abs(X[:, 0]))
    >>> reg.complete_, bool(reg.gap_ <= 1e-6)
    (True, True)
    """

    def __init__(self, beta: float = 1e-3, bias: bool = True, patterns: str = "auto", max_patterns: int = 20_000,
                 sampled_patterns: int = 100, max_rounds: int = 100, time_budget: float = 60.0,
                 certificate_budget: float = 10.0, tol: float = 1e-8, random_state=0, fit_intercept: bool = True):
        self.beta = beta
        self.bias = bias
        self.patterns = patterns
        self.max_patterns = max_patterns
        self.sampled_patterns = sampled_patterns
        self.max_rounds = max_rounds
        self.time_budget = time_budget
        self.certificate_budget = certificate_budget
        self.tol = tol
        self.random_state = random_state
        self.fit_intercept = fit_intercept

    def fit(self, X, y):
        """Solve the convex program and certify the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self
        """
        fit_intercept = V.check_bool(self.fit_intercept, "fit_intercept")
        y = numeric_targets(y)
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        check_scale(X, Y)
        self.y_mean_ = Y.mean(axis=0) if fit_intercept else np.zeros(Y.shape[1])
        self._single_output = y.ndim == 1
        self._solve(X, Y - self.y_mean_)
        return self

    def predict(self, X):
        """Network output plus ``y_mean_`` for ``X`` of shape (n_samples, n_features)."""
        out = self._outputs(X) + self.y_mean_
        return out[:, 0] if self._single_output else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class ConvexReLUClassifier(ClassifierMixin, _ConvexReLU):
    __doc__ = r"""Two-layer ReLU classifier by the convex program, with a certified gap (SPEC §6).

    **Encoding and loss.** The network minimizes the squared loss

    .. math::

        P(\theta) = \tfrac12\|f_\theta(\tilde X) - Y\|_F^2 + \frac{\beta}{2}\sum_j (\|u_j\|^2 + \|\alpha_j\|^2),
        \qquad \tilde X = [X, 1] \text{ (with ``bias``)} ,

    on the targets of :meth:`target_matrix`:

    * **two classes**: one output, ``y_i = −1`` for ``classes_[0]`` and ``+1`` for ``classes_[1]``; a
      single scalar program, exact when every pattern is enumerated (then ``gap_`` is ~0);
      ``predict`` is the sign of the output;
    * **K ≥ 3 classes**: one-hot targets ``Y ∈ {0, 1}^{n × K}``, one scalar program per class (each
      neuron feeds one class output: a real network whose ``P(θ)`` is an upper bound on the
      vector-output optimum ``P*``, which is a copositive program), certified by a dual-feasible ``Λ``
      of the vector-output problem (SPEC §6): ``gap_ ≥ P(θ) − P*``, and generally not ~0 even with
      every pattern; ``predict`` is the class of the largest output.

    **No** ``predict_proba``: the outputs are least-squares fits of ±1 or 0/1 indicators, not
    probabilities (they can leave [0, 1] and are not calibrated). ``decision_function`` returns them;
    wrap the estimator in ``sklearn.calibration.CalibratedClassifierCV`` for probabilities.

    Parameters
    ----------
""" + _PARAMETERS + r"""

    Attributes
    ----------
""" + _CERTIFICATE + r"""
    classes_ : ndarray of shape (n_classes,)

    References
    ----------
    Pilanci & Ergen (2020), Theorem 1; Ergen & Pilanci (2021), eq. (4) with L = 2; Sahiner et al.
    (2021) for the vector-output problem.
    """

    def __init__(self, beta: float = 1e-3, bias: bool = True, patterns: str = "auto", max_patterns: int = 20_000,
                 sampled_patterns: int = 100, max_rounds: int = 100, time_budget: float = 60.0,
                 certificate_budget: float = 10.0, tol: float = 1e-8, random_state=0):
        self.beta = beta
        self.bias = bias
        self.patterns = patterns
        self.max_patterns = max_patterns
        self.sampled_patterns = sampled_patterns
        self.max_rounds = max_rounds
        self.time_budget = time_budget
        self.certificate_budget = certificate_budget
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y):
        """Solve the convex program(s) on the targets of :meth:`target_matrix` and certify the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type.

        Returns
        -------
        self
        """
        from ..data import one_hot

        X, y = validate_data(self, X, y, dtype=np.float64)
        try:
            check_classification_targets(y)
        except ValueError:
            raise ValueError(f"`y` must hold class labels (strings or integers); Unknown label type: "
                             f"{type_of_target(y)!r}. Use ConvexReLURegressor for continuous targets.") from None
        V.check_data_range(X, "X")
        self.classes_ = one_hot(y).classes
        self._solve(X, self.target_matrix(y))
        return self

    def target_matrix(self, y) -> np.ndarray:
        """The targets the program fits for labels ``y``: ``±1`` in one column for two classes, else one-hot.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Labels among ``classes_``.

        Returns
        -------
        ndarray of shape (n_samples, 1) for two classes, (n_samples, n_classes) otherwise
        """
        from ..data.labels import class_targets

        check_is_fitted(self, "classes_")
        return class_targets(np.asarray(y).ravel(), self.classes_,
                             encoding="sign" if len(self.classes_) == 2 else "one-hot")

    def decision_function(self, X):
        """Network outputs: shape (n_samples,) for two classes (positive means ``classes_[1]``), else
        (n_samples, n_classes)."""
        out = self._outputs(X)
        return out[:, 0] if len(self.classes_) == 2 else out

    def predict(self, X):
        """The class of the output's sign (two classes) or of the largest output, for ``X`` of shape
        (n_samples, n_features)."""
        out = self._outputs(X)  # first: NotFittedError before any fitted attribute is read
        if len(self.classes_) == 2:
            return self.classes_[(out[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(out, axis=1)]
