"""Closed-form globally optimal networks, one module per theorem family, and the dispatcher."""

from __future__ import annotations

import numbers

from .. import _validation as V
from ..networks import ACTIVATIONS
from ..solution import Solution
from .batchnorm import batchnorm_closed_form, last_hidden_class_means
from .linear import linear_closed_form
from .relu import rank_one_closed_form, relu_closed_form, whitened_closed_form

__all__ = ["closed_form", "batchnorm_closed_form", "last_hidden_class_means", "linear_closed_form",
           "rank_one_closed_form", "whitened_closed_form"]


def closed_form(X, Y, *, beta: float, depth: int, activation: str = "linear", bias: bool = False,
                whiten: bool = False, branches: int | None = None, hidden=1,
                tol: float = 1e-10, max_iter: int | None = None) -> Solution:
    """The globally optimal network of problem (2), from the theorem that applies.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_outputs) or (n_samples,)
    beta : float
        Regularization ``β >= 0``; ``0`` means minimum-norm interpolation.
    depth : int
        Number of layers ``L >= 2``.
    activation : {"linear", "relu"}
    bias : bool, default False
        Two-layer ReLU network with unregularized biases on 1-D data (Theorem 4.2, Corollary 4.1).
    whiten : bool, default False
        Whiten the rows first (``deepdual.Whitener``); the returned solution's ``predict`` applies the
        same map to new points.
    branches : int, optional
        Number of branches of the returned network (default: as many as the optimum uses).
    hidden : int or list of int, default 1
        Hidden widths inside each branch.
    max_iter : int, optional
        Iteration limit of the iterative solvers (default: 200,000 FISTA iterations for the
        nuclear-norm solver, 200 interior-point iterations for the 1-D spline solver).
    tol : float, default 1e-10
        Relative duality-gap tolerance of the iterative certified solvers (two-layer, vector output,
        general ``X``); every other case is exact.

    Returns
    -------
    Solution

    Raises
    ------
    NoClosedFormError
        When no theorem of the paper gives the optimum for this input; the message names the
        failed condition and the fix.
    ValueError, TypeError
        Malformed input, named in the message; among them data whose Frobenius norm lies outside
        ``deepdual._validation.DATA_RANGE`` (1e-150 to 1e150: squares and the objective must stay finite
        float64 numbers), ``depth`` above ``MAX_LAYERS`` (10,000) and networks whose parameters would not
        fit in the available memory (``branches``, ``hidden``), each refused before anything is built.

    References
    ----------
    Ergen & Pilanci (2021), Theorems 2.1–2.4, 3.1–3.6, 4.1–4.4, Corollary 4.1.
    """
    Xa = V.check_array(X, "X")
    Ya = V.check_targets(Y, Xa.shape[0])
    beta = V.check_beta(beta)
    depth = V.check_layer_count(V.check_depth(depth))
    bias = V.check_bool(bias, "bias")
    whiten = V.check_bool(whiten, "whiten")
    tol = V.check_scalar(tol, "tol", min_val=0, include_boundaries="neither")
    max_iter = V.check_scalar(max_iter, "max_iter", target_type=numbers.Integral, min_val=1, allow_none=True)
    V.check_choice(activation, "activation", ACTIVATIONS)
    if branches is not None:
        branches = V.check_positive_int(branches, "branches")
    whitener = None
    if whiten:
        from ..whitening import Whitener

        whitener = Whitener()
        U, Vt = whitener._fit(Xa)  # one thin SVD; refuses n > d and rank < n
        Xa = U @ Vt  # rows orthonormal by construction (what fit_transform returns)
    if activation == "linear":
        if bias:
            raise V.NoClosedFormError("`bias`=True has a closed form only for activation='relu' with depth=2 on "
                                      "1-D data (Theorem 4.2); use bias=False for linear networks.")
        sol = linear_closed_form(Xa, Ya, beta=beta, depth=depth, branches=branches, hidden=hidden, tol=tol,
                                 max_iter=max_iter)
    else:
        sol = relu_closed_form(Xa, Ya, beta=beta, depth=depth, bias=bias, branches=branches, hidden=hidden,
                               tol=tol, max_iter=max_iter, whitened=whiten)
    if whitener is not None:
        from dataclasses import replace

        sol = replace(sol, whitener=whitener)
    return sol
