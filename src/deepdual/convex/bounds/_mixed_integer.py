"""The exact big-M mixed-integer program (HiGHS via :func:`scipy.optimize.milp`; method ``"milp"``)."""

from __future__ import annotations

import math
import time

import numpy as np

from ..pricing import _value

#: Inflation of the MILP dual bound, relative to ``Σ|rᵢ|‖xᵢ‖`` (solver tolerances; "Floating point" in
#: :mod:`deepdual.convex.bounds`).
MILP_INFLATION = 1e-5


def _milp_one_sign(r: np.ndarray, X: np.ndarray, deadline: float, cuts: list[np.ndarray],
                   incumbent: float = 0.0):
    """Rounds of the big-M MILP for ``max rᵀ(Xu)₊`` (one sign), adding a tangent cut at the
    direction of each solution outside the ball. Returns ``(upper, best, u_best, rounds, closed)``."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, diags, eye, hstack, vstack

    d = X.shape[1]
    P = np.flatnonzero(r > 0)
    Nn = np.flatnonzero(r < 0)
    if P.size == 0:
        return 0.0, 0.0, np.zeros(d), 0, True
    idx = np.concatenate([P, Nn])
    r2, X2 = r[idx], X[idx]
    m, p = idx.size, P.size
    Mbig = np.linalg.norm(X2[:p], axis=1)
    c = np.concatenate([np.zeros(d), -r2, np.zeros(p)])
    fixed = [
        hstack([csr_matrix(-X2), eye(m, format="csr"), csr_matrix((m, p))]),
        hstack([csr_matrix(-X2[:p]), eye(m, format="csr")[:p], diags(Mbig)]),
        hstack([csr_matrix((p, d)), eye(m, format="csr")[:p], diags(-Mbig)]),
    ]
    lo_fixed = np.concatenate([np.zeros(m), np.full(p, -np.inf), np.full(p, -np.inf)])
    hi_fixed = np.concatenate([np.full(m, np.inf), Mbig, np.zeros(p)])
    lb = np.concatenate([-np.ones(d), np.zeros(m), np.zeros(p)])
    ub = np.concatenate([np.ones(d), np.full(m, np.inf), np.ones(p)])
    integrality = np.concatenate([np.zeros(d + m), np.ones(p)])
    upper, best, u_best = math.inf, 0.0, np.zeros(d)
    rounds = 0
    closed = False
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0.05:
            break
        C = np.asarray(cuts)
        A = vstack(fixed + [hstack([csr_matrix(C), csr_matrix((len(C), m + p))])]).tocsr()
        cons = LinearConstraint(A, np.concatenate([lo_fixed, np.full(len(C), -np.inf)]),
                                np.concatenate([hi_fixed, np.ones(len(C))]))
        res = milp(c, constraints=cons, integrality=integrality, bounds=Bounds(lb, ub),
                   options={"time_limit": float(remaining), "disp": False, "mip_rel_gap": 1e-9})
        rounds += 1
        dual = getattr(res, "mip_dual_bound", None)
        if dual is not None and np.isfinite(dual):
            upper = min(upper, -float(dual))
        elif res.status == 0 and res.fun is not None:  # solved to mip_rel_gap = 1e-9
            upper = min(upper, -float(res.fun) * (1 + 1e-9) + 1e-12)
        if res.x is None:
            break
        u = res.x[:d]
        un = float(np.linalg.norm(u))
        if un > 0:
            v = _value(r, X, u / un)
            if v > best:
                best, u_best = v, u / un
        if res.status != 0:  # time limit: the dual bound stands
            break
        if un <= 1.0 + 1e-9 or upper <= max(best, incumbent) * (1 + 1e-7):
            closed = True
            break
        cuts.append(u / un)
    return upper, best, u_best, rounds, closed


def _milp(r: np.ndarray, X: np.ndarray, deadline: float, incumbent: float = 0.0):
    """Both signs of :func:`_milp_one_sign`, the time split evenly; ``(upper, best, u, rounds, closed)``."""
    d = X.shape[1]
    norms = np.linalg.norm(X, axis=1)
    rows = X[norms > 0] / norms[norms > 0, None]
    base = [np.eye(d)[k] for k in range(d)] + [-np.eye(d)[k] for k in range(d)]
    base += list(rows) + list(-rows)
    total_up, best, u_best, rounds, closed = 0.0, 0.0, np.zeros(d), 0, True
    for i, s in enumerate((1.0, -1.0)):
        share = (deadline - time.perf_counter()) / (2 - i)
        up, b, u, k, cl = _milp_one_sign(s * r, X, time.perf_counter() + share, list(base), incumbent)
        total_up = max(total_up, up)
        rounds += k
        closed = closed and cl
        if b > best:
            best, u_best = b, u
    return total_up, best, u_best, rounds, closed

