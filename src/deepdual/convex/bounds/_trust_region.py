"""The trust-region subproblem ``max_{‖u‖≤1} uᵀSu + bᵀu`` through its dual ``σ + ¼bᵀ(σI − S)⁻¹b``.

For any ``σ >= 0`` with ``σI − S ≻ 0`` the dual value bounds the maximum. Here: the minimizing ``σ``,
the value and maximizer (for optimization), a proven bound for the given float matrices, and a
smoothed (log-det barrier) version whose gradient the Lagrangian bound descends.
"""

from __future__ import annotations

import math

import numpy as np

from ._rounding import _EPS


def _trs_sigma(s: np.ndarray, bt: np.ndarray) -> float:
    """Minimizer over ``σ >= max(s_max, 0)`` of ``σ + ¼Σ bt²/(σ − s)`` (TRS dual, eigenbasis).

    Safeguarded Newton on ``1/‖u(σ)‖ − 1`` with ``‖u(σ)‖² = ¼Σ bt²/(σ − s)²`` (the secular equation),
    inside a bisection bracket.
    """
    smax = float(s[-1])
    bn = float(np.linalg.norm(bt))
    lo = max(smax, 0.0)
    if bn == 0.0:
        return lo
    if smax < 0:
        q0 = 0.25 * float(np.sum(bt**2 / s**2))
        if q0 <= 1.0:  # the unconstrained maximizer is inside the ball: σ = 0
            return 0.0
    hi = lo + 0.5 * bn
    sig = hi
    for _ in range(100):
        diff = sig - s
        if np.any(diff <= 0):
            sig = 0.5 * (lo + hi)
            continue
        q = 0.25 * float(np.sum(bt**2 / diff**2))
        if q > 1.0:
            lo = sig
        else:
            hi = sig
        if hi - lo <= 4 * _EPS * max(abs(hi), 1e-300):
            break
        dq = -0.5 * float(np.sum(bt**2 / diff**3))
        phi = q**-0.5 - 1.0
        dphi = -0.5 * q**-1.5 * dq
        new = sig - phi / dphi if dphi > 0 else 0.5 * (lo + hi)
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if abs(new - sig) <= 4 * _EPS * abs(sig):
            sig = new
            break
        sig = new
    return hi if sig < lo or sig > hi else max(sig, lo)


def _trs_value(S: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    """``max_{‖u‖≤1} uᵀSu + bᵀu`` (through its dual) and the maximizer; for optimization only."""
    s, E = np.linalg.eigh(S)
    bt = E.T @ b
    sig = _trs_sigma(s, bt)
    diff = sig - s
    if np.any(diff <= 0):  # b ⟂ top eigenvector (hard case): the top eigenvector, value σ = s_max
        u = E[:, -1]
        return float(max(s[-1], 0.0) + abs(float(b @ u))), u
    val = sig + 0.25 * float(np.sum(bt**2 / diff))
    return val, E @ (0.5 * bt / diff)


def _trs_certified(S: np.ndarray, b: np.ndarray) -> float:
    """A proven upper bound on ``max_{‖u‖≤1} uᵀSu + bᵀu`` for the given float matrices.

    Uses ``σ + ¼bᵀQ⁻¹b`` (``Q = σI − S``) with ``λ_min(Q)`` validated against the backward error of
    the symmetric eigensolver, and ``¼bᵀQ⁻¹b = bᵀv − vᵀQv + ¼ρᵀQ⁻¹ρ <= bᵀv − vᵀQv + ‖ρ‖²/(4λ_min)``
    for the computed ``v ≈ ½Q⁻¹b`` and its residual ``ρ = b − 2Qv``.
    """
    d = S.shape[0]
    s, E = np.linalg.eigh(S)
    sig = _trs_sigma(s, E.T @ b)
    snorm = float(np.linalg.norm(S))
    for _ in range(60):
        err = 8.0 * d * _EPS * (abs(sig) + snorm)
        sig = max(sig, float(s[-1]) + 2.0 * err, 0.0)
        Q = sig * np.eye(d) - S
        lmin = float(np.linalg.eigvalsh(Q)[0]) - err
        if lmin > 0:
            break
        sig = sig + 2.0 * (err - lmin) + 1e-300 + abs(sig) * 1e-12
    else:  # pragma: no cover - defensive
        return math.inf
    try:
        L = np.linalg.cholesky(Q)
    except np.linalg.LinAlgError:  # pragma: no cover - defensive
        return math.inf
    v = 0.5 * np.linalg.solve(L.T, np.linalg.solve(L, b))
    bv, vQv = float(b @ v), float(v @ Q @ v)
    rho = b - 2.0 * (Q @ v)
    quad = bv - vQv + float(rho @ rho) / (4.0 * lmin) + 8.0 * (d + 2) * _EPS * (abs(bv) + abs(vQv))
    return float(sig + max(quad, 0.0))


def _trs_smooth(S: np.ndarray, b: np.ndarray, eta: float):
    """Smoothed TRS dual ``min_σ σ + ¼bᵀ(σI − S)⁻¹b − η log det(σI − S)`` (``η > 0``), its value,
    the vector ``u = ½(σI − S)⁻¹b`` and the eigen-pieces of ``(σI − S)⁻¹``.

    The barrier makes the value a smooth function of ``(S, b)`` (no kink when the top eigenvalue of
    ``S`` is multiple, where the plain TRS value is not differentiable); gradient
    ``∂/∂S = uuᵀ + η(σI − S)⁻¹``, ``∂/∂b = u``. For optimization only.
    """
    s, E = np.linalg.eigh(S)
    bt = E.T @ b
    # h'(σ) = 1 − ¼Σbt²/(σ−s)² − ηΣ1/(σ−s) is increasing on σ > s_max; the constraint σ >= 0 is dropped
    # (the barrier keeps σ − s_max >= η > 0, and for the bound σ >= 0 is not needed once η > 0:
    # the smoothed value is only a search objective).
    lo = float(s[-1])
    hi = lo + 0.5 * float(np.linalg.norm(bt)) + s.size * eta + 1.0 * (abs(lo) * 1e-12 + 1e-300)
    while True:
        diff = hi - s
        if 1.0 - 0.25 * np.sum(bt**2 / diff**2) - eta * np.sum(1.0 / diff) >= 0:
            break
        hi = lo + 2.0 * (hi - lo)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        diff = mid - s
        if 1.0 - 0.25 * np.sum(bt**2 / diff**2) - eta * np.sum(1.0 / diff) < 0:
            lo = mid
        else:
            hi = mid
    sig = hi
    diff = sig - s
    val = sig + 0.25 * float(np.sum(bt**2 / diff)) - eta * float(np.sum(np.log(diff)))
    return val, E @ (0.5 * bt / diff), E, diff
