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

from .. import _validation as V
from .._compat import keyword_only
from .._numerics import EPS, dual_objective, significant
from .._records import Record

__all__ = [
    "linear_dual_objective",
    "feasible_scale",
    "residual_lower_bound",
    "feasible_dual",
    "nuclear_norm_regression",
    "min_norm_map",
    "min_norm_penalty",
    "NuclearResult",
    "project",
]


def linear_dual_objective(Lam: np.ndarray, Y: np.ndarray) -> float:
    """Dual objective ``−½‖Λ − Y‖² + ½‖Y‖² = ⟨Λ, Y⟩ − ½‖Λ‖²`` of the two-layer linear problem (eq. 10, 12).

    Evaluated as ``⟨Λ, Y⟩ − ½‖Λ‖²`` with an exactly summed inner product, minus its rounding allowance
    (SPEC §7), so it never exceeds the exact dual value of the given ``Λ``.
    """
    return dual_objective(np.asarray(Lam, np.float64), np.asarray(Y, np.float64), 1.0)


def feasible_scale(R: np.ndarray, X: np.ndarray, beta: float) -> float:
    """``θ = min(1, β / σ_max(XᵀR))`` with ``σ_max`` rounded up, so that ``θR`` is dual feasible."""
    if not R.size:
        return 1.0
    smax = float(np.linalg.norm(X.T @ R, ord=2)) * (1.0 + 64.0 * EPS * max(X.shape))
    return 1.0 if smax <= beta else beta / smax


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
    return R * feasible_scale(R, X, beta)


def residual_lower_bound(R: np.ndarray, X: np.ndarray, Y: np.ndarray, beta: float) -> tuple[float, np.ndarray]:
    """Weak-duality lower bound ``D(θR)`` from any residual ``R = Y − f(X)`` (two-layer linear, Thm 2.4).

    Written through the residual, ``D(θR) = θ⟨R, Y⟩ − ½θ²‖R‖²`` (SPEC §7), with rounding subtracted.
    Returns the bound and the dual point ``Λ = θR``.
    """
    theta = feasible_scale(R, X, beta)
    return dual_objective(R, Y, theta), theta * R


def min_norm_map(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``X⁺Y`` with the shared rank rule (singular values of ``X`` at most ``max(n, d)·eps·σ₁`` are zero)."""
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = significant(s, X.shape)
    return Vt[keep].T @ ((U[:, keep].T @ Y) / s[keep, None])


def min_norm_singular_values(W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD of ``W`` with the singular values below the shared rank cutoff set to zero."""
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return U, np.where(significant(s, W.shape), s, 0.0), Vt


def min_norm_penalty(W: np.ndarray, depth: int) -> float:
    """``Σ_j Σ_l ‖W_{l,j}‖²`` of the balanced depth-``L`` network realizing ``W``: ``L Σ σ_i(W)^{2/L}``.

    Singular values below the shared rank cutoff count as zero (SPEC §7: one rank rule), in the
    closed form and in the certificate alike; otherwise round-off singular values ``~1e-17`` raised to
    the power ``2/L`` would add up to a visible penalty for deep networks.
    """
    s = min_norm_singular_values(W)[1]
    return float(depth * np.sum(s[s > 0] ** (2.0 / depth)))


@dataclass(frozen=True)
class NuclearResult(Record):
    """Result of :func:`nuclear_norm_regression`.

    Attributes
    ----------
    W : ndarray of shape (n_features, n_outputs)
    objective : float
        Primal objective ``½‖XW − Y‖² + β‖W‖_*``.
    lower_bound : float
        Dual objective of the feasible ``dual`` (a valid lower bound on the optimum).
    dual : ndarray of shape (n_samples, n_outputs)
    iterations : int
    """

    W: np.ndarray
    objective: float
    lower_bound: float
    dual: np.ndarray
    iterations: int

    @property
    def gap(self) -> float:
        return self.objective - self.lower_bound


#: Below ``β/(σ_max(X)‖Y‖) = ROUNDOFF_BETA·max(n, d)·eps`` the nuclear-norm dual cannot be certified
#: tightly in float64 (its feasibility test resolves residuals only to round-off).
ROUNDOFF_BETA = 1e3


def _svt(Z: np.ndarray, tau: float) -> tuple[np.ndarray, float]:
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    s = np.maximum(s - tau, 0.0)
    return (U * s) @ Vt, float(s.sum())


def _normalized_gap(Z, B, S, perp2, beta):
    """Primal value, dual value and their rounding floor in normalized SVD coordinates (no cancellation)."""
    Rs = B - S * Z  # residual in range(X), U coordinates
    rr = float(np.sum(Rs**2)) + perp2
    nuc = float(np.linalg.svd(Z, compute_uv=False).sum()) if Z.size else 0.0
    value = 0.5 * rr + beta * nuc
    smax = float(np.linalg.norm(S * Rs, ord=2)) if Rs.size else 0.0
    theta = 1.0 if smax <= beta else beta / smax
    # D(θR) = θ⟨R, Y⟩ − ½θ²‖R‖², with ⟨R, Y⟩ = ‖R‖² + ⟨SᵀR_s, Z⟩
    ry = rr + float(np.sum((S * Rs) * Z))
    lower = theta * ry - 0.5 * theta * theta * rr
    floor = 64.0 * EPS * (float(np.sqrt(rr)) * float(np.linalg.norm(B)) + abs(value))
    return value, lower, floor


@keyword_only("beta")
def nuclear_norm_regression(X: np.ndarray, Y: np.ndarray, *, beta: float, tol: float = 1e-10,
                            max_iter: int = 200_000, stall_iter: int = 3_000) -> NuclearResult:
    """Certified solver of ``min_W ½‖XW − Y‖² + β‖W‖_*`` (two-layer linear network, Theorem 2.4).

    Works in normalized units (``σ₁(X) = 1``, ``‖Y‖ = 1``, ``β ↦ β/(σ₁‖Y‖)``; SPEC §7) and in the
    coordinates of the thin SVD ``X = U S Vᵀ`` (``W = V Z``; components of ``W`` outside the row space of
    ``X`` only add penalty), where the smooth part has a diagonal Hessian ``S²``. Accelerated proximal
    gradient (FISTA with gradient-based adaptive restart; the prox is singular value thresholding) runs
    until the duality gap with the scaled-residual dual point, written through the residual, is at
    most ``tol · P``.

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
        Stop early when the gap has not shrunk by 1% for this many iterations; a ``RuntimeWarning``
        then says why (an ill-conditioned ``X`` slows FISTA's linear rate; a ``β`` so small relative to
        ``σ₁(X)‖Y‖`` that the gap is at the float64 round-off floor cannot be certified more tightly).
        The result always carries the certified gap reached.

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
    keep = significant(s, X.shape)
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    ny = float(np.linalg.norm(Y))
    if s.size == 0 or ny == 0.0:
        W = np.zeros((X.shape[1], Y.shape[1]))
        lower, Lam = residual_lower_bound(Y.copy(), X, Y, beta)
        return NuclearResult(W=W, objective=0.5 * ny * ny, lower_bound=min(lower, 0.5 * ny * ny), dual=Lam,
                             iterations=0)
    s1 = float(s[0])
    Yn = Y / ny
    B = U.T @ Yn
    perp = Yn - U @ B  # the part of Y outside range(X), as a vector
    perp2 = float(np.sum(perp**2))
    Sc = (s / s1)[:, None]
    bn = beta / (s1 * ny)
    step = 1.0
    Z = np.zeros_like(B)
    T = Z
    t = 1.0
    best_gap, best_at = np.inf, 0
    gap = floor = np.inf
    value = 0.5
    it = 0
    for it in range(1, max_iter + 1):
        grad = Sc * (Sc * T - B)
        Znew, _ = _svt(T - step * grad, step * bn)
        if np.sum((T - Znew) * (Znew - Z)) > 0:  # adaptive restart (gradient scheme)
            t = 1.0
            T = Z
            grad = Sc * (Sc * T - B)
            Znew, _ = _svt(T - step * grad, step * bn)
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        T = Znew + ((t - 1.0) / t_next) * (Znew - Z)
        Z, t = Znew, t_next
        if it % 10 == 0 or it == 1:
            value, lower, floor = _normalized_gap(Z, B, Sc, perp2, bn)
            gap = value - lower
            if gap <= max(tol * value, floor):
                break
            if gap < 0.99 * best_gap:
                best_gap, best_at = gap, it
            elif it - best_at >= stall_iter:  # no 1% progress for stall_iter iterations
                break
    W = (ny / s1) * (Vt.T @ Z)
    _, lower, Lam = _certified_in_svd_coordinates(Z, B, Sc, perp, bn, U, ny, X.shape)
    R = Y - X @ W  # the objective of the returned W as any caller evaluates it
    objective = 0.5 * float(np.sum(R**2)) + beta * float(np.linalg.svd(W, compute_uv=False).sum())
    rel = (objective - lower) / max(abs(objective), np.finfo(float).tiny)
    if objective - lower > tol * abs(objective):
        if bn <= ROUNDOFF_BETA * max(X.shape) * EPS:
            why = (f"`beta` = {beta:.3g} is below the float64 round-off level of this problem "
                   f"(β/(σ_max(X)·‖Y‖) = {bn:.2g} <= {ROUNDOFF_BETA:g}·max(n, d)·eps): the dual residual cannot "
                   "be resolved more finely than round-off, so the certified gap stays loose; the network is "
                   "the least-squares fit to machine precision")
        elif gap <= 1e3 * floor:
            why = (f"`tol` = {tol:g} is below the float64 round-off floor of this problem (relative "
                   f"{floor / max(value, np.finfo(float).tiny):.1g})")
        else:
            why = (f"ill-conditioned X (σ_max/σ_min = {s1 / float(s[-1]):.3g} slows the solver's linear rate)")
        warnings.warn(f"nuclear_norm_regression stopped after {it} iterations with relative duality gap "
                      f"{rel:.2g} > tol = {tol:g}: {why}; the returned lower bound is still valid.",
                      RuntimeWarning, stacklevel=2)
    return NuclearResult(W=W, objective=objective, lower_bound=min(lower, objective), dual=Lam, iterations=it)


def _certified_in_svd_coordinates(Z, B, S, perp, bn, U, ny, shape):
    """Objective, a valid lower bound and the dual point, from the normalized SVD coordinates.

    The residual ``R_s = B − S Z`` in ``U`` coordinates is the very quantity the iteration drives to
    optimality, so the dual point ``Λ = θ(U R_s + Y_⊥)`` built from it is (nearly) feasible with
    ``θ ≈ 1`` even when ``β`` is far below ``eps·σ₁(X)‖Y‖`` — recomputing ``Y − XW`` in the original
    coordinates would add matmul round-off of size ``eps·‖X‖‖W‖`` and lose the bound. Feasibility uses
    ``σ_max(XᵀΛ) <= θ(σ_max(S R_s) + c‖Y_⊥‖)`` (``c`` the rank cutoff: dropped singular values), inflated
    for rounding; the dual value ``θ⟨R, Y⟩ − ½θ²‖R‖²`` with ``⟨R, Y⟩ = ‖R‖² + ⟨S R_s, Z⟩`` has its
    rounding (and that of ``U``'s orthogonality) subtracted. Returned in the original units (``× ‖Y‖²``).
    """
    Rs = B - S * Z
    perp2 = float(np.sum(perp**2))
    rr = float(np.sum(Rs**2)) + perp2
    nuc = float(np.linalg.svd(Z, compute_uv=False).sum()) if Z.size else 0.0
    value = 0.5 * rr + bn * nuc
    cutoff = max(shape) * EPS  # normalized σ₁ = 1
    smax = float(np.linalg.norm(S * Rs, ord=2)) if Rs.size else 0.0
    smax = (smax + cutoff * float(np.sqrt(perp2))) * (1.0 + 64.0 * EPS * max(shape))
    theta = 1.0 if smax <= bn else bn / smax
    srz = (S * Rs) * Z
    ry = rr + float(np.sum(srz))
    lower = theta * ry - 0.5 * theta * theta * rr
    lower -= 8.0 * EPS * max(shape) * (theta * (rr + float(np.sum(np.abs(srz))) + float(np.sqrt(rr))) + theta**2 * rr)
    Lam = (ny * theta) * (U @ Rs + perp)
    return ny * ny * value, ny * ny * lower, Lam


def project(X, Y, *args, beta: float | None = None, tol: float = 1e-10) -> np.ndarray:
    """The projection ``P_{X,β}(Y)`` onto ``{U : σ_max(XᵀU) <= β}`` (``‖Xᵀu‖₂ <= β`` for a vector).

    By Moreau decomposition ``P_{X,β}(Y) = Y − X W*`` where ``W*`` solves the two-layer problem
    ``min ½‖XW − Y‖² + β‖W‖_*``; for a vector ``y`` that is the exact ridge root of Theorem 2.3.

    .. deprecated:: 0.2
        The old order ``project(Y, X, beta)`` (three positional arguments) still works and emits a
        ``FutureWarning``; use ``project(X, Y, beta=...)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    beta : float

    Returns
    -------
    ndarray with the shape of ``Y``

    References
    ----------
    Ergen & Pilanci (2021), Theorem 2.3, Section 2.2.1 (the operator ``P_{X,β}``).
    """
    from ..scalar import _ridge_path

    if args:  # the pre-0.2 order project(Y, X, beta)
        if len(args) > 1 or beta is not None:
            raise TypeError("project() takes (X, Y, *, beta=...).")
        warnings.warn("project(Y, X, beta) is deprecated; call project(X, Y, beta=...) (X first, beta as a "
                      "keyword).", FutureWarning, stacklevel=2)
        X, Y = Y, X
        beta = args[0]
    elif np.ndim(X) == 1 and np.ndim(Y) == 2:
        raise ValueError("`X` is 1-D but `Y` is 2-D: project takes (X, Y, *, beta) since 0.2 — pass X first "
                         "(X.reshape(-1, 1) for one feature).")
    if beta is None:
        raise TypeError("project() missing the keyword argument `beta`.")
    Xa = V.check_array(X, "X")
    vector = np.ndim(Y) == 1
    Ya = V.check_targets(Y, Xa.shape[0])
    beta = V.check_beta(beta)
    if beta == 0:
        W = min_norm_map(Xa, Ya)
    elif Ya.shape[1] == 1:
        W = _ridge_path(Xa, Ya[:, 0], beta, 2).v[:, None]
    else:
        W = nuclear_norm_regression(Xa, Ya, beta=beta, tol=tol).W
    P = Ya - Xa @ W
    return P[:, 0] if vector else P
