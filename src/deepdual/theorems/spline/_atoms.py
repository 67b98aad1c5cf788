"""Merged 1-D data, the least-ℓ1 atoms of a linear spline, and the dual bound (Theorem 4.2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._validation import NoClosedFormError


def _dot(a: np.ndarray, b: np.ndarray):
    """Inner product of two vectors without BLAS (multithreaded ``ddot`` stalls on busy machines)."""
    return np.multiply(a, b).sum()

THEOREM = "Theorem 4.2 / Corollary 4.1"
CERT_METHOD = "1-D ReLU dual over all breakpoints (Theorem 4.2)"
#: Relative tolerance under which repeated ``x`` values count as having the same target when ``beta = 0``.
DUPLICATE_RTOL = 1e-12

# ----------------------------------------------------------------------------- merged, sorted data
@dataclass
class _Data:
    order: np.ndarray      # argsort of the original x
    group: np.ndarray      # group index of each original point (input order)
    xk: np.ndarray         # distinct sorted points (p,)
    w: np.ndarray          # multiplicities (p,)
    yk: np.ndarray         # mean target per distinct point (p,)
    c0: float              # ½ Σ (y − ȳ_group)²: the part of the loss no function can remove
    spread: float          # max |y − ȳ_group|


def _merge(x: np.ndarray, y: np.ndarray) -> _Data:
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    new = np.empty(xs.shape[0], dtype=bool)
    new[0] = True
    np.not_equal(xs[1:], xs[:-1], out=new[1:])
    gid = np.cumsum(new) - 1
    w = np.bincount(gid).astype(np.float64)
    yk = np.bincount(gid, weights=ys) / w
    dev = ys - yk[gid]
    group = np.empty_like(gid)
    group[order] = gid
    return _Data(order, group, xs[new], w, yk, 0.5 * float(_dot(dev, dev)),
                 float(np.max(np.abs(dev))) if dev.size else 0.0)


# ----------------------------------------------------------------------- costs, atoms, certificates
def _kink_cost(xk: np.ndarray, a: np.ndarray):
    """``R(f)``: least ‖z‖₁ of a representation of the linear spline through ``(xk, a)``."""
    if xk.shape[0] < 2:
        return a.dtype.type(0)
    m = np.diff(a) / np.diff(xk.astype(a.dtype, copy=False))
    d = np.diff(m)
    P = d[d > 0].sum()
    N = -d[d < 0].sum()
    return P + N + max(a.dtype.type(0), -m[0] - P, m[0] - N)


def _atoms(xk: np.ndarray, a: np.ndarray):
    """Least-ℓ1 atoms of the linear spline through ``(xk, a)``: ``(right, left, intercept)``.

    Interior kinks go to right atoms, except that part of them (whole kinks, at most one split) goes to
    left atoms to produce the first slope ``m_1``; the affine atoms ``(x − x_1)₊``/``(x_p − x)₊`` take what
    the kinks cannot, which gives cost ``R(f)``.
    """
    p = xk.shape[0]
    right = np.zeros(p)
    left = np.zeros(p)
    if p == 1:
        return right, left, float(a[0])
    m = np.diff(a) / np.diff(xk)
    d = np.zeros(p)
    d[1:-1] = np.diff(m)
    P = float(d[d > 0].sum())
    N = float(-d[d < 0].sum())
    m0 = float(m[0])
    # b = part of each kink carried by the left atom; first slope m0 = right[0] - Σ left.
    b = np.zeros(p)
    if m0 > N:
        b[d < 0] = d[d < 0]
        right[0] = m0 - N
    elif m0 < -P:
        b[d > 0] = d[d > 0]
        left[-1] = -(m0 + P)
    else:
        target = -m0  # Σ b over one sign class of kinks
        mask = d > 0 if target > 0 else d < 0
        if target != 0.0 and mask.any():
            vals = d[mask]
            csum = np.cumsum(np.abs(vals))
            take = np.minimum(np.abs(vals), np.maximum(abs(target) - (csum - np.abs(vals)), 0.0))
            b[mask] = np.sign(vals) * take
    right[1:-1] = d[1:-1] - b[1:-1]
    left[1:-1] += b[1:-1]
    intercept = float(a[0] - _dot(left, xk - xk[0]))
    return right, left, intercept


def _atom_values(xk: np.ndarray, lam: np.ndarray):
    """``Σ_k λ_k (x_k − x_i)₊`` and ``Σ_k λ_k (x_i − x_k)₊`` for every sorted point (O(p), dtype of λ)."""
    p = xk.shape[0]
    S = np.zeros(p, dtype=lam.dtype)
    xk = xk.astype(lam.dtype, copy=False)
    if p > 1:
        T = np.cumsum(lam[::-1])[::-1][1:]          # T_i = Σ_{k>i} λ_k, i = 0..p-2
        S[:-1] = np.cumsum((np.diff(xk) * T)[::-1])[::-1]
    left = S - S[0] + (xk - xk[0]) * lam.sum()       # Σ λ_k (x_i − x_k) + S_i, exact rearrangement
    return S, left


def _dual_bound(data: _Data, f: np.ndarray, beta: float):
    """Best multiple of the (centered) residual that is dual feasible, and its dual objective.

    ``λ_k = w_k(ȳ_k − f_k)`` is shifted to ``1ᵀλ = 0`` (an intercept shift of ``f``) and scaled by the
    ``θ ∈ [0, min(1, β / max_j |φ_jᵀλ|)]`` that maximizes the concave dual along that ray. Computed in
    the dtype of ``f`` (float64 or extended precision). Returns ``(D, λ_merged)``, ``D`` including the
    duplicate constant ``c0``.
    """
    dt = f.dtype
    w = data.w.astype(dt, copy=False)
    yk = data.yk.astype(dt, copy=False)
    lam = w * (yk - f)
    lam -= w * (lam.sum() / w.sum())
    S, left = _atom_values(data.xk, lam)
    amax = max(np.max(np.abs(S)), np.max(np.abs(left)))
    A = _dot(lam, yk)
    B = _dot(lam, lam / w)
    theta_max = dt.type(1) if amax <= beta else dt.type(beta) / amax
    theta = dt.type(0) if B <= 0 else min(max(A / B, dt.type(0)), theta_max)
    lam *= theta
    return theta * A - theta * theta * B / 2 + data.c0, lam


def _spline_at(xs: np.ndarray, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Linear spline through ``(xs, a)`` (sorted ``xs`` within ``[x_min, x_max]``) at ``x``, dtype of ``a``."""
    q = xs.shape[0]
    if q == 1:
        return np.full(x.shape, a[0], dtype=a.dtype)
    if a.dtype == np.float64:
        return np.interp(x, xs, a)
    seg = np.minimum(np.searchsorted(xs, x, side="right") - 1, q - 2)
    xs_d = xs.astype(a.dtype)
    tau = (x.astype(a.dtype) - xs_d[seg]) / (xs_d[seg + 1] - xs_d[seg])
    return a[seg] * (1 - tau) + a[seg + 1] * tau


def _evaluate(data: _Data, xs: np.ndarray, a: np.ndarray, beta: float, *, a_dual: np.ndarray | None = None,
              l1=None):
    """Primal value of the spline through ``(xs, a)``, dual bound from ``a_dual`` (default ``a``), gap, λ.

    Arithmetic in the dtype of ``a_dual`` (extended precision makes the certificate exact to ~1e-18
    where rounding of ``f ≈ y`` would otherwise cap it, e.g. for tiny ``beta``).
    """
    a_dual = a if a_dual is None else a_dual
    dt = a_dual.dtype
    a = a.astype(dt, copy=False)
    fp = _spline_at(xs, a, data.xk)
    r = fp - data.yk.astype(dt, copy=False)
    cost = _kink_cost(xs, a) if l1 is None else dt.type(l1)
    primal = _dot(data.w.astype(dt, copy=False), r * r) / 2 + data.c0 + beta * cost
    f = fp if a_dual is a else _spline_at(xs, a_dual, data.xk)
    dual, lam = _dual_bound(data, f, beta)
    return float(primal), float(dual), float(primal - dual), lam.astype(np.float64)



def _unmerge_dual(data: _Data, y: np.ndarray, lam_merged: np.ndarray) -> np.ndarray:
    """Dual on the original points: within-group deviations plus the group share of ``λ``."""
    g = data.group
    return (y - data.yk[g]) + lam_merged[g] / data.w[g]


def _min_norm_dual(xk: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Optimal dual of ``min ‖z‖₁ s.t. Φz + c = a`` (``|φ_jᵀλ| <= 1``), built from the kink signs."""
    p = xk.shape[0]
    if p < 2:
        return np.zeros(p)
    m = np.diff(a) / np.diff(xk)
    d = np.diff(m)
    P = float(d[d > 0].sum())
    N = float(-d[d < 0].sum())
    M = 1.0 if m[0] > N else (-1.0 if m[0] < -P else 0.0)
    lo, hi = max(-1.0, M - 1.0), min(1.0, M + 1.0)
    g = np.zeros(p)
    g[0] = M
    g[1:-1] = np.where(d > 0, hi, np.where(d < 0, lo, 0.0))
    c = 1.0 / np.diff(xk)
    sl = np.diff(g) * c                      # λ = −L g with L the path Laplacian (weights 1/h)
    lam = np.zeros(p)
    lam[:-1] += sl
    lam[1:] -= sl
    return lam



def _check_interpolable(data: _Data, y: np.ndarray, x_name: str, y_name: str) -> None:
    if data.spread > DUPLICATE_RTOL * float(np.max(np.abs(y))):
        raise NoClosedFormError(
            f"`beta` == 0 asks for an interpolant, but repeated values of `{x_name}` have different "
            f"targets `{y_name}` (spread {data.spread:.3g}): no function passes through them. "
            "Pass beta > 0 for the regularized problem."
        )
