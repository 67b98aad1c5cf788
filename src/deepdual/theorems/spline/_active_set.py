"""Support identification, exact polishing on the support, and extended-precision refinement."""

from __future__ import annotations

import numpy as np
from scipy.linalg import solveh_banded

from ._atoms import _atom_values, _Data, _dot, _evaluate
from ._interior import _DualQP, _ipm_iterates


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
