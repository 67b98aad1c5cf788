"""The bound on one residual: :func:`direction_bound` runs the methods within a time budget and returns
the smallest proven bound, in the row space of ``X``."""

from __future__ import annotations

import math
import time

import numpy as np

from ... import _validation as V
from ..._numerics import CertificateError, rank_cutoff
from ..pricing import (
    _check_nonnegative_real,
    _check_residual_and_data,
    _check_seed,
    _search,
    _value,
)
from ._branch_and_bound import _bnb
from ._closed_forms import _spectral
from ._enumeration import _enumerate
from ._lagrangian import _row_quadratic
from ._mixed_integer import MILP_INFLATION, _milp
from ._planar import _arc_sweep
from ._record import EXACT_RTOL, DirectionBound
from ._rounding import _EPS, _inflate, _kappa, _pow2, _scale

#: The methods of :func:`direction_bound`.
METHODS = ("auto", "enumerate", "bnb", "milp", "lagrangian", "spectral")
#: ``auto`` runs branch and bound up to this dimension, the MILP up to this many binaries.
BNB_MAX_DIM = 4
MILP_MAX_BINARIES = 40


def _check_time_budget(value, name: str = "time_budget") -> float:
    v = _check_nonnegative_real(value, name)
    if v <= 0:
        raise ValueError(f"`{name}` == {v}, must be > 0 seconds.")
    return v


def _check_patterns(patterns, n: int) -> np.ndarray | None:
    """Return the masks of a PatternSet as a bool array of shape (n, P), or ``None``."""
    if patterns is None:
        return None
    if not hasattr(patterns, "masks") or not hasattr(patterns, "complete"):
        raise TypeError(
            f"`patterns` must be a deepdual.convex.patterns.PatternSet (with .masks and .complete), "
            f"got {type(patterns).__name__}."
        )
    M = np.asarray(patterns.masks)
    if M.ndim != 2 or M.shape[0] != n:
        raise ValueError(
            f"`patterns.masks` must have shape (n_samples, n_patterns) = ({n}, P), got shape {M.shape}; "
            "build the pattern set from the same `X`."
        )
    return M.astype(bool, copy=False)


def _estimate(r, X, budget: float, seed: int, extra=None):
    """Best direction by the pricing search within roughly ``budget`` seconds."""
    n, d = X.shape
    n_starts = int(min(64, max(4, budget * 2e8 / max(1, n * d * 400))))
    U, vals = _search(r, X, n_starts=n_starts, seed=seed, extra=extra,
                      deadline=time.perf_counter() + budget)
    if vals.size == 0:
        return 0.0, np.zeros(d)
    return float(vals[0]), U[:, 0]


def _direction_bound(r: np.ndarray, X: np.ndarray, M: np.ndarray | None, complete: bool,
                     time_budget: float, method: str, seed: int, enough: float = -math.inf) -> DirectionBound:
    """Validated inputs in; see :func:`direction_bound`.

    Works in the row space of ``X`` when its rank ``k`` (one rank rule, SPEC §7) is below ``d``:
    with ``B`` an orthonormal basis of it and ``E = X − XBBᵀ``, ``(a + b)₊ <= a₊ + |b|`` gives
    ``c(r; X) <= c(r; XB) + ‖r‖·‖E‖₂`` (``‖Bᵀu‖ <= ‖u‖``), and ``‖E‖₂`` is bounded by its computed
    Frobenius norm plus the rounding of ``XBBᵀ``. Complete pattern sets are used as given.
    ``enough``: stop once a proven bound is at most this (a certificate needs no better, see
    :func:`direction_bound`).
    """
    t0 = time.perf_counter()
    n, d = X.shape
    use_enum = method == "enumerate" or (method == "auto" and complete)
    if use_enum or d == 1 or not np.any(X) or not np.any(r):
        return _bound_core(r, X, M, complete, time_budget, method, seed, enough)
    _, sv, Vt = np.linalg.svd(X, full_matrices=False)
    keep = sv > rank_cutoff(sv, X.shape)
    k = int(np.sum(keep))
    if k >= d:
        return _bound_core(r, X, M, complete, time_budget, method, seed, enough)
    B = Vt[keep].T
    Xr = X @ B
    E = X - Xr @ B.T
    e = float(np.linalg.norm(E)) + 4.0 * (d + k + 2) * _EPS * k * float(np.linalg.norm(X))
    slack = float(np.linalg.norm(r)) * e
    res = _bound_core(r, Xr, M, complete, max(time_budget - (time.perf_counter() - t0), 1e-3), method, seed,
                      enough - slack)
    u = B @ res.direction
    un = float(np.linalg.norm(u))
    u = u / un if un > 0 else np.zeros(d)
    est = abs(_value(r, X, u))
    upper = _inflate(res.upper + slack, _scale(r, X), n, d)
    tol = 2.0 * _kappa(n, d) * (est + _scale(r, X))
    if est > upper + tol:
        raise CertificateError(
            f"internal error: proven bound {upper:.17g} ({res.method}) is below the attained value "
            f"{est:.17g}; please report this input."
        )
    upper = max(upper, est)
    exact = upper <= est * (1 + EXACT_RTOL) + tol
    components = tuple((nm, _inflate(v + slack, _scale(r, X), n, d)) for nm, v in res.components)
    return DirectionBound(upper, est, u, f"{res.method} — in the {k}-dimensional row space of X "
                          f"(+ ‖r‖·‖X − XBBᵀ‖ = {slack:.3g})", bool(exact), time.perf_counter() - t0,
                          components)


def _bound_core(r: np.ndarray, X: np.ndarray, M: np.ndarray | None, complete: bool,
                time_budget: float, method: str, seed: int, enough: float = -math.inf) -> DirectionBound:
    """:func:`_direction_bound` on a matrix used as given."""
    t0 = time.perf_counter()
    n, d = X.shape
    deadline = t0 + time_budget
    # exact rescaling by powers of two: the problem is homogeneous in r and in X
    sr = _pow2(float(np.max(np.abs(r)))) if np.any(r) else 1.0
    sx = _pow2(float(np.max(np.abs(X)))) if np.any(X) else 1.0
    r = r / sr
    X = X / sx
    unit = sr * sx
    enough = enough / unit
    zero = np.zeros(d)
    if not np.any(r) or not np.any(X):
        return DirectionBound(0.0, 0.0, zero, "r = 0 or X = 0: c(r) = 0", True, time.perf_counter() - t0,
                              (("r = 0 or X = 0", 0.0),))
    scale = _scale(r, X)
    if d == 1:  # the unit ball is [−1, 1] and the map is homogeneous: two candidates
        vals = [abs(_value(r, X, np.array([s]))) for s in (1.0, -1.0)]
        k = int(np.argmax(vals))
        up = _inflate(vals[k], scale, n, d) * unit
        return DirectionBound(up, vals[k] * unit, np.array([1.0 if k == 0 else -1.0]),
                              "d = 1: both unit directions evaluated (exact)", True, time.perf_counter() - t0,
                              (("d = 1", up),))
    if d == 2 and method == "auto":  # two coordinates: the arc sweep is exact and fast
        val, u = _arc_sweep(r, X)
        up = _inflate(val, scale, n, d) * unit
        return DirectionBound(up, val * unit, u, "rank 2: arc sweep over the cells (exact)", True,
                              time.perf_counter() - t0, (("rank 2 arc sweep", up),))

    uppers: list[tuple[float, str]] = []
    best, u_best = 0.0, zero

    def found(val, u):
        nonlocal best, u_best
        if val > best:
            best, u_best = val, u

    def closed() -> bool:
        up = min(u_ for u_, _ in uppers)
        return up <= enough or up <= best * (1 + EXACT_RTOL) + 2.0 * _kappa(n, d) * (best + scale)

    def remaining() -> float:
        return max(deadline - time.perf_counter(), 0.0)

    def satisfied() -> bool:
        return min(u_ for u_, _ in uppers) <= enough

    use_enum = method == "enumerate" or (method == "auto" and complete)
    spec, spec_name = _spectral(r, X)
    uppers.append((_inflate(spec, scale, n, d), f"spectral ({spec_name})"))
    if not (use_enum or satisfied()):  # (an enumeration is exact: no majorant needed)
        qm, _ = _row_quadratic(r, X, deadline, optimize=False)
        uppers.append((_inflate(qm, scale, n, d), "quadratic majorant (trust-region dual)"))

    auto = method == "auto" and not complete
    use_bnb = method == "bnb" or (auto and d <= BNB_MAX_DIM)
    use_milp = method == "milp" or (auto and not use_bnb
                                    and int(max(np.sum(r > 0), np.sum(r < 0))) <= MILP_MAX_BINARIES)
    use_lag = method == "lagrangian" or auto

    if M is not None and not complete and M.shape[1] and not satisfied():
        # the best cones of the given (incomplete) patterns: estimates, never bounds
        _, b, u, _, _ = _enumerate(r, X, M, t0 + 0.1 * time_budget)
        found(b, u)
    if not use_enum and not satisfied():
        est_budget = min(0.5, 0.5 * time_budget) if method == "spectral" else min(0.2 * time_budget, 5.0)
        found(*_estimate(r, X, est_budget, seed))

    if use_enum and not satisfied():
        up, b, u, solved, finished = _enumerate(r, X, M, deadline)
        found(b, u)
        what = (f"enumeration of {M.shape[1]} complete patterns ({solved} cone projections"
                + ("" if finished else ", out of time: unvisited patterns bounded by ‖g_D‖") + ")")
        uppers.append((_inflate(up, scale, n, d), what))
    if use_bnb and not closed():
        share = 0.7 if (auto and use_lag) else 1.0
        up, b, u, nodes, finished = _bnb(r, X, time.perf_counter() + share * remaining(), best, u_best)
        found(b, u)
        uppers.append((_inflate(up, scale, n, d),
                       f"branch and bound over simplicial cones ({nodes} nodes"
                       + (", closed" if finished else ", out of time") + ")"))
    if use_lag and not closed() and (remaining() > 0 or method == "lagrangian"):
        share = 0.5 if use_milp else 1.0
        lag, dirs = _row_quadratic(r, X, time.perf_counter() + share * remaining())
        for u in dirs:
            found(abs(_value(r, X, u)), u)
        uppers.append((_inflate(lag, scale, n, d), "Lagrangian: per-row quadratic bounds + trust-region dual"))
    if use_milp and not closed():
        up, b, u, rounds, done = _milp(r, X, deadline, best)
        found(b, u)
        if math.isfinite(up):
            up = up + MILP_INFLATION * scale
        uppers.append((up, f"MILP (HiGHS, big-M, {rounds} rounds of ball cuts"
                       + (", closed" if done else ", dual bound at the time limit") + ")"))

    upper, name = min(uppers, key=lambda c: c[0])
    tol = 2.0 * _kappa(n, d) * (best + scale)
    if best > upper + tol:  # SPEC §7: a bound below an attained value is a bug, never returned
        raise CertificateError(
            f"internal error: proven bound {upper * unit:.17g} ({name}) is below the attained value "
            f"{best * unit:.17g}; please report this input."
        )
    upper = max(upper, best)
    exact = upper <= best * (1 + EXACT_RTOL) + tol
    others = [f"{nm}: {u_ * unit:.6g}" for u_, nm in uppers if nm != name]
    text = name + (f" [also: {'; '.join(others)}]" if others else "")
    components = tuple((nm, float(u_ * unit)) for u_, nm in uppers)
    return DirectionBound(float(upper * unit), float(best * unit), u_best, text, bool(exact),
                          time.perf_counter() - t0, components)


def direction_bound(r, X, *, patterns=None, time_budget: float = 10.0, method: str = "auto",
                    seed: int = 0, enough: float | None = None) -> DirectionBound:
    """A proven upper bound on ``c(r) = max_{‖u‖≤1} |rᵀ(Xu)₊|`` and the best direction found.

    .. math::

        c(r) = \\max_{\\|u\\|_2 \\le 1} |r^T (Xu)_+|
             = \\max_D \\max\\big(\\|\\Pi_{K_D}(g_D)\\|, \\|\\Pi_{K_D}(-g_D)\\|\\big),
        \\quad g_D = X^T D r,\\ K_D = \\{u : (2D - I)Xu \\ge 0\\}.

    ``λ = r·min(1, β/upper)`` is then dual feasible for the two-layer ReLU problem with
    regularization ``β`` and ``D(λ) = λᵀy − ½‖λ‖²`` is a valid lower bound on its optimum.

    Parameters
    ----------
    r : array-like of shape (n_samples,)
        Residual ``y − f(X)``.
    X : array-like of shape (n_samples, n_features)
        Data (append a column of ones for a bias; the bias is then part of ``u``).
    patterns : PatternSet or None, default None
        Activation patterns (:class:`deepdual.convex.patterns.PatternSet`: ``masks`` of shape
        (n_samples, n_patterns), ``complete``). A *complete* set gives the exact value by
        enumeration; an incomplete one only improves the estimate.
    time_budget : float, default 10.0
        Seconds to spend (``> 0``); the call returns within it plus a small overhead.
    method : {"auto", "enumerate", "bnb", "milp", "lagrangian", "spectral"}, default "auto"
        ``"enumerate"`` needs a complete pattern set. ``"auto"`` uses enumeration when the set is
        complete, else branch and bound (rank of ``X`` ``<= 4``), the Lagrangian bound, and the
        MILP (``<= 40`` rows of one sign, rank ``> 4``); every method also evaluates the
        closed-form bounds, and the smallest valid bound is returned (module docstring of
        :mod:`deepdual.convex.bounds`, which also states the floating-point safeguards).
    seed : int, default 0
        Seed of the direction search (the estimate).
    enough : float or None, default None
        Stop as soon as a proven bound is at most ``enough`` (a certificate for regularization ``β``
        needs no bound below ``β``: ``λ = r`` is then dual feasible as it is).

    Returns
    -------
    DirectionBound
        ``upper`` (proven), ``estimate`` (attained, a lower bound), ``direction``, ``method``,
        ``exact``, ``seconds``, ``components`` (every proven bound computed).

    Raises
    ------
    ValueError
        Invalid shapes or values, or ``method="enumerate"`` without a complete pattern set.
    TypeError
        ``patterns`` is not a pattern set, or a count/seed is not an integer.
    CertificateError
        Internal error: a proven bound fell below an attained value (never returned; SPEC §7).

    Examples
    --------
    >>> import numpy as np
    >>> from deepdual.convex.bounds import direction_bound
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    >>> res = direction_bound(np.array([1.0, 1.0, -1.0]), X, time_budget=2.0)
    >>> res.exact, round(res.upper, 6)
    (True, 1.414214)

    References
    ----------
    Pilanci & Ergen (ICML 2020); Ergen & Pilanci (ICML 2021), eq. (4) with L = 2; SPEC §6–7.
    """
    ra, Xa = _check_residual_and_data(r, X)
    M = _check_patterns(patterns, Xa.shape[0])
    time_budget = _check_time_budget(time_budget)
    V.check_choice(method, "method", METHODS)
    seed = _check_seed(seed)
    stop = -math.inf if enough is None else _check_nonnegative_real(enough, "enough")
    complete = bool(getattr(patterns, "complete", False)) if patterns is not None else False
    if method == "enumerate" and not complete:
        raise ValueError(
            "`method` == 'enumerate' needs a complete pattern set (`patterns.complete` is True); "
            "pass method='auto' for a bound without one."
        )
    return _direction_bound(ra, Xa, M, complete, time_budget, method, seed, stop)
