"""Pricing: unit directions ``u`` with a large ``|rᵀ(Xu)₊|`` (SPEC §6).

For a residual ``r`` the dual constraint of the two-layer ReLU program is

.. math::

    c(r) = \\max_{\\|u\\|_2 \\le 1} \\big| r^T (Xu)_+ \\big| \\le \\beta .

A direction with ``|rᵀ(Xu)₊| > β`` is a neuron worth adding (column generation), and the best
value found is an *estimate* of ``c(r)``: a lower bound, never an upper bound (see
:mod:`deepdual.convex.bounds` for proven upper bounds).

The search is a monotone local ascent on the cells of the hyperplane arrangement of the rows of
``X``. On the cone ``K_D = {u : (2D − I)Xu ≥ 0}`` of the activation pattern ``D = diag(1[Xu ≥ 0])``
the map ``u ↦ rᵀ(Xu)₊ = g_Dᵀu`` with ``g_D = XᵀDr`` is linear, so its maximum over
``K_D ∩ {‖u‖ ≤ 1}`` is ``‖Π_{K_D}(g_D)‖``, attained at ``Π_{K_D}(g_D)/‖Π_{K_D}(g_D)‖`` (a small
non-negative least-squares problem). Starting from a unit vector ``u₀`` the ascent alternates

1. the pattern ``D`` of the current ``u`` (rows on a hyperplane, ``x_iᵀu = 0``, join the side that
   helps: active when ``r_i > 0``),
2. a cheap step ``u ← g_D/‖g_D‖`` (the unconstrained maximizer of the linear piece), kept only if
   it increases the value, else the cone step ``u ← Π_{K_D}(g_D)/‖Π_{K_D}(g_D)‖``,

and stops when neither step increases the value. Every accepted step increases
``rᵀ(Xu)₊`` (the current ``u`` lies in ``K_D``, so the cone maximum is at least its value), so the
ascent is monotone and ends at a direction that is optimal on its own cell.

Cell-by-cell ascent gets stuck in high dimension (on 64-pixel digits it ended at 0.96 from rows and
random starts where trained neurons reach 1.01), so the starts are first moved by a smoothed
continuation: normalized gradient ascent on the sphere of ``Σ rᵢ τ softplus(xᵢᵀu/τ)`` with ``τ``
decreasing to 0 (all starts at once); the best results, and the best raw starts, are then polished
by the exact ascent (measured: 0.96 → 1.28 on digits, 1.22 → 1.66 on random ``n = 200, d = 10``).

References
----------
Pilanci, M. and Ergen, T. (2020). Neural networks are convex regularizers: exact polynomial-time
convex optimization formulations for two-layer networks. ICML 2020 (the dual constraint and the
pattern cones). Ergen, T. and Pilanci, M. (2021). Revealing the structure of deep neural networks
via convex duality. ICML 2021, eq. (4) with L = 2.
"""

from __future__ import annotations

import numbers
import time

import numpy as np
from scipy.optimize import nnls

from .. import _validation as V

__all__ = ["price"]

#: Cosine above which two unit directions count as the same direction.
DUPLICATE_COSINE = 1.0 - 1e-9
#: Relative increase below which the ascent stops.
ASCENT_RTOL = 1e-12
#: Steps per ascent, at most.
MAX_ASCENT_STEPS = 200
#: Steps, initial smoothing width (relative to the median ``|x_iᵀu|``) and initial step angle of the
#: smoothed continuation that seeds the exact ascent.
SMOOTH_STEPS = 200
SMOOTH_TAU = 0.2
SMOOTH_STEP = 0.1


# ---------------------------------------------------------------------------------- validation
def _check_residual_and_data(r, X, r_name: str = "r", x_name: str = "X") -> tuple[np.ndarray, np.ndarray]:
    """Validate ``r`` of shape (n,) (or (n, 1)) and ``X`` of shape (n, d); float64 copies."""
    Xa = V.check_array(X, x_name)
    ra = V.as_float_array(r, r_name)
    if ra.ndim == 2 and ra.shape[1] == 1:
        ra = ra[:, 0]
    if ra.ndim != 1:
        raise ValueError(f"`{r_name}` must be a vector of shape (n_samples,), got shape {ra.shape}.")
    if ra.shape[0] != Xa.shape[0]:
        raise ValueError(
            f"`{x_name}` has {Xa.shape[0]} rows but `{r_name}` has {ra.shape[0]} entries; "
            "pass one residual per sample."
        )
    return np.array(ra, dtype=np.float64, copy=True), Xa


def _check_seed(seed, name: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {type(seed).__name__} {seed!r}.")
    if int(seed) < 0:
        raise ValueError(f"`{name}` == {int(seed)}, must be >= 0.")
    return int(seed)


def _check_nonnegative_real(value, name: str, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {type(value).__name__} {value!r}.")
    v = float(value)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"`{name}` == {v}, must be finite and >= 0.")
    return v


def _check_starts(starts, d: int, name: str = "starts") -> np.ndarray | None:
    """Validate extra starting directions: shape (d, k) (a single (d,) vector is one column);
    zero columns are dropped, the rest normalized."""
    if starts is None:
        return None
    S = V.as_float_array(starts, name)
    if S.ndim == 1:
        S = S.reshape(-1, 1)
    if S.ndim != 2 or S.shape[0] != d:
        raise ValueError(
            f"`{name}` must have shape (n_features, k) = ({d}, k) (directions as columns), got shape {S.shape}."
        )
    norms = np.linalg.norm(S, axis=0)
    S = S[:, norms > 0] / norms[norms > 0]
    return S if S.shape[1] else None


# ---------------------------------------------------------------------------------- pieces
def _value(r: np.ndarray, X: np.ndarray, u: np.ndarray) -> float:
    """``rᵀ(Xu)₊`` in float64."""
    return float(r @ np.maximum(X @ u, 0.0))


def _values(r: np.ndarray, X: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``rᵀ(XU)₊`` for every column of ``U`` (shape (d, k))."""
    return r @ np.maximum(X @ U, 0.0)


def _cone_projection(g: np.ndarray, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Π_K(g)`` for ``K = {u : Au >= 0}`` and the multipliers ``μ >= 0`` with ``Π_K(g) = g + Aᵀμ``.

    Moreau: ``g = Π_K(g) + Π_{K°}(g)`` with the polar cone ``K° = {−Aᵀμ : μ >= 0}``, so ``μ`` solves
    the NNLS ``min_{μ >= 0} ‖g + Aᵀμ‖``.
    """
    if A.shape[0] == 0:
        return g.copy(), np.zeros(0)
    mu = _nnls(-A.T, g)
    if mu is None:  # no convergence: μ = 0 keeps ‖g + Aᵀμ‖ = ‖g‖ a valid (loose) bound
        return g.copy(), np.zeros(A.shape[0])
    return g + A.T @ mu, mu


def _nnls(A: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``argmin_{x >= 0} ‖Ax − b‖`` (SciPy's active-set NNLS), or ``None`` if it does not converge."""
    for maxiter in (None, 50 * A.shape[1] + 100):
        try:
            return nnls(A, b, maxiter=maxiter)[0]
        except RuntimeError:
            continue
    return None


def _pattern(t: np.ndarray, r: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Activation pattern at a point with ``t = Xu``; rows within ``tol`` of their hyperplane join
    the side that helps (active when ``r_i > 0``)."""
    return (t > tol) | ((np.abs(t) <= tol) & (r > 0))


def _ascend(r: np.ndarray, X: np.ndarray, u: np.ndarray, row_tol: np.ndarray,
            deadline: float | None = None) -> tuple[np.ndarray, float]:
    """Monotone ascent of ``rᵀ(Xu)₊`` from the unit vector ``u`` (see the module docstring)."""
    val = _value(r, X, u)
    for _ in range(MAX_ASCENT_STEPS):
        if deadline is not None and time.perf_counter() > deadline:
            break
        t = X @ u
        D = _pattern(t, r, row_tol * max(1.0, float(np.linalg.norm(u))))
        g = X.T @ np.where(D, r, 0.0)
        gn = float(np.linalg.norm(g))
        if gn == 0.0:
            break
        stop = val + ASCENT_RTOL * max(abs(val), gn)
        cand = g / gn
        cval = _value(r, X, cand)
        if cval > stop:
            u, val = cand, cval
            continue
        A = np.where(D[:, None], X, -X)
        p, _ = _cone_projection(g, A)
        pn = float(np.linalg.norm(p))
        if pn == 0.0:
            break
        cand = p / pn
        cval = _value(r, X, cand)
        if cval > stop:
            u, val = cand, cval
            continue
        break
    return u, val


def _starts(r: np.ndarray, X: np.ndarray, n_starts: int, rng: np.random.Generator,
            extra: np.ndarray | None = None) -> np.ndarray:
    """Starting unit directions (columns): the best ``n_starts`` among normalized rows ``±x_i``,
    random Gaussian directions and the pattern directions ``Xᵀ(r₊)``, screened by their value;
    a quarter of the starts stay random for diversity."""
    d = X.shape[1]
    norms = np.linalg.norm(X, axis=1)
    rows = X[norms > 0] / norms[norms > 0, None]
    pool = [rows.T, -rows.T, rng.standard_normal((d, 4 * n_starts))]
    g = X.T @ np.maximum(r, 0.0)
    pool.append(g[:, None])
    if extra is not None and extra.size:
        pool.append(extra)
    P = np.concatenate(pool, axis=1)
    pn = np.linalg.norm(P, axis=0)
    P = P[:, pn > 0] / pn[pn > 0]
    vals = _values(r, X, P)
    n_rand = max(1, n_starts // 4)
    n_best = max(1, n_starts - n_rand)
    order = np.argsort(-vals)[:n_best]
    R = rng.standard_normal((d, n_rand))
    R /= np.linalg.norm(R, axis=0)
    return np.concatenate([P[:, order], R], axis=1)


def _dedup(U: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort columns by value (best first) and drop near-duplicate directions."""
    order = np.argsort(-vals)
    keep: list[int] = []
    for j in order:
        if all(float(U[:, j] @ U[:, k]) < DUPLICATE_COSINE for k in keep):
            keep.append(int(j))
    return U[:, keep], vals[keep]


def _smooth_ascent(r: np.ndarray, X: np.ndarray, U: np.ndarray, *, steps: int = SMOOTH_STEPS) -> np.ndarray:
    """Normalized Riemannian gradient ascent on the sphere of a smoothed objective, all columns at once.

    Maximizes ``Σ_i r_i τ·softplus(x_iᵀu/τ)`` with ``τ`` decreasing linearly to 0 (a continuation from
    a smooth function to ``rᵀ(Xu)₊``) and the step angle decreasing from ``SMOOTH_STEP`` to 0. A
    heuristic: it is not monotone in ``rᵀ(Xu)₊``; its results only seed the exact ascent.
    """
    Z = X @ U
    scale = float(np.median(np.abs(Z))) if Z.size else 1.0
    scale = scale if scale > 0 else 1.0
    for t in range(steps):
        frac = 1.0 - t / steps
        tau = SMOOTH_TAU * scale * frac + 1e-12 * scale
        S = 0.5 * (1.0 + np.tanh(Z / (2.0 * tau)))  # softplus' = sigmoid
        G = X.T @ (r[:, None] * S)
        G -= U * np.sum(G * U, axis=0)
        gn = np.linalg.norm(G, axis=0)
        moving = gn > 0
        U = U.copy()
        U[:, moving] += (SMOOTH_STEP * frac) * G[:, moving] / gn[moving]
        U /= np.linalg.norm(U, axis=0)
        Z = X @ U
    return U


def _search(r: np.ndarray, X: np.ndarray, *, n_starts: int, seed: int,
            extra: np.ndarray | None = None, deadline: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Local ascent of ``rᵀ(Xu)₊`` and of ``−rᵀ(Xu)₊`` from ``n_starts`` starts each.

    The starts are first moved by a smoothed continuation (:func:`_smooth_ascent`, vectorized), then
    the best of them (and the best raw starts) are polished by the exact monotone ascent.
    Returns unit directions (columns, deduplicated, best first) and their values
    ``|rᵀ(Xu)₊|`` (every returned direction has a positive value for ``r`` or for ``−r``).
    ``deadline`` (a ``time.perf_counter()`` value) stops the polishing early.
    """
    d = X.shape[1]
    rng = np.random.default_rng(seed)
    row_tol = 1e-12 * np.maximum(np.linalg.norm(X, axis=1), np.finfo(float).tiny)
    n_polish = max(4, n_starts // 4)
    found_u: list[np.ndarray] = []
    found_v: list[float] = []
    for sign in (1.0, -1.0):
        rs = sign * r
        if not np.any(rs > 0):
            continue
        S = _starts(rs, X, n_starts, rng, extra=extra)
        Sm = _smooth_ascent(rs, X, S)
        cand = []
        for B in (Sm, S):
            vals = _values(rs, X, B)
            cand.extend(B[:, j] for j in np.argsort(-vals)[:n_polish])
        if extra is not None and extra.size:
            cand.extend(extra.T)
            cand.extend(_smooth_ascent(rs, X, extra).T)
        for u0 in cand:
            if deadline is not None and time.perf_counter() > deadline and found_u:
                break
            u, v = _ascend(rs, X, u0, row_tol, deadline)
            if v > 0:
                found_u.append(u)
                found_v.append(v)
    if not found_u:
        return np.zeros((d, 0)), np.zeros(0)
    return _dedup(np.stack(found_u, axis=1), np.asarray(found_v))


def price(r, X, *, n_starts: int = 64, seed: int = 0, threshold: float | None = None,
          starts=None) -> np.ndarray:
    """Unit directions ``u`` with a large ``|rᵀ(Xu)₊|``, found by monotone local ascent.

    .. math::

        \\text{find } u,\\ \\|u\\|_2 = 1, \\text{ with large } |r^T (Xu)_+| ,
        \\qquad c(r) = \\max_{\\|u\\| \\le 1} |r^T (Xu)_+| .

    For ``r`` and for ``−r``: starts from the best of the normalized rows ``±x_i``, random Gaussian
    directions and ``Xᵀr₊`` (screened by value), plus random directions and ``starts``; moves them
    by a smoothed continuation, then polishes the best by the exact cell-by-cell ascent (a cheap
    step ``g_D/‖g_D‖`` when it helps, else the maximizer ``Π_{K_D}(g_D)/‖Π_{K_D}(g_D)‖`` on the
    cone of the current pattern ``D``; module docstring). Every exact step increases the value,
    and each returned direction is optimal on its own cell. The best value is an *estimate* of
    ``c(r)`` (a lower bound), never an upper bound: see
    :func:`deepdual.convex.bounds.direction_bound` for a proven one.

    Parameters
    ----------
    r : array-like of shape (n_samples,)
        Residual ``y − f(X)`` (or any weight vector).
    X : array-like of shape (n_samples, n_features)
        Data (append a column of ones for a bias).
    n_starts : int, default 64
        Starts per sign (``r`` and ``−r``).
    seed : int, default 0
        Seed of the random starts (the result is deterministic for a given seed).
    threshold : float or None, default None
        When given (``>= 0``), return only directions with ``|rᵀ(Xu)₊| > threshold`` (possibly none).
    starts : array-like of shape (n_features, k) or None, default None
        Extra starting directions (columns, any nonzero length), e.g. the current neurons;
        they are tried for both signs, as they are and after the smoothed continuation.

    Returns
    -------
    ndarray of shape (n_features, k)
        Unit directions as columns, best (largest ``|rᵀ(Xu)₊|``) first, near-duplicates
        (cosine ``> 1 − 1e-9``) removed. ``k`` may be 0 (``r = 0``, or nothing above ``threshold``).

    References
    ----------
    Pilanci & Ergen (ICML 2020), the dual constraint of the convex program; Ergen & Pilanci (ICML 2021),
    eq. (4) with L = 2; SPEC §6.
    """
    ra, Xa = _check_residual_and_data(r, X)
    n_starts = V.check_positive_int(n_starts, "n_starts")
    seed = _check_seed(seed)
    threshold = _check_nonnegative_real(threshold, "threshold", allow_none=True)
    extra = _check_starts(starts, Xa.shape[1])
    U, vals = _search(ra, Xa, n_starts=n_starts, seed=seed, extra=extra)
    if threshold is not None:
        U = U[:, vals > threshold]
    return U
