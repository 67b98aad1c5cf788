"""Predictor–corrector interior-point method on the banded dual QP of the 1-D ReLU Lasso."""

from __future__ import annotations

import numpy as np
from scipy.linalg import get_lapack_funcs

from ._atoms import _dot

_pbtrf, _pbtrs = get_lapack_funcs(("pbtrf", "pbtrs"), dtype=np.float64)


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
