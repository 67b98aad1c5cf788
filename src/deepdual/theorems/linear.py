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

from .._validation import IDENTITY_TOL, NoClosedFormError, identity_error, orthonormal_side
from ..duality import (
    min_norm_map,
    min_norm_penalty,
    min_norm_singular_values,
    nuclear_norm_regression,
    residual_lower_bound,
)
from ..scalar import _ridge_path, amplitudes_and_deficits, branch_penalty
from ..solution import Solution
from ._build import balanced_network, finish

__all__ = ["linear_closed_form", "min_norm_value"]


def min_norm_value(W: np.ndarray, depth: int) -> float:
    """``Σ_j Σ_l ‖W_{l,j}‖²`` of the balanced network realizing ``W``: ``L Σ σ_i(W)^{2/L}`` (shared rank rule)."""
    return min_norm_penalty(W, depth)


def _theorem(depth: int, K: int, beta: float, special: str = "") -> str:
    if beta == 0:
        if depth == 2:
            return "Theorem 2.2" if K == 1 else "Theorem 2.4"
        return "Theorem 3.1" if K == 1 else "Theorem 3.4"
    if depth == 2:
        return "Theorem 2.3" if K == 1 else ("Remark 2.1" if special else "Theorem 2.4")
    return "Theorem 3.3" if K == 1 else "Theorem 3.6"


def linear_closed_form(X: np.ndarray, Y: np.ndarray, *, beta: float, depth: int,
                       branches: int | None = None, hidden=1, tol: float = 1e-10,
                       max_iter: int | None = None) -> Solution:
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
        W = min_norm_map(X, Y)
        R = Y - X @ W
        resid = float(np.max(np.abs(R))) if R.size else 0.0
        scale = float(np.max(np.abs(Y))) if Y.size else 0.0
        if resid > 1e-8 * scale:  # relative to max|Y|: the same test at every scale
            raise NoClosedFormError(
                f"`beta` == 0 asks for exact interpolation f(X) = Y, but `Y` is not in the range of `X` "
                f"(least-squares residual {resid:.3g}); pass beta > 0 for the regularized problem."
            )
        U, s, Vt = min_norm_singular_values(W)
        optimum = min_norm_penalty(W, L)
        # Dual certificate of the min-norm problem: Λ = (X⁺)ᵀ U Vᵀ has σ_max(XᵀΛ) = 1, tr(ΛᵀY) = ‖W*‖_*.
        lower = optimum
        theorem = _theorem(L, K, 0.0)
        details["singular_values"] = s.tolist()
    elif K == 1:
        res = _ridge_path(X, Y[:, 0], beta, L)
        W = res.v[:, None]
        U, s, Vt = min_norm_singular_values(W)
        optimum = res.objective
        details.update(mu=res.mu, stationary_points=res.candidates)
        lower = residual_lower_bound(Y - X @ W, X, Y, beta)[0] if L == 2 else optimum
        theorem = _theorem(L, K, beta)
    else:
        side = orthonormal_side(X)
        if side is not None:
            Uc, sig, Vt = np.linalg.svd(X.T @ Y, full_matrices=False)
            amps, deficits = amplitudes_and_deficits(sig, beta, L)
            W = (Uc * amps) @ Vt
            U, s = Uc, amps
            # ‖Y − XW‖² = ‖(I − XXᵀ)Y‖² + Σ(σ_i − s_i)²: the first term is 0 for orthonormal rows
            perp = 0.0 if side == "rows" else float(np.sum((Y - X @ (X.T @ Y)) ** 2))
            optimum = 0.5 * perp + float(np.sum(0.5 * deficits**2 + branch_penalty(amps, beta, L)))
            details.update(orthonormal=side, target_singular_values=sig.tolist(), amplitudes=amps.tolist())
            lower = residual_lower_bound(Y - X @ W, X, Y, beta)[0] if L == 2 else optimum
            theorem = _theorem(L, K, beta, special=side)
        elif L == 2:
            res = nuclear_norm_regression(X, Y, beta=beta, tol=tol,
                                          **({} if max_iter is None else {"max_iter": max_iter}))
            U, s, Vt = min_norm_singular_values(res.W)
            W = (U * s) @ Vt
            optimum = res.objective
            lower = res.lower_bound
            details.update(iterations=res.iterations)
            theorem = _theorem(L, K, beta)
        else:
            e_cols = identity_error(X.T @ X)
            e_rows = identity_error(X @ X.T)
            raise NoClosedFormError(
                f"No closed form for a depth-{L} linear network with {K} outputs on this X: Theorem 3.6 needs "
                f"XᵀX = I or XXᵀ = I, got ‖XᵀX − I‖ = {e_cols:.3g} and ‖XXᵀ − I‖ = {e_rows:.3g} "
                f"(tolerance {IDENTITY_TOL:g}). Whiten X (deepdual.Whitener, or whiten=True when n <= d), "
                "use depth=2 (certified convex solver), or train with deepdual.train."
            )
    net = balanced_network(U, s, Vt, depth=L, activation="linear", branches=branches, hidden=hidden)
    return finish(net, X, Y, beta=beta, depth=L, activation="linear", theorem=theorem, optimum=optimum,
                  lower_bound=lower, details=details)
