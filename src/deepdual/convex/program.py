"""``convex_relu``: a certified two-layer ReLU network on any data (SPEC §6).

The regularized problem (paper eq. 2, L = 2)

.. math::

    \\min_{u_j, \\alpha_j}\\ \\tfrac12\\Big\\|\\sum_j (Xu_j)_+\\alpha_j - y\\Big\\|^2
        + \\frac{\\beta}{2}\\sum_j (\\|u_j\\|^2 + \\alpha_j^2)

equals the convex program over *all* activation patterns (Pilanci & Ergen 2020; the dual of eq. (4)
with L = 2). This module solves that program on a pattern set — every pattern when the
arrangement is small enough to enumerate (the answer is then exact), else sampled patterns grown
by column generation (pricing finds ``u`` with ``|rᵀ(Xu)₊| > β`` for the residual ``r``) — builds
the network, and certifies it: with a proven upper bound ``c̄ ≥ c(r) = max_{‖u‖≤1}|rᵀ(Xu)₊|``,
``λ = r·min(1, β/c̄)`` is dual feasible and ``D(λ) = t⟨r, r + f⟩ − ½t²‖r‖²`` bounds ``P*`` from below.

With ``bias=True`` the program works on ``[X, 1]``: hidden biases are regularized with the weights
(``penalize_bias=True`` network, zero output bias). Vector targets: one program per output (each
neuron feeds one output — a real network, an upper bound on ``P*``), certified by
``max_{‖u‖≤1} ‖Rᵀ(Xu)₊‖``.

References
----------
Pilanci, M. and Ergen, T. (2020). Neural networks are convex regularizers. ICML 2020.
Ergen, T. and Pilanci, M. (2021). ICML 2021, eq. (4) with L = 2. SPEC §6–7.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from .. import _validation as V
from ..networks import as_network, objective
from ..solution import Solution
from ..theorems._build import finish
from . import bounds
from . import pricing as _pricing
from .network import network_from_cones, network_from_neurons
from .patterns import (
    PatternSet,
    arrangement_bound,
    distinct_hyperplanes,
    enumerate_patterns,
    first_layer,
    interior_generator,
    merge_patterns,
    sample_patterns,
)
from .solver import solve_cones

__all__ = ["convex_relu", "THEOREM"]

THEOREM = "Two-layer ReLU convex program (Pilanci & Ergen 2020)"


def _warm_network(net, d: int, K: int, bias: bool, output_bias: bool = False):
    """The warm-start network as neurons ``(U, A)`` of the program's model (penalized biases) and its output
    bias (``output_bias``; else the output bias becomes a constant neuron and ``None`` is returned)."""
    net = as_network(net, "warm_start")
    V.check_network(net, "warm_start")
    U, b = first_layer(net)
    if U.shape[0] != d:
        raise ValueError(f"`warm_start` expects {U.shape[0]} features but `X` has {d}.")
    if net.out_features != K:
        raise ValueError(f"`warm_start` has {net.out_features} outputs but `Y` has {K} columns.")
    W2 = net.weights[-1].detach().cpu().double().numpy().reshape(U.shape[1], K)
    out_b = None
    if getattr(net, "bias", False):
        out_b = (net.out_bias if hasattr(net, "out_bias") else net.biases[-1]).detach().cpu().double().numpy()
    if not bias and ((b is not None and np.any(b)) or (out_b is not None and np.any(out_b))):
        raise ValueError("`warm_start` has nonzero biases but bias=False; pass bias=True (biases are then "
                         "regularized with the weights).")
    if bias:
        U = np.vstack([U, np.zeros((1, U.shape[1])) if b is None else b[None, :]])
        if output_bias:
            return U.T, W2, (np.zeros(K) if out_b is None else out_b)
        if out_b is not None and np.any(out_b):  # a constant neuron (u = e_bias) carries the output bias
            c = float(np.linalg.norm(out_b))
            e = np.zeros((d + 1, 1))
            e[d, 0] = np.sqrt(c)
            U = np.hstack([U, e])
            W2 = np.vstack([W2, out_b[None, :] / np.sqrt(c)])
    return U.T, W2, None


def _check_pattern_memory(count: int, n: int, d: int, K: int, name: str) -> None:
    """Refuse, before any work, a pattern set whose program would not fit in memory: per pattern the
    masks (bool, in the set and in the solver), the sign rows (float64, two copies), generators, the
    blocks ``v, w`` of every output and the stored multipliers."""
    need = int(count) * (2 * n + 8 * 2 * n + 8 * d * (1 + 2 * K) + 16 * 2 * d) * 2
    have = V.available_memory()
    if need > have:
        raise ValueError(f"The convex program on {int(count):,} activation patterns of {n} samples needs about "
                         f"{need / 2**30:.3g} GiB but {have / 2**30:.3g} GiB of memory are available; lower "
                         f"`{name}` (or pass patterns='sample' with fewer `n_samples`).")


def _certify(R: np.ndarray, Y: np.ndarray, Xp: np.ndarray, beta: float, patterns: PatternSet, budget: float,
             seed: int, *, center: bool = False):
    """Dual bound ``D(tR)`` with ``t <= β/c̄`` (:func:`~deepdual.convex.bounds.dual_lower_bound`), ``c̄`` a proven
    bound on the dual constraint; on data of
    rank above what branch and bound handles (scalar output, incomplete patterns) also the dual point and
    the Lagrangian multipliers optimized together (:func:`~deepdual.convex.bounds.joint_dual_point`, two
    thirds of the time), whichever bound is larger. With ``center`` (a free output bias) the dual point
    is centred (``1ᵀλ = 0``, :func:`~deepdual.convex.bounds.dual_lower_bound`). Returns ``(lower, bound
    record, which)``."""
    start = time.perf_counter()
    end = start + budget
    H = float(np.sum(np.linalg.norm(Xp, axis=1))) * (1.0 + 8 * (Xp.shape[1] + 2) * np.finfo(float).eps)
    L = R - R.mean(axis=0, keepdims=True) if center else R
    joint = R.shape[1] == 1 and not patterns.complete and distinct_hyperplanes(Xp)[1] > bounds.BNB_MAX_DIM
    db = bounds.residual_bound(L, Xp, patterns=patterns, time_budget=budget / 3 if joint else budget, seed=seed)
    lower = None
    if np.isfinite(db.upper):
        lower = bounds.dual_lower_bound(L, Y, beta, db.upper, center=center, H=H)[1]
    if joint and not db.exact and end - time.perf_counter() >= 0.5:
        found = bounds.joint_dual_point(L[:, 0], Xp, Y[:, 0], beta, end, center=center)
        if found is not None:
            lam, c = found
            value = bounds.dual_lower_bound(lam[:, None], Y, beta, c, center=center, H=H)[1]
            if lower is None or value > lower:
                text = (f"joint dual point: λ and the Lagrangian multipliers optimized together (c(λ) <= {c:.6g}) "
                        f"[residual: {db.method}]")
                return value, replace(db, upper=c, seconds=time.perf_counter() - start, method=text), "joint"
    return lower, db, "residual"


def convex_relu(X, Y, *, beta: float, bias: bool = False, output_bias: bool = False, patterns="auto",
                max_patterns: int = 20_000,
                n_samples: int | None = None, warm_start=None, pricing: bool = True, pricing_starts: int = 128,
                max_rounds: int = 100, time_budget: float = 60.0, bound_budget: float = 10.0, tol: float = 1e-8,
                max_iter: int = 100, seed: int = 0, device=None) -> Solution:
    """A certified two-layer ReLU network for ``X, Y`` by the convex program (SPEC §6).

    .. math::

        \\min_{v_i, w_i} \\tfrac12\\Big\\|\\sum_i D_iX(v_i - w_i) - y\\Big\\|^2 + \\beta\\sum_i(\\|v_i\\| + \\|w_i\\|)
        \\ \\text{s.t.}\\ (2D_i - I)Xv_i \\ge 0,\\ (2D_i - I)Xw_i \\ge 0 .

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    beta : float
        ``β > 0``.
    bias : bool, default False
        Append a column of ones: the hidden biases are regularized together with the weights.
    output_bias : bool, default False
        With ``bias``: fit a free (unregularized) output bias too — the model of a ParallelNet or MLP with
        ``penalize_bias=True``, the one :func:`deepdual.certify` bounds for such a network. The program is
        alternated with the optimal intercept ``c = mean(y − f)`` (warm-started solves) until ``c`` settles;
        the certificate then uses a centred dual point (``1ᵀλ = 0``).
    patterns : {"auto", "enumerate", "sample"} or PatternSet, default "auto"
        ``"auto"`` enumerates every pattern when :func:`arrangement_bound` ``<= max_patterns`` (exact
        program), else samples ``n_samples`` patterns and grows them by column generation.
    max_patterns : int, default 20_000
    n_samples : int, optional
        Sampled patterns to start from (default 100; column generation adds the ones that matter,
        which on random and digits data beat starting from more samples at equal time).
    warm_start : ParallelNet, MLP or nn.Sequential (two-layer ReLU), optional
        Its neurons' patterns are added, and the result is never worse than it (for a scalar output
        the better of the two is returned, measured in this program's model).
    pricing : bool, default True
        Column generation on incomplete pattern sets.
    pricing_starts : int, default 128
        Local-ascent starts of the pricing search per round and output (the current neurons are
        tried as starts too).
    max_rounds : int, default 100
    time_budget : float, default 60.0
        Seconds for solving and column generation, checked inside the solver too (the certificate
        has ``bound_budget`` more). When it runs out the best solution so far is returned.
    bound_budget : float, default 10.0
        Seconds for the upper bound on ``c(r)`` (:func:`deepdual.convex.bounds.direction_bound`).
    tol : float, default 1e-8
        Relative duality gap of the restricted program.
    max_iter : int, default 100
        Interior-point iterations per solve.
    seed : int, default 0
    device : torch device, optional
        Where the solver runs (float64); default CPU.

    Returns
    -------
    Solution
        ``network`` (float64 two-layer ReLU ParallelNet), ``objective`` = its ``P(θ)``, ``optimum`` =
        the program's objective (``P*`` when the set is complete, else an upper bound), ``lower_bound``
        and ``gap`` from the certificate; ``details`` has ``n_patterns``, ``complete``, ``pattern_source``,
        ``rounds``, ``bound_method``, ``dual_point`` (``"residual"``: the scaled residual; ``"joint"``: the
        dual point optimized with the Lagrangian multipliers), ``bound_seconds``, ``c_upper`` (proven, for
        that dual point), ``c_estimate`` (an estimate: a
        lower bound on ``c(r)``), ``solver_iterations``, ``restricted_gap`` and ``returned``.

    References
    ----------
    Pilanci & Ergen (2020); Ergen & Pilanci (2021), eq. (4) with L = 2.
    """
    t0 = time.perf_counter()
    Xa = V.check_array(X, "X")
    Ya = V.check_targets(Y, Xa.shape[0])
    beta = V.check_beta(beta, allow_zero=False)
    for name, val in (("time_budget", time_budget), ("bound_budget", bound_budget), ("tol", tol)):
        V.check_scalar(val, name, min_val=0, include_boundaries="neither")
    bias = V.check_bool(bias, "bias")
    output_bias = V.check_bool(output_bias, "output_bias")
    if output_bias and not bias:
        raise ValueError("`output_bias`=True needs bias=True (hidden biases regularized with the weights and a "
                         "free output bias); without hidden biases use bias=False and center Y yourself.")
    pricing = V.check_bool(pricing, "pricing")
    seed = V.check_seed(seed, allow_none=False)
    pricing_starts = V.check_positive_int(pricing_starts, "pricing_starts")
    max_patterns = V.check_positive_int(max_patterns, "max_patterns")
    max_rounds = V.check_positive_int(max_rounds, "max_rounds", minimum=0)
    max_iter = V.check_positive_int(max_iter, "max_iter")
    dev = V.check_device(device)
    n, d = Xa.shape
    K = Ya.shape[1]
    Xp = np.hstack([Xa, np.ones((n, 1))]) if bias else Xa
    warm = None if warm_start is None else _warm_network(warm_start, d, K, bias, output_bias)

    if isinstance(patterns, PatternSet):
        if patterns.masks.shape[0] != n or patterns.generators.shape[0] != Xp.shape[1]:
            raise ValueError(f"`patterns` is for {patterns.masks.shape[0]} samples and {patterns.generators.shape[0]} "
                             f"features; the program has {n} and {Xp.shape[1]}"
                             f"{' (bias column included)' if bias else ''}.")
        pset = patterns
    else:
        if not isinstance(patterns, str):
            raise TypeError(f"`patterns` must be 'auto', 'enumerate', 'sample' or a PatternSet, got "
                            f"{type(patterns).__name__}.")
        V.check_choice(patterns, "patterns", ("auto", "enumerate", "sample"))
        m, rank = distinct_hyperplanes(Xp)
        cells = arrangement_bound(max(m, 1), rank)
        if patterns == "enumerate" or (patterns == "auto" and cells <= max_patterns):
            if cells <= max_patterns:
                _check_pattern_memory(cells, n, Xp.shape[1], K, "max_patterns")
            pset = enumerate_patterns(Xp, max_patterns=max_patterns)
        else:
            count = 100 if n_samples is None else V.check_positive_int(n_samples, "n_samples")
            _check_pattern_memory(count, n, Xp.shape[1], K, "n_samples")
            pset = sample_patterns(Xp, count, seed=seed)
    if warm is not None:
        G = np.column_stack([interior_generator(Xp, u) for u in warm[0]]) if len(warm[0]) else None
        if G is not None:
            wp = PatternSet(Xp @ G >= 0, G, False, "network")
            keep = wp.masks.any(axis=0)
            pset = merge_patterns(pset, PatternSet(wp.masks[:, keep], G[:, keep], False, "network"))

    deadline = t0 + time_budget
    c = Ya.mean(axis=0) if output_bias else np.zeros(K)
    sol = solve_cones(Xp, Ya - c, pset, beta=beta, tol=tol, max_iter=max_iter, device=dev,
                      time_budget=max(deadline - time.perf_counter(), 1e-3))
    iters, rounds, steps = sol.iterations, 0, 0
    fit = {"beta": beta, "tol": tol, "max_iter": max_iter, "device": dev}
    if pricing and not pset.complete:
        if output_bias:  # the intercept first (a fifth of the time), so that pricing sees its residual
            sol, c, steps, more = _fit_intercept(Xp, Ya, sol, pset, c, deadline=t0 + 0.2 * time_budget, **fit)
            iters += more
        sol, pset, rounds, more = _column_generation(Xp, Ya - c, sol, pset, starts=pricing_starts,
                                                     max_rounds=max_rounds, seed=seed, **fit,
                                                     deadline=t0 + (0.8 if output_bias else 1.0) * time_budget)
        iters += more
    if output_bias:
        sol, c, more_steps, more = _fit_intercept(Xp, Ya, sol, pset, c, deadline=deadline, **fit)
        steps, iters = steps + more_steps, iters + more

    net = network_from_cones(sol, pset, bias=bias, out_bias=c if output_bias else None)
    returned = "convex"
    warm_value = None
    if warm is not None:
        warm_net = network_from_neurons(warm[0], warm[1], bias=bias, out_bias=warm[2])
        warm_value = objective(warm_net, Xa, Ya, beta=beta)
        if warm_value < objective(net, Xa, Ya, beta=beta):
            net, returned = warm_net, "warm_start"
    with torch.no_grad():
        ref = next(net.parameters())
        F = net(torch.as_tensor(Xa, dtype=ref.dtype)).cpu().double().numpy()
    R = Ya - F
    lower, db, dual_point = _certify(R, Ya, Xp, beta, pset, bound_budget, seed, center=output_bias)
    details = {"n_patterns": pset.n_patterns, "complete": bool(pset.complete), "pattern_source": pset.source,
               "rounds": rounds, "bound_method": db.method, "dual_point": dual_point, "bound_seconds": db.seconds,
               "c_upper": float(db.upper), "c_estimate": float(db.estimate), "c_exact": bool(db.exact),
               "solver_iterations": iters, "restricted_gap": float(sol.gap), "restricted_converged": sol.converged,
               "bias_regularized": bool(bias), "output_bias": c.tolist() if output_bias else None,
               "intercept_steps": steps, "returned": returned, "warm_start_objective": warm_value,
               "n_neurons": int(net.branches), "seconds": time.perf_counter() - t0}
    return finish(net, Xa, Ya, beta=beta, depth=2, activation="relu", theorem=THEOREM,
                  optimum=sol.objective, lower_bound=lower, details=details)


def _fit_intercept(Xp, Ya, sol, pset, c, *, beta, tol, max_iter, device, deadline, max_steps: int = 100):
    """Alternate the optimal intercept ``c = mean(y − f)`` with warm-started solves for ``y − c`` (block
    coordinate descent on a convex objective: every step lowers it) until ``c`` moves by at most
    ``1e-12·(‖y‖/√n + ‖c‖)`` or time runs out. Returns ``(solution, c, steps, solver iterations)``."""
    n = Ya.shape[0]
    iters, steps = 0, 0
    scale = float(np.linalg.norm(Ya)) / np.sqrt(n)
    while steps < max_steps and time.perf_counter() < deadline:
        _, R = _residual(Xp, Ya - c, sol)
        c_new = c + R.mean(axis=0)  # mean(y − f) with f = y − c − R
        if float(np.linalg.norm(c_new - c)) <= 1e-12 * (scale + float(np.linalg.norm(c_new))):
            break
        new = solve_cones(Xp, Ya - c_new, pset, beta=beta, tol=tol, max_iter=max_iter, device=device, warm_start=sol,
                          time_budget=max(deadline - time.perf_counter(), 1e-3))
        iters += new.iterations
        steps += 1
        sol, c = new, c_new
    return sol, c, steps, iters


def _column_generation(Xp, Ya, sol, pset, *, beta, tol, max_iter, device, starts, max_rounds, deadline, seed):
    """Rounds of pricing and warm-started re-solves until no direction above ``β`` is found, the
    rounds or the time run out. Every direction found above ``β`` (for the residual of every output,
    from random starts and from the current neurons) adds the pattern of the cell on the side of its
    kinks that helps (rows on a kink active iff ``±r_i > 0``). Returns the best solution seen, its
    pattern set, the number of rounds and the solver iterations."""
    best, best_set = sol, pset
    iters, rounds, spent = 0, 0, 0.0
    rng = np.random.default_rng(seed)
    K = Ya.shape[1]
    while rounds < max_rounds and deadline - time.perf_counter() > 2 * spent:
        t_price = time.perf_counter()
        sol, pset = best, best_set
        _, R = _residual(Xp, Ya, sol)
        new = []
        for k in range(K):
            U_k = np.concatenate([sol.v[k], sol.w[k]])
            U_k = U_k[np.linalg.norm(U_k, axis=1) > 0].T
            U = _pricing.price(R[:, k], Xp, n_starts=starts, seed=seed + 7919 * rounds + k,
                               threshold=beta * (1 + 1e-9), starts=U_k if U_k.shape[1] else None)
            vals = R[:, k] @ np.maximum(Xp @ U, 0.0)
            new += [interior_generator(Xp, U[:, j], rng, side=np.sign(vals[j]) * R[:, k]) for j in range(U.shape[1])]
        spent = time.perf_counter() - t_price  # pricing time: a round is started only with twice that left
        if not new:
            break
        G = np.column_stack(new)
        masks = Xp @ G >= 0
        ok = masks.any(axis=0)
        before = pset.n_patterns
        pset = merge_patterns(pset, PatternSet(masks[:, ok], G[:, ok], False, "priced"))
        if pset.n_patterns == before or deadline - time.perf_counter() <= 0:
            break
        rounds += 1
        sol = solve_cones(Xp, Ya, pset, beta=beta, tol=tol, max_iter=max_iter, device=device, warm_start=best,
                          time_budget=max(deadline - time.perf_counter(), 1e-3))
        iters += sol.iterations
        if sol.objective <= best.objective:
            best, best_set = sol, pset
    return best, best_set, rounds, iters


def _residual(Xp, Ya, sol):
    from .solver import cone_objective

    return cone_objective(Xp, Ya, sol.v, sol.w, sol.beta)
