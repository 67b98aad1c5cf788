"""Closed forms for two-layer and deep linear networks (Sections 2 and 3 of the paper).

Branch ``j`` of a linear parallel network computes ``X V_j`` with ``V_j = W_{1,j}⋯w_{L,j}`` of rank one,
and the least penalty producing ``V_j`` is ``(βL/2)‖V_j‖^{2/L}`` (balanced, aligned layers), so problem
(2) reduces to

.. math::

    \\min_W\\ \\tfrac12\\|XW - Y\\|_F^2 + \\tfrac{\\beta L}{2}\\sum_i \\sigma_i(W)^{2/L}

with one branch per singular triple of ``W``.
"""

from __future__ import annotations

import numpy as np

from .._validation import IDENTITY_TOL, orthonormal_side
from ..duality import feasible_dual, linear_dual_objective, nuclear_norm_regression
from ..scalar import branch_penalty, optimal_amplitude, ridge_path_solution
from ..solution import Solution
from ._build import balanced_network, finish

__all__ = ["linear_closed_form", "min_norm_value"]


def _svd_pieces(W: np.ndarray):
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    tol = s[0] * max(W.shape) * np.finfo(float).eps * 10 if s.size and s[0] > 0 else 0.0
    s = np.where(s > tol, s, 0.0)
    return U, s, Vt


def min_norm_value(W: np.ndarray, depth: int) -> float:
    """``Σ_j Σ_l ‖W_{l,j}‖²`` of the balanced network realizing ``W``: ``L Σ σ_i(W)^{2/L}``."""
    s = np.linalg.svd(W, compute_uv=False)
    return float(depth * np.sum(s ** (2.0 / depth)))


def _theorem(depth: int, K: int, beta: float, special: str = "") -> str:
    if beta == 0:
        if depth == 2:
            return "Theorem 2.2" if K == 1 else "Theorem 2.4"
        return "Theorem 3.1" if K == 1 else "Theorem 3.4"
    if depth == 2:
        return "Theorem 2.3" if K == 1 else ("Remark 2.1" if special else "Theorem 2.4")
    return "Theorem 3.3" if K == 1 else "Theorem 3.6"


def linear_closed_form(X: np.ndarray, Y: np.ndarray, *, beta: float, depth: int,
                       branches: int | None = None, hidden=1, tol: float = 1e-10) -> Solution:
    """Globally optimal linear parallel network (inputs already validated).

    * ``beta = 0`` (minimum-norm interpolation, Thms 2.1–2.2, 2.4, 3.1, 3.4): ``W* = X⁺Y`` for every
      depth, penalty ``L Σ σ_i(X⁺Y)^{2/L}``; requires ``Y`` in the range of ``X``.
    * scalar output (Thms 2.3, 3.3): exact search along the ridge path, any ``X``.
    * vector output with ``XᵀX = I`` or ``XXᵀ = I`` (Remark 2.1, Thm 3.6): ``W* = U diag(s*(σ_i)) Vᵀ``
      with ``XᵀY = UΣVᵀ``.
    * vector output, ``L = 2``, general ``X`` (Thm 2.4): certified nuclear-norm solver.

    Raises
    ------
    ValueError
        For ``L > 2`` vector output on ``X`` with neither orthonormal rows nor columns.
    """
    n, d = X.shape
    K = Y.shape[1]
    L = depth
    details: dict = {}
    lower = None
    if beta == 0.0:
        W = np.linalg.pinv(X) @ Y
        resid = float(np.max(np.abs(X @ W - Y)))
        scale = max(1.0, float(np.max(np.abs(Y))))
        if resid > 1e-8 * scale:
            raise ValueError(
                f"`beta` == 0 asks for exact interpolation f(X) = Y, but `Y` is not in the range of `X` "
                f"(least-squares residual {resid:.3g}); pass beta > 0 for the regularized problem."
            )
        U, s, Vt = _svd_pieces(W)
        optimum = float(L * np.sum(s ** (2.0 / L)))
        # Dual certificate of the min-norm problem: Λ = (X⁺)ᵀ U Vᵀ has σ_max(XᵀΛ) = 1, tr(ΛᵀY) = ‖W*‖_*.
        lower = optimum
        theorem = _theorem(L, K, 0.0)
        details["singular_values"] = s.tolist()
    elif K == 1:
        res = ridge_path_solution(X, Y[:, 0], beta, L)
        W = res.v[:, None]
        U, s, Vt = _svd_pieces(W)
        optimum = res.value
        details.update(mu=res.mu, stationary_points=res.candidates)
        if L == 2:
            lower = linear_dual_objective(feasible_dual(Y - X @ W, X, beta), Y)
        else:
            lower = optimum
        theorem = _theorem(L, K, beta)
    else:
        side = orthonormal_side(X)
        if side is not None:
            Uc, sig, Vt = np.linalg.svd(X.T @ Y, full_matrices=False)
            amps = np.asarray(optimal_amplitude(sig, beta, L), dtype=float).reshape(-1)
            W = (Uc * amps) @ Vt
            U, s = Uc, amps
            const = 0.5 * float(np.sum(Y**2) - np.sum(sig**2))
            optimum = const + float(np.sum(0.5 * (sig - amps) ** 2 + branch_penalty(amps, beta, L)))
            details.update(orthonormal=side, target_singular_values=sig.tolist(), amplitudes=amps.tolist())
            lower = linear_dual_objective(feasible_dual(Y - X @ W, X, beta), Y) if L == 2 else optimum
            theorem = _theorem(L, K, beta, special=side)
        elif L == 2:
            res = nuclear_norm_regression(X, Y, beta, tol=tol)
            U, s, Vt = _svd_pieces(res.W)
            W = (U * s) @ Vt
            optimum = res.value
            lower = res.lower_bound
            details.update(iterations=res.iterations)
            theorem = _theorem(L, K, beta)
        else:
            e_cols = float(np.linalg.norm(X.T @ X - np.eye(d), ord=2))
            e_rows = float(np.linalg.norm(X @ X.T - np.eye(n), ord=2))
            raise ValueError(
                f"No closed form for a depth-{L} linear network with {K} outputs on this X: Theorem 3.6 needs "
                f"XᵀX = I or XXᵀ = I, got ‖XᵀX − I‖ = {e_cols:.3g} and ‖XXᵀ − I‖ = {e_rows:.3g} "
                f"(tolerance {IDENTITY_TOL:g}). Whiten X (deepdual.Whitener, or whiten=True when n <= d), "
                "use depth=2 (certified convex solver), or train with deepdual.train."
            )
    net = balanced_network(U, s, Vt, depth=L, activation="linear", branches=branches, hidden=hidden)
    return finish(net, X, Y, beta=beta, depth=L, activation="linear", theorem=theorem, optimum=optimum,
                  lower_bound=lower, details=details)
