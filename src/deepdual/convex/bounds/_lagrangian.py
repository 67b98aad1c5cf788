"""Per-row quadratic bounds summed into a trust-region problem (method ``"lagrangian"``).

For every row choose a quadratic q_i(t) = α_i t² + β_i t + γ_i >= r_i (t)₊ on [−M_i, M_i]
(M_i >= ‖x_i‖, so t_i = x_iᵀu lies there for ‖u‖ <= 1). Then
    rᵀ(Xu)₊ <= uᵀSu + bᵀu + Σγ_i,   S = Σ α_i x_i x_iᵀ,  b = Σ β_i x_i,
and the maximum of the right side over the unit ball is a trust-region subproblem (TRS), bounded
by its dual: for any σ >= 0 with σI − S ≻ 0, max_{‖u‖<=1} uᵀSu + bᵀu <= σ + ¼ bᵀ(σI − S)⁻¹b.
The smallest valid γ_i is γ*_i(α_i, β_i) = max_{|t| <= M_i} r_i(t)₊ − α_i t² − β_i t (closed form),
so the bound F(α, β) = TRS(S, b) + Σγ*_i is a convex function of (α, β) ∈ R^{2n}: every point
gives a valid bound (the dual of an SDP relaxation that convexifies each row exactly in the
(t, t², (t)₊) space). It is minimized by L-BFGS on smoothed versions (soft maximum in γ*),
starting from the quadratic majorant below; each iterate kept is re-evaluated exactly.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ._rounding import _EPS
from ._trust_region import _trs_certified, _trs_smooth, _trs_value


def _row_gamma(r: np.ndarray, M: np.ndarray, al: np.ndarray, be: np.ndarray, tau: float = 0.0):
    """``γ*_i = max_{|t|<=M_i} r_i(t)₊ − α_i t² − β_i t`` and its gradient in ``(α, β)``.

    Candidates: ``t = 0``, ``t = ±M_i`` and, when ``α_i > 0``, the vertices of the two parabolas.
    ``tau > 0`` replaces the maximum by a soft maximum (for optimization; an upper bound too).
    """
    z = np.zeros_like(r)
    M2 = M * M
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pos = al > 0
        t1 = (r - be) / (2 * al)
        ok1 = pos & (t1 > 0) & (t1 < M)
        t2 = -be / (2 * al)
        ok2 = pos & (t2 > -M) & (t2 < 0)
        C = np.stack([z, (r - be) * M - al * M2, be * M - al * M2,
                      np.where(ok1, (r - be) ** 2 / (4 * al), -np.inf),
                      np.where(ok2, be**2 / (4 * al), -np.inf)])
        GA = np.stack([z, -M2, -M2, np.where(ok1, -((r - be) ** 2) / (4 * al**2), 0.0),
                       np.where(ok2, -(be**2) / (4 * al**2), 0.0)])
        GB = np.stack([z, -M, M, np.where(ok1, -(r - be) / (2 * al), 0.0), np.where(ok2, be / (2 * al), 0.0)])
    mx = C.max(axis=0)
    if tau <= 0:
        k = np.argmax(C, axis=0)
        idx = np.arange(r.size)
        return mx, GA[k, idx], GB[k, idx]
    W = np.exp((C - mx) / tau)
    Z = W.sum(axis=0)
    W /= Z
    return mx + tau * np.log(Z), (W * GA).sum(axis=0), (W * GB).sum(axis=0)


def _row_bound_certified(r: np.ndarray, X: np.ndarray, M: np.ndarray, al: np.ndarray, be: np.ndarray) -> float:
    """The proven bound ``TRS(S, b) + Σγ*_i`` at ``(α, β)`` (see the module docstring).

    ``S`` and ``b`` are formed in floating point; the maximum of ``uᵀSu + bᵀu`` moves by at most
    ``‖ΔS‖₂ + ‖Δb‖`` under a perturbation, and the rounding of both is bounded by
    ``(n + 2)·eps`` times ``‖|X|ᵀdiag|α||X|‖_F`` and ``‖|X|ᵀ|β|‖``; each ``γ*_i`` is inflated by
    ``8·eps`` times the magnitudes it is formed from.
    """
    n = X.shape[0]
    if not (np.all(np.isfinite(al)) and np.all(np.isfinite(be))):
        return math.inf
    aX = np.abs(X)
    S = (X * al[:, None]).T @ X
    S = 0.5 * (S + S.T)
    b = X.T @ be
    err = (n + 2) * _EPS * (float(np.linalg.norm((aX * np.abs(al)[:, None]).T @ aX))
                            + float(np.linalg.norm(aX.T @ np.abs(be))))
    g, _, _ = _row_gamma(r, M, al, be)
    mag = np.abs(r) * M + np.abs(al) * M * M + 2 * np.abs(be) * M + np.abs(g)
    try:
        trs = _trs_certified(S, b)
    except np.linalg.LinAlgError:  # no proven value at this point: +inf is the (useless) valid bound
        return math.inf
    return trs + 2.0 * err + float(np.sum(g + 8.0 * _EPS * mag))


def _row_objective(z, r, X, M, tau):
    """Smoothed bound (soft maximum in γ*, log-det barrier in the TRS) and its gradient."""
    n = r.size
    al, be = z[:n], z[n:]
    if not np.all(np.isfinite(z)):  # the optimizer left the finite region: tell it so (no bound is taken here)
        return math.inf, np.zeros_like(z)
    S = (X * al[:, None]).T @ X
    S = 0.5 * (S + S.T)
    if tau <= 0:
        v, u = _trs_value(S, X.T @ be)
        g, ga, gb = _row_gamma(r, M, al, be)
        t = X @ u
        return v + float(g.sum()), np.concatenate([t * t + ga, t + gb])
    v, u, E, diff = _trs_smooth(S, X.T @ be, tau)
    g, ga, gb = _row_gamma(r, M, al, be, tau)
    t = X @ u
    XE = X @ E
    quad = (XE * XE) @ (1.0 / diff)  # x_iᵀ(σI − S)⁻¹x_i
    return v + float(g.sum()), np.concatenate([t * t + tau * quad + ga, t + gb])


def _majorant_start(r: np.ndarray, X: np.ndarray, M: np.ndarray, deadline: float) -> np.ndarray:
    """The quadratic majorant: ``(t)₊ = ½t + ½|t|`` with ``|t| <= κ t² + 1/(4κ)`` on rows ``r_i > 0``
    and ``|t| >= t²/M_i`` on rows ``r_i < 0``, one ``κ > 0`` chosen by a golden-section search on
    ``log κ`` (stopped at ``deadline``). Returns the corresponding ``(α, β)``."""
    pos = r > 0
    be = 0.5 * r
    base = np.where(pos, 0.0, 0.5 * r / M)
    mean_m = float(np.mean(M[pos])) if np.any(pos) else 1.0

    def z_of(lk):
        with np.errstate(over="ignore"):  # an overflow gives inf, which _row_objective rejects
            return np.concatenate([np.where(pos, 0.5 * r * math.exp(lk) / mean_m, base), be])

    def f(lk):
        try:
            return _row_objective(z_of(lk), r, X, M, 0.0)[0]
        except np.linalg.LinAlgError:  # the eigensolve failed at this κ: not a candidate
            return math.inf

    golden = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = -12.0, 12.0
    c, e = b - golden * (b - a), a + golden * (b - a)
    fc, fe = f(c), f(e)
    while b - a > 1e-3 and time.perf_counter() < deadline:
        if fc <= fe:
            b, e, fe = e, c, fc
            c = b - golden * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, e, fe
            e = a + golden * (b - a)
            fe = f(e)
    return z_of(c if fc <= fe else e)


#: Soft-maximum widths of the continuation, relative to the mean ``|r_i|‖x_i‖``.
ROW_TAUS = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5)


def _row_quadratic_one_sign(r: np.ndarray, X: np.ndarray, deadline: float, optimize: bool = True):
    """Proven bound on ``max_{‖u‖≤1} rᵀ(Xu)₊`` (one sign) and the TRS maximizers met on the way."""
    from scipy.optimize import minimize

    n, d = X.shape
    if not np.any(r > 0):
        return 0.0, []
    M = np.linalg.norm(X, axis=1) * (1.0 + 4.0 * (d + 2) * _EPS)
    M = np.maximum(M, np.finfo(float).tiny)
    z = _majorant_start(r, X, M, deadline)
    best = _row_bound_certified(r, X, M, z[:n], z[n:])
    dirs: list[np.ndarray] = []
    if not optimize:
        return best, dirs
    unit = float(np.mean(np.abs(r) * M))

    def cb(*_args):
        if time.perf_counter() > deadline:
            raise StopIteration

    for tau in ROW_TAUS:
        if time.perf_counter() > deadline:
            break
        try:
            res = minimize(_row_objective, z, args=(r, X, M, tau * unit), jac=True, method="L-BFGS-B",
                           callback=cb, options={"maxiter": 20000, "maxcor": 30, "ftol": 1e-13, "gtol": 1e-10})
            znew = res.x
        except StopIteration:  # older SciPy propagates it
            break
        except (np.linalg.LinAlgError, FloatingPointError, ValueError):
            break  # e.g. an eigensolve that does not converge at extreme scales: keep the best proven bound so far
        val = _row_bound_certified(r, X, M, znew[:n], znew[n:])
        if val < best:
            best, z = val, znew
    S = (X * z[:n, None]).T @ X
    try:  # a direction to try (an estimate, never a bound)
        _, u = _trs_value(0.5 * (S + S.T), X.T @ z[n:])
    except np.linalg.LinAlgError:
        return best, dirs
    nu = float(np.linalg.norm(u))
    if nu > 0 and np.isfinite(nu):
        dirs.append(u / nu)
    return best, dirs


def _row_quadratic(r: np.ndarray, X: np.ndarray, deadline: float, optimize: bool = True):
    out, dirs = 0.0, []
    for i, s in enumerate((1.0, -1.0)):
        share = (deadline - time.perf_counter()) / (2 - i)
        v, ds = _row_quadratic_one_sign(s * r, X, time.perf_counter() + share, optimize)
        out = max(out, v)
        dirs.extend(ds)
    return out, dirs
