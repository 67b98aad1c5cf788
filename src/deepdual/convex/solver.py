"""Solver of the two-layer ReLU convex program on a pattern set (SPEC §6).

For a pattern set ``D_1, …, D_P`` and a scalar target ``y`` the program is

.. math::

    \\min_{v_i, w_i}\\ \\tfrac12\\Big\\|\\sum_i D_i X (v_i - w_i) - y\\Big\\|^2
        + \\beta \\sum_i (\\|v_i\\| + \\|w_i\\|)
    \\quad\\text{s.t.}\\quad (2D_i - I) X v_i \\ge 0,\\ (2D_i - I) X w_i \\ge 0 .

Vector targets ``Y`` (n × K) give one such program per column (each neuron feeds one output).

Method. Few blocks (``v_i``, ``w_i``) are nonzero at a solution and each nonzero one lies on a low
face of its cone (typically an extreme ray). The solver exploits that in two phases:

1. *Identification* — an interior-point method (:mod:`._ipm`) on all blocks (on a working set when
   they are too many: the support so far and the blocks nearest to violating their KKT condition),
   dropping the blocks that fall far below the largest as it converges; it stops at a moderate
   barrier gap (``IDENTIFY_GAP``).
2. *Finish* — an active-set Newton method (:mod:`._active_set`) on the nonzero blocks and their
   tight faces: Newton on the smooth restricted problem, faces and support corrected from the KKT
   conditions, every zero block of the pattern set checked by its exact cone value
   ``‖Π_{K_j}(g_j)‖ ≤ β`` (violators enter). It ends at a KKT point to rounding accuracy.

With a ``warm_start`` (column generation) phase 2 first continues from the previous solution (its
neurons are the active set, its stored multipliers screen the old patterns, the KKT violators among
the new ones enter); phase 1 runs only when that does not finish within ``WARM_CHANGES`` changes.

Certificate. For the residual ``r`` of the final point and ``ν ≥ max_j ‖Π_{K_j}(g_j)‖`` (the stored
multipliers make each ``ν_j`` a proven bound), ``λ = t r`` with ``t = min(1, β/ν)`` is feasible for
the restricted dual and ``D = t⟨r, r + f⟩ − ½t²‖r‖²`` (SPEC §7, through the residual) bounds the
restricted optimum from below; ``converged`` means ``P − D ≤ tol·P``. The returned blocks are moved
strictly into their cones (a least-norm correction of a few ulps on the rows that rounding left
within their dot product's error of zero), so ``objective`` is the ``P(θ)`` of a real network.

References
----------
Pilanci, M. and Ergen, T. (2020). Neural networks are convex regularizers. ICML 2020.
Ergen, T. and Pilanci, M. (2021). ICML 2021, eq. (4) with L = 2.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _validation as V
from ._active_set import Multipliers, screen, solve_active_set
from ._blocks import Blocks
from ._ipm import interior_point
from .patterns import PatternSet

__all__ = ["ConeSolution", "solve_cones", "cone_objective"]

#: Interior-point identification stops at this barrier gap (relative).
IDENTIFY_GAP = 1e-5
#: Blocks in one interior-point solve at most, and the size ``n·J·rank`` of its largest array at most
#: (more: a working set, see _solve_scalar).
IPM_BLOCKS = 8000
IPM_ELEMENTS = 2e7
#: The interior-point method drops small blocks as it goes only on more blocks than this.
SHRINK_ABOVE = 400
#: Active-set changes allowed when continuing from a warm start before the interior point takes over.
WARM_CHANGES = 30


@dataclass(frozen=True)
class ConeSolution:
    """Solution of the convex program on a pattern set (one program per output column).

    Attributes
    ----------
    v, w : ndarray of shape (n_outputs, n_patterns, n_features)
        ``v[k, i]`` and ``w[k, i]`` of pattern ``i`` in the program of output ``k``; each satisfies its
        cone constraint exactly (``max_violation`` is 0).
    objective : float
        ``Σ_k ½‖r_k‖² + β Σ (‖v‖ + ‖w‖)`` computed from the residual vectors ``r_k = y_k − f_k``; equals
        ``P(θ)`` of :func:`~deepdual.convex.network_from_cones` (an upper bound on ``P*``).
    lower_bound : float
        Dual bound on the optimum of the *restricted* program (this pattern set only).
    objectives : ndarray of shape (n_outputs,)
    iterations : int
        Interior-point iterations plus active-set Newton steps, all outputs together.
    converged : bool
        ``objective − lower_bound <= tol · objective`` (and the KKT conditions held on every block).
    max_violation : float
    n_patterns : int
    seconds : float
    beta : float
    extra : dict
        ``ipm_iterations``, ``newton_steps``, ``active_set_changes``, and the stored multipliers
        reused by a warm start.
    """

    v: np.ndarray
    w: np.ndarray
    objective: float
    lower_bound: float
    objectives: np.ndarray
    iterations: int
    converged: bool
    max_violation: float
    n_patterns: int
    seconds: float
    beta: float
    extra: dict = field(default_factory=dict, repr=False)

    @property
    def gap(self) -> float:
        return self.objective - self.lower_bound

    @property
    def n_neurons(self) -> int:
        return int(np.count_nonzero(np.linalg.norm(self.v, axis=2)) + np.count_nonzero(np.linalg.norm(self.w, axis=2)))


def cone_objective(X: np.ndarray, Y: np.ndarray, v: np.ndarray, w: np.ndarray, beta: float):
    """``(objective, residual)`` of the network ``Σ (Xv)₊ − (Xw)₊`` per output (float64, no cancellation)."""
    out = np.stack([np.maximum(X @ v[k].T, 0).sum(1) - np.maximum(X @ w[k].T, 0).sum(1) for k in range(v.shape[0])],
                   axis=1)
    R = Y - out
    pen = np.linalg.norm(v, axis=2).sum() + np.linalg.norm(w, axis=2).sum()
    return float(0.5 * np.sum(R * R) + beta * pen), R


def _dual_value(r: torch.Tensor, f: torch.Tensor, beta: float, nu: float) -> float:
    """``D(tr) = t⟨r, r + f⟩ − ½t²‖r‖²`` with ``t = min(1, β/ν)`` (SPEC §6–7, through the residual)."""
    t = min(1.0, beta / nu) if nu > 0 else 1.0
    rr = float(r @ r)
    return t * (rr + float(r @ f)) - 0.5 * t * t * rr


def _identify(pb: Blocks, res):
    """Nonzero blocks and their faces at an interior-point iterate.

    Kept: ``‖u_j‖ ≥ 10⁻³·max`` and ``≥ 10⁻⁹`` (normalized: ``‖y‖ = 1``). Tight rows: ``s̃ < 10⁻²·z̃``
    with the scale-free slack ``s̃ = s/(‖u‖‖x_i‖)`` (a cosine) and multiplier ``z̃ = z‖x_i‖/β`` (the
    complementary pair meets at ``s̃ z̃ = μ/(β‖u‖)``).
    """
    nrm = res.u.norm(dim=1)
    keep = (nrm >= 1e-3 * float(nrm.max())) & (nrm >= 1e-9) if len(nrm) else nrm > 0  # (‖y‖ = 1 here)
    u, s, z = res.u[keep], res.s[keep], res.z[keep]
    st = s / (nrm[keep][:, None] * pb.row_norm[None, :])
    zt = z * pb.row_norm[None, :] / pb.beta
    return res.idx[keep], u, st < 1e-2 * zt


def _restore(Xa: np.ndarray, gens: np.ndarray, U: np.ndarray, sign_rows: np.ndarray) -> np.ndarray:
    """Blocks ``U`` (rows, original coordinates) moved strictly into their cones.

    ``sign_rows`` (rows of ``2D − I``) per block. A row with ``a_iᵀu`` (``a_i = (2D−I)_i x_i``) below the
    rounding error of that dot product, ``m_i = 2(d + 2)·eps·|x_i|ᵀ|u|``, is lifted to ``2m_i`` by the
    least-norm correction on those rows (``δ = A_Lᵀ(A_LA_Lᵀ)⁺(2m_L − A_Lu)``, a few ulps of ``u``), so
    the sign holds in any order of summation. Where that fails, a move toward the pattern's interior
    generator, and as a last resort the block is set to zero (never observed).
    """
    eps = np.finfo(float).eps * 2 * (Xa.shape[1] + 2)
    absX = np.abs(Xa)
    for attempt in range(6):
        nz = np.flatnonzero(np.linalg.norm(U, axis=1) > 0)
        if nz.size == 0:
            break
        A = sign_rows[nz] * (U[nz] @ Xa.T)
        margin = eps * (np.abs(U[nz]) @ absX.T)
        bad = np.flatnonzero((A < margin).any(axis=1))
        if bad.size == 0:
            break
        for k in bad:
            j = nz[k]
            low = A[k] < margin[k]
            if attempt < 3:
                AL = sign_rows[j, low, None] * Xa[low]
                U[j] = U[j] + np.linalg.lstsq(AL, 2 * margin[k, low] - A[k, low], rcond=None)[0]
            else:
                g = gens[j] * np.linalg.norm(U[j])
                ag = sign_rows[j, low] * (Xa[low] @ g)
                if np.any(ag <= 0):
                    U[j] = 0.0
                else:
                    U[j] = U[j] + g * float(np.max((2 * margin[k, low] - A[k, low]) / ag))
    return U


def _solve_scalar(pb: Blocks, *, tol: float, max_iter: int, warm, mult: Multipliers, deadline):
    """Solve one normalized scalar program; returns ``(idx, u, r, f, nu_max, ok, stats)``.

    With a warm start the active-set method first tries to continue from it (a few changes). If
    that does not finish, or without a warm start, the interior-point method identifies the solution
    on a working set — every block when there are at most ``_ipm_cap``, else the support so far and
    the blocks nearest to violating their KKT condition — the active-set method finishes it on that
    set, and then checks every block (a few more changes); repeated with a larger set if needed.
    """
    everything = torch.arange(pb.J, device=pb.X.device)
    stats = {"ipm_iterations": 0, "newton_steps": 0, "active_set_changes": 0}
    cap = _ipm_cap(pb)

    def run(idx, u, tight, check, majors):
        st = solve_active_set(pb, idx, u, check, tight=tight, mult=mult, max_major=majors, deadline=deadline)
        stats["newton_steps"] += st.newton
        stats["active_set_changes"] += st.major
        return st

    def late():
        return deadline is not None and time.perf_counter() > deadline

    state = run(warm[0], warm[1], None, everything, WARM_CHANGES) if warm is not None and len(warm[0]) else None
    seen = [state] if state is not None else []
    gap = IDENTIFY_GAP
    for _attempt in range(6):
        if state is not None and (state.ok or late()):
            break
        work = everything if state is None and pb.J <= cap else _working_set(pb, state, mult, cap)
        res = interior_point(pb, work, tol=gap, max_iter=max_iter, shrink=len(work) > SHRINK_ABOVE,
                             deadline=deadline)
        stats["ipm_iterations"] += res.iterations
        idx, u, tight = _identify(pb, res)
        state = run(idx, u, tight, work, 200)
        if not state.ok:
            gap *= 1e-2  # identification was poor: the next attempt runs the interior point further
        elif len(work) < pb.J:  # optimal on the working set only: check every block
            if late():
                state.ok = False  # (its ν covers the working set only; the bound below covers all)
            else:
                state = run(state.idx, state.u, state.tight, everything, WARM_CHANGES)
        seen.append(state)
    if not state.ok:  # out of attempts or time: the best feasible point seen (the warm start's at worst)
        state = min(seen, key=lambda st: pb.value(st.u, st.idx)[0])
    r = pb.y - pb.fit(state.u, state.idx)
    nu = state.nu_max if state.ok else _nu_bound(pb, r, state, mult)
    return state.idx, state.u, r, pb.y - r, nu, state.ok, stats


def _ipm_cap(pb: Blocks) -> int:
    return int(max(256, min(IPM_BLOCKS, IPM_ELEMENTS / max(pb.n * max(pb.rank, 1), 1))))


def _working_set(pb: Blocks, state, mult: Multipliers, cap: int) -> torch.Tensor:
    """Blocks for the interior-point method when not all are taken: the nonzero blocks of ``state``
    and the blocks nearest to violating ``‖Π_{K_j}(g_j)‖ ≤ β`` at its residual (exact values where
    the stored bounds exceed ``0.9β``; ``‖g_j‖`` at ``y`` without a state), ``max(1000, 4·support)``
    more and at most ``cap`` in all."""
    everything = torch.arange(pb.J, device=pb.X.device)
    support = state.idx if state is not None else everything[:0]
    if state is not None and len(support):
        r = pb.y - pb.fit(state.u, state.idx)
        score, _ = screen(pb, r, everything, mult, 0.9 * pb.beta)
    else:
        score = torch.cat([pb.grad(pb.y, everything[lo:lo + 4096]).norm(dim=1) for lo in range(0, pb.J, 4096)])
    score[support] = math.inf
    size = min(pb.J, cap, len(support) + max(1000, 4 * len(support)))
    return torch.sort(torch.argsort(score, descending=True)[:size]).values


def _bound(pb: Blocks, r: torch.Tensor, sel: torch.Tensor, mult: Multipliers) -> torch.Tensor:
    g = pb.grad(r, sel)
    return torch.minimum(g.norm(dim=1), mult.bound(pb, g, sel))


def _nu_bound(pb: Blocks, r: torch.Tensor, state, mult: Multipliers) -> float:
    """A proven ``ν ≥ max_j ‖Π_{K_j}(g_j)‖`` without new projections (stored multipliers or ``‖g_j‖``)."""
    everything = torch.arange(pb.J, device=pb.X.device)
    return max(float(_bound(pb, r, everything[lo:lo + 4096], mult).max()) for lo in range(0, pb.J, 4096))


def solve_cones(X, Y, patterns: PatternSet, *, beta: float, tol: float = 1e-8, max_iter: int = 100,
                warm_start: ConeSolution | None = None, time_budget: float | None = None,
                device=None) -> ConeSolution:
    """Solve the two-layer ReLU convex program on ``patterns`` (one program per column of ``Y``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data (with a column of ones appended for a bias: the bias is then regularized with ``u``).
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    patterns : PatternSet
        Patterns of ``X`` with interior generators.
    beta : float
        ``β > 0``.
    tol : float, default 1e-8
        Relative duality gap of the restricted program that counts as converged (the method itself
        runs to a KKT point, normally far below it).
    max_iter : int, default 100
        Interior-point iterations per identification.
    warm_start : ConeSolution, optional
        A previous solution on a prefix of ``patterns`` (patterns may have been appended): its
        neurons start the active set and its stored multipliers screen the old patterns.
    time_budget : float, optional
        Seconds; when spent the best feasible point so far is returned (``converged`` False).
    device : torch device, optional
        Default CPU; float64 everywhere.

    Returns
    -------
    ConeSolution

    References
    ----------
    Pilanci & Ergen (2020); Ergen & Pilanci (2021), eq. (4) with L = 2; SPEC §6–7.
    """
    t0 = time.perf_counter()
    Xa = V.check_array(X, "X")
    Ya = V.check_targets(Y, Xa.shape[0])
    beta = V.check_beta(beta, allow_zero=False)
    if not isinstance(patterns, PatternSet):
        raise TypeError(f"`patterns` must be a PatternSet, got {type(patterns).__name__}.")
    if patterns.masks.shape[0] != Xa.shape[0] or patterns.generators.shape[0] != Xa.shape[1]:
        raise ValueError(f"`patterns` is for {patterns.masks.shape[0]} samples and {patterns.generators.shape[0]} "
                         f"features; `X` has shape {Xa.shape}.")
    if time_budget is not None and (isinstance(time_budget, bool) or not np.isfinite(time_budget)
                                    or time_budget <= 0):
        raise ValueError(f"`time_budget` == {time_budget!r}, must be a finite number of seconds > 0.")
    dev = V.check_device(device) or torch.device("cpu")
    deadline = None if time_budget is None else t0 + float(time_budget)
    P, d, K = patterns.n_patterns, Xa.shape[1], Ya.shape[1]
    v = np.zeros((K, P, d))
    w = np.zeros((K, P, d))
    duals, ok, stats, mults = [], True, {"ipm_iterations": 0, "newton_steps": 0, "active_set_changes": 0}, []
    gens = patterns.generators.T / np.maximum(np.linalg.norm(patterns.generators, axis=0), 1e-300)[:, None]
    sign_rows = 2.0 * patterns.masks.T - 1.0
    for k in range(K):
        y = Ya[:, k]
        pb = Blocks(Xa, y, patterns.masks, patterns.generators, beta, dev) if np.any(y) else None
        if pb is None or pb.rank == 0 or P == 0:
            duals.append(0.5 * float(y @ y) if pb is None or P == 0 else 0.5 * float(y @ y))
            mults.append(None)
            continue
        mult = Multipliers(pb.J, pb.rank, pb.dt)
        warm = _warm_blocks(warm_start, k, pb, mult)
        idx, u, r, f, nu, ok_k, st = _solve_scalar(pb, tol=tol, max_iter=max_iter, warm=warm, mult=mult,
                                                   deadline=deadline)
        for key in stats:
            stats[key] += st[key]
        mults.append(mult.export(P))
        U = np.zeros((2 * P, d))
        U[idx.cpu().numpy()] = (u.cpu().numpy() @ pb.basis.T) * (pb.sy / pb.sx)
        U = _restore(Xa, np.concatenate([gens, gens]), U, np.concatenate([sign_rows, sign_rows]))
        v[k], w[k] = U[:P], U[P:]
        duals.append(_dual_value(r, f, pb.beta, nu) * pb.sy**2)
        ok = ok and ok_k
    objective, R = cone_objective(Xa, Ya, v, w, beta)
    objs = np.array([0.5 * float(R[:, k] @ R[:, k]) + beta * (np.linalg.norm(v[k], axis=1).sum()
                     + np.linalg.norm(w[k], axis=1).sum()) for k in range(K)])
    S = 2.0 * patterns.masks - 1.0
    viol = max((float(np.max(-S * (Xa @ U.T), initial=0.0)) for k in range(K) for U in (v[k], w[k])), default=0.0)
    lower = float(min(sum(duals), objective))
    return ConeSolution(v=v, w=w, objective=objective, lower_bound=lower, objectives=objs,
                        iterations=stats["ipm_iterations"] + stats["newton_steps"],
                        converged=bool(ok and objective - lower <= tol * objective), max_violation=viol,
                        n_patterns=P, seconds=time.perf_counter() - t0, beta=beta,
                        extra={**stats, "multipliers": mults})


def _warm_blocks(warm_start: ConeSolution | None, k: int, pb: Blocks, mult: Multipliers):
    """``(idx, u)`` of the nonzero blocks of a previous solution (normalized, row-space coordinates)."""
    if warm_start is None or warm_start.v.shape[0] <= k or warm_start.v.shape[2] != pb.basis.shape[0]:
        return None
    p0 = min(warm_start.v.shape[1], pb.P)
    U = np.concatenate([warm_start.v[k, :p0], warm_start.w[k, :p0]])
    blocks = np.concatenate([np.arange(p0), pb.P + np.arange(p0)])
    old = warm_start.extra.get("multipliers") if warm_start.extra else None
    if old is not None and len(old) > k and old[k] is not None and old[k][0].shape[0] == 2 * warm_start.v.shape[1]:
        rows, vals = old[k]
        P0 = warm_start.v.shape[1]
        src = np.concatenate([np.arange(p0), P0 + np.arange(p0)])
        mult.load(torch.as_tensor(blocks), rows[src], vals[src])
    nz = np.linalg.norm(U, axis=1) > 0
    c = (U[nz] @ pb.basis) * (pb.sx / pb.sy)
    return (torch.as_tensor(blocks[nz], device=pb.X.device), torch.as_tensor(c, **pb.dt))
