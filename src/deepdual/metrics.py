"""Structure metrics of networks: numerical rank, norms, alignment, neural collapse, spline kinks.

All metrics are computed in float64 NumPy, whatever the dtype of their input.
"""

from __future__ import annotations

import numpy as np

__all__ = ["numerical_rank"]

#: Default relative tolerance of :func:`numerical_rank`.
RANK_RTOL = 1e-6


def numerical_rank(A, rtol: float = RANK_RTOL) -> int:
    """Number of singular values of ``A`` above ``rtol · σ_max(A)`` (0 for a zero matrix).

    Parameters
    ----------
    A : array-like of shape (p, q)
    rtol : float, default 1e-6
        Relative tolerance. Singular values ``σ_i <= rtol · σ_1`` count as zero.

    Returns
    -------
    int
    """
    M = np.asarray(A.detach().cpu().numpy() if hasattr(A, "detach") else A, dtype=np.float64)
    if M.size == 0:
        return 0
    s = np.linalg.svd(np.atleast_2d(M), compute_uv=False)
    if s[0] == 0.0:
        return 0
    return int(np.count_nonzero(s > rtol * s[0]))
