"""Certificates for linear networks (Sections 2–3): dual bound for two layers, exact optima otherwise."""

from __future__ import annotations

from .._validation import NoClosedFormError
from ..duality import min_norm_map, min_norm_penalty, residual_lower_bound
from ..networks import forward_numpy, objective
from ..solution import Certificate, NoCertificateError
from ..theorems import closed_form
from ._common import interpolation_objective

__all__ = ["certify_linear"]


def _exact_lower_bound(X, Y, beta, depth, activation) -> tuple[float, str]:
    try:
        sol = closed_form(X, Y, beta=beta, depth=depth, activation=activation)
    except NoClosedFormError as exc:
        raise NoCertificateError(
            f"No certificate for a depth-{depth} {activation} network here: {exc}"
        ) from None
    return sol.optimum, f"{sol.theorem} (exact optimum)"


def certify_linear(network, X, Y, beta, depth) -> Certificate:
    if beta == 0.0:
        value = interpolation_objective(network, X, Y)
        lower = min_norm_penalty(min_norm_map(X, Y), depth)
        return Certificate(objective=value, lower_bound=lower, gap=value - lower,
                           method="minimum-norm interpolation, W* = X⁺Y (Theorems 2.2, 2.4, 3.2, 3.5)",
                           exact=True)
    value = objective(network, X, Y, beta=beta)
    if depth == 2:
        lower, Lam = residual_lower_bound(Y - forward_numpy(network, X), X, Y, beta)
        return Certificate(objective=value, lower_bound=lower, gap=value - lower,
                           method="dual feasible scaled residual (Theorem 2.4)", exact=False, dual=Lam)
    lower, method = _exact_lower_bound(X, Y, beta, depth, "linear")
    return Certificate(objective=value, lower_bound=lower, gap=value - lower, method=method, exact=True)
