"""Assemble balanced optimal networks from end-to-end rank-one pieces (Lemma 1.1, Prop. 3.1)."""

from __future__ import annotations

import numpy as np
import torch

from .._numerics import EPS, checked_lower_bound, rounding_slack
from ..networks import ParallelNet, as_float64, forward_error_bound, forward_numpy
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
    weights = [np.zeros(s) for s in net.layer_shapes]
    a = amplitudes[active] ** (1.0 / depth)  # every layer of branch j has norm s_j^{1/L}
    k = active.size
    weights[0][:k, :, 0] = (directions[:, active] * a).T
    for W in weights[1:-1]:
        W[:k, 0, 0] = a
    weights[-1][:k, 0, :] = outputs[active] * a[:, None]
    with torch.no_grad():  # arrays built here, of the network's shapes: copied without set_weights' checks
        for p, W in zip(net.weights, weights):
            p.copy_(torch.from_numpy(W))
    return net


def _abs_forward_bound(network, X: np.ndarray) -> float:
    """:func:`~deepdual.networks.forward_error_bound` of a plain :class:`ParallelNet` (no bias, no batch
    norm), in NumPy on its weights: the same bound ``γ·‖|X||W₁|⋯|W_L|‖_F`` with ``γ`` from the same sum
    of inner dimensions, without copying the module. Other networks go to ``forward_error_bound``."""
    if not isinstance(network, ParallelNet) or network.bias or network.bn is not None:
        return forward_error_bound(network, X)
    W = [np.abs(w.detach().cpu().double().numpy()) for w in network.weights]
    inner = sum(int(w.shape[-2]) + 2 for w in W) + int(network.branches)
    A = np.abs(X)
    for w in W[:-1]:
        A = np.matmul(A, w)  # (m, n, width): every branch at once; ReLU of nonnegative values is the identity
    out = np.einsum("jnh,jhk->nk", A, W[-1])
    gamma = inner * EPS / (1.0 - inner * EPS)
    return float(gamma * np.linalg.norm(out)) * 1.01


def finish(network, X: np.ndarray, Y: np.ndarray, *, beta: float, depth: int, activation: str,
           theorem: str, optimum: float, lower_bound: float | None, whitener=None,
           details: dict | None = None) -> Solution:
    """Evaluate the network's objective in float64, self-check the bound, package a :class:`~deepdual.Solution`.

    One float64 forward pass of the returned network gives the residual ``R = Y − f(X)``, and
    ``P(θ) = ½‖R‖² + (β/2)·penalty``; the lower bound (the theorem's optimum or a dual bound) must not
    exceed it beyond float rounding (:func:`deepdual._numerics.checked_lower_bound`, SPEC §7).
    """
    network.train()
    out = forward_numpy(network, X)
    R = Y - out
    details = dict(details or {})
    with torch.no_grad():
        pen = float(as_float64(network).penalty())
    if beta == 0.0:
        value = pen
        details["max_residual"] = float(np.max(np.abs(R))) if Y.size else 0.0
        slack = 64.0 * EPS * abs(value) * (depth + 1)
    else:
        value = 0.5 * float(np.sum(R * R)) + 0.5 * beta * pen
        slack = rounding_slack(value, float(np.linalg.norm(R)), _abs_forward_bound(network, X))
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
