"""Certificates for ReLU networks: 1-D with biases, batch norm, two-layer duals, exact deep optima."""

from __future__ import annotations

import numpy as np

from .._validation import NoClosedFormError
from ..duality.relu import relu_dual_bound
from ..networks import forward_numpy, objective
from ..solution import Certificate, NoCertificateError
from ..theorems import closed_form
from ..theorems.relu import rank_one_factors

__all__ = ["certify_relu"]


def certify_relu(network, X, Y, beta, kind: str) -> Certificate:
    """Certificates for ReLU networks; see :func:`deepdual.certify`."""
    depth = network.depth
    if kind == "relu-bias":
        if depth == 2 and X.shape[1] == 1 and Y.shape[1] == 1:
            from .spline import certify_spline

            return certify_spline(network, X[:, 0], Y[:, 0], beta=beta)
        raise NoCertificateError(
            "No certificate for a ReLU network with biases unless it has depth 2 on 1-D data with a scalar "
            f"target (Theorem 4.2); got depth {depth}, {X.shape[1]} input feature(s), {Y.shape[1]} output(s)."
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
        lower, Lam = relu_dual_bound(R, X, Y, beta)
        return Certificate(objective=value, lower_bound=lower, gap=value - lower, exact=False, dual=Lam,
                           method="two-layer ReLU dual, max over nonnegative directions (Theorems 4.3, 2.3)")
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
