"""Two-layer ReLU networks with biases on 1-D data (Theorem 4.2, Corollary 4.1): the exact Lasso solver,
the network built from it, and the global-optimality certificate — against CVXPY, dense linear algebra,
the linear spline interpolant, brute-force random networks and gradient training."""

from __future__ import annotations

import cvxpy as cp  # a test dependency: missing means failing, not skipping
import numpy as np
import pytest
import torch

import deepdual as dd
from deepdual.certificates import certify_spline
from deepdual.networks import ParallelNet, forward_numpy, objective, penalty
from deepdual.solution import NoCertificateError
from deepdual.theorems.spline import spline_closed_form, spline_lasso


# ----------------------------------------------------------------------------------------- oracles
def dense_atoms(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Φ with columns (x − t)₊ then (t − x)₊ for every t in ``knots``."""
    return np.hstack([np.maximum(x[:, None] - knots[None, :], 0.0),
                      np.maximum(knots[None, :] - x[:, None], 0.0)])


def cvxpy_lasso(x, y, beta):
    Phi = dense_atoms(x, x)
    z = cp.Variable(Phi.shape[1])
    c = cp.Variable()
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Phi @ z + c - y) + beta * cp.norm1(z)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return float(prob.value)


def lasso_value(res, x, y, beta):
    """Objective of the returned (z, c) with dense Φ on the original points."""
    f = dense_atoms(x, res.knots) @ np.concatenate([res.right, res.left]) + res.intercept
    return 0.5 * float(np.sum((f - y) ** 2)) + beta * res.l1_norm


def dual_value(lam, x, y, beta):
    """D(λ) = λᵀy − ½‖λ‖², after checking dual feasibility with dense Φ."""
    assert abs(lam.sum()) <= 1e-9 * max(1.0, np.abs(lam).sum())
    corr = dense_atoms(x, x).T @ lam
    assert np.max(np.abs(corr)) <= beta * (1 + 1e-9) + 1e-12
    return float(lam @ y - 0.5 * lam @ lam)


def random_problem(rng, n, duplicates=False):
    x = rng.standard_normal(n) * rng.choice([0.1, 1.0, 10.0])
    if duplicates:
        x = np.round(x, 0 if abs(x).max() > 2 else 1)
    y = np.sin(2 * x / np.std(x)) + 0.3 * rng.standard_normal(n)
    return x, y * rng.choice([0.1, 1.0, 10.0])


CASES = [(seed, n, scale) for seed, (n, scale) in enumerate(
    [(5, 1e-6), (8, 1e-3), (12, 1e-2), (20, 0.1), (25, 1.0), (33, 10.0), (40, 1e3), (60, 0.03),
     (60, 3e-5), (47, 0.3)])]


# --------------------------------------------------------------------- the Lasso vs CVXPY, dual
@pytest.mark.parametrize("seed,n,scale", CASES)
def test_lasso_matches_cvxpy_and_certificate(seed, n, scale):
    rng = np.random.default_rng(seed)
    x, y = random_problem(rng, n, duplicates=seed % 3 == 0)
    beta = scale * float(np.std(y) * np.std(x))
    res = spline_lasso(x, y, beta=beta)
    ref = cvxpy_lasso(x, y, beta)
    assert res.objective == pytest.approx(ref, rel=1e-7, abs=1e-12)
    # value and certificate are what they claim, recomputed with dense linear algebra
    assert lasso_value(res, x, y, beta) == pytest.approx(res.objective, rel=1e-10, abs=1e-14)
    assert dual_value(res.dual, x, y, beta) == pytest.approx(res.lower_bound, rel=1e-10, abs=1e-14)
    assert -1e-12 * max(1.0, res.objective) <= res.gap <= 1e-8 * max(1.0, res.objective)
    assert res.lower_bound <= ref * (1 + 1e-9) + 1e-12


@pytest.mark.parametrize("seed,n,scale", CASES[::2])
def test_network_reaches_lasso_value_with_kinks_at_data(seed, n, scale):
    rng = np.random.default_rng(100 + seed)
    x, y = random_problem(rng, n, duplicates=seed % 2 == 0)
    beta = scale * float(np.std(y) * np.std(x))
    sol = spline_closed_form(x.reshape(-1, 1), y, beta=beta)
    res = sol.details["lasso"]
    value = objective(sol.network, x.reshape(-1, 1), y, beta=beta)
    assert value == pytest.approx(res.objective, rel=1e-10, abs=1e-14)
    assert sol.objective == pytest.approx(value, rel=1e-12, abs=1e-15)
    assert sol.theorem == "Theorem 4.2 / Corollary 4.1"
    assert sol.gap <= 1e-8 * max(1.0, sol.objective) and sol.lower_bound <= sol.objective + 1e-12
    # one balanced neuron per atom, every breakpoint −b/w a data point
    W1 = sol.network.weights[0].detach().numpy().ravel()
    b1 = sol.network.biases[0].detach().numpy().ravel()
    W2 = sol.network.weights[1].detach().numpy().ravel()
    active = W1 != 0
    assert active.sum() == res.support and sol.network.branches == max(res.support, 1)
    np.testing.assert_allclose(np.abs(W1), np.abs(W2), rtol=1e-15)
    breaks = -b1[active] / W1[active]
    assert np.all(np.min(np.abs(breaks[:, None] - x[None, :]), axis=1) <= 1e-12 * (1 + np.abs(breaks)))
    # the certificate of the built network agrees with the Lasso certificate
    cert = certify_spline(sol.network, x, y, beta=beta)
    assert cert.gap <= 1e-8 * max(1.0, cert.objective)
    assert cert.method == "1-D ReLU dual over all breakpoints (Theorem 4.2)" and cert.exact is False


def test_branches_argument_pads_with_zero_neurons():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal(15), rng.standard_normal(15)
    sol = spline_closed_form(x, y, beta=0.05)
    m = sol.network.branches
    assert m > 1
    wide = spline_closed_form(x, y, beta=0.05, branches=m + 5)
    assert wide.network.branches == m + 5
    assert wide.objective == pytest.approx(sol.objective, rel=1e-12)
    with pytest.raises(ValueError, match=f"`branches` == {m - 1} but the optimal network needs {m}"):
        spline_closed_form(x, y, beta=0.05, branches=m - 1)


def test_large_beta_gives_the_constant_and_small_n():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(10), rng.standard_normal(10)
    res = spline_lasso(x, y, beta=1e6)
    assert res.support == 0 and res.intercept == pytest.approx(y.mean(), abs=1e-12)
    assert res.objective == pytest.approx(0.5 * np.sum((y - y.mean()) ** 2), rel=1e-12)
    one = spline_lasso([1.0], [2.0], beta=0.3)
    assert one.objective == pytest.approx(0.0, abs=1e-15) and one.intercept == 2.0
    for beta in (1e-3, 0.4, 10.0):
        two = spline_lasso([0.0, 1.0, 1.0], [0.0, 1.0, 3.0], beta=beta)
        assert two.objective == pytest.approx(cvxpy_lasso(np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 3.0]), beta),
                                          rel=1e-7, abs=1e-12)


def test_affine_and_single_left_neuron_data():
    """Regimes where an affine atom or only left atoms carry the end slope (m₁ = N ties)."""
    x = np.linspace(-1, 1, 21)
    for y in (2 * x + 1, np.maximum(0.3 - x, 0.0), -np.maximum(x - 0.2, 0) + 0.5 * x, np.abs(x)):
        for beta in (1e-4, 0.05, 0.5):
            res = spline_lasso(x, y, beta=beta)
            assert res.objective == pytest.approx(cvxpy_lasso(x, y, beta), rel=1e-7, abs=1e-12)
            assert res.gap <= 1e-10 * max(1.0, res.objective)


# ------------------------------------------------------------------------ beta -> 0: the spline
@pytest.mark.parametrize("beta", [0.0, 1e-12])
def test_beta_to_zero_is_the_linear_spline_interpolant(beta):
    rng = np.random.default_rng(11)
    x = rng.uniform(-2, 2, 15)
    y = rng.standard_normal(15)
    x = np.concatenate([x, x[:3]])          # repeated points with equal targets are fine
    y = np.concatenate([y, y[:3]])
    sol = spline_closed_form(x, y, beta=beta)
    grid = np.linspace(x.min(), x.max(), 400)
    order = np.argsort(x)
    expected = np.interp(grid, x[order], y[order])
    np.testing.assert_allclose(sol.predict(grid.reshape(-1, 1)).ravel(), expected, atol=1e-8)
    if beta == 0.0:
        res = sol.details["lasso"]
        # min ‖z‖₁ s.t. Φz + c = y, independently by CVXPY; the network penalty is 2‖z‖₁
        Phi = dense_atoms(x, x)
        z = cp.Variable(Phi.shape[1])
        c = cp.Variable()
        ref = cp.Problem(cp.Minimize(cp.norm1(z)), [Phi @ z + c == y])
        ref.solve(solver=cp.CLARABEL)
        assert res.objective == pytest.approx(ref.value, rel=1e-7)
        assert sol.objective == pytest.approx(2 * res.objective, rel=1e-12)
        assert sol.objective == pytest.approx(penalty(sol.network), rel=1e-15)
        assert 0 <= sol.gap <= 1e-10 * sol.objective
        cert = certify_spline(sol.network, x, y, beta=0.0)
        assert cert.exact and abs(cert.gap) <= 1e-10 * cert.objective


# ------------------------------------------------------------- brute force: network >= Lasso
def test_random_networks_never_beat_the_lasso():
    """Networks with kinks between data points (or outside, or constant neurons), output layer fitted by
    ridge regression so that they are competitive, never go below the Lasso optimum."""
    rng = np.random.default_rng(5)
    x = np.sort(rng.uniform(-1, 1, 9))
    y = rng.standard_normal(9)
    X = x.reshape(-1, 1)
    for beta in (1e-3, 0.05, 0.5):
        best = spline_lasso(x, y, beta=beta).objective
        for trial in range(40):
            m = int(rng.integers(1, 12))
            gaps = rng.integers(0, 8, m)
            kinks = x[gaps] + rng.uniform(0.05, 0.95, m) * (x[gaps + 1] - x[gaps])   # strictly between points
            kinks[rng.random(m) < 0.15] += 3.0                                        # some outside the range
            w = rng.choice([-1.0, 1.0], m) * rng.uniform(0.3, 2.0, m)
            w[rng.random(m) < 0.1] = 0.0                                             # some constant neurons
            b = np.where(w != 0, -w * kinks, rng.standard_normal(m))
            H = np.maximum(np.outer(x, w) + b, 0.0)
            Hc = H - H.mean(axis=0)
            v = np.linalg.solve(Hc.T @ Hc + beta * np.eye(m), Hc.T @ (y - y.mean()))
            c = float(np.mean(y - H @ v))
            net = ParallelNet(1, 1, depth=2, branches=m, activation="relu", bias=True, seed=trial)
            net.set_weights([w.reshape(m, 1, 1), v.reshape(m, 1, 1)], biases=[b.reshape(m, 1, 1)], out_bias=[c])
            value = objective(net, X, y, beta=beta)
            assert value >= best * (1 - 1e-12)
            cert = certify_spline(net, x, y, beta=beta)
            assert cert.lower_bound <= best * (1 + 1e-12) + 1e-14
            assert cert.gap >= value - best - 1e-12


# ------------------------------------------------------------------ gradient training vs exact
def _train(x, y, beta, m, seed, adam_steps=400, lbfgs_steps=100):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threading only adds overhead
    try:
        return _train_loop(x, y, beta, m, seed, adam_steps, lbfgs_steps)
    finally:
        torch.set_num_threads(threads)


def _train_loop(x, y, beta, m, seed, adam_steps, lbfgs_steps):
    torch.manual_seed(seed)
    net = ParallelNet(1, 1, depth=2, branches=m, activation="relu", bias=True, seed=seed)
    with torch.no_grad():
        net.biases[0].copy_(torch.randn_like(net.biases[0]) * 0.5)
    X = torch.as_tensor(x.reshape(-1, 1))
    Y = torch.as_tensor(y.reshape(-1, 1))

    def loss_fn():
        return 0.5 * ((net(X) - Y) ** 2).sum() + 0.5 * beta * net.penalty()

    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(adam_steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    lb = torch.optim.LBFGS(net.parameters(), lr=1.0, max_iter=lbfgs_steps, tolerance_grad=1e-12,
                           tolerance_change=1e-15, history_size=50, line_search_fn="strong_wolfe")

    def closure():
        lb.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    lb.step(closure)
    return net


STALLS: list[float] = []


@pytest.mark.parametrize("seed", range(4))
def test_gradient_training_never_beats_the_exact_optimum(seed):
    rng = np.random.default_rng(1000 + seed)
    x = rng.uniform(-1, 1, 8)
    y = rng.standard_normal(8)
    beta = 0.05
    exact = spline_lasso(x, y, beta=beta)
    net = _train(x, y, beta, m=30, seed=seed)
    value = objective(net, x.reshape(-1, 1), y, beta=beta)
    assert value >= exact.objective * (1 - 1e-9)
    cert = certify_spline(net, x, y, beta=beta)
    assert cert.objective == pytest.approx(value, rel=1e-12)
    assert cert.lower_bound <= exact.objective * (1 + 1e-12) + 1e-14
    assert cert.gap >= value - exact.objective - 1e-12 * max(1.0, value)
    STALLS.append((value - exact.objective) / exact.objective)
    print(f"seed {seed}: trained {value:.10g} exact {exact.objective:.10g} excess {STALLS[-1]:.3e} "
          f"certified gap {cert.gap:.3e}")


# -------------------------------------------------------------------------------- certificates
def test_certificate_rejects_other_architectures():
    x, y = np.linspace(0, 1, 5), np.arange(5.0)
    with pytest.raises(NoCertificateError, match="bias=False"):
        certify_spline(ParallelNet(1, 1, depth=2, branches=3, activation="relu"), x, y, beta=0.1)
    with pytest.raises(NoCertificateError, match="depth=3"):
        certify_spline(ParallelNet(1, 1, depth=3, branches=3, activation="relu", bias=True), x, y, beta=0.1)
    with pytest.raises(NoCertificateError, match="activation='linear'"):
        certify_spline(ParallelNet(1, 1, depth=2, branches=3, bias=True), x, y, beta=0.1)
    net = ParallelNet(1, 1, depth=2, branches=3, activation="relu", bias=True, seed=0)
    with pytest.raises(NoCertificateError, match="does not interpolate"):
        certify_spline(net, x, y, beta=0.0)
    with pytest.raises(TypeError, match="ParallelNet or MLP"):
        certify_spline(object(), x, y, beta=0.1)


# ------------------------------------------------------------------------------------ bad inputs
def test_bad_inputs():
    x = np.array([0.0, 1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"repeated values of `x` have different targets `y`.*beta > 0"):
        spline_lasso(x, [0.0, 1.0, 2.0, 3.0], beta=0.0)
    with pytest.raises(ValueError, match=r"repeated values of `x`"):
        spline_closed_form(x, [0.0, 1.0, 2.0, 3.0], beta=0.0)
    with pytest.raises(ValueError, match="`x` contains 1 NaN"):
        spline_lasso([0.0, np.nan, 1.0], [1.0, 2.0, 3.0], beta=0.1)
    with pytest.raises(ValueError, match="`y` contains 1 NaN"):
        spline_closed_form([0.0, 0.5, 1.0], [1.0, np.nan, 3.0], beta=0.1)
    with pytest.raises(ValueError, match=r"`beta` == -1.0, must be >= 0"):
        spline_lasso([0.0, 1.0], [1.0, 2.0], beta=-1.0)
    with pytest.raises(ValueError, match=r"`x` has shape \(3, 2\).*single feature"):
        spline_closed_form(np.zeros((3, 2)), np.zeros(3), beta=0.1)
    with pytest.raises(ValueError, match=r"`y` has shape \(3, 2\).*scalar outputs"):
        spline_lasso(np.zeros(3), np.zeros((3, 2)), 0.1)
    with pytest.raises(ValueError, match="`x` has 3 points but `y` has 2"):
        spline_lasso(np.zeros(3), np.zeros(2), 0.1)
    with pytest.raises(ValueError, match="`tol` == 0.0, must be > 0"):
        spline_lasso(np.arange(3.0), np.zeros(3), 0.1, tol=0.0)
    with pytest.raises(ValueError, match=r"`x` has shape \(3, 2\)"):
        certify_spline(ParallelNet(1, 1, depth=2, activation="relu", bias=True), np.zeros((3, 2)), np.zeros(3),
                       beta=0.1)


def test_predict_and_result_fields():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(30), rng.standard_normal(30)
    res = spline_lasso(x.reshape(-1, 1), y.reshape(-1, 1), 0.02)
    assert res.knots.shape == res.right.shape == res.left.shape == (30,)
    assert res.dual.shape == (30,)
    f = res.predict(x.reshape(-1, 1))
    np.testing.assert_allclose(f, dense_atoms(x, res.knots) @ np.concatenate([res.right, res.left]) + res.intercept,
                               atol=1e-12)
    with pytest.raises(ValueError, match="x_new"):
        res.predict(np.zeros((2, 2)))


@pytest.mark.parametrize("x_scale, beta", [(1e149, 1e-300), (1.0, 1e-300), (1e140, 1e-150)])
def test_beta_below_round_off_in_normalized_units_is_the_certified_interpolant(x_scale, beta):
    """β/(aν) under 1e-280 (it underflowed to 0 for x·1e149, β = 1e-300 and returned a false bound of 182):
    the answer is the interpolant, certified by the scaled minimum-norm dual, never a bound above it."""
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-1, 1, 9)) * x_scale
    y = rng.standard_normal(9)
    res = spline_lasso(x, y, beta=beta)
    assert 0.0 <= res.lower_bound <= res.objective
    # objective = β‖z‖₁ of the interpolant in original units (zero residual); compare with R(y) directly
    R = np.abs(res.right).sum() + np.abs(res.left).sum()
    assert res.objective == pytest.approx(beta * R, rel=1e-12, abs=1e-320)
    sol = dd.closed_form(x[:, None], y, beta=beta, depth=2, activation="relu", bias=True)
    assert 0.0 <= sol.lower_bound <= sol.objective
    f = forward_numpy(sol.network, x[:, None]).ravel()
    np.testing.assert_allclose(f, y, rtol=0, atol=1e-10 * np.abs(y).max())
