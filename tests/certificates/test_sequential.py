"""certify() and convex_relu(warm_start=) accept a plain torch.nn.Sequential of Linear/ReLU layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepdual as dd


def _data(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)


def _seq(d, width, *, bias, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, width, bias=bias), nn.ReLU(), nn.Linear(width, 1, bias=bias)).to(dtype)


def _adam(seq, X, y, beta, steps=600, seed=0):
    """A plain PyTorch training loop on P(θ) = ½‖f − y‖² + β/2 Σ‖W‖² (biases unregularized)."""
    torch.manual_seed(seed)
    dtype = next(seq.parameters()).dtype
    Xt, yt = torch.as_tensor(X, dtype=dtype), torch.as_tensor(y, dtype=dtype).reshape(-1, 1)
    opt = torch.optim.Adam(seq.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * ((seq(Xt) - yt) ** 2).sum() + 0.5 * beta * sum(
            (m.weight**2).sum() for m in seq if isinstance(m, nn.Linear))
        loss.backward()
        opt.step()
    return seq


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sequential_is_certified_like_its_mlp(bias, dtype):
    X, y = _data()
    seq = _adam(_seq(3, 10, bias=bias, dtype=dtype), X, y, beta=0.2, steps=200)
    budget = 1.0 if bias else 5.0  # (no biases: time to close the exact bound; returns as soon as it does)
    cert = dd.certify(seq, X, y, beta=0.2, time_budget=budget)
    same = dd.certify(dd.from_sequential(seq), X, y, beta=0.2, time_budget=budget)
    assert cert.objective == same.objective == dd.objective(seq, X, y, beta=0.2)
    if not bias:  # rank 3 without biases: the bound is exact, the same both times
        assert cert.c_exact and same.c_exact
        assert cert.lower_bound == pytest.approx(same.lower_bound, rel=1e-9)
    # (unregularized biases: the kinks refined within the time budget vary between runs; both are valid)
    assert same.lower_bound <= same.objective
    assert cert.biases == ("unregularized" if bias else "none")
    assert cert.lower_bound <= cert.objective
    assert next(seq.parameters()).dtype == dtype  # the caller's module is not converted


def test_sequential_trained_by_adam_is_certified_below_the_convex_optimum():
    """A Sequential without biases trained by a plain Adam loop: its certificate is valid for the
    problem (below the convex program's optimum, which no network beats) and below its own objective."""
    X, y = _data(seed=1)
    beta = 0.2
    seq = _adam(_seq(3, 16, bias=False), X, y, beta)
    cert = dd.certify(seq, X, y, beta=beta)
    best = dd.convex_relu(X, y, beta=beta)  # n = 40, rank 3: every pattern, the exact optimum
    assert best.details["complete"]
    assert cert.lower_bound <= best.objective * (1 + 1e-9) <= cert.objective * (1 + 1e-9)
    assert cert.lower_bound <= cert.objective


def test_layer_that_cannot_be_certified_is_named():
    X, y = _data()
    seq = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    with pytest.raises(TypeError, match=r"`network\[1\]` is Tanh"):
        dd.certify(seq, X, y, beta=0.1)
    with pytest.raises(TypeError, match=r"`warm_start\[1\]` is Tanh"):
        dd.convex_relu(X, y, beta=0.1, warm_start=seq)


@pytest.mark.parametrize("bias", [False, True])
def test_convex_relu_warm_started_from_a_sequential(bias):
    X, y = _data(60, 6, seed=2)
    beta = 0.5
    seq = _adam(_seq(6, 8, bias=bias), X, y, beta, steps=300)
    if bias:
        with pytest.raises(ValueError, match="bias=True"):
            dd.convex_relu(X, y, beta=beta, warm_start=seq)
    sol = dd.convex_relu(X, y, beta=beta, bias=bias, warm_start=seq, time_budget=2.0, bound_budget=0.5)
    assert "network" in sol.details["pattern_source"]
    # measured in the program's model: for bias=False it is the Sequential's own P(θ)
    if not bias:
        assert sol.details["warm_start_objective"] == pytest.approx(dd.objective(seq, X, y, beta=beta), rel=1e-12)
    assert sol.objective <= sol.details["warm_start_objective"] * (1 + 1e-12)
