"""The bound for vector outputs, :func:`matrix_direction_bound` (``max_{‖u‖≤1} ‖Rᵀ(Xu)₊‖₂``)."""

from __future__ import annotations

import math
import time

import numpy as np

from ... import _validation as V
from ...duality.relu import nonneg_direction_bound
from ..pricing import _check_nonnegative_real, _check_seed, _search
from ._direction import _check_patterns, _check_time_budget, _direction_bound
from ._record import EXACT_RTOL, DirectionBound
from ._rounding import _inflate, _kappa


def _matrix_value(R: np.ndarray, X: np.ndarray, u: np.ndarray) -> float:
    return float(np.linalg.norm(R.T @ np.maximum(X @ u, 0.0)))


def matrix_direction_bound(R, X, *, patterns=None, time_budget: float = 10.0, seed: int = 0,
                           enough: float | None = None) -> DirectionBound:
    """A proven upper bound on ``max_{‖u‖≤1} ‖Rᵀ(Xu)₊‖₂`` for vector outputs (SPEC §6).

    .. math::

        C(R) = \\max_{\\|u\\|_2 \\le 1} \\|R^T (Xu)_+\\|_2
        \\le \\min\\Big( \\sqrt{\\textstyle\\sum_k \\bar c(r_k)^2},\\
        \\sigma_{\\max}(X) \\max_{a \\ge 0, \\|a\\| \\le 1} \\|R^T a\\|,\\
        \\max_D \\sigma_{\\max}(R^T D X) \\Big).

    The first term bounds each output column separately with :func:`direction_bound` (valid since
    ``‖Rᵀh‖² = Σ_k (r_kᵀh)²``); the second uses ``‖(Xu)₊‖ ≤ σ_max(X)``; the third, over a *complete*
    pattern set, ignores the cone constraint inside each pattern (exact for a pattern whose top
    right singular vector, or its negative, lies in the cone). ``Λ = R·min(1, β/upper)`` is then
    dual feasible for the vector-output problem.

    Parameters
    ----------
    R : array-like of shape (n_samples, n_outputs)
        Residual ``Y − f(X)``.
    X : array-like of shape (n_samples, n_features)
    patterns : PatternSet or None, default None
    time_budget : float, default 10.0
        Seconds to spend in total (split among the columns).
    seed : int, default 0
    enough : float or None, default None
        Stop as soon as a proven bound is at most ``enough`` (see :func:`direction_bound`).

    Returns
    -------
    DirectionBound
        ``estimate`` is ``‖Rᵀ(X·direction)₊‖`` for the best direction found.

    References
    ----------
    Pilanci & Ergen (ICML 2020); Sahiner et al. (ICLR 2021) for the exact (copositive) vector-output
    program; SPEC §6.
    """
    Xa = V.check_array(X, "X")
    Ra = V.check_targets(R, Xa.shape[0], name="R")
    M = _check_patterns(patterns, Xa.shape[0])
    time_budget = _check_time_budget(time_budget)
    seed = _check_seed(seed)
    stop = -math.inf if enough is None else _check_nonnegative_real(enough, "enough")
    complete = bool(getattr(patterns, "complete", False)) if patterns is not None else False
    return _matrix_bound(Ra, Xa, M, complete, time_budget, seed, stop)


def _matrix_bound(Ra: np.ndarray, Xa: np.ndarray, M: np.ndarray | None, complete: bool, time_budget: float,
                  seed: int, enough: float = -math.inf) -> DirectionBound:
    """Validated inputs in; see :func:`matrix_direction_bound`."""
    t0 = time.perf_counter()
    n, d = Xa.shape
    K = Ra.shape[1]
    if K == 1:
        return _direction_bound(Ra[:, 0], Xa, M, complete, time_budget, "auto", seed, enough)
    deadline = t0 + time_budget
    scale = float(np.linalg.norm(Ra, axis=1) @ np.linalg.norm(Xa, axis=1))
    cands: list[tuple[float, str]] = []
    sx = float(np.linalg.norm(Xa, 2))
    cands.append((_inflate(sx * nonneg_direction_bound(Ra), scale, n, d),
                  "σ_max(X)·max_{a≥0,‖a‖≤1}‖Rᵀa‖"))
    best, u_best = 0.0, np.zeros(d)
    exact = False
    if complete and M is not None and cands[0][0] > enough:
        # per pattern σ_max(RᵀDX), largest Frobenius norm first (‖·‖_F bounds σ_max)
        G = [Xa.T @ (M * Ra[:, k, None]) for k in range(K)]  # K arrays (d, P)
        fro = np.sqrt(sum(np.sum(g**2, axis=0) for g in G))
        order = np.argsort(-fro)
        up = 0.0
        up_exact = False
        finished = True
        for j in order:
            if fro[j] <= up:
                break
            if time.perf_counter() > t0 + 0.5 * time_budget:
                up = max(up, float(fro[j]))
                finished = False
                up_exact = False
                break
            Bj = np.stack([g[:, j] for g in G])  # (K, d) = RᵀDX
            _, s, Vt = np.linalg.svd(Bj)
            if s[0] > up:
                up = float(s[0])
                v = Vt[0]
                A = np.where(M[:, j, None], Xa, -Xa)
                feas = [sgn * v for sgn in (1.0, -1.0) if np.all(A @ (sgn * v) >= -1e-12 * np.linalg.norm(A, axis=1))]
                up_exact = bool(feas)
                if feas:
                    val = _matrix_value(Ra, Xa, feas[0])
                    if val > best:
                        best, u_best = val, feas[0]
        cands.append((_inflate(up, scale, n, d),
                      f"max over {M.shape[1]} complete patterns of σ_max(RᵀDX)"
                      + ("" if finished else " (out of time: Frobenius norms for the rest)")))
        exact = up_exact and finished
    per_col = []
    remaining = max(deadline - time.perf_counter(), 1e-3)
    for k in range(K if min(c for c, _ in cands) > enough else 0):
        share = remaining / K
        res = _direction_bound(Ra[:, k], Xa, M, complete, share, "auto", seed)
        per_col.append(res.upper)
        val = _matrix_value(Ra, Xa, res.direction) if np.any(res.direction) else 0.0
        if val > best:
            best, u_best = val, res.direction
    if len(per_col) == K:
        cands.append((float(np.sqrt(np.sum(np.square(per_col)))) * (1 + _kappa(n, d)),
                      "sqrt(Σ_k upper(r_k)²) (columns bounded separately)"))
    # polish the estimate (incomplete pattern sets): alternate w = Rᵀh/‖Rᵀh‖ and an ascent on Rw
    if np.any(u_best) and min(c for c, _ in cands) > enough and not complete:
        for _ in range(5):
            h = np.maximum(Xa @ u_best, 0.0)
            wv = Ra.T @ h
            wn = float(np.linalg.norm(wv))
            if wn == 0 or time.perf_counter() > deadline:
                break
            U, _ = _search(Ra @ (wv / wn), Xa, n_starts=4, seed=seed, extra=u_best[:, None],
                              deadline=deadline)
            improved = False
            for j in range(U.shape[1]):
                val = _matrix_value(Ra, Xa, U[:, j])
                if val > best * (1 + 1e-12):
                    best, u_best, improved = val, U[:, j], True
            if not improved:
                break
    upper, name = min(cands, key=lambda c: c[0])
    upper = max(upper, best)
    exact = exact and name.startswith("max over") and upper <= best * (1 + EXACT_RTOL) + _kappa(n, d) * scale
    others = [f"{nm}: {u_:.6g}" for u_, nm in cands if nm != name]
    return DirectionBound(float(upper), float(best), u_best, name + f" [also: {'; '.join(others)}]",
                          bool(exact), time.perf_counter() - t0, tuple((nm, float(v)) for v, nm in cands))


def residual_bound(R: np.ndarray, X: np.ndarray, *, patterns=None, time_budget: float, enough: float = -math.inf,
                   seed: int = 0) -> DirectionBound:
    """:func:`direction_bound` (one column) or :func:`matrix_direction_bound` on *validated* float64 arrays.

    For the library's own certificates: ``R`` of shape (n_samples, n_outputs), ``X`` of shape
    (n_samples, n_features), ``patterns`` a :class:`~deepdual.convex.patterns.PatternSet` of ``X`` or
    ``None``, ``time_budget > 0``; no input is checked again.
    """
    M = None if patterns is None else patterns.masks
    complete = bool(patterns is not None and patterns.complete)
    return _matrix_bound(R, X, M, complete, time_budget, seed, enough)
