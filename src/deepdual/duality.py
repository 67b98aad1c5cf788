"""Dual problems of the two-layer linear network, the projection P_{X,β}, and a certified solver.

For two-layer linear networks problem (2) equals the nuclear-norm regression (Theorem 2.4)

.. math::

    P^* = \\min_W \\tfrac12\\|XW - Y\\|_F^2 + \\beta\\|W\\|_*,

whose dual is

.. math::

    D^* = \\max_\\Lambda -\\tfrac12\\|\\Lambda - Y\\|_F^2 + \\tfrac12\\|Y\\|_F^2
    \\quad\\text{s.t.}\\quad \\sigma_{\\max}(X^T\\Lambda) \\le \\beta .

Any residual ``R`` scaled by ``min(1, β/σ_max(XᵀR))`` is dual feasible, so every candidate network
yields a valid lower bound (weak duality).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import _validation as V

__all__ = [
    "linear_dual_objective",
    "feasible_dual",
    "nuclear_norm_regression",
    "NuclearResult",
    "project",
]


def linear_dual_objective(Lam: np.ndarray, Y: np.ndarray) -> float:
    """Dual objective ``−½‖Λ − Y‖² + ½‖Y‖²`` of the two-layer linear problem (eq. 10 and 12)."""
    return float(-0.5 * np.sum((Lam - Y) ** 2) + 0.5 * np.sum(Y**2))


def feasible_dual(R: np.ndarray, X: np.ndarray, beta: float) -> np.ndarray:
    """Scale a residual into the dual feasible set ``{Λ : σ_max(XᵀΛ) <= β}``.

    Parameters
    ----------
    R : ndarray of shape (n_samples, n_outputs)
        Residual ``Y − f(X)`` of any candidate network.
    X : ndarray of shape (n_samples, n_features)
    beta : float

    Returns
    -------
    ndarray
        ``Λ = R · min(1, β / σ_max(XᵀR))``.
    """
    smax = float(np.linalg.norm(X.T @ R, ord=2)) if R.size else 0.0
    if smax <= beta:
        return R.copy()
    return R * (beta / smax)


@dataclass(frozen=True)
class NuclearResult:
    """Result of :func:`nuclear_norm_regression`.

    Attributes
    ----------
    W : ndarray of shape (n_features, n_outputs)
    value : float
        Primal objective ``½‖XW − Y‖² + β‖W‖_*``.
    lower_bound : float
        Dual objective of the feasible ``dual``.
    dual : ndarray of shape (n_samples, n_outputs)
    iterations : int
    """

    W: np.ndarray
    value: float
    lower_bound: float
    dual: np.ndarray
    iterations: int

    @property
    def gap(self) -> float:
        return self.value - self.lower_bound


def _svt(Z: np.ndarray, tau: float) -> tuple[np.ndarray, float]:
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    s = np.maximum(s - tau, 0.0)
    return (U * s) @ Vt, float(s.sum())


def nuclear_norm_regression(X: np.ndarray, Y: np.ndarray, beta: float, *, tol: float = 1e-10,
                            max_iter: int = 200_000, stall_iter: int = 3_000) -> NuclearResult:
    """Certified solver of ``min_W ½‖XW − Y‖² + β‖W‖_*`` (two-layer linear network, Theorem 2.4).

    Works in the coordinates of the thin SVD ``X = U S Vᵀ`` (``W = V Z``; components of ``W`` outside
    the row space of ``X`` only add penalty), where the smooth part has a diagonal Hessian ``S²``.
    Accelerated proximal gradient (FISTA with gradient-based adaptive restart; the prox is singular
    value thresholding) runs until the duality gap with the scaled-residual dual point is at most
    ``tol · max(1, P)``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    beta : float
        ``β >= 0`` (``0`` gives least squares).
    tol : float, default 1e-10
        Relative duality-gap tolerance.
    max_iter : int
    stall_iter : int, default 3000
        Stop early when the gap has not shrunk by 1% for this many iterations (ill-conditioned ``X``:
        the linear rate of FISTA degrades with ``σ_max(X)/σ_min(X)``); a ``RuntimeWarning`` then
        reports the certified gap reached, which the result always carries.

    Returns
    -------
    NuclearResult

    References
    ----------
    Ergen & Pilanci (2021), eq. (12), Theorem 2.4; Beck & Teboulle (2009); O'Donoghue & Candès (2015).
    """
    X = V.check_array(X, "X")
    Y = V.check_targets(Y, X.shape[0])
    beta = V.check_beta(beta)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > (s[0] * max(X.shape) * np.finfo(float).eps if s.size else 0)
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    B = U.T @ Y
    yy = float(np.sum(Y**2))
    perp = max(yy - float(np.sum(B**2)), 0.0)  # ‖Y‖² outside range(X)
    Sc = s[:, None]
    step = 1.0 / (s[0] ** 2) if s.size else 1.0
    Z = np.zeros_like(B)
    T = Z
    t = 1.0
    value = lower = 0.5 * yy
    best_gap, best_at = np.inf, 0
    it = 0
    for it in range(1, max_iter + 1):
        grad = Sc * (Sc * T - B)
        Znew, _ = _svt(T - step * grad, step * beta)
        # adaptive restart (gradient scheme)
        if np.sum((T - Znew) * (Znew - Z)) > 0:
            t = 1.0
            T = Z
            grad = Sc * (Sc * T - B)
            Znew, _ = _svt(T - step * grad, step * beta)
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        T = Znew + ((t - 1.0) / t_next) * (Znew - Z)
        Z, t = Znew, t_next
        if it % 10 == 0 or it == 1:
            Rs = B - Sc * Z  # residual in range(X), U coordinates
            value = 0.5 * (float(np.sum(Rs**2)) + perp) + beta * float(np.linalg.svd(Z, compute_uv=False).sum())
            smax = float(np.linalg.norm(Sc * Rs, ord=2)) if Rs.size else 0.0
            theta = 1.0 if smax <= beta else beta / smax
            # ‖θR − Y‖² split into range(X) and its complement
            lower = -0.5 * (float(np.sum((theta * Rs - B) ** 2)) + (theta - 1.0) ** 2 * perp) + 0.5 * yy
            gap = value - lower
            if gap <= tol * max(1.0, abs(value)):
                break
            if gap < 0.99 * best_gap:
                best_gap, best_at = gap, it
            elif it - best_at >= stall_iter:  # no 1% progress for stall_iter iterations
                break
    W = Vt.T @ Z
    R = Y - X @ W
    Lam = feasible_dual(R, X, beta)
    value = 0.5 * float(np.sum(R**2)) + beta * float(np.linalg.svd(W, compute_uv=False).sum())
    lower = linear_dual_objective(Lam, Y)
    if value - lower > tol * max(1.0, abs(value)):
        warnings.warn(f"nuclear_norm_regression stopped after {it} iterations with relative duality gap "
                      f"{(value - lower) / max(1.0, abs(value)):.2g} > tol = {tol:g} (ill-conditioned X); the "
                      "returned lower bound is still valid.", RuntimeWarning, stacklevel=2)
    return NuclearResult(W=W, value=value, lower_bound=lower, dual=Lam, iterations=it)


def project(Y, X, beta: float, *, tol: float = 1e-12) -> np.ndarray:
    """The projection ``P_{X,β}(Y)`` onto ``{U : σ_max(XᵀU) <= β}`` (``‖Xᵀu‖₂ <= β`` for a vector).

    By Moreau decomposition ``P_{X,β}(Y) = Y − X W*`` where ``W*`` solves the two-layer problem
    ``min ½‖XW − Y‖² + β‖W‖_*``; for a vector ``y`` that is the exact ridge root of Theorem 2.3.

    Parameters
    ----------
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    X : array-like of shape (n_samples, n_features)
    beta : float

    Returns
    -------
    ndarray with the shape of ``Y``

    References
    ----------
    Ergen & Pilanci (2021), Theorem 2.3, Section 2.2.1 (the operator ``P_{X,β}``).
    """
    from .scalar import ridge_path_solution

    Xa = V.check_array(X, "X")
    vector = np.ndim(Y) == 1
    Ya = V.check_targets(Y, Xa.shape[0])
    beta = V.check_beta(beta)
    if beta == 0:
        W = np.linalg.pinv(Xa) @ Ya
    elif Ya.shape[1] == 1:
        W = ridge_path_solution(Xa, Ya[:, 0], beta, 2).v[:, None]
    else:
        W = nuclear_norm_regression(Xa, Ya, beta, tol=tol).W
    P = Ya - Xa @ W
    return P[:, 0] if vector else P
