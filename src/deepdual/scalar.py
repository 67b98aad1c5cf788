"""Exact one-dimensional solvers every closed form leans on (SPEC §1 and §3).

* :func:`optimal_amplitude` — ``s*(σ; β, L) = argmin_{s ≥ 0} ½(σ − s)² + (βL/2) s^{2/L}``, the
  amplitude of one balanced branch (Lemma 1.1). Soft threshold for ``L = 2``; for ``L > 2`` the
  problem is non-convex and the threshold *jumps*: solved by a bracketed root, never on a grid.
* :func:`ridge_path_solution` — the scalar-output deep linear problem on any ``X`` (Theorem 3.3):
  ``min_v ½‖Xv − y‖² + (βL/2)‖v‖^{2/L}``, whose optimum lies on the ridge path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from . import _validation as V

__all__ = ["optimal_amplitude", "amplitude_threshold", "branch_penalty", "ridge_path_solution", "RidgePathResult"]


def branch_penalty(s, beta: float, depth: int):
    """Least penalty ``(βL/2) s^{2/L}`` of a balanced branch whose end-to-end map has norm ``s``."""
    s = np.asarray(s, dtype=np.float64)
    return 0.5 * beta * depth * np.power(s, 2.0 / depth)


def _scalar_objective(s, sigma, beta, depth):
    return 0.5 * (sigma - s) ** 2 + branch_penalty(s, beta, depth)


def _amplitude_one(sigma: float, beta: float, depth: int) -> float:
    if sigma <= 0.0:
        return 0.0
    if beta == 0.0:
        return sigma
    if depth == 2:
        return max(sigma - beta, 0.0)
    L = depth
    expo = (2.0 - L) / L
    s0 = (beta * (L - 2) / L) ** (L / (2.0 * L - 2.0))
    psi = lambda s: s + beta * s**expo  # noqa: E731 - stationarity: sigma = psi(s)
    if sigma <= psi(s0):
        return 0.0
    root = brentq(lambda s: psi(s) - sigma, s0, sigma, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    if _scalar_objective(root, sigma, beta, L) < 0.5 * sigma**2:
        return float(root)
    return 0.0


def optimal_amplitude(sigma, beta: float, depth: int):
    """Exact minimizer of the balanced single-branch problem (SPEC §1).

    .. math::

        s^*(\\sigma;\\beta,L) = \\arg\\min_{s\\ge 0}\\ \\tfrac12(\\sigma - s)^2 + \\tfrac{\\beta L}{2} s^{2/L}

    For ``L = 2`` this is the soft threshold ``(σ − β)₊``. For ``L > 2`` the stationary points solve
    ``σ = s + β s^{(2−L)/L}``; the right side is convex with minimum at
    ``s₀ = (β(L−2)/L)^{L/(2L−2)}``, so the local minimizer is the root on ``[s₀, σ]`` (bracketed with
    Brent's method) and it is compared with ``s = 0``. Ties go to ``0``.

    Parameters
    ----------
    sigma : float or array-like of float
        Singular value(s) ``σ >= 0`` of the target map.
    beta : float
        Regularization ``β >= 0``.
    depth : int
        Depth ``L >= 2``.

    Returns
    -------
    float or ndarray
        ``s*`` with the shape of ``sigma``.

    References
    ----------
    Ergen & Pilanci (2021), Lemma 1.1, Theorems 3.3, 3.6 and 4.3 (balanced form).
    """
    arr = V.as_float_array(sigma, "sigma")
    if np.any(arr < 0):
        raise ValueError(f"`sigma` has negative entries (min {arr.min():.3g}); singular values are >= 0.")
    beta, depth = V.check_beta(beta), V.check_depth(depth)
    out = np.array([_amplitude_one(float(s), beta, depth) for s in arr.ravel()]).reshape(arr.shape)
    return float(out) if out.ndim == 0 else out


def amplitude_threshold(beta: float, depth: int) -> float:
    """The jump point ``τ_L(β)``: ``s*(σ) = 0`` for ``σ < τ`` and ``> 0`` above (``τ = β`` for ``L = 2``).

    Found exactly: for ``L > 2`` it is where the local minimizer's objective equals ``½σ²``.
    """
    beta, depth = V.check_beta(beta), V.check_depth(depth)
    if beta == 0.0:
        return 0.0
    if depth == 2:
        return float(beta)
    L = depth
    s0 = (beta * (L - 2) / L) ** (L / (2.0 * L - 2.0))
    lo = s0 + beta * s0 ** ((2.0 - L) / L)
    expo = (2.0 - L) / L

    def local_min_gap(sigma):
        if sigma <= lo:
            return 1.0
        root = brentq(lambda s: s + beta * s**expo - sigma, s0, sigma, xtol=1e-15, maxiter=500)
        return _scalar_objective(root, sigma, beta, L) - 0.5 * sigma**2

    hi = 2.0 * lo
    while local_min_gap(hi) >= 0:
        hi *= 2.0
    return float(brentq(local_min_gap, lo * (1 + 1e-15), hi, xtol=1e-14, rtol=4 * np.finfo(float).eps))


@dataclass(frozen=True)
class RidgePathResult:
    """Solution of ``min_v ½‖Xv − y‖² + (βL/2)‖v‖^{2/L}``.

    Attributes
    ----------
    v : ndarray of shape (n_features,)
        The optimal end-to-end linear map.
    mu : float
        Ridge parameter with ``v = (XᵀX + μI)⁻¹Xᵀy`` (``inf`` when ``v = 0``, ``0`` for min-norm).
    value : float
        Optimal objective.
    candidates : int
        Number of stationary points compared (plus ``v = 0``).
    """

    v: np.ndarray
    mu: float
    value: float
    candidates: int


def ridge_path_solution(X: np.ndarray, y: np.ndarray, beta: float, depth: int, *,
                        grid_size: int = 4000) -> RidgePathResult:
    """Global minimizer of the scalar-output deep linear problem on any ``X`` (Theorem 3.3).

    .. math::

        \\min_v\\ \\tfrac12\\|Xv - y\\|_2^2 + \\tfrac{\\beta L}{2}\\|v\\|_2^{2/L}

    For a fixed norm the best ``v`` is a ridge solution ``v(μ) = (XᵀX + μI)⁻¹Xᵀy``, so the optimum is
    ``0`` or a root of ``μ‖v(μ)‖^{2−2/L} = β``. Every sign change on a log grid of ``μ`` is bracketed and
    refined with Brent's method (via the SVD of ``X``), and all stationary points are compared with
    ``v = 0``. With ``β = 0`` the minimum-norm solution ``X⁺y`` is returned.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, 1)
    beta : float
    depth : int

    Returns
    -------
    RidgePathResult

    References
    ----------
    Ergen & Pilanci (2021), Theorem 2.3 (``L = 2``) and Theorem 3.3.
    """
    X = V.check_array(X, "X")
    Y = V.check_targets(y, X.shape[0], name="y")
    if Y.shape[1] != 1:
        raise ValueError(f"`y` must be a single target (shape (n,) or (n, 1)), got shape {Y.shape}.")
    y = Y[:, 0]
    beta, L = V.check_beta(beta), V.check_depth(depth)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > s[0] * max(X.shape) * np.finfo(float).eps if s.size and s[0] > 0 else np.zeros_like(s, bool)
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    c = U.T @ y
    if beta == 0.0 or s.size == 0:
        v = Vt.T @ (c / s) if s.size else np.zeros(X.shape[1])
        val = 0.5 * float(np.sum((X @ v - y) ** 2))
        return RidgePathResult(v=v, mu=0.0, value=val, candidates=1)
    resid_perp = float(y @ y - c @ c)  # part of y outside range(X)

    def coeffs(mu):
        return s * c / (s**2 + mu)

    def norm_v(mu):
        return float(np.linalg.norm(coeffs(mu)))

    def h(mu):
        a = coeffs(mu)
        fit = 0.5 * (float(np.sum((s * a - c) ** 2)) + resid_perp)
        return fit + 0.5 * beta * L * norm_v(mu) ** (2.0 / L)

    def g(mu):  # stationarity residual in log form: log(μ‖v‖^{2−2/L}) − log β
        return np.log(mu) + (2.0 - 2.0 / L) * np.log(norm_v(mu)) - np.log(beta)

    lo, hi = s[-1] ** 2 * 1e-14, min(max(s[0] ** 2, beta) * 1e14, 1e300)
    if L == 2:
        hi = min(max(hi, (float(np.linalg.norm(s * c)) / beta) * 1e3), 1e300)
    grid = np.geomspace(lo, hi, grid_size)
    a = s[None, :] * c[None, :] / (s[None, :] ** 2 + grid[:, None])
    norms = np.linalg.norm(a, axis=1)
    with np.errstate(divide="ignore"):
        gv = np.log(grid) + (2.0 - 2.0 / L) * np.log(norms) - np.log(beta)
    best_v = np.zeros(X.shape[1])
    best_val = 0.5 * float(y @ y)
    best_mu = np.inf
    candidates = 0
    for i in np.nonzero(np.sign(gv[:-1]) * np.sign(gv[1:]) < 0)[0]:
        mu = brentq(g, grid[i], grid[i + 1], xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
        candidates += 1
        val = h(mu)
        if val < best_val:
            best_val, best_mu = val, mu
            best_v = Vt.T @ coeffs(mu)
    return RidgePathResult(v=best_v, mu=float(best_mu), value=float(best_val), candidates=candidates)
