"""The pieces every closed form ends with (``theorems/_build.py``): the balanced network and the
float64 self-check, against the generic network functions they stand in for."""

from __future__ import annotations

import numpy as np
import pytest

import deepdual as dd
from deepdual.networks import forward_error_bound, forward_numpy, objective
from deepdual.theorems._build import _abs_forward_bound, balanced_network


@pytest.mark.parametrize("L, K, hidden", [(2, 1, 1), (3, 4, 3), (5, 2, [2, 3, 1])])
def test_rounding_bound_equals_the_generic_one(L, K, hidden):
    """The NumPy bound on a plain ParallelNet is forward_error_bound's (no module copy needed)."""
    rng = np.random.default_rng(L)
    net = dd.ParallelNet(7, K, depth=L, branches=5, hidden=hidden, activation="relu", seed=L)
    X = rng.standard_normal((11, 7))
    assert _abs_forward_bound(net, X) == pytest.approx(forward_error_bound(net, X), rel=1e-12)
    biased = dd.ParallelNet(7, K, depth=L, branches=5, hidden=hidden, activation="relu", bias=True, seed=L)
    assert _abs_forward_bound(biased, X) == forward_error_bound(biased, X)  # others: the generic bound itself


@pytest.mark.parametrize("L", [2, 3, 5])
def test_balanced_network_weights(L):
    rng = np.random.default_rng(0)
    dirs = np.linalg.qr(rng.standard_normal((6, 3)))[0]
    amps = np.array([2.0, 0.0, 0.5])
    outs = np.eye(3)
    net = balanced_network(dirs, amps, outs, depth=L, activation="linear", branches=4)
    W = [w.detach().numpy() for w in net.weights]
    for j, i in enumerate([0, 2]):  # active branches first, in order
        norms = [np.linalg.norm(w[j]) for w in W]
        np.testing.assert_allclose(norms, amps[i] ** (1 / L), rtol=1e-14)
    assert all(not np.any(w[2:]) for w in W)  # the zero amplitude and the spare branch are zero
    X = rng.standard_normal((9, 6))
    np.testing.assert_allclose(forward_numpy(net, X), X @ dirs @ np.diag(amps) @ outs, atol=1e-13)


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("L", [2, 3])
def test_closed_form_objective_is_the_networks(whiten, L):
    """``objective`` (from one forward pass and the penalty) equals deepdual.objective on the returned network."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((8, 12))
    if not whiten:
        X = dd.Whitener().fit_transform(X)
    Y = np.eye(4)[np.arange(8) % 4]
    sol = dd.closed_form(X, Y, beta=0.1, depth=L, activation="relu", whiten=whiten)
    Xw = sol.whitener.transform(X) if whiten else X
    assert sol.objective == pytest.approx(objective(sol.network, Xw, Y, beta=0.1), rel=1e-13)
    assert sol.lower_bound <= sol.objective
