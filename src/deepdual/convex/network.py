"""The two-layer ReLU network of a convex-program solution (SPEC §6).

Each nonzero ``v_i`` gives a neuron with first-layer weights ``u = v_i/√‖v_i‖`` and output weight
``α = +√‖v_i‖``; each nonzero ``w_i`` one with ``u = w_i/√‖w_i‖`` and ``α = −√‖w_i‖``. On the cone
``(2D_i − I)Xv_i ≥ 0`` the pattern matrix acts as the ReLU, ``D_iXv_i = (Xv_i)₊``, and
``½(‖u‖² + α²) = ‖v_i‖``, so the network's ``P(θ)`` equals the convex objective. For a vector
output every neuron feeds only the output of its own program.

With a bias the program works on ``[X, 1]``: the last coordinate of ``u`` is the neuron's bias,
regularized together with its weights (the network is built with ``penalize_bias=True`` and a zero,
unregularized output bias).

References
----------
Pilanci & Ergen (2020), Theorem 1 (the map from the convex solution to the network); Ergen &
Pilanci (2021), eq. (4) with L = 2.
"""

from __future__ import annotations

import numpy as np

from ..networks import ParallelNet
from .patterns import PatternSet
from .solver import ConeSolution

__all__ = ["network_from_cones", "network_from_neurons"]


def network_from_neurons(U: np.ndarray, A: np.ndarray, *, bias: bool,
                         out_bias: np.ndarray | None = None) -> ParallelNet:
    """A float64 two-layer ReLU :class:`~deepdual.ParallelNet` with neurons ``(u_j, a_j)``.

    Parameters
    ----------
    U : ndarray of shape (n_neurons, n_features + bias)
        First-layer weights (with ``bias`` the last column is the neuron's bias).
    A : ndarray of shape (n_neurons, n_outputs)
        Output weights.
    bias : bool
        Build with penalized hidden biases (``penalize_bias=True``) and an (unregularized) output bias.
    out_bias : ndarray of shape (n_outputs,), optional
        The output bias (``bias`` only; default zero).
    """
    m, K = max(U.shape[0], 1), A.shape[1]
    d = U.shape[1] - int(bias)
    net = ParallelNet(d, K, depth=2, branches=m, activation="relu", bias=bias, penalize_bias=bias, seed=0)
    W1 = np.zeros((m, d, 1))
    W2 = np.zeros((m, 1, K))
    W1[: U.shape[0], :, 0] = U[:, :d]
    W2[: U.shape[0], 0, :] = A
    if bias:
        b = np.zeros((m, 1, 1))
        b[: U.shape[0], 0, 0] = U[:, d]
        return net.set_weights([W1, W2], biases=[b], out_bias=np.zeros(K) if out_bias is None else out_bias)
    return net.set_weights([W1, W2])


def network_from_cones(sol: ConeSolution, patterns: PatternSet | None = None, *, bias: bool = False,
                       out_bias: np.ndarray | None = None) -> ParallelNet:
    """The network whose ``P(θ)`` equals ``sol.objective``.

    Parameters
    ----------
    sol : ConeSolution
        From :func:`~deepdual.convex.solve_cones` on data ``X`` (or ``[X, 1]`` when ``bias``).
    patterns : PatternSet, optional
        The pattern set ``sol`` was solved on (used only to check sizes).
    bias : bool, default False
        ``sol`` was solved on ``[X, 1]``: the last coordinate of every ``u`` is a regularized bias.
    out_bias : ndarray of shape (n_outputs,), optional
        With ``bias``: the output bias (``sol`` solved for the targets minus it); default zero.

    Returns
    -------
    ParallelNet
        Two-layer, ReLU, float64, one branch per nonzero ``v_i``/``w_i`` (at least one branch).
    """
    if not isinstance(sol, ConeSolution):
        raise TypeError(f"`sol` must be a ConeSolution, got {type(sol).__name__}.")
    K, P, d = sol.v.shape
    if patterns is not None and patterns.n_patterns != P:
        raise ValueError(f"`patterns` has {patterns.n_patterns} patterns but `sol` was solved on {P}.")
    if bias and d < 2:
        raise ValueError("bias=True needs the solution of a program on [X, 1] (at least 2 columns).")
    units, outs = [], []
    for k in range(K):
        for sign, V_ in ((1.0, sol.v[k]), (-1.0, sol.w[k])):
            norms = np.linalg.norm(V_, axis=1)
            for i in np.flatnonzero(norms > 0):
                root = np.sqrt(norms[i])
                units.append(V_[i] / root)
                a = np.zeros(K)
                a[k] = sign * root
                outs.append(a)
    U = np.array(units).reshape(-1, d)
    A = np.array(outs).reshape(-1, K)
    return network_from_neurons(U, A, bias=bias, out_bias=out_bias)
