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


def spurious_band(sigma: float, depth: int) -> tuple[float, float]:
    """The β interval ``(β_jump, β_stat)`` where a direction with singular value ``σ`` has a spurious minimum.

    For ``β_jump < β < β_stat`` we have ``σ_stat(β) < σ < τ_L(β)``: the global minimizer of
    ``½(σ − s)² + (βL/2)s^{2/L}`` is ``s = 0`` but a local minimizer ``s > 0`` exists, where gradient
    training can settle and keep that direction (one rank too many). Both thresholds are
    ``∝ β^{L/(2L−2)}`` (scale invariance), so the ends are closed-form powers. Empty (``lo == hi``)
    for ``L = 2``, where the problem is convex.
    """
    from ..scalar import amplitude_threshold

    L = int(depth)
    if L == 2:
        return float(sigma), float(sigma)
    power = (2.0 * L - 2.0) / L
    lo = (sigma / amplitude_threshold(beta=1.0, depth=L)) ** power
    hi = (sigma / stationary_threshold(1.0, L)) ** power
    return float(lo), float(hi)


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
