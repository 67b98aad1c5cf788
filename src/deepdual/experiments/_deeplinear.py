"""Data and β choices shared by Figures 2b and 3a (deep linear networks, XᵀX = I)."""

from __future__ import annotations

import numpy as np


def make_data(n, d, K, seed):
    """Teacher data with orthonormal input columns (XᵀX = I), so Theorem 3.6 gives the exact optimum."""
    from ..data import teacher_data

    ds = teacher_data(n, d, K, depth=2, width=50, activation="linear", noise=0.1, seed=seed)
    Q, _ = np.linalg.qr(ds.X)
    desc = (ds.description + " Inputs orthonormalized (X = QR, X ← Q, so XᵀX = I_d) with the same "
            "targets, so Theorem 3.6 gives the exact optimum.")
    return Q, ds.Y, desc


def stationary_threshold(beta: float, depth: int) -> float:
    """Smallest σ for which ``½(σ − s)² + (βL/2)s^{2/L}`` has a stationary point ``s > 0`` (``β`` for L = 2).

    Below it ``s = 0`` is the only minimizer; between it and the jump ``τ_L(β)`` a spurious local
    minimum with ``s > 0`` exists, where gradient training can stop (L > 2).
    """
    L = depth
    if L == 2:
        return float(beta)
    s0 = (beta * (L - 2) / L) ** (L / (2.0 * L - 2.0))
    return float(s0 + beta * s0 ** ((2.0 - L) / L))


def _solve(fn, target: float) -> float:
    lo, hi = 1e-12, 1.0
    while fn(hi) < target:
        hi *= 2.0
    for _ in range(200):  # bisection in log β (both thresholds increase with β)
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if fn(mid) < target else (lo, mid)
    return float(np.sqrt(lo * hi))


def beta_for_rank(sig: np.ndarray, rank: int, depth: int) -> float:
    """A β for which the optimum has exactly ``rank`` nonzero singular values and, when possible,
    σ_{rank+1} lies below the stationary threshold (no spurious local minimum for that direction).

    Tries the β whose stationary threshold sits at the geometric middle of σ_{rank+1} and σ_rank,
    keeping it if the jump τ_L(β) is still below σ_rank; otherwise puts τ_L(β) at that middle.
    """
    from ..scalar import amplitude_threshold

    upper = float(sig[rank - 1])
    lower = float(sig[rank]) if rank < sig.size else 0.2 * float(sig[-1])
    target = float(np.sqrt(upper * lower))
    beta = _solve(lambda b: stationary_threshold(b, depth), target)
    if amplitude_threshold(beta=beta, depth=depth) < upper:
        return beta
    return _solve(lambda b: amplitude_threshold(beta=b, depth=depth), target)
