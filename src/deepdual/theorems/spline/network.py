"""``spline_closed_form``: the optimal two-layer ReLU network with biases on 1-D data."""

from __future__ import annotations

import numpy as np

from ... import _validation as V
from ...networks import ParallelNet
from ...solution import Solution
from .._build import finish, required_branches
from ._atoms import THEOREM
from .lasso import SplineLassoResult, _lasso


# ------------------------------------------------------------------------------------------ network
def _network_from(res: SplineLassoResult, branches: int | None) -> ParallelNet:
    kr = np.flatnonzero(res.right)
    kl = np.flatnonzero(res.left)
    count = kr.size + kl.size
    m = required_branches(count, branches)
    W1 = np.zeros((m, 1, 1))
    b1 = np.zeros((m, 1, 1))
    W2 = np.zeros((m, 1, 1))
    zs = np.concatenate([res.right[kr], res.left[kl]])
    ts = np.concatenate([res.knots[kr], res.knots[kl]])
    side = np.concatenate([np.ones(kr.size), -np.ones(kl.size)])
    amp = np.sqrt(np.abs(zs))
    W1[:count, 0, 0] = side * amp
    b1[:count, 0, 0] = -side * amp * ts
    W2[:count, 0, 0] = np.sign(zs) * amp
    net = ParallelNet(1, 1, depth=2, branches=m, activation="relu", bias=True, seed=0)
    return net.set_weights([W1, W2], biases=[b1], out_bias=[res.intercept])


def spline_closed_form(x, y, *, beta: float, branches: int | None = None, tol: float = 1e-10,
                       max_iter: int = 200) -> Solution:
    """Globally optimal two-layer ReLU network with biases on 1-D data (Theorem 4.2, Corollary 4.1).

    Solves the equivalent Lasso exactly (:func:`spline_lasso`) and builds one balanced neuron per
    nonzero atom: for ``z_j (x − t_j)₊`` the neuron ``w = √|z_j|``, ``b = −w t_j``,
    ``v = sign(z_j)√|z_j|`` (``w = −√|z_j|`` for a left atom ``(t_j − x)₊``), and ``out_bias = c``.
    Every kink sits at a data point; for ``beta = 0`` the network is the linear spline interpolant
    and ``objective`` is its penalty ``Σ(w² + v²) = 2‖z‖₁``.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, 1)
    y : array-like of shape (n,) or (n, 1)
    beta : float
    branches : int, optional
        Number of neurons (default: the number of nonzero atoms; more are zero neurons).
    max_iter : int, default 200
        Interior-point iterations of the Lasso solver.
    tol : float, default 1e-10
        Relative duality gap required of the Lasso solver.

    Returns
    -------
    Solution
        ``details`` holds the :class:`SplineLassoResult` under ``"lasso"`` and the kinks under
        ``"kinks"``.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.2 and Corollary 4.1.
    """
    xa, ya = V.check_univariate(x, y)
    beta = V.check_beta(beta)
    if branches is not None:
        branches = V.check_positive_int(branches, "branches")
    res = _lasso(xa, ya, beta, float(tol), V.check_positive_int(max_iter, "max_iter"))
    net = _network_from(res, branches)
    X, Y = xa.reshape(-1, 1), ya.reshape(-1, 1)
    kinks = np.unique(res.knots[(res.right != 0) | (res.left != 0)])
    details = {"lasso": res, "kinks": kinks, "lasso_gap": res.gap, "iterations": res.iterations}
    if beta == 0.0:
        return finish(net, X, Y, beta=0.0, depth=2, activation="relu", theorem=THEOREM,
                      optimum=2.0 * res.objective, lower_bound=2.0 * res.lower_bound, details=details)
    return finish(net, X, Y, beta=beta, depth=2, activation="relu", theorem=THEOREM,
                  optimum=res.objective, lower_bound=res.lower_bound, details=details)
