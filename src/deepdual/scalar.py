"""Exact one-dimensional solvers every closed form leans on (SPEC §1, §3 and §7).

* :func:`optimal_amplitude` — ``s*(σ; β, L) = argmin_{s ≥ 0} ½(σ − s)² + (βL/2) s^{2/L}``, the
  amplitude of one balanced branch (Lemma 1.1). Soft threshold for ``L = 2``; for ``L > 2`` the
  problem is non-convex and the threshold *jumps*: solved by a bracketed root, never on a grid.
* :func:`ridge_path_solution` — the scalar-output deep linear problem on any ``X`` (Theorem 3.3):
  ``min_v ½‖Xv − y‖² + (βL/2)‖v‖^{2/L}``, whose optimum lies on the ridge path.

Both work in normalized units (SPEC §7): by positive homogeneity
``P*(cY; β) = c² P*(Y; β c^{2/L−2})``, so the search runs at ``σ = 1`` (amplitudes) or
``‖y‖ = σ₁(X) = 1`` (ridge path) and is mapped back; every root is bracketed by proven bounds, at any
scale of the data, ``β`` and depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

from . import _validation as V
from ._compat import keyword_only
from ._numerics import significant
from ._records import Record

__all__ = ["optimal_amplitude", "amplitude_threshold", "branch_penalty", "ridge_path_solution",
           "RidgePathResult", "amplitudes_and_deficits"]

_TINY_LOG = math.log(np.finfo(float).tiny)
_HUGE_LOG = math.log(np.finfo(float).max)


def branch_penalty(s, beta: float, depth: int):
    """Least penalty ``(βL/2) s^{2/L}`` of a balanced branch whose end-to-end map has norm ``s``."""
    s = np.asarray(s, dtype=np.float64)
    return 0.5 * beta * depth * np.power(s, 2.0 / depth)


# ---------------------------------------------------------------------------- amplitudes s*
def _unit_local_min(b: float, L: int) -> tuple[float, float] | None:
    """Local minimizer ``s`` of ``½(1 − s)² + (bL/2)s^{2/L}`` on ``(0, 1)`` and its deficit ``1 − s``.

    Stationary points solve ``1 = ψ(s) = s + b s^{(2−L)/L}``; ``ψ`` is convex with its minimum at
    ``s₀ = (b(L−2)/L)^{L/(2L−2)}``, so the local minimizer is the root on ``[s₀, 1]`` (``ψ(1) > 1``).
    ``None`` when ``ψ(s₀) >= 1`` (no interior stationary point). The deficit is ``b s^{(2−L)/L}`` —
    exact, no cancellation.
    """
    expo = (2.0 - L) / L
    s0 = (b * (L - 2) / L) ** (L / (2.0 * L - 2.0))
    if s0 >= 1.0 or s0 + b * s0**expo >= 1.0:
        return None
    root = brentq(lambda s: s + b * s**expo - 1.0, s0, 1.0, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                  maxiter=500)
    return root, b * root**expo


def _unit_objective(s: float, deficit: float, b: float, L: int) -> float:
    return 0.5 * deficit**2 + 0.5 * b * L * s ** (2.0 / L)


@lru_cache(maxsize=None)
def _critical_beta(L: int) -> float:
    """The normalized ``b_L`` at which ``s*(1; b, L)`` jumps to 0 (objective of the local min = ½).

    An interior stationary point exists while ``ψ(s₀) < 1``, i.e. ``b < b_max`` with
    ``s₀ = k/(k + 1)``, ``k = (L − 2)/L``; below ``b_L`` the local minimum beats ``s = 0``.
    """
    k = (L - 2) / L
    b_max = (k / (k + 1.0)) ** ((2.0 * L - 2.0) / L) / k

    def excess(b):  # objective of the local minimizer minus that of s = 0
        res = _unit_local_min(b, L)
        return 0.5 if res is None else _unit_objective(res[0], res[1], b, L) - 0.5

    return float(brentq(excess, b_max * 1e-6, b_max * (1 - 1e-12), xtol=1e-300, rtol=4 * np.finfo(float).eps))


def _amplitude_unit(log_b: float, L: int) -> tuple[float, float]:
    """``(s, 1 − s)`` for ``s*(1; b, L)`` with ``b = exp(log_b)`` (``L > 2``)."""
    if log_b > math.log(_critical_beta(L)):
        return 0.0, 1.0
    if log_b < _TINY_LOG:
        return 1.0, 0.0
    b = math.exp(log_b)
    res = _unit_local_min(b, L)
    if res is None or _unit_objective(res[0], res[1], b, L) >= 0.5:
        return 0.0, 1.0
    return res


def amplitudes_and_deficits(sigma, beta: float, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """``s*(σ_i; β, L)`` and ``σ_i − s*`` for validated ``σ >= 0``, each without cancellation.

    For ``L > 2``, ``s*(σ; β) = σ s*(1; β σ^{2/L−2})`` (SPEC §7), and at an interior optimum
    ``σ − s* = β s*^{(2−L)/L}`` exactly (stationarity).
    """
    sig = np.asarray(sigma, dtype=np.float64).reshape(-1)
    amps = np.zeros_like(sig)
    defs = sig.copy()
    if beta == 0.0:
        return sig.copy(), np.zeros_like(sig)
    L = depth
    for i, s in enumerate(sig):
        if s <= 0.0:
            continue
        if L == 2:
            amps[i], defs[i] = max(s - beta, 0.0), min(s, beta)
            continue
        log_b = math.log(beta) + (2.0 / L - 2.0) * math.log(s)
        u, du = _amplitude_unit(log_b, L)
        amps[i], defs[i] = s * u, s * du
    return amps, defs


@keyword_only("beta", "depth")
def optimal_amplitude(sigma, *, beta: float, depth: int):
    """Exact minimizer of the balanced single-branch problem (SPEC §1).

    .. math::

        s^*(\\sigma;\\beta,L) = \\arg\\min_{s\\ge 0}\\ \\tfrac12(\\sigma - s)^2 + \\tfrac{\\beta L}{2} s^{2/L}

    For ``L = 2`` this is the soft threshold ``(σ − β)₊``. For ``L > 2`` it is solved at ``σ = 1``
    with ``b = β σ^{2/L−2}`` (scale invariance, SPEC §7): the stationary points solve
    ``1 = s + b s^{(2−L)/L}``, whose right side is convex with minimum at ``s₀ = (b(L−2)/L)^{L/(2L−2)}``,
    so the local minimizer is the root on ``[s₀, 1]`` (Brent's method) and it is compared with
    ``s = 0``. Ties go to ``0``. Valid for any ``σ`` and ``β`` representable in float64.

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
    out = amplitudes_and_deficits(arr, beta, depth)[0].reshape(arr.shape)
    return float(out) if out.ndim == 0 else out


@keyword_only("beta", "depth")
def amplitude_threshold(*, beta: float, depth: int) -> float:
    """The jump point ``τ_L(β)``: ``s*(σ) = 0`` for ``σ < τ`` and ``> 0`` above (``τ = β`` for ``L = 2``).

    By scale invariance ``τ_L(β) = (β / b_L)^{L/(2L−2)}``, where ``b_L`` is the normalized jump point,
    found once per depth by a bracketed root (the local minimizer's objective equals ``½``).
    Returns ``inf`` when ``τ`` exceeds the float64 range.
    """
    beta, depth = V.check_beta(beta), V.check_depth(depth)
    if beta == 0.0:
        return 0.0
    if depth == 2:
        return float(beta)
    L = depth
    log_tau = (math.log(beta) - math.log(_critical_beta(L))) * L / (2.0 * L - 2.0)
    return math.exp(log_tau) if log_tau < _HUGE_LOG else math.inf


# ---------------------------------------------------------------------------- ridge path
@dataclass(frozen=True)
class RidgePathResult(Record):
    """Solution of ``min_v ½‖Xv − y‖² + (βL/2)‖v‖^{2/L}``.

    Attributes
    ----------
    v : ndarray of shape (n_features,)
        The optimal end-to-end linear map.
    mu : float
        Ridge parameter with ``v = (XᵀX + μI)⁻¹Xᵀy`` (``inf`` when ``v = 0``, ``0`` for min-norm).
    objective : float
        Optimal objective, computed from residual components (no cancellation).
    candidates : int
        Number of stationary points compared (plus ``v = 0``).
    """

    v: np.ndarray
    mu: float
    objective: float
    candidates: int


def _root_interval(a: np.ndarray, s2: np.ndarray, p: float, b: float, L: int) -> tuple[float, float]:
    """Proven bounds ``[μ_lo, μ_hi]`` on every root of ``G(μ) = μ^p Σ a_i/(s_i² + μ)² = b``.

    Normalized units: ``max s_i = 1`` and ``Σ a_i/s_i²`` is ``‖S⁻¹c‖²``. ``G(μ) <= μ^p ‖S⁻¹c‖²`` gives the
    lower end; ``G(μ) <= ‖Sc‖² μ^{p−2}`` (``L > 2``) or, for ``L = 2``, ``G`` increasing with
    ``G(μ) >= ‖Sc‖² μ²/(1 + μ)²`` give the upper end.
    """
    inv = float(np.sum(a / s2**2))  # ‖S⁻¹c‖² (a_i = s_i² c_i²)
    tot = float(np.sum(a))  # ‖Sc‖²
    # in logarithms, clipped to the normal float64 range: a smaller lower end or (for L > 2) a larger upper
    # end is still a bound, and a root beyond 1e300 has ‖v‖ < 1e-300 (no better than v = 0 in float64)
    lo = math.exp(max((math.log(b) - math.log(inv)) / p, _TINY_LOG + 1.0))
    if L == 2:  # G increasing to ‖Sc‖²: no root unless b < ‖Sc‖²
        q = math.sqrt(b / tot)
        hi = q / (1.0 - q) if q < 1 else 0.0
    else:
        hi = math.exp(min((math.log(tot) - math.log(b)) / (2.0 - p), _HUGE_LOG - 1.0))
    return lo * (1 - 1e-12), hi * (1 + 1e-12)


def _terms(a: np.ndarray, s2: np.ndarray, p: float, mu) -> np.ndarray:
    """``a_i μ^p / (s_i² + μ)²`` elementwise; where ``μ^p`` or the square leaves the float64 range (μ beyond
    about 1e154, reached when ``β`` is negligible at the data's scale) the same value from logarithms."""
    m = np.asarray(mu, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        out = a * m**p / (s2 + m) ** 2
        bad = ~np.isfinite(out) | ((out == 0) & (a > 0) & (m > 0) & np.isfinite(m))
        if np.any(bad):
            out = np.where(bad, a * np.exp(p * np.log(m) - 2.0 * np.log(s2 + m)), out)
    return out


def _isolate_roots(a: np.ndarray, s2: np.ndarray, p: float, b: float, lo: float, hi: float) -> list[float]:
    """Every root of ``G(μ) = b`` on ``[lo, hi]``, each bracketed and refined (interval subdivision).

    In ``t = log μ`` each term ``w_i = a_i μ^p/(s_i² + μ)²`` is unimodal (peak at ``μ = p s_i²/(2 − p)``)
    with log-derivative ``p − 2μ/(s_i² + μ)`` decreasing in ``μ``. On an interval, bounds of ``G`` and of
    ``dG/dt`` follow term by term; an interval is dropped when ``b`` is outside ``G``'s range, refined
    by Brent's method when ``G`` is provably monotone there, and split otherwise. Intervals still
    undecided at width ``1e-9`` (tangent roots) contribute their midpoint as a candidate.
    """
    peak = np.where(p < 2, p * s2 / max(2.0 - p, 1e-300), np.inf)

    def w(mu):
        return _terms(a, s2, p, mu)

    def G(mu):
        return float(np.sum(w(mu)))

    roots: list[float] = []
    stack = [(math.log(lo), math.log(hi))]
    while stack:
        t1, t2 = stack.pop()
        m1, m2 = math.exp(t1), math.exp(t2)
        w1, w2 = w(m1), w(m2)
        wlo = np.minimum(w1, w2)
        inside = (peak > m1) & (peak < m2)
        whi = np.where(inside, _terms(a, s2, p, peak) if np.any(inside) else 0.0, np.maximum(w1, w2))
        if float(np.sum(wlo)) > b * (1 + 1e-12) or float(np.sum(whi)) < b * (1 - 1e-12):
            continue
        f1 = p - 2.0 * m1 / (s2 + m1)  # log-derivative factors, decreasing in μ
        f2 = p - 2.0 * m2 / (s2 + m2)
        dlo = np.where(f2 >= 0, wlo * f2, whi * f2)
        dhi = np.where(f1 >= 0, whi * f1, wlo * f1)
        g1, g2 = G(m1) - b, G(m2) - b
        if float(np.sum(dlo)) > 0 or float(np.sum(dhi)) < 0:  # monotone: at most one root
            if g1 == 0:
                roots.append(m1)
            elif g1 * g2 < 0:
                t = brentq(lambda t: G(math.exp(t)) - b, t1, t2, xtol=1e-15, rtol=4 * np.finfo(float).eps,
                           maxiter=500)
                roots.append(math.exp(t))
            continue
        if t2 - t1 < 1e-9:
            roots.append(math.exp(0.5 * (t1 + t2)))
            continue
        tm = 0.5 * (t1 + t2)
        stack += [(t1, tm), (tm, t2)]
    return roots


@keyword_only("beta", "depth")
def ridge_path_solution(X: np.ndarray, y: np.ndarray, *, beta: float, depth: int) -> RidgePathResult:
    """Global minimizer of the scalar-output deep linear problem on any ``X`` (Theorem 3.3).

    .. math::

        \\min_v\\ \\tfrac12\\|Xv - y\\|_2^2 + \\tfrac{\\beta L}{2}\\|v\\|_2^{2/L}

    For a fixed norm the best ``v`` is a ridge solution ``v(μ) = (XᵀX + μI)⁻¹Xᵀy``, so the optimum is
    ``0`` or a root of ``μ‖v(μ)‖^{2−2/L} = β``. In the SVD of ``X``, normalized so that ``σ₁(X) = 1`` and
    the part of ``y`` in ``range(X)`` has norm 1 (SPEC §7), the roots are those of
    ``μ^p Σ s_i²c_i²/(s_i² + μ)² = b^p`` with ``p = L/(L−1)``; they lie in a proven interval and are
    isolated by interval subdivision (each term is unimodal), then refined with Brent's method. Every
    stationary point is compared with ``v = 0``, objectives computed from residual components
    ``c_i μ/(s_i² + μ)`` (no cancellation). With ``β = 0`` the minimum-norm solution ``X⁺y`` is
    returned. Singular values below the rank cutoff ``max(n, d)·eps·σ₁`` count as zero.

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
    return _ridge_path(X, Y[:, 0], V.check_beta(beta), V.check_depth(depth))


def _ridge_path(X: np.ndarray, y: np.ndarray, beta: float, L: int) -> RidgePathResult:
    """:func:`ridge_path_solution` on validated float64 input."""
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = significant(s, X.shape)
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    c = U.T @ y
    perp = y - U @ c  # the part of y outside range(X), as a vector
    half_perp = 0.5 * float(perp @ perp)
    nu = float(np.linalg.norm(c))
    if s.size == 0 or nu == 0.0:
        return RidgePathResult(v=np.zeros(X.shape[1]), mu=math.inf, objective=half_perp + 0.5 * nu * nu,
                               candidates=0)
    if beta == 0.0:
        v = Vt.T @ (c / s)
        return RidgePathResult(v=v, mu=0.0, objective=half_perp, candidates=1)
    s1 = float(s[0])
    sn, cn = s / s1, c / nu  # normalized: σ₁ = 1, ‖c‖ = 1
    log_b = math.log(beta) + (2.0 / L - 2.0) * math.log(nu) - (2.0 / L) * math.log(s1)
    p = L / (L - 1.0)
    s2 = sn * sn
    a = s2 * cn * cn
    best = (0.5, math.inf)  # normalized objective of v = 0 (without the perpendicular part)
    candidates = 0
    log_bp = p * log_b
    if _TINY_LOG < log_bp < _HUGE_LOG:
        bp = math.exp(log_bp)
        lo, hi = _root_interval(a, s2, p, bp, L)
        roots = _isolate_roots(a, s2, p, bp, lo, hi) if 0 < lo < hi < math.inf else []
        b = math.exp(log_b)
        for mu in roots:
            candidates += 1
            coef = sn * cn / (s2 + mu)
            fit = cn * mu / (s2 + mu)  # c − S·coef, without cancellation
            val = 0.5 * float(fit @ fit) + 0.5 * b * L * float(np.linalg.norm(coef)) ** (2.0 / L)
            if val < best[0]:
                best = (val, mu)
    elif log_bp <= _TINY_LOG:  # β negligible at this scale: the least-squares fit (μ → 0)
        candidates = 1
        fit_pen = 0.5 * math.exp(log_b) * L * float(np.linalg.norm(cn / sn)) ** (2.0 / L)
        if fit_pen < 0.5:
            best = (fit_pen, 0.0)
    val, mu = best
    if math.isinf(mu):
        v = np.zeros(X.shape[1])
    else:
        v = (nu / s1) * (Vt.T @ (sn * cn / (s2 + mu)))
    return RidgePathResult(v=v, mu=float(mu * s1 * s1), objective=float(nu * nu * val + half_perp),
                           candidates=candidates)
