"""convex_relu against trained networks (issue 14, must-show items).

* Warm-started from an SGD-trained network (its neurons' patterns added, then column generation), the
  convex program's network is never worse than the trained one on ten scalar problems, and better on
  most of them.
* Vector outputs: the convex program gives each neuron one output (a real network, an upper bound on
  P*); trained networks share their neurons. Whichever is better, ``certify`` bounds the optimum of the
  true vector problem from below: no certified lower bound exceeds any of these networks' objectives.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _oracle_optim import adam_then_lbfgs

import deepdual as dd


def _problem(k):
    rng = np.random.default_rng(100 + k)
    n, d = 50, 5 + k % 3
    X = rng.standard_normal((n, d))
    w = rng.standard_normal((d, 3))
    y = np.maximum(X @ w, 0) @ np.array([1.0, -1.0, 0.5]) + 0.3 * rng.standard_normal(n)
    return X, y, 0.5


def test_column_generation_from_sgd_is_never_worse_and_usually_better():
    gains = []
    for k in range(10):
        X, y, beta = _problem(k)
        net = dd.ParallelNet(X.shape[1], 1, branches=10, activation="relu", seed=k)
        dd.train(net, X, y, beta=beta, optimizer="sgd", lr=2e-3, momentum=0.9, epochs=150, seed=k, progress=False)
        trained = dd.objective(net, X, y, beta=beta)
        sol = dd.convex_relu(X, y, beta=beta, warm_start=net, n_samples=20, time_budget=0.5, bound_budget=0.1)
        assert sol.details["pattern_source"].startswith("sampled+network")
        assert sol.objective <= trained * (1 + 1e-12)
        assert sol.objective == pytest.approx(dd.objective(sol.network, X, y, beta=beta), rel=1e-10)
        gains.append((trained - sol.objective) / trained)
    assert sum(g > 1e-3 for g in gains) >= 8, gains  # better by more than 0.1% on at least 8 of 10


@pytest.mark.oracle
def test_vector_output_certificate_is_valid_for_shared_and_separate_neurons():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((40, 3))
    Y = np.column_stack([np.maximum(X[:, 0], 0) - X[:, 1], np.maximum(X[:, 0], 0) + 0.5 * X[:, 2]])
    Y += 0.1 * rng.standard_normal(Y.shape)
    beta = 0.3
    sol = dd.convex_relu(X, Y, beta=beta)  # one program per output: every neuron feeds one output
    nets = [sol.network]
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)
    for seed in range(2):  # shared neurons (the true vector problem), trained
        net = dd.ParallelNet(3, 2, branches=12, activation="relu", seed=seed)
        adam_then_lbfgs(list(net.parameters()),
                        lambda net=net: (0.5 * ((net(Xt) - Yt) ** 2).sum() + 0.5 * beta * net.penalty()).reshape(1),
                        lr=0.02, adam_steps=400, lbfgs_iter=100, lbfgs_restarts=2)
        nets.append(net)
    values = [dd.objective(net, X, Y, beta=beta) for net in nets]
    for net, value in zip(nets, values):
        cert = dd.certify(net, X, Y, beta=beta)
        assert cert.objective == pytest.approx(value, rel=1e-12)
        assert cert.lower_bound <= min(values) * (1 + 1e-9), (cert.method, cert.lower_bound, values)
        assert sol.lower_bound <= min(values) * (1 + 1e-9)
