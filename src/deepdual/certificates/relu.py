"""Certificates for ReLU networks: 1-D with biases, batch norm, two-layer duals, exact deep optima."""

from __future__ import annotations

import numpy as np

from .._validation import NoClosedFormError
from ..duality.relu import relu_dual_bound
from ..networks import forward_numpy, objective
from ..solution import Certificate, NoCertificateError
from ..theorems import closed_form
from ..theorems.relu import rank_one_factors
from .two_layer import DEFAULT_TIME_BUDGET, certify_two_layer

__all__ = ["certify_relu"]


def certify_relu(network, X, Y, beta, kind: str, *, time_budget: float = DEFAULT_TIME_BUDGET) -> Certificate:
    """Certificates for ReLU networks; see :func:`deepdual.certify`."""
    depth = network.depth
    if kind == "relu-bias":
        free = not getattr(network, "penalize_bias", False)
        if depth == 2 and free and X.shape[1] == 1 and Y.shape[1] == 1:
            from .spline import certify_spline

            return certify_spline(network, X[:, 0], Y[:, 0], beta=beta)
        if depth == 2 and beta > 0:
            return certify_two_layer(network, X, Y, beta, time_budget=time_budget)
        raise NoCertificateError(
            "No certificate for a ReLU network with biases unless it has depth 2 (the convex program's dual, "
            f"beta > 0; Theorem 4.2 on 1-D data); got depth {depth}, beta = {beta:g}."
        )
    if beta == 0:
        raise NoCertificateError("ReLU certificates are for the regularized problem; pass beta > 0.")
    value = objective(network, X, Y, beta=beta)
    R = Y - forward_numpy(network, X)
    if kind == "relu-bn":
        lower, Lam = relu_dual_bound(R, np.eye(X.shape[0]), Y, beta, x_norm=1.0)
        return Certificate(objective=value, lower_bound=lower, gap=value - lower, exact=False, dual=Lam,
                           method="batch-norm relaxation to a two-layer ReLU network on X = I (Theorem 4.4)")
    factors = rank_one_factors(X) if X.shape[0] > 1 else None
    rank_one = factors is not None and bool(np.all(factors[0] >= 0))
    if depth == 2 and not rank_one:
        return certify_two_layer(network, X, Y, beta, time_budget=time_budget)
    if depth > 2 and not hasattr(network, "branches"):
        raise NoCertificateError(
            "No certificate for a standard (non-parallel) deep ReLU MLP: the paper's strong duality holds for "
            "the parallel architecture (Section 6); use deepdual.ParallelNet."
        )
    try:
        sol = closed_form(X, Y, beta=beta, depth=depth, activation="relu")
    except NoClosedFormError as exc:
        raise NoCertificateError(f"No certificate for a depth-{depth} ReLU network on this data: {exc}") from None
    return Certificate(objective=value, lower_bound=sol.optimum, gap=value - sol.optimum, exact=True,
                       method=f"{sol.theorem} (exact optimum)")
