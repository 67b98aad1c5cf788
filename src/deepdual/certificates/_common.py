"""Pieces every certificate shares."""

from __future__ import annotations

import numpy as np

from ..networks import forward_numpy, penalty
from ..solution import NoCertificateError

__all__ = ["INTERPOLATION_TOL", "interpolation_objective"]

#: Largest ``max|f(X) − Y| / max|Y|`` accepted as interpolation when ``beta = 0`` (relative, so the
#: test means the same at every scale of ``Y``).
INTERPOLATION_TOL = 1e-6


def interpolation_objective(network, X, Y) -> float:
    """Penalty ``Σ‖W‖²`` of a network that must interpolate (``beta = 0``)."""
    out = forward_numpy(network, X)
    resid = float(np.max(np.abs(out - Y)))
    if resid > INTERPOLATION_TOL * float(np.max(np.abs(Y))):  # relative: the problem is scale-invariant
        raise NoCertificateError(
            f"`beta` == 0 certifies minimum-norm interpolation, but the network does not interpolate "
            f"(max |f(X) − Y| = {resid:.3g}); pass beta > 0 to certify the regularized problem."
        )
    return penalty(network)
