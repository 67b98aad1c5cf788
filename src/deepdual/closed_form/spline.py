"""Two-layer ReLU networks with biases on 1-D data: an exact, certified Lasso solver (Section 4).

With unregularized biases, a neuron ``(w x + b)₊ v`` costs ``(β/2)(w² + v²) >= β|w v|`` and equals
``|w| v (x − t)₊`` or ``|w| v (t − x)₊`` with breakpoint ``t = −b/w``. A breakpoint between two data
points is, *on the data*, a convex combination of the two data-point atoms with the same ℓ1 cost,
breakpoints outside the data range are affine on the data, and ``w = 0`` neurons are constants.
Problem (2) therefore equals the finite Lasso

.. math::

    \\min_{z, c}\\ \\tfrac12\\|\\Phi z + c\\,1 - y\\|_2^2 + \\beta\\|z\\|_1,\\qquad
    \\Phi = [(x - x_i)_+,\\ (x_i - x)_+]_{i=1}^n ,

with dual

.. math::

    \\max_\\lambda\\ \\lambda^T y - \\tfrac12\\|\\lambda\\|^2
    \\quad\\text{s.t.}\\quad 1^T\\lambda = 0,\\ |\\phi_j^T\\lambda| \\le \\beta .

The dual constraint over *all* breakpoints ``t ∈ R`` is piecewise linear in ``t`` with breaks at the
data, so checking the ``2n`` data-point atoms checks every neuron: the scaled residual of any network
is a dual-feasible point and gives a valid lower bound (:func:`certify_spline`).

In terms of the fitted values ``f`` at the sorted distinct points (slopes ``m_i``, kinks
``Δ_i = m_i − m_{i−1}``, ``P``/``N`` the total positive/negative kink), the least ℓ1 cost of a
representation is

.. math::

    R(f) = \\sum_i |\\Delta_i| + \\max(0,\\ -m_1 - P,\\ m_1 - N)

(the two affine atoms ``(x − x_1)₊`` and ``(x_n − x)₊`` pay for the end slopes that the kinks' own
left/right split cannot absorb; the LP dual of ``min ‖z‖₁ s.t. Φz + c = f`` attains the same value).

References
----------
Ergen & Pilanci (2021), Theorem 4.2 and Corollary 4.1.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import get_lapack_funcs, solveh_banded

from .. import _validation as V
from ..networks import ParallelNet, forward_numpy, objective
from ..solution import Certificate, NoCertificateError, Solution
from ._build import finish, required_branches

__all__ = ["SplineLassoResult", "spline_lasso", "spline_closed_form", "certify_spline"]

_pbtrf, _pbtrs = get_lapack_funcs(("pbtrf", "pbtrs"), dtype=np.float64)


def _dot(a: np.ndarray, b: np.ndarray):
    """Inner product of two vectors without BLAS (multithreaded ``ddot`` stalls on busy machines)."""
    return np.multiply(a, b).sum()

THEOREM = "Theorem 4.2 / Corollary 4.1"
CERT_METHOD = "1-D ReLU dual over all breakpoints (Theorem 4.2)"
#: Relative tolerance under which repeated ``x`` values count as having the same target when ``beta = 0``.
DUPLICATE_RTOL = 1e-12


# ----------------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class SplineLassoResult:
    """Certified solution of the 1-D ReLU Lasso (see :func:`spline_lasso`).

    Attributes
    ----------
    knots : ndarray of shape (p,)
        The distinct data points, sorted (``p <= n``).
    right : ndarray of shape (p,)
        Coefficients of the right atoms ``(x − knots_i)₊``.
    left : ndarray of shape (p,)
        Coefficients of the left atoms ``(knots_i − x)₊``.
    intercept : float
        The free constant ``c``.
    objective : float
        Objective ``½‖Φz + c − y‖² + β‖z‖₁`` of the returned ``(z, c)`` on the original points (for
        ``beta = 0``: ``‖z‖₁`` of the minimum-norm interpolant).
    lower_bound : float
        Dual objective of the dual-feasible ``dual`` (a certified lower bound on the optimum).
    gap : float
        ``objective − lower_bound``, at most ``tol · max(ν², objective)`` (``ν = max|y − ȳ|``) unless a warning
        was issued.
    dual : ndarray of shape (n,)
        The dual-feasible ``λ`` on the original points, in input order.
    iterations : int
        Interior-point iterations plus polishing solves.
    beta : float
    """

    knots: np.ndarray
    right: np.ndarray
    left: np.ndarray
    intercept: float
    objective: float
    lower_bound: float
    gap: float
    dual: np.ndarray = field(repr=False)
    iterations: int
    beta: float

    @property
    def l1_norm(self) -> float:
        """``‖z‖₁`` (the network penalty ``Σ(w² + v²)`` of the balanced network is twice this)."""
        return float(np.abs(self.right).sum() + np.abs(self.left).sum())

    @property
    def support(self) -> int:
        """Number of nonzero atoms (= neurons of the network built from it)."""
        return int(np.count_nonzero(self.right) + np.count_nonzero(self.left))

    def predict(self, x_new) -> np.ndarray:
        """``Φ(x_new) z + c`` of shape (m,) for points of shape (m,) or (m, 1)."""
        xa = V.as_float_array(x_new, "x_new")
        if xa.ndim == 2 and xa.shape[1] == 1:
            xa = xa[:, 0]
        if xa.ndim != 1:
            raise ValueError(f"`x_new` must have shape (m,) or (m, 1), got shape {xa.shape}.")
        R = np.maximum(xa[:, None] - self.knots[None, :], 0.0)
        Lf = np.maximum(self.knots[None, :] - xa[:, None], 0.0)
        return R @ self.right + Lf @ self.left + self.intercept


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


def _refine_extended(data: _Data, xs: np.ndarray, a: np.ndarray, coef: np.ndarray, beta: float,
                     econ: np.ndarray | None = None, steps: int = 3) -> np.ndarray:
    """Iterative refinement of the polished knot values in extended precision (original units).

    The optimality system ``Bᵀ W (B a − ȳ) + β ∇R_lin(a) [+ θ e] = 0`` (``[eᵀa = 0]`` for the tie
    regimes) is linear; its residual is formed in ``np.longdouble`` and corrected with the float64
    (tridiagonal, bordered) Gram solve.
    """
    LD = np.longdouble
    xk, w = data.xk, data.w
    q = xs.shape[0]
    seg = np.minimum(np.searchsorted(xs, xk, side="right") - 1, q - 2)
    xs_l = xs.astype(LD)
    H = np.diff(xs_l)
    tau = (xk.astype(LD) - xs_l[seg]) / H[seg]
    t64 = tau.astype(np.float64)
    diag = np.bincount(seg, w * (1 - t64) ** 2, minlength=q) + np.bincount(seg + 1, w * t64 ** 2, minlength=q)
    off = np.bincount(seg, w * (1 - t64) * t64, minlength=q - 1)[: q - 1]
    ab = np.vstack([diag, np.concatenate([off, [0.0]])])
    grad = np.zeros(q, dtype=LD)
    grad[:-1] -= coef / H
    grad[1:] += coef / H
    if econ is not None:
        eg = np.zeros(q, dtype=LD)
        eg[:-1] -= econ / H
        eg[1:] += econ / H
        e64 = eg.astype(np.float64)
    starts = np.searchsorted(seg, np.arange(q - 1))
    wl, yl = w.astype(LD), data.yk.astype(LD)
    a_l = a.astype(LD)
    theta = LD(0)
    for _ in range(steps):
        res = wl * (yl - (a_l[seg] * (1 - tau) + a_l[seg + 1] * tau))
        r = np.zeros(q, dtype=LD)
        r[:-1] += np.add.reduceat(res * (1 - tau), starts)
        r[1:] += np.add.reduceat(res * tau, starts)
        r -= beta * grad
        if econ is None:
            a_l = a_l + solveh_banded(ab, r.astype(np.float64), lower=True, check_finite=False).astype(LD)
            continue
        r -= theta * eg
        r2 = -_dot(eg, a_l)
        sol = solveh_banded(ab, np.column_stack([r.astype(np.float64), e64]), lower=True, check_finite=False)
        dth = (_dot(e64, sol[:, 0]) - float(r2)) / _dot(e64, sol[:, 1])
        a_l = a_l + (sol[:, 0] - dth * sol[:, 1]).astype(LD)
        theta = theta + LD(dth)
    return a_l


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


# ------------------------------------------------------------------------ interior-point method
class _DualQP:
    """The Lasso dual in the variables ``g_i = Σ_k λ_k (ξ_k − ξ_i)₊`` (normalized units).

    ``λ = −L g`` with ``L`` the path Laplacian (tridiagonal, weights ``1/h``), gauge ``g_{p−1} = 0``, so
    the dual is ``min ½ gᵀ(L W⁻¹ L)g + (L u)ᵀg`` — a pentadiagonal QP — subject to the right-atom
    constraints ``|g_i| <= β`` and the left-atom constraints ``|g_i − g_0| <= β``. Newton systems are
    pentadiagonal plus one dense row/column (``g_0``), solved in O(p) by a banded Cholesky factor and a
    Schur complement. The gradient ``L f`` is the vector of (negated) kinks of ``f = u − W⁻¹λ``, so the
    multipliers of active constraints are the atom coefficients.
    """

    def __init__(self, xi, w, u, beta):
        p = xi.shape[0]
        c = 1.0 / np.diff(xi)
        Ld = np.zeros(p)
        Ld[:-1] += c
        Ld[1:] += c
        Lo = -c
        iw = 1.0 / w
        q0 = Ld * Ld * iw
        q0[1:] += Lo * Lo * iw[:-1]
        q0[:-1] += Lo * Lo * iw[1:]
        q1 = Ld[:-1] * Lo * iw[:-1] + Lo * Ld[1:] * iw[1:]
        q2 = Lo[:-1] * Lo[1:] * iw[1:-1]
        Lu = Ld * u
        Lu[:-1] += Lo * u[1:]
        Lu[1:] += Lo * u[:-1]
        nv = p - 1
        self.p, self.nv, self.beta = p, nv, beta
        self.q0, self.q1, self.q2 = q0[:nv], q1[: nv - 1], q2[: max(nv - 2, 0)]
        self.lin = Lu[:nv]
        band = np.zeros((3, nv - 1))
        band[0] = self.q0[1:]
        band[1, :-1] = self.q1[1:]
        if nv > 3:
            band[2, :-2] = self.q2[1:]
        self.band = band
        self.k_base = np.zeros(nv - 1)
        self.k_base[0] = self.q1[0]
        if nv > 2:
            self.k_base[1] = self.q2[0]
        # starting multipliers at the scale of the interpolant's kinks (fewer iterations for tiny β)
        self.nu0 = max(1.0, float(np.sqrt(np.mean(np.abs(np.diff(np.diff(u) * c))))))

    def hess_vec(self, g):
        out = self.q0 * g
        out[:-1] += self.q1 * g[1:]
        out[1:] += self.q1 * g[:-1]
        if self.q2.size:
            out[:-2] += self.q2 * g[2:]
            out[2:] += self.q2 * g[:-2]
        return out

    def cg(self, g):
        """Atom correlations ``C g``: right rows ``g_i``, then left rows ``g_i − g_0``."""
        return np.concatenate([g, g[1:] - g[0]])

    def ct(self, v):
        """``Cᵀ v`` for ``v`` ordered like :meth:`cg`."""
        nv = self.nv
        out = v[:nv].copy()
        out[1:] += v[nv:]
        out[0] -= v[nv:].sum()
        return out

    def factor(self, Dc):
        """Factor ``Q + Cᵀ diag(Dc) C``: banded Cholesky of the ``g_1..`` block, Schur for ``g_0``."""
        nv = self.nv
        DR, DL = Dc[:nv], Dc[nv:]
        ab = self.band.copy()
        ab[0] += DR[1:]
        ab[0] += DL
        k = self.k_base - DL
        k00 = self.q0[0] + DR[0] + DL.sum()
        cb, info = _pbtrf(ab, lower=1)
        if info != 0:
            ab[0] += 1e-13 * np.max(ab[0])
            cb, info = _pbtrf(ab, lower=1)
            if info != 0:
                raise np.linalg.LinAlgError("interior-point Newton matrix is not positive definite")
        v, _ = _pbtrs(cb, k, lower=1)
        return cb, k, v, k00 - _dot(k, v)

    @staticmethod
    def solve(fac, r):
        cb, k, v, schur = fac
        u2, _ = _pbtrs(cb, r[1:], lower=1)
        x0 = (r[0] - _dot(k, u2)) / schur
        out = np.empty_like(r)
        out[0] = x0
        out[1:] = u2 - v * x0
        return out


def _step_to_boundary(x, dx):
    """Largest ``α`` with ``x + α dx >= 0`` for ``x > 0``."""
    m = float((dx / x).min())
    return np.inf if m >= 0 else -1.0 / m


def _ipm_iterates(qp: _DualQP, max_iter: int):
    """Mehrotra predictor–corrector on the dual QP; yields ``(g, ν, s, rel_gap)`` before each step.

    Slacks ``s = (β − Cg, β + Cg)`` are kept as functions of ``g`` (strictly feasible start ``g = 0``);
    ``ν`` are the multipliers, whose differences ``ν₊ − ν₋`` estimate the atom coefficients.
    """
    beta, nv = qp.beta, qp.nv
    r = 2 * nv - 1
    g = np.zeros(nv)
    nu = np.full(2 * r, qp.nu0)
    m_rows = 2 * r
    for _ in range(max_iter):
        a = qp.cg(g)
        s = np.concatenate([beta - a, beta + a])
        if not np.all(s > 0):
            return
        grad = qp.hess_vec(g) + qp.lin
        rd = grad + qp.ct(nu[:r] - nu[r:])
        comp = float(_dot(s, nu))
        mu = comp / m_rows
        obj = 0.5 * float(_dot(g, grad + qp.lin))
        yield g, nu, s, (comp / abs(obj) if obj != 0 else np.inf)
        D = nu / s
        fac = qp.factor(D[:r] + D[r:])
        # predictor (affine-scaling) direction
        dg = qp.solve(fac, -grad)
        da = qp.cg(dg)
        dsA = np.concatenate([-da, da])
        dnA = -nu - nu * dsA / s
        alpha = min(1.0, _step_to_boundary(s, dsA), _step_to_boundary(nu, dnA))
        mu_aff = float(_dot(s + alpha * dsA, nu + alpha * dnA)) / m_rows
        sigma = min(1.0, (mu_aff / mu) ** 3) if mu > 0 else 0.0
        # corrector with centering
        eta = (sigma * mu - dsA * dnA) / s - nu
        dg = qp.solve(fac, -rd - qp.ct(eta[:r] - eta[r:]))
        da = qp.cg(dg)
        ds = np.concatenate([-da, da])
        dn = eta - nu * ds / s
        alpha = min(1.0, 0.995 * min(_step_to_boundary(s, ds), _step_to_boundary(nu, dn)))
        g = g + alpha * dg
        nu = nu + alpha * dn


# ------------------------------------------------------------------------------------- polishing
def _polish(xi, w, u, beta, K, sgn, regime):
    """Exact minimizer over linear splines with kinks at ``K`` (signs ``sgn``) and a fixed end regime.

    On that set ``R(f)`` is linear in the knot values ``a``, so the problem is a weighted least-squares
    with a linear term: a tridiagonal (hat-basis Gram) system. ``regime`` is ``"in"`` (no affine atom),
    ``"hi"``/``"lo"`` (affine atom ``(x − x_1)₊``/``(x_p − x)₊`` active), or ``"tie-hi"``/``"tie-lo"``
    (``m_1 = N`` / ``m_1 = −P`` imposed with a multiplier). Returns knot indices, values, the
    coefficients of ``R_lin = Σ coef_j m_j`` on the slopes, and those of the tie constraint (or ``None``).
    """
    p = xi.shape[0]
    idx = np.concatenate(([0], K, [p - 1])).astype(np.intp)
    xk = xi[idx]
    q = idx.shape[0]
    H = np.diff(xk)
    seg = np.minimum(np.searchsorted(xk, xi, side="right") - 1, q - 2)
    tau = (xi - xk[seg]) / H[seg]
    b0, b1 = 1.0 - tau, tau
    diag = np.bincount(seg, w * b0 * b0, minlength=q) + np.bincount(seg + 1, w * b1 * b1, minlength=q)
    off = np.bincount(seg, w * b0 * b1, minlength=q - 1)[: q - 1]
    rhs = np.bincount(seg, w * u * b0, minlength=q) + np.bincount(seg + 1, w * u * b1, minlength=q)

    def slope_grad(coef):  # gradient of Σ coef_j m_j w.r.t. a
        gr = np.zeros(q)
        gr[:-1] -= coef / H
        gr[1:] += coef / H
        return gr

    def kink_coef(rho):  # Σ rho_j Δ_j as Σ coef_j m_j
        coef = np.zeros(q - 1)
        coef[1:] += rho
        coef[:-1] -= rho
        return coef

    base = regime.removeprefix("tie-")
    econ = None
    if regime.startswith("tie-") or base == "in":
        coef = kink_coef(sgn.astype(float))
    elif base == "hi":
        coef = kink_coef((sgn > 0).astype(float))
        coef[0] += 1.0
    else:
        coef = kink_coef(-(sgn < 0).astype(float))
        coef[0] -= 1.0
    ab = np.vstack([diag, np.concatenate([off, [0.0]])])
    r = rhs - beta * slope_grad(coef)
    if regime.startswith("tie-"):
        # constraint m_1 − N = 0 (tie-hi) or m_1 + P = 0 (tie-lo), with a Lagrange multiplier
        econ = kink_coef((sgn < 0).astype(float)) if base == "hi" else kink_coef((sgn > 0).astype(float))
        econ[0] += 1.0
        e = slope_grad(econ)
        sol = solveh_banded(ab, np.column_stack([r, e]), lower=True, check_finite=False)
        a = sol[:, 0] - sol[:, 1] * _dot(e, sol[:, 0]) / _dot(e, sol[:, 1])
    else:
        a = solveh_banded(ab, r, lower=True, check_finite=False)
    return idx, a, coef, econ


def _identify(nu, s, beta, nv, g0):
    """Active atoms from interior-point multipliers/slacks: ``ν/ν_max > s/β`` (a scale-free test).

    Returns interior kink indices ``K`` (into the sorted distinct points), their signs, and the end
    regime (``"hi"``/``"lo"`` when the affine atom's constraint ``|g_0| <= β`` is active).
    """
    r = 2 * nv - 1
    act = nu / float(np.max(nu)) > s / beta
    actP, actM = act[:r], act[r:]
    pos = actP[1:nv] | actP[nv:]
    neg = actM[1:nv] | actM[nv:]
    z = nu[:r] - nu[r:]
    zest = z[1:nv] + z[nv:]
    sgn_all = np.where(pos & ~neg, 1, np.where(neg & ~pos, -1, np.sign(zest))).astype(int)
    K = np.flatnonzero((pos | neg) & (sgn_all != 0)) + 1
    if actP[0] or actM[0]:
        regime = "hi" if actP[0] else "lo"
    else:  # S(x_1) = g_0 is 0 when both kink signs share the first slope, else m_1 = N or −P
        regime = "tie-hi" if g0 > 1e-6 * beta else ("tie-lo" if g0 < -1e-6 * beta else "in")
    return K, sgn_all[K - 1], regime


def _run_maxima(mask: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Index of the largest ``score`` in every run of consecutive ``True`` in ``mask``."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return idx
    starts = np.flatnonzero(np.diff(idx, prepend=-2) != 1)
    out = np.empty(starts.size, dtype=np.intp)
    bounds = np.append(starts, idx.size)
    for j in range(starts.size):
        run = idx[bounds[j]:bounds[j + 1]]
        out[j] = run[np.argmax(score[run])]
    return out


def _next_regime(regime: str, m0: float, P: float, N: float, s0: float) -> str:
    """Move along ``lo ↔ tie-lo ↔ in ↔ tie-hi ↔ hi`` when the polished spline violates its regime.

    ``in`` needs ``−P <= m_1 <= N`` (then ``S(x_1) = 0``); ``tie-hi`` (``m_1 = N``) needs
    ``0 <= S(x_1)/β <= 1``; ``hi`` (affine atom ``(x − x_1)₊`` used) needs ``m_1 >= N``; mirrored for lo.
    """
    if regime == "in":
        return "tie-hi" if m0 > N else ("tie-lo" if m0 < -P else "in")
    if regime == "tie-hi":
        return "hi" if s0 > 1 else ("in" if s0 < 0 else regime)
    if regime == "tie-lo":
        return "lo" if s0 < -1 else ("in" if s0 > 0 else regime)
    if regime == "hi":
        return "tie-hi" if m0 < N else regime
    return "tie-lo" if m0 > -P else regime


# ------------------------------------------------------------------------------------------ solver
class _Search:
    """Candidate supports → exact polished splines → certified gaps; keeps the best candidate."""

    REGIMES = ("in", "hi", "lo", "tie-hi", "tie-lo")

    def __init__(self, data: _Data, beta: float, tol: float):
        self.data, self.beta, self.tol = data, beta, tol
        xk, w, yk = data.xk, data.w, data.yk
        self.ymean = float(_dot(w, yk) / w.sum())
        self.best = None
        self.polishes = 0
        if xk.shape[0] > 1:
            # normalized problem: ξ in [0, 1], centered and scaled targets, β' = β / (s t)
            self.s_x = float(xk[-1] - xk[0])
            u = yk - self.ymean
            self.t_y = float(np.sqrt(_dot(w, u * u) / w.sum())) or 1.0
            self.xi = (xk - xk[0]) / self.s_x
            self.u = u / self.t_y
            self.bn = beta / (self.s_x * self.t_y)

    def consider(self, xs, a, coef=None, econ=None) -> bool:
        """Certify the spline through ``(xs, a)``; near-accepted polished candidates (``coef`` given)
        are refined and certified in extended precision."""
        primal, dual, gap, _ = _evaluate(self.data, xs, a, self.beta)
        a_dual = None
        scale = max(1.0, abs(primal))
        if gap > self.tol * scale and coef is not None and gap <= 1e-6 * scale:
            a_dual = _refine_extended(self.data, xs, a, coef, self.beta, econ)
            a = a_dual.astype(np.float64)
            primal, dual, gap, _ = _evaluate(self.data, xs, a, self.beta, a_dual=a_dual)
        if self.best is None or gap < self.best[0]:
            self.best = (gap, xs, a, a_dual)
        return gap <= self.tol * max(1.0, abs(primal))

    def polish(self, K, sgn, regime):
        self.polishes += 1
        idx, a, coef, econ = _polish(self.xi, self.data.w, self.u, self.bn, K, sgn, regime)
        ok = self.consider(self.data.xk[idx], a * self.t_y + self.ymean, coef, econ)
        return ok, idx, a

    def refine(self, K, sgn, regime, budget: int) -> bool:
        """Primal active-set corrections from a guessed support: drop kinks that come out with the wrong
        sign, add the most violated dual constraint of every run of violations, fix the end regime."""
        xi, w, u, bn = self.xi, self.data.w, self.u, self.bn
        tried_ties = False
        for _ in range(budget):
            ok, idx, a = self.polish(K, sgn, regime)
            if ok:
                return True
            slopes = np.diff(a) / np.diff(xi[idx])
            kinks = np.diff(slopes)
            wrong = np.sign(kinks) != sgn
            f = np.interp(xi, xi[idx], a)
            lam = w * (u - f)
            lam -= w * (lam.sum() / w.sum())
            S, L = _atom_values(xi, lam)
            P, N, m0 = float(kinks[kinks > 0].sum()), float(-kinks[kinks < 0].sum()), float(slopes[0])
            new_regime = _next_regime(regime, m0, P, N, float(S[0]) / bn)
            changed = new_regime != regime
            regime = new_regime
            if wrong.any():
                K, sgn = K[~wrong], sgn[~wrong]
                changed = True
            else:
                v = np.where(np.abs(S) >= np.abs(L), S, L)[1:-1] / bn
                viol = np.abs(v) > 1 + 1e-12
                viol[K - 1] = False
                add = _run_maxima(viol, np.abs(v)) + 1
                if add.size:
                    K = np.concatenate([K, add])
                    sgn = np.concatenate([sgn, np.sign(v[add - 1]).astype(int)])
                    order = np.argsort(K)
                    K, sgn = K[order], sgn[order]
                    changed = True
            if not changed:
                if tried_ties:
                    return False
                tried_ties = True
                for reg in self.REGIMES:
                    if reg != regime and self.polish(K, sgn, reg)[0]:
                        return True
                return False
        return False


def _solve_merged(data: _Data, beta: float, tol: float, max_iter: int):
    """Certified optimum on merged data (``beta > 0``): ``(gap, knots, values, extended values, iterations)``."""
    xk, w = data.xk, data.w
    p = xk.shape[0]
    search = _Search(data, beta, tol)
    ym = search.ymean
    if p == 1:
        search.consider(xk[:1], np.array([ym]))
        return (*search.best, 0)
    # β >= β_max: the constant fit is optimal
    if search.consider(xk[[0, -1]], np.array([ym, ym])):
        return (*search.best, 0)
    empty = (np.zeros(0, np.intp), np.zeros(0, int))
    if p == 2:
        for reg in search.REGIMES:
            if search.polish(*empty, reg)[0]:
                break
        return (*search.best, search.polishes)
    qp = _DualQP(search.xi, w, search.u, search.bn)
    next_try, it, last, best_rel, stall, prev, tried = 1e-5, 0, None, np.inf, 0, None, set()
    for it, (g, nu, s, rel_gap) in enumerate(_ipm_iterates(qp, max_iter), start=1):
        last = (g, nu, s)
        if rel_gap > 1e-2:
            continue
        # polish when the identified support is stable over two iterations, or the gap dropped 100×
        K, sgn, regime = _identify(nu, s, search.bn, qp.nv, g[0])
        key = (K.tobytes(), sgn.tobytes(), regime)
        if (key == prev or rel_gap <= next_try) and key not in tried:
            tried.add(key)
            if search.refine(K, sgn, regime, 3 if rel_gap > 1e-8 else 10):
                return (*search.best, it + search.polishes)
            next_try = min(next_try, rel_gap * 1e-2)
        prev = key
        # stop when the interior-point method no longer makes progress (its rounding floor)
        if rel_gap < 0.5 * best_rel:
            best_rel, stall = rel_gap, 0
        elif rel_gap < 1e-6:
            stall += 1
            if stall >= 5:
                break
    if last is not None:
        g, nu, s = last
        K, sgn, regime = _identify(nu, s, search.bn, qp.nv, g[0])
        if search.refine(K, sgn, regime, 100):
            return (*search.best, it + search.polishes)
        # fall back on the interior-point primal itself (a kink at every point)
        gg = np.concatenate([g, [0.0]])
        sl = np.diff(gg) / np.diff(search.xi)
        lam = np.zeros(p)
        lam[:-1] += sl
        lam[1:] -= sl
        f = search.u - lam / w
        search.consider(xk, f * search.t_y + ym)
    return (*search.best, it + search.polishes)


def _check_interpolable(data: _Data, y: np.ndarray, x_name: str, y_name: str) -> None:
    if data.spread > DUPLICATE_RTOL * max(1.0, float(np.max(np.abs(y)))):
        raise ValueError(
            f"`beta` == 0 asks for an interpolant, but repeated values of `{x_name}` have different "
            f"targets `{y_name}` (spread {data.spread:.3g}): no function passes through them. "
            "Pass beta > 0 for the regularized problem."
        )


def _lasso(x: np.ndarray, y: np.ndarray, beta: float, tol: float, max_iter: int,
           x_name: str = "x", y_name: str = "y") -> SplineLassoResult:
    """Solve in normalized units (SPEC §7): ``x ↦ (x − x̄)/a``, ``y ↦ (y − ȳ)/ν``, ``β ↦ β/(aν)``.

    Kinks ``(x − x_i)₊`` are invariant to the shift and scale by ``a``, the free intercept absorbs ``ȳ``,
    so the optimum is ``ν²`` times the normalized one; the knots stay the original data points.
    """
    if beta > 0.0 and x.size > 1:
        xc, yc = float(np.mean(x)), float(np.mean(y))
        a, nu = float(np.max(np.abs(x - xc))), float(np.max(np.abs(y - yc)))
        if a > 0 and nu > 0 and np.isfinite(beta / (a * nu)):
            xn = (x - xc) / a
            if np.unique(xn).size == np.unique(x).size:
                res = _lasso_unit(xn, (y - yc) / nu, beta / (a * nu), tol, max_iter, x_name, y_name)
                f = nu / a
                return SplineLassoResult(np.unique(x), res.right * f, res.left * f, nu * res.intercept + yc,
                                         nu * nu * res.objective, nu * nu * res.lower_bound, nu * nu * res.gap,
                                         nu * res.dual, res.iterations, float(beta))
    return _lasso_unit(x, y, beta, tol, max_iter, x_name, y_name)


def _lasso_unit(x: np.ndarray, y: np.ndarray, beta: float, tol: float, max_iter: int,
                x_name: str = "x", y_name: str = "y") -> SplineLassoResult:
    data = _merge(x, y)
    p = data.xk.shape[0]
    if beta == 0.0:
        _check_interpolable(data, y, x_name, y_name)
        right, left, c = _atoms(data.xk, data.yk)
        value = float(np.abs(right).sum() + np.abs(left).sum())
        lam = _min_norm_dual(data.xk, data.yk)
        S, L = _atom_values(data.xk, lam)
        amax = max(1.0, float(np.max(np.abs(S))), float(np.max(np.abs(L))))
        lam = lam / amax
        lower = float(_dot(lam, data.yk))
        g = data.group
        return SplineLassoResult(data.xk.copy(), right, left, c, value, lower, value - lower,
                                 lam[g] / data.w[g], 0, 0.0)
    gap, xs, a, a_dual, iters = _solve_merged(data, beta, tol, max_iter)
    r_s, l_s, c = _atoms(xs, a)
    pos = np.searchsorted(data.xk, xs)
    right = np.zeros(p)
    left = np.zeros(p)
    right[pos] = r_s
    left[pos] = l_s
    l1 = float(np.abs(r_s).sum() + np.abs(l_s).sum())
    primal, dual, gap, lam = _evaluate(data, xs, a, beta, a_dual=a_dual, l1=l1)
    if gap > tol * max(1.0, abs(primal)):
        warnings.warn(
            f"spline_lasso reached max_iter = {max_iter} with relative duality gap "
            f"{gap / max(1.0, abs(primal)):.3g} > tol = {tol:g}; the returned solution is certified only "
            "to that gap. Increase max_iter or tol.", RuntimeWarning, stacklevel=3)
    return SplineLassoResult(data.xk.copy(), right, left, c, primal, dual, gap,
                             _unmerge_dual(data, y, lam), int(iters), float(beta))


def spline_lasso(x, y, beta: float, *, tol: float = 1e-10, max_iter: int = 200) -> SplineLassoResult:
    """Exact, certified solution of the 1-D ReLU Lasso (two-layer ReLU network with biases).

    .. math::

        \\min_{z, c}\\ \\tfrac12\\|\\Phi z + c\\,1 - y\\|_2^2 + \\beta\\|z\\|_1 ,\\qquad
        \\Phi = [(x - x_i)_+,\\ (x_i - x)_+]_{i=1}^n .

    **Algorithm.** Repeated ``x`` are merged (mean targets, multiplicity weights). The dual is written
    in the variables ``g_i = Σ_k λ_k (x_k − x_i)₊`` (the right-atom correlations); then ``λ`` is the
    second difference of ``g``, the dual objective is a pentadiagonal quadratic, and the ``2n`` atom
    constraints are boxes ``|g_i| <= β`` and ``|g_i − g_1| <= β``. A Mehrotra predictor–corrector
    interior-point method solves it with O(n) work per iteration (banded Cholesky + one Schur
    complement for the ``g_1`` column), ~15–40 iterations whatever the conditioning — the approach of
    ℓ1 trend filtering (Kim, Koh, Boyd & Gorinevsky, 2009). From the iterate the active atoms (kink
    locations and signs, and whether an affine atom is used) are read off, and the **exact** optimum
    on that support is computed by a tridiagonal least-squares solve in the knot values. The result is
    accepted only when its duplicate-aware duality gap — primal value of the returned ``(z, c)``
    against the dual objective of its scaled, centered residual — is at most ``tol · max(1, value)``;
    otherwise the interior-point method continues. Active-set or homotopy methods can need O(n)
    pivots; first-order methods stall on the O(n⁴) conditioning of the dual Hessian.

    ``beta = 0`` is the minimum-norm interpolation ``min ‖z‖₁ s.t. Φz + c = y``, solved exactly by the
    linear spline interpolant (Corollary 4.1) with ``‖z‖₁ = R(y)``; its LP dual certificate is built
    from the kink signs.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, 1)
    y : array-like of shape (n,) or (n, 1)
    beta : float
        Regularization ``β >= 0``.
    tol : float, default 1e-10
        Required duality gap, relative to ``max(1, value)``.
    max_iter : int, default 200
        Interior-point iterations before giving up with a ``RuntimeWarning`` (the returned result then
        carries its true, larger gap).

    Returns
    -------
    SplineLassoResult

    Raises
    ------
    ValueError
        Bad shapes, NaN, ``beta < 0``, or repeated ``x`` with different ``y`` when ``beta = 0``.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.2 and Corollary 4.1.
    """
    xa, ya = V.check_univariate(x, y)
    beta = V.check_beta(beta)
    tol = float(tol)
    if not tol > 0:
        raise ValueError(f"`tol` == {tol}, must be > 0.")
    max_iter = V.check_positive_int(max_iter, "max_iter")
    return _lasso(xa, ya, beta, tol, max_iter)


# ------------------------------------------------------------------------------------------ network
def _network_from(res: SplineLassoResult, branches: int | None) -> ParallelNet:
    kr = np.flatnonzero(res.right)
    kl = np.flatnonzero(res.left)
    count = kr.size + kl.size
    m = required_branches(count, branches)
    W1 = np.zeros((m, 1, 1))
    b1 = np.zeros((m, 1, 1))
    W2 = np.zeros((m, 1, 1))
    zs = np.concatenate([res.right[kr], res.left[kl]])
    ts = np.concatenate([res.knots[kr], res.knots[kl]])
    side = np.concatenate([np.ones(kr.size), -np.ones(kl.size)])
    amp = np.sqrt(np.abs(zs))
    W1[:count, 0, 0] = side * amp
    b1[:count, 0, 0] = -side * amp * ts
    W2[:count, 0, 0] = np.sign(zs) * amp
    net = ParallelNet(1, 1, depth=2, branches=m, activation="relu", bias=True, seed=0)
    return net.set_weights([W1, W2], biases=[b1], out_bias=[res.intercept])


def spline_closed_form(x, y, *, beta: float, branches: int | None = None, tol: float = 1e-10) -> Solution:
    """Globally optimal two-layer ReLU network with biases on 1-D data (Theorem 4.2, Corollary 4.1).

    Solves the equivalent Lasso exactly (:func:`spline_lasso`) and builds one balanced neuron per
    nonzero atom: for ``z_j (x − t_j)₊`` the neuron ``w = √|z_j|``, ``b = −w t_j``,
    ``v = sign(z_j)√|z_j|`` (``w = −√|z_j|`` for a left atom ``(t_j − x)₊``), and ``out_bias = c``.
    Every kink sits at a data point; for ``beta = 0`` the network is the linear spline interpolant
    and ``objective`` is its penalty ``Σ(w² + v²) = 2‖z‖₁``.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, 1)
    y : array-like of shape (n,) or (n, 1)
    beta : float
    branches : int, optional
        Number of neurons (default: the number of nonzero atoms; more are zero neurons).
    tol : float, default 1e-10
        Relative duality gap required of the Lasso solver.

    Returns
    -------
    Solution
        ``details`` holds the :class:`SplineLassoResult` under ``"lasso"`` and the kinks under
        ``"kinks"``.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.2 and Corollary 4.1.
    """
    xa, ya = V.check_univariate(x, y)
    beta = V.check_beta(beta)
    if branches is not None:
        branches = V.check_positive_int(branches, "branches")
    res = _lasso(xa, ya, beta, float(tol), 200)
    net = _network_from(res, branches)
    X, Y = xa.reshape(-1, 1), ya.reshape(-1, 1)
    kinks = np.unique(res.knots[(res.right != 0) | (res.left != 0)])
    details = {"lasso": res, "kinks": kinks, "lasso_gap": res.gap, "iterations": res.iterations}
    if beta == 0.0:
        return finish(net, X, Y, beta=0.0, depth=2, activation="relu", theorem=THEOREM,
                      optimum=2.0 * res.objective, lower_bound=2.0 * res.lower_bound, details=details)
    return finish(net, X, Y, beta=beta, depth=2, activation="relu", theorem=THEOREM,
                  optimum=res.objective, lower_bound=res.lower_bound, details=details)


# -------------------------------------------------------------------------------------- certificate
def _check_network(network) -> None:
    act = getattr(network, "activation", None)
    if act is None or not hasattr(network, "penalty"):
        raise TypeError(f"`network` must be a deepdual ParallelNet or MLP, got {type(network).__name__}.")
    what = []
    if act != "relu":
        what.append(f"activation={act!r} (needs 'relu')")
    if getattr(network, "depth", None) != 2:
        what.append(f"depth={getattr(network, 'depth', None)} (needs 2)")
    if not getattr(network, "bias", False):
        what.append("bias=False (needs bias=True)")
    if getattr(network, "batchnorm", False):
        what.append("batchnorm=True (needs False)")
    if network.in_features != 1 or network.out_features != 1:
        what.append(f"{network.in_features} input(s) / {network.out_features} output(s) (needs 1 / 1)")
    if what:
        raise NoCertificateError(
            "The 1-D certificate (Theorem 4.2) is for two-layer ReLU networks with biases, one input and "
            "one output; this network has " + ", ".join(what) + "."
        )


def certify_spline(network, x, y, *, beta: float) -> Certificate:
    """Global-optimality certificate for any two-layer ReLU network with biases on 1-D data.

    The residual ``λ = y − f(x)`` is shifted to ``1ᵀλ = 0`` and scaled into
    ``{|φ_jᵀλ| <= β}`` over the ``2n`` data-point atoms; since ``t ↦ Σ_k λ_k (x_k − t)₊`` is piecewise
    linear with breaks at the data, that is dual feasibility for *every* breakpoint ``t ∈ R``, so

    .. math::

        P(\\theta) \\ \\ge\\ P^* \\ \\ge\\ \\lambda^T y - \\tfrac12\\|\\lambda\\|^2

    for every network, of any width (Theorem 4.2). ``gap = P(θ) − lower_bound >= P(θ) − P*``.

    Parameters
    ----------
    network : ParallelNet or MLP
        Two-layer ReLU network with ``bias=True``, one input, one output.
    x : array-like of shape (n,) or (n, 1)
    y : array-like of shape (n,) or (n, 1)
    beta : float
        For ``beta = 0`` the network must interpolate (``max|f(x) − y| <= 1e-6 · max(1, max|y|)``); its
        ``objective`` is its penalty ``Σ‖W‖²`` and ``lower_bound`` the exact minimum ``2 R(y)`` of the
        linear spline interpolant (``exact=True``).

    Returns
    -------
    Certificate
        ``method = "1-D ReLU dual over all breakpoints (Theorem 4.2)"``; ``dual`` is ``λ`` on the
        original points.

    Raises
    ------
    NoCertificateError
        If the architecture is not a two-layer ReLU network with biases on one input, or (``beta = 0``)
        the network does not interpolate.
    """
    xa, ya = V.check_univariate(x, y)
    beta = V.check_beta(beta)
    _check_network(network)
    data = _merge(xa, ya)
    if beta == 0.0:
        from ..certificates import interpolation_objective

        _check_interpolable(data, ya, "x", "y")
        value = interpolation_objective(network, xa.reshape(-1, 1), ya.reshape(-1, 1))
        res = _lasso(xa, ya, 0.0, 1e-10, 1)
        lower = 2.0 * res.lower_bound
        return Certificate(objective=value, lower_bound=lower, gap=value - lower, method=CERT_METHOD,
                           exact=True, dual=2.0 * res.dual)
    value = objective(network, xa.reshape(-1, 1), ya, beta=beta)
    f = forward_numpy(network, data.xk.reshape(-1, 1)).reshape(-1)
    lower, lam = _dual_bound(data, f, beta)
    return Certificate(objective=float(value), lower_bound=float(lower), gap=float(value - lower),
                       method=CERT_METHOD, exact=False, dual=_unmerge_dual(data, ya, lam))
