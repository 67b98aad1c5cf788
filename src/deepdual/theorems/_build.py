"""Assemble balanced optimal networks from end-to-end rank-one pieces (Lemma 1.1, Prop. 3.1)."""

from __future__ import annotations

import numpy as np

from .._numerics import EPS, checked_lower_bound, rounding_slack
from ..networks import (
    ParallelNet,
    forward_error_bound,
    forward_numpy,
    objective_value,
    penalty,
)
from ..solution import Solution, layer_ranks_of


def required_branches(count: int, branches: int | None) -> int:
    """Number of branches to build: ``branches`` if given (must cover ``count``), else ``count``."""
    if branches is None:
        return max(count, 1)
    if branches < count:
        raise ValueError(
            f"`branches` == {branches} but the optimal network needs {count} active branches; "
            f"pass branches >= {count} (or None)."
        )
    return branches


def balanced_network(directions: np.ndarray, amplitudes: np.ndarray, outputs: np.ndarray, *,
                     depth: int, activation: str = "linear", branches: int | None = None,
                     hidden=1) -> ParallelNet:
    """Balanced network whose branch ``j`` maps ``x ↦ s_j (xᵀu_j) v_jᵀ`` (through ReLUs if asked).

    Branch ``j`` has ``W_1 = s^{1/L} u_j e_1ᵀ``, hidden ``W_l = s^{1/L} e_1 e_1ᵀ``,
    ``w_{L-1} = s^{1/L} e_1`` and ``w_L = s^{1/L} v_jᵀ``: every layer has Frobenius (= operator) norm
    ``s_j^{1/L}`` and the branch penalty is the least possible, ``L s_j^{2/L}`` (Prop. 3.1, Thm 3.1).
    ``e_1 >= 0``, so the same weights are valid for ReLU branches whose first layer output is
    nonnegative on the data (Theorems 4.1 and 4.3).

    Parameters
    ----------
    directions : ndarray of shape (d, r)
        Unit first-layer directions ``u_j``.
    amplitudes : ndarray of shape (r,)
        End-to-end amplitudes ``s_j >= 0``; zero amplitudes give zero branches.
    outputs : ndarray of shape (r, K)
        Unit output directions ``v_j``.
    """
    d, r = directions.shape
    K = outputs.shape[1]
    active = np.flatnonzero(amplitudes > 0)
    m = required_branches(len(active), branches)
    net = ParallelNet(d, K, depth=depth, branches=m, hidden=hidden, activation=activation, seed=0)
    shapes = net.layer_shapes
    weights = [np.zeros(s) for s in shapes]
    for j, i in enumerate(active):
        a = amplitudes[i] ** (1.0 / depth)
        weights[0][j, :, 0] = a * directions[:, i]
        for W in weights[1:-1]:
            W[j, 0, 0] = a
        weights[-1][j, 0, :] = a * outputs[i]
    return net.set_weights(weights)


def finish(network, X: np.ndarray, Y: np.ndarray, *, beta: float, depth: int, activation: str,
           theorem: str, optimum: float, lower_bound: float | None, whitener=None,
           details: dict | None = None) -> Solution:
    """Evaluate the network's objective in float64, self-check the bound, package a :class:`~deepdual.Solution`.

    The lower bound (the theorem's optimum or a dual bound) must not exceed the attained objective
    beyond float rounding (:func:`deepdual._numerics.checked_lower_bound`, SPEC §7).
    """
    network.train()
    out = forward_numpy(network, X)
    R = Y - out
    details = dict(details or {})
    if beta == 0.0:
        value = penalty(network)
        details["max_residual"] = float(np.max(np.abs(R))) if Y.size else 0.0
        slack = 64.0 * EPS * abs(value) * (depth + 1)
    else:
        value = objective_value(network, X, Y, beta=beta)
        slack = rounding_slack(value, float(np.linalg.norm(R)), forward_error_bound(network, X))
    if not np.isfinite(value):
        raise ValueError(f"The objective of the optimal network overflows float64 (P = {value}); rescale `X` "
                         "and `Y` (e.g. divide by their largest entries) — the optimum scales as P*(cY; β) = "
                         "c² P*(Y; β c^(2/L−2)).")
    lower = None
    if lower_bound is not None:
        lower = checked_lower_bound(float(lower_bound), float(value), slack, what=theorem)
    gap = None if lower is None else float(value - lower)
    return Solution(network=network, objective=float(value), optimum=float(optimum), lower_bound=lower, gap=gap,
                    theorem=theorem, ranks=layer_ranks_of(network), beta=float(beta), depth=int(depth),
                    activation=activation, whitener=whitener, details=details)
