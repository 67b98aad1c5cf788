"""convex_relu: certified two-layer ReLU networks (SPEC §6) against gradient training."""

import numpy as np
import pytest
import torch
from _oracle_optim import adam_then_lbfgs

from deepdual import ParallelNet, convex_relu, objective
from deepdual.convex.patterns import enumerate_patterns


def _planar(n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 - 0.5
    return X, y


def _train(X, y, beta, width, seed):
    """The same model (hidden biases regularized, no output bias) trained by Adam then L-BFGS."""
    net = ParallelNet(X.shape[1], 1, branches=width, activation="relu", bias=True, penalize_bias=True, seed=seed)
    net.out_bias.requires_grad_(False)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y.reshape(-1, 1))
    params = [net.weights[0], net.weights[1], net.biases[0]]

    def loss():
        return (0.5 * ((net(Xt) - yt) ** 2).sum() + 0.5 * beta * net.penalty()).reshape(1)

    adam_then_lbfgs(params, loss, lr=0.02, adam_steps=1500, lbfgs_iter=300, lbfgs_restarts=3)
    return objective(net, X, y, beta=beta)


def test_planar_data_with_bias_is_certified_and_beats_training():
    X, y = _planar()
    beta = 0.05
    sol = convex_relu(X, y, beta=beta, bias=True)
    assert sol.details["complete"] and sol.details["pattern_source"] == "enumerated"
    assert sol.details["n_patterns"] == enumerate_patterns(np.hstack([X, np.ones((24, 1))])).n_patterns
    assert sol.objective == pytest.approx(objective(sol.network, X, y, beta=beta), rel=1e-12)
    assert sol.objective == pytest.approx(sol.optimum, rel=1e-10)
    assert 0 <= sol.gap <= 1e-6 * sol.objective  # exact program: certified to the solver tolerance
    assert sol.network.penalize_bias and float(sol.network.out_bias.detach().abs().max()) == 0.0
    width = max(sol.network.branches, 8)
    for seed in range(3):
        trained = _train(X, y, beta, width, seed)
        assert sol.lower_bound <= trained * (1 + 1e-9)  # no run ends below the certified bound
        assert sol.objective <= trained * (1 + 1e-6)


def test_never_worse_than_the_warm_start():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 4))
    y = rng.standard_normal(40)
    beta = 0.5
    warm = ParallelNet(4, 1, branches=6, activation="relu", seed=1)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y.reshape(-1, 1))
    adam_then_lbfgs(list(warm.parameters()),
                    lambda: (0.5 * ((warm(Xt) - yt) ** 2).sum() + 0.5 * beta * warm.penalty()).reshape(1),
                    lr=0.02, adam_steps=400, lbfgs_iter=100, lbfgs_restarts=1)
    before = objective(warm, X, y, beta=beta)
    sol = convex_relu(X, y, beta=beta, patterns="sample", n_samples=5, warm_start=warm, pricing=False,
                      bound_budget=2.0)
    assert sol.objective <= before * (1 + 1e-12)
    assert sol.details["warm_start_objective"] == pytest.approx(before, rel=1e-12)
    assert "network" in sol.details["pattern_source"]
    assert sol.lower_bound is None or sol.lower_bound <= sol.objective


def test_column_generation_and_vector_output():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 3))
    Y = np.column_stack([np.maximum(X[:, 0], 0), X[:, 1] ** 2]) + 0.1 * rng.standard_normal((30, 2))
    beta = 0.2
    sol = convex_relu(X, Y, beta=beta, patterns="sample", n_samples=10, max_rounds=3, bound_budget=2.0)
    assert sol.objective == pytest.approx(objective(sol.network, X, Y, beta=beta), rel=1e-10)
    assert sol.details["rounds"] >= 1 and "priced" in sol.details["pattern_source"]
    if sol.lower_bound is not None:
        assert sol.lower_bound <= sol.objective
    no_pricing = convex_relu(X, Y, beta=beta, patterns="sample", n_samples=10, pricing=False, bound_budget=2.0)
    assert sol.objective <= no_pricing.objective * (1 + 1e-8)


def test_bad_inputs():
    X, y = _planar(n=10)
    with pytest.raises(ValueError, match="beta"):
        convex_relu(X, y, beta=0.0)
    with pytest.raises(ValueError, match="patterns"):
        convex_relu(X, y, beta=1.0, patterns="all")
    with pytest.raises(ValueError, match="time_budget"):
        convex_relu(X, y, beta=1.0, time_budget=-1)
    net = ParallelNet(2, 1, branches=3, activation="relu", bias=True, seed=0)
    with torch.no_grad():
        net.out_bias.fill_(1.0)
    with pytest.raises(ValueError, match="bias=True"):
        convex_relu(X, y, beta=1.0, warm_start=net)
    with pytest.raises(ValueError, match="features"):
        convex_relu(np.hstack([X, X]), y, beta=1.0, warm_start=ParallelNet(2, 1, activation="relu"))


def test_time_budget_is_respected_and_pricing_improves_on_sampling():
    """Column generation stops inside the budget (rounds included) and returns the best network seen,
    never worse than the sampled start; the certificate stays below the objective."""
    import time

    rng = np.random.default_rng(6)
    X = rng.standard_normal((120, 6))
    y = rng.standard_normal(120)
    beta = 1.0
    start = time.perf_counter()
    sol = convex_relu(X, y, beta=beta, time_budget=3.0, bound_budget=1.0)
    elapsed = time.perf_counter() - start
    assert elapsed <= 3.0 + 1.0 + 2.5  # budget + certificate + one pricing round and set-up at most
    assert sol.details["rounds"] >= 1
    sampled = convex_relu(X, y, beta=beta, pricing=False, bound_budget=1.0)
    assert sol.objective <= sampled.objective
    assert sol.objective == pytest.approx(objective(sol.network, X, y, beta=beta), rel=1e-10)
    assert sol.lower_bound is None or sol.lower_bound <= sol.objective


def test_certificate_on_high_rank_data_optimizes_the_dual_point():
    """Rank 6 > 4, sampled patterns: the certificate tries the dual point optimized together with the
    Lagrangian multipliers and keeps it when better; either way it stays below every attained objective."""
    rng = np.random.default_rng(8)
    X = rng.standard_normal((60, 6))
    y = np.maximum(X @ rng.standard_normal(6), 0) - np.maximum(X @ rng.standard_normal(6), 0)
    y += 0.2 * rng.standard_normal(60)
    beta = 0.5
    sol = convex_relu(X, y, beta=beta, time_budget=0.5, bound_budget=2.0)
    assert not sol.details["complete"]
    assert sol.details["dual_point"] == "joint" and sol.details["bound_method"].startswith("joint dual point")
    assert sol.lower_bound <= sol.objective
    net = ParallelNet(6, 1, branches=12, activation="relu", seed=0)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y.reshape(-1, 1))
    adam_then_lbfgs(list(net.parameters()),
                    lambda: (0.5 * ((net(Xt) - yt) ** 2).sum() + 0.5 * beta * net.penalty()).reshape(1),
                    lr=0.02, adam_steps=400, lbfgs_iter=100, lbfgs_restarts=1)
    assert sol.lower_bound <= objective(net, X, y, beta=beta)


def test_output_bias_fits_the_intercept_and_is_certified_exactly():
    """output_bias=True: the model of a ParallelNet with penalize_bias=True (free output bias), the one
    certify() bounds. The intercept is optimal (mean residual 0), the objective is no worse than without
    it, and on a complete pattern set certify() closes the gap."""
    X, y = _planar(n=24, seed=3)
    y = y + 2.0 + 0.5 * np.sign(X[:, 0])
    beta = 0.05
    plain = convex_relu(X, y, beta=beta, bias=True)
    sol = convex_relu(X, y, beta=beta, bias=True, output_bias=True)
    assert sol.details["complete"]
    c = float(sol.network.out_bias.detach()[0])
    assert c == pytest.approx(sol.details["output_bias"][0], rel=1e-15)
    residual = y - sol.predict(X)[:, 0]
    assert abs(residual.mean()) <= 1e-9 * np.abs(y).mean()
    assert sol.objective <= plain.objective * (1 + 1e-9)
    assert 0 <= sol.gap <= 1e-6 * sol.objective
    from deepdual import certify

    cert = certify(sol.network, X, y, beta=beta, time_budget=5.0)
    assert cert.biases == "regularized" and cert.relative_gap <= 1e-7
    with pytest.raises(ValueError, match="output_bias"):
        convex_relu(X, y, beta=beta, output_bias=True)
