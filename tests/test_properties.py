"""Property-based tests (hypothesis) of the mathematics: weak duality, optimality of the closed forms,
the exact scalar solver, whitening, exact export round trips, and bit-for-bit determinism."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepdual
from deepdual.training import train

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

seeds = st.integers(0, 2**31 - 1)
betas = st.floats(0.02, 3.0)


def _tol(value: float) -> float:
    return 1e-9 * max(1.0, abs(value))


def _gaussian(seed, n, d, k):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, k))


def _whitened_classes(seed, n, d, k):
    rng = np.random.default_rng(seed)
    X = deepdual.Whitener().fit_transform(rng.standard_normal((n, d)))
    labels = np.arange(n) % k
    return X, deepdual.one_hot(labels, classes=np.arange(k)).Y


def _perturbed(net, scale: float, seed: int):
    """A copy of a ParallelNet with every weight moved by N(0, scale²) noise."""
    rng = np.random.default_rng(seed)
    other = deepdual.ParallelNet(net.in_features, net.out_features, depth=net.depth, branches=net.branches,
                                 hidden=net.hidden or 1, activation=net.activation, seed=0)
    return other.set_weights([w.detach().numpy() + scale * rng.standard_normal(tuple(w.shape))
                              for w in net.weights])


def _briefly_trained(net, X, Y, beta, seed):
    train(net, X, Y, beta=beta, optimizer="adam", lr=1e-2, epochs=8, seed=seed, progress=False)
    return net


def _candidates(make, X, Y, beta, seed, reference=None):
    """Random, briefly trained, and (when ``reference`` is given) perturbed networks."""
    nets = [make(seed), make(seed + 1)]
    nets.append(_briefly_trained(make(seed + 2), X, Y, beta, seed))
    if reference is not None:
        nets += [_perturbed(reference, s, seed) for s in (1e-3, 1e-1)]
    return nets


# ----------------------------------------------------------------------------- weak duality
@FAST
@given(seed=seeds, n=st.integers(1, 8), d=st.integers(1, 5), k=st.integers(1, 3), beta=betas,
       m=st.integers(1, 4))
def test_weak_duality_two_layer_linear(seed, n, d, k, beta, m):
    X, Y = _gaussian(seed, n, d, k)
    make = lambda s: deepdual.ParallelNet(d, k, branches=m, activation="linear", seed=s)  # noqa: E731
    sol = deepdual.closed_form(X, Y, beta=beta, depth=2)
    nets = _candidates(make, X, Y, beta, seed, reference=sol.network)
    nets.append(deepdual.MLP([d, m, k], activation="linear", seed=seed))
    bounds = [deepdual.certify(net, X, Y, beta=beta).lower_bound for net in nets]
    objectives = [deepdual.objective(net, X, Y, beta=beta) for net in nets] + [sol.objective]
    for lb in bounds:  # every certified bound is below the objective of every network
        assert np.isfinite(lb)
        for obj in objectives:
            assert lb <= obj + _tol(obj)


@FAST
@given(seed=seeds, n=st.integers(1, 8), d=st.integers(1, 5), k=st.integers(1, 3), beta=betas,
       m=st.integers(1, 5))
def test_weak_duality_two_layer_relu(seed, n, d, k, beta, m):
    X, Y = _gaussian(seed, n, d, k)
    make = lambda s: deepdual.ParallelNet(d, k, branches=m, activation="relu", seed=s)  # noqa: E731
    nets = _candidates(make, X, Y, beta, seed)
    nets.append(deepdual.MLP([d, m, k], activation="relu", seed=seed))
    bounds = [deepdual.certify(net, X, Y, beta=beta).lower_bound for net in nets]
    objectives = [deepdual.objective(net, X, Y, beta=beta) for net in nets]
    for lb in bounds:
        assert np.isfinite(lb)
        for obj in objectives:
            assert lb <= obj + _tol(obj)


@FAST
@given(seed=seeds, n=st.integers(2, 6), extra=st.integers(0, 4), k=st.integers(1, 3), beta=betas,
       depth=st.integers(2, 4), m=st.integers(1, 4), h=st.integers(1, 3))
def test_weak_duality_whitened_deep_relu(seed, n, extra, k, beta, depth, m, h):
    k = min(k, n)
    X, Y = _whitened_classes(seed, n, n + extra, k)
    d = X.shape[1]
    make = lambda s: deepdual.ParallelNet(d, k, depth=depth, branches=m, hidden=h,  # noqa: E731
                                          activation="relu", seed=s)
    sol = deepdual.closed_form(X, Y, beta=beta, depth=depth, activation="relu")
    nets = _candidates(make, X, Y, beta, seed, reference=sol.network)
    for net in nets:
        cert = deepdual.certify(net, X, Y, beta=beta)
        obj = deepdual.objective(net, X, Y, beta=beta)
        assert np.isfinite(cert.lower_bound)
        assert cert.lower_bound <= obj + _tol(obj)
        assert cert.lower_bound <= sol.objective + _tol(sol.objective)


# ----------------------------------------------------------------------------- closed forms are optimal
def _check_closed_form_beats(sol, X, Y, beta, seed, *, hidden=1):
    net = sol.network
    rivals = [_perturbed(net, s, seed + i) for i, s in enumerate((1e-4, 1e-2, 0.3))]
    rivals += [deepdual.ParallelNet(net.in_features, net.out_features, depth=net.depth, branches=net.branches,
                                    hidden=hidden, activation=net.activation, seed=seed + i) for i in range(2)]
    best = sol.objective
    assert np.isfinite(best)
    for rival in rivals:
        obj = deepdual.objective(rival, X, Y, beta=beta)
        assert best <= obj + _tol(obj)


@FAST
@given(seed=seeds, n=st.integers(1, 8), d=st.integers(1, 5), beta=betas, depth=st.integers(2, 4))
def test_closed_form_linear_scalar_output_is_optimal(seed, n, d, beta, depth):
    X, Y = _gaussian(seed, n, d, 1)
    sol = deepdual.closed_form(X, Y, beta=beta, depth=depth)
    _check_closed_form_beats(sol, X, Y, beta, seed)


@FAST
@given(seed=seeds, n=st.integers(1, 6), d=st.integers(1, 5), k=st.integers(2, 3), beta=betas,
       depth=st.integers(2, 4), rows=st.booleans())
def test_closed_form_linear_vector_output_is_optimal(seed, n, d, k, beta, depth, rows):
    X, Y = _gaussian(seed, n, d, k)
    if depth > 2:  # Theorem 3.6: orthonormal rows (n <= d) or columns (n >= d)
        if rows:
            n = min(n, d)
            X = deepdual.Whitener().fit_transform(X[:n])
        else:
            X = np.linalg.qr(np.random.default_rng(seed).standard_normal((max(n, d), d)))[0]
            n = X.shape[0]
        Y = np.random.default_rng(seed + 1).standard_normal((n, k))
    sol = deepdual.closed_form(X, Y, beta=beta, depth=depth)
    _check_closed_form_beats(sol, X, Y, beta, seed)


@FAST
@given(seed=seeds, n=st.integers(2, 6), extra=st.integers(0, 4), k=st.integers(1, 3), beta=betas,
       depth=st.integers(2, 4), h=st.integers(1, 3))
def test_closed_form_whitened_relu_is_optimal(seed, n, extra, k, beta, depth, h):
    k = min(k, n)
    X, Y = _whitened_classes(seed, n, n + extra, k)
    sol = deepdual.closed_form(X, Y, beta=beta, depth=depth, activation="relu", hidden=h)
    _check_closed_form_beats(sol, X, Y, beta, seed, hidden=h)
    assert abs(sol.objective - sol.optimum) <= 1e-9 * max(1.0, sol.optimum)


# ----------------------------------------------------------------------------- exact scalar solver
@settings(max_examples=50, deadline=None)
@given(sigma=st.floats(0.0, 10.0), beta=st.floats(1e-3, 5.0), depth=st.integers(2, 6))
def test_optimal_amplitude_beats_dense_search(sigma, beta, depth):
    s_star = deepdual.optimal_amplitude(sigma, beta=beta, depth=depth)
    assert np.isfinite(s_star) and 0.0 <= s_star <= sigma

    def f(s):
        return 0.5 * (sigma - s) ** 2 + 0.5 * beta * depth * np.power(s, 2.0 / depth)

    grid = np.linspace(0.0, max(sigma, 1e-12), 40001)  # the minimizer lies in [0, σ]
    assert f(s_star) <= float(np.min(f(grid))) + 1e-12 * max(1.0, sigma**2)


@settings(max_examples=25, deadline=None)
@given(sigmas=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=6), beta=st.floats(1e-3, 2.0),
       depth=st.integers(2, 5))
def test_optimal_amplitude_vectorized_matches_scalar(sigmas, beta, depth):
    out = deepdual.optimal_amplitude(np.array(sigmas), beta=beta, depth=depth)
    assert out.shape == (len(sigmas),)
    assert out.tolist() == [deepdual.optimal_amplitude(s, beta=beta, depth=depth) for s in sigmas]


# ----------------------------------------------------------------------------- whitening
@FAST
@given(seed=seeds, n=st.integers(1, 10), extra=st.integers(0, 10), scale=st.floats(1e-3, 1e3))
def test_whitener_gives_orthonormal_rows(seed, n, extra, scale):
    X = scale * np.random.default_rng(seed).standard_normal((n, n + extra))
    w = deepdual.Whitener().fit(X)
    Xw = deepdual.Whitener().fit_transform(X)
    assert np.linalg.norm(Xw @ Xw.T - np.eye(n), ord=2) <= 1e-10
    Xt = w.transform(X)  # the map applied to points (condition-number-limited)
    assert np.linalg.norm(Xt @ Xt.T - np.eye(n), ord=2) <= 1e-12 * w.condition_number_ * (n + extra)
    assert deepdual.is_whitened(Xw)


# ----------------------------------------------------------------------------- export round trips
from deepdual import export  # noqa: E402


def _net_strategy():
    return st.fixed_dictionaries({
        "kind": st.sampled_from(["parallel", "mlp"]),
        "d": st.integers(1, 4), "k": st.integers(1, 3), "depth": st.integers(2, 4),
        "m": st.integers(1, 3), "h": st.integers(1, 3),
        "activation": st.sampled_from(["linear", "relu"]), "bias": st.booleans(),
        "batchnorm": st.booleans(), "dtype": st.sampled_from([torch.float64, torch.float32]),
        "training": st.booleans(), "seed": seeds,
    })


def _build(c):
    if c["kind"] == "parallel":
        net = deepdual.ParallelNet(c["d"], c["k"], depth=c["depth"], branches=c["m"], hidden=c["h"],
                                   activation=c["activation"], bias=c["bias"], batchnorm=c["batchnorm"],
                                   dtype=c["dtype"], seed=c["seed"])
    else:
        widths = [c["d"], *[c["h"] + 1] * (c["depth"] - 1), c["k"]]
        net = deepdual.MLP(widths, activation=c["activation"], bias=c["bias"], batchnorm=c["batchnorm"],
                           dtype=c["dtype"], seed=c["seed"])
    with torch.no_grad():  # non-trivial biases and batch-norm state
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(c["seed"] % 1000), dtype=p.dtype))
        X = torch.randn(5, c["d"], generator=torch.Generator().manual_seed(1), dtype=c["dtype"])
        net.train()
        net(X)
    net.train(c["training"])
    return net


@FAST
@given(c=_net_strategy())
def test_export_round_trip_is_exact(c):
    net = _build(c)
    X = torch.randn(4, c["d"], generator=torch.Generator().manual_seed(2), dtype=c["dtype"])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "net.pt")
        export.save_network(net, path, metadata={"seed": c["seed"]})
        back = export.load_network(path)
        assert export.load_metadata(path) == {"seed": c["seed"]}
    assert type(back) is type(net) and back.config() == net.config()
    assert back.training == net.training
    a, b = net.state_dict(), back.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
    with torch.no_grad():
        assert torch.equal(net(X), back(X))


@SLOW
@given(seed=seeds, n=st.integers(2, 5), extra=st.integers(0, 3), k=st.integers(1, 3), beta=betas,
       depth=st.integers(2, 4))
def test_solution_round_trip_is_exact(seed, n, extra, k, beta, depth):
    k = min(k, n)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n + extra))
    Y = deepdual.one_hot(np.arange(n) % k, classes=np.arange(k)).Y
    sol = deepdual.closed_form(X, Y, beta=beta, depth=depth, activation="relu", whiten=True)
    X_new = rng.standard_normal((3, n + extra))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sol.pt")
        export.save_solution(sol, path)
        back = export.load_solution(path)
    assert np.array_equal(back.predict(X_new), sol.predict(X_new))
    assert (back.objective, back.optimum, back.theorem, back.ranks) == (sol.objective, sol.optimum,
                                                                        sol.theorem, sol.ranks)


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("optimizer, batch_size", [("sgd", None), ("sgd", 3), ("adam", 2), ("lbfgs", None)])
def test_training_is_bit_identical_for_equal_seeds(optimizer, batch_size):
    X, Y = _gaussian(3, 9, 4, 2)
    runs = []
    for _ in range(2):
        net = deepdual.ParallelNet(4, 2, depth=3, branches=3, hidden=2, activation="relu", seed=11)
        lr = 1.0 if optimizer == "lbfgs" else 1e-2
        hist = train(net, X, Y, beta=0.1, optimizer=optimizer, lr=lr, epochs=6, batch_size=batch_size,
                     seed=5, record=("ranks", "norms"), progress=False)
        runs.append((hist, [w.detach().clone() for w in net.parameters()]))
    (h1, w1), (h2, w2) = runs
    for name in ("objective", "loss", "penalty"):
        assert np.array_equal(getattr(h1, name), getattr(h2, name))
    assert h1.initial_objective == h2.initial_objective and h1.records == h2.records
    assert all(torch.equal(a, b) for a, b in zip(w1, w2))


def test_closed_form_is_bit_identical():
    X, Y = _gaussian(0, 7, 4, 3)
    a = deepdual.closed_form(X, Y, beta=0.3, depth=2)
    b = deepdual.closed_form(X, Y, beta=0.3, depth=2)
    assert a.objective == b.objective and a.lower_bound == b.lower_bound
    assert all(torch.equal(p, q) for p, q in zip(a.network.parameters(), b.network.parameters()))
