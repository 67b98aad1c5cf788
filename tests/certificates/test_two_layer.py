"""certify() of two-layer ReLU networks on any data: the convex program's dual with proven bounds (SPEC §6–7).

Oracles, written without reading deepdual.certificates.two_layer: the same model trained by Adam then
L-BFGS from several seeds (no certified lower bound may exceed any trained objective), the exact convex
program on a complete pattern set, the old spectral bound (never tighter than the new one), and, for
unregularized biases, dense sampling of ``(u, b)`` (the proven bound must exceed it).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from _oracle_optim import adam_then_lbfgs

import deepdual as dd
from deepdual.certificates import ReLUCertificate
from deepdual.duality.relu import relu_dual_bound
from deepdual.networks import forward_numpy

ROUND = 1e-9


def _data(n, d, K=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Y = np.column_stack([np.sin(2 * X[:, 0] + k) + 0.5 * X[:, -1] ** 2 for k in range(K)])
    return X, Y + 0.1 * rng.standard_normal(Y.shape)


def _trained(X, Y, beta, *, width, seed, bias=False, penalize_bias=False, steps=400):
    """The same model trained by Adam then L-BFGS (ParallelNet, or MLP for unregularized biases)."""
    d, K = X.shape[1], Y.shape[1]
    if bias and not penalize_bias:
        net = dd.MLP([d, width, K], activation="relu", bias=True, seed=seed)
    else:
        net = dd.ParallelNet(d, K, branches=width, activation="relu", bias=bias, penalize_bias=penalize_bias,
                             seed=seed)
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)

    def loss():
        return (0.5 * ((net(Xt) - Yt) ** 2).sum() + 0.5 * beta * net.penalty()).reshape(1)

    adam_then_lbfgs(list(net.parameters()), loss, lr=0.02, adam_steps=steps, lbfgs_iter=100, lbfgs_restarts=2)
    return net


# ------------------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("n, d, where", [(60, 2, "arc sweep"), (40, 3, "enumeration"), (10, 5, "enumeration")])
def test_gap_closes_for_the_convex_optimum(n, d, where):
    """On a complete pattern set the convex program is exact and the bound on c(r) too (rank 2: the arc
    sweep; rank 3: branch and bound does not close where many neurons attain c(r) = β, the enumeration
    of the cells does), so the certificate of its network has a gap at the solver's tolerance."""
    X, Y = _data(n, d)
    beta = 0.1
    sol = dd.convex_relu(X, Y, beta=beta)
    assert sol.details["complete"]
    cert = dd.certify(sol.network, X, Y, beta=beta, time_budget=5.0)
    assert isinstance(cert, ReLUCertificate) and cert.biases == "none"
    assert where in cert.bound_method and cert.c_exact
    assert cert.objective == pytest.approx(sol.objective, rel=1e-12)
    assert 0 <= cert.relative_gap <= 1e-7
    assert cert.c_upper == pytest.approx(beta, rel=1e-6)  # c(r) = β at the optimum (KKT)
    assert cert.lower_bound <= sol.optimum * (1 + ROUND)


def test_exact_certificate_of_a_vector_output_optimum_on_whitened_data():
    """Theorem 4.3 (L = 2): the closed form's network is certified with gap ~0 by the new bound too."""
    rng = np.random.default_rng(3)
    X = np.linalg.qr(rng.standard_normal((12, 8)))[0].T  # 8 orthonormal rows in R^12
    Y = dd.one_hot([0, 1, 2, 0, 1, 2, 0, 1]).Y
    sol = dd.closed_form(X, Y, beta=0.2, depth=2, activation="relu")
    cert = dd.certify(sol.network, X, Y, beta=0.2)
    assert cert.relative_gap <= 1e-9


# ------------------------------------------------------------------------------- validity (oracle)
@pytest.mark.oracle
@pytest.mark.parametrize("bias, penalize", [(False, False), (True, True), (True, False)])
def test_lower_bound_below_every_trained_network(bias, penalize):
    X, Y = _data(30, 3, seed=1)
    beta = 0.3
    nets = [_trained(X, Y, beta, width=8, seed=0, bias=bias, penalize_bias=penalize)]
    fresh = _trained(X, Y, beta, width=4, seed=2, bias=bias, penalize_bias=penalize, steps=0)
    values = [dd.objective(net, X, Y, beta=beta) for net in nets]
    if not bias:  # the exact program of the same model (no biases) attains P*
        values.append(dd.convex_relu(X, Y, beta=beta).objective)
    for net in nets + [fresh]:
        cert = dd.certify(net, X, Y, beta=beta, time_budget=1.0)
        assert cert.biases == ("none" if not bias else "regularized" if penalize else "unregularized")
        assert cert.objective == pytest.approx(dd.objective(net, X, Y, beta=beta), rel=1e-12)
        assert math.isfinite(cert.lower_bound)
        for v in values:
            assert cert.lower_bound <= v * (1 + ROUND), (cert.method, cert.lower_bound, v)


@pytest.mark.parametrize("K", [1, 3])
def test_never_looser_than_the_old_spectral_bound(K):
    X, Y = _data(40, 6, K=K, seed=2)
    beta = 0.5
    for seed in range(3):
        net = dd.ParallelNet(6, K, branches=5, activation="relu", seed=seed, init_scale=0.5)
        old, _ = relu_dual_bound(Y - forward_numpy(net, X), X, Y, beta)
        cert = dd.certify(net, X, Y, beta=beta, time_budget=0.5)
        assert cert.lower_bound >= old - 1e-12 * abs(old)
        assert cert.lower_bound <= cert.objective


def test_unregularized_biases_bound_exceeds_dense_sampling_and_is_tight_in_2d():
    """sup over ‖u‖ <= 1 and every bias b of |λᵀ(Xu + b)₊| (λ the centred residual), sampled on a fine
    grid of angles with b at every kink — the proven bound must exceed it, and be close with time."""
    X, Y = _data(12, 2, seed=4)
    net = dd.MLP([2, 6, 1], activation="relu", bias=True, seed=0)
    cert = dd.certify(net, X, Y, beta=0.05, time_budget=5.0)
    lam = (Y - forward_numpy(net, X))[:, 0]
    lam = lam - lam.mean()
    th = np.linspace(0, 2 * np.pi, 20001)
    U = np.stack([np.cos(th), np.sin(th)])
    T = X @ U                                             # (n, angles)
    B = -T                                                # kinks b = −x_kᵀu: (k, angles)
    H = np.maximum(T[None, :, :] + B[:, None, :], 0.0)    # (k, i, angles)
    sampled = float(np.max(np.abs(np.einsum("i,kia->ka", lam, H))))
    assert cert.c_upper >= sampled
    assert cert.c_upper <= sampled * (1 + 1e-3), cert.bound_method
    assert cert.biases == "unregularized" and "kinks" in cert.bound_method


# ------------------------------------------------------------------------------------ the record
def test_time_budget_is_kept_and_reported():
    X, Y = _data(200, 10, seed=5)
    net = dd.ParallelNet(10, 1, branches=20, activation="relu", seed=0, init_scale=0.3)
    start = time.perf_counter()
    cert = dd.certify(net, X, Y, beta=1.0, time_budget=0.4)
    elapsed = time.perf_counter() - start
    assert elapsed <= 0.4 + 1.5  # budget plus set-up and one last step
    assert cert.time_budget == 0.4 and 0 < cert.bound_seconds <= elapsed
    assert cert.c_estimate <= cert.c_upper and cert.lower_bound <= cert.objective
    assert f"{cert.bound_seconds:.2g} s" in cert.method and "proven by" in cert.method
    rec = cert.to_dict()
    for key in ("bound_method", "bound_seconds", "c_upper", "c_estimate", "time_budget", "relative_gap"):
        assert key in rec
    assert rec["relative_gap"] == pytest.approx(cert.gap / cert.objective)


@pytest.mark.parametrize("bad, exc", [(-1.0, ValueError), (0.0, ValueError), (float("nan"), ValueError),
                                      (float("inf"), ValueError), ("1", TypeError), (True, TypeError)])
def test_bad_time_budget(bad, exc):
    X, Y = _data(10, 2)
    net = dd.ParallelNet(2, 1, branches=2, activation="relu", seed=0)
    with pytest.raises(exc, match="time_budget"):
        dd.certify(net, X, Y, beta=0.1, time_budget=bad)


@pytest.mark.oracle
@pytest.mark.parametrize("bias", [False, True])
def test_joint_dual_point_is_a_valid_certificate(bias):
    """High rank, incomplete patterns: the dual point and the multipliers optimized together. Its bound
    on c(λ) exceeds every sampled direction (and every kink-free bias), and its lower bound stays below
    the convex program's network and a trained one."""
    X, Y = _data(60, 6, seed=6)
    beta = 0.5
    net = _trained(X, Y, beta, width=10, seed=0, bias=bias, penalize_bias=bias, steps=300)
    cert = dd.certify(net, X, Y, beta=beta, time_budget=3.0)
    assert cert.bound_method.startswith("joint dual point"), cert.bound_method
    lam = cert.dual[:, 0]
    if bias:
        assert abs(lam.sum()) <= 1e-12 * np.abs(lam).sum()
    Xp = np.hstack([X, np.ones((60, 1))]) if bias else X
    U = np.random.default_rng(0).standard_normal((Xp.shape[1], 20000))
    U /= np.linalg.norm(U, axis=0)
    sampled = float(np.max(np.abs(lam @ np.maximum(Xp @ U, 0.0))))
    assert sampled <= beta * (1 + 1e-12)  # λ is dual feasible on every sampled direction
    sol = dd.convex_relu(X, Y, beta=beta, bias=bias, time_budget=3.0, bound_budget=0.5)
    for v in (sol.objective, cert.objective):
        assert cert.lower_bound <= v * (1 + ROUND)
    old, _ = relu_dual_bound(Y - forward_numpy(net, X), X, Y, beta) if not bias else (-math.inf, None)
    assert cert.lower_bound >= old
