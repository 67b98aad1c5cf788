"""Independent oracles for the exact 1-D solvers (SPEC §1 and the ridge path of §3).

Nothing here looks at how ``deepdual`` computes s*, τ or the ridge-path optimum. The oracles are:

* a dense grid over ``s`` (or over directions and norms for ``d = 2``) refined by a bounded local
  search — an upper bound on the true minimum that the exact solver must never lose to;
* the closed form of the jump point, derived by hand: at ``σ = τ`` the objective at the positive
  stationary point equals ``½σ²`` *and* its derivative vanishes, which gives
  ``s_τ = (β(L−2))^{L/(2L−2)}`` and ``τ = s_τ + β s_τ^{(2−L)/L}``;
* L-BFGS (float64, strong Wolfe) on ``v`` from several random starts, and CVXPY for ``L = 2``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize, minimize_scalar

import deepdual as dd

pytestmark = pytest.mark.oracle  # checked against independent references (SPEC §7 oracles)

# ----------------------------------------------------------------------------- oracles


def scalar_obj(s, sigma, beta, L):
    """½(σ − s)² + (βL/2) s^{2/L} for s >= 0 (vectorized over s)."""
    s = np.asarray(s, dtype=np.float64)
    return 0.5 * (sigma - s) ** 2 + 0.5 * beta * L * np.power(np.maximum(s, 0.0), 2.0 / L)


def brute_scalar_min(sigma, beta, L, n_grid=200_001):
    """Dense grid on [0, max(σ, 0)] then a bounded local search around the best grid point."""
    hi = max(float(sigma), 0.0) + 1e-12
    grid = np.linspace(0.0, hi, n_grid)
    vals = scalar_obj(grid, sigma, beta, L)
    k = int(np.argmin(vals))
    best_s, best_v = float(grid[k]), float(vals[k])
    lo_b, hi_b = grid[max(k - 1, 0)], grid[min(k + 1, n_grid - 1)]
    if hi_b > lo_b:
        res = minimize_scalar(lambda s: float(scalar_obj(s, sigma, beta, L)), bounds=(lo_b, hi_b),
                              method="bounded", options={"xatol": 1e-15})
        if res.fun < best_v:
            best_s, best_v = float(res.x), float(res.fun)
    return best_s, best_v, float(vals.min())


def analytic_threshold(beta, L):
    """τ_L(β) from the two conditions f(s) = ½σ², f'(s) = 0 (hand derivation, see module doc)."""
    if L == 2:
        return float(beta)
    s_tau = (beta * (L - 2)) ** (L / (2 * L - 2))
    return s_tau + beta * s_tau ** ((2 - L) / L)


def jump_size(beta, L):
    return (beta * (L - 2)) ** (L / (2 * L - 2))


def ridge_obj(v, X, y, beta, L):
    v = np.asarray(v, dtype=np.float64)
    r = X @ v - y
    return 0.5 * float(r @ r) + 0.5 * beta * L * float(np.linalg.norm(v)) ** (2.0 / L)


def lbfgs_ridge(X, y, beta, L, seeds=(0, 1, 2, 3)):
    """Minimize ½‖Xv − y‖² + (βL/2)‖v‖^{2/L} by L-BFGS from random non-zero starts."""
    Xt = torch.as_tensor(X)
    yt = torch.as_tensor(y)
    values = []
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        v = torch.randn(X.shape[1], generator=g, dtype=torch.float64).requires_grad_(True)
        opt = torch.optim.LBFGS([v], lr=1.0, max_iter=300, history_size=50, tolerance_grad=1e-13,
                                tolerance_change=1e-16, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = 0.5 * ((Xt @ v - yt) ** 2).sum() + 0.5 * beta * L * (v @ v) ** (1.0 / L)
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        values.append(ridge_obj(v.detach().numpy(), X, y, beta, L))
    return values


# ----------------------------------------------------------------------------- s*(σ; β, L)


def _cases(seed, count):
    rng = np.random.default_rng(seed)
    sig = rng.uniform(0.0, 6.0, count)
    beta = np.exp(rng.uniform(np.log(0.05), np.log(3.0), count))
    return list(zip(sig, beta))


@pytest.mark.parametrize("L", [2, 3, 4, 5, 7])
def test_optimal_amplitude_never_loses_to_dense_grid(L):
    for sigma, beta in _cases(L, 40):
        s = float(dd.optimal_amplitude(sigma, beta=beta, depth=L))
        assert 0.0 <= s <= sigma + 1e-12
        f_star = float(scalar_obj(s, sigma, beta, L))
        _, refined, grid_min = brute_scalar_min(sigma, beta, L)
        # the exact solver is never worse than the grid (or its local refinement) ...
        assert f_star <= grid_min + 1e-12, (sigma, beta, L, f_star, grid_min)
        assert f_star <= refined + 1e-12, (sigma, beta, L, f_star, refined)
        # ... and the 0 candidate is always considered
        assert f_star <= 0.5 * sigma**2 + 1e-15


@pytest.mark.parametrize("L", [3, 4, 5, 6])
def test_optimal_amplitude_positive_root_is_stationary(L):
    for sigma, beta in _cases(100 + L, 40):
        s = float(dd.optimal_amplitude(sigma, beta=beta, depth=L))
        if s > 0:
            # σ = s + β s^{(2−L)/L}
            assert sigma == pytest.approx(s + beta * s ** ((2 - L) / L), rel=1e-10, abs=1e-12)


def test_optimal_amplitude_soft_threshold_for_L2():
    rng = np.random.default_rng(7)
    sig = rng.uniform(0, 5, 200)
    for beta in (0.0, 0.3, 1.0, 2.5):
        got = np.asarray(dd.optimal_amplitude(sig, beta=beta, depth=2), dtype=float)
        np.testing.assert_allclose(got, np.maximum(sig - beta, 0.0), rtol=0, atol=1e-12)


@pytest.mark.parametrize("L", [2, 3, 5])
def test_optimal_amplitude_vectorized_matches_scalar_calls(L):
    rng = np.random.default_rng(11)
    sig = rng.uniform(0, 4, (3, 5))
    got = np.asarray(dd.optimal_amplitude(sig, beta=0.7, depth=L), dtype=float)
    assert got.shape == sig.shape
    want = np.array([[float(dd.optimal_amplitude(float(x), beta=0.7, depth=L)) for x in row] for row in sig])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)


@pytest.mark.parametrize("L", [2, 3, 4, 5, 8])
@pytest.mark.parametrize("beta", [0.01, 0.3, 1.0, 4.0, 20.0, 150.0])
def test_amplitude_threshold_matches_hand_derivation_and_jumps(L, beta):
    tau = float(dd.amplitude_threshold(beta=beta, depth=L))
    assert tau == pytest.approx(analytic_threshold(beta, L), rel=1e-10)
    eps = 1e-7
    assert float(dd.optimal_amplitude(tau * (1 - eps), beta=beta, depth=L)) == 0.0
    above = float(dd.optimal_amplitude(tau * (1 + eps), beta=beta, depth=L))
    assert above > 0.0
    if L > 2:
        # a genuine jump: the amplitude leaps from 0 to about s_τ = (β(L−2))^{L/(2L−2)}
        assert above == pytest.approx(jump_size(beta, L), rel=1e-2)
    # brute force agrees on both sides of τ: 0 is optimal below, a positive s above
    for sig, positive in ((tau * (1 - 1e-3), False), (tau * (1 + 1e-3), True)):
        s_b, _, _ = brute_scalar_min(sig, beta, L, n_grid=20_001)
        assert (s_b > 0) == positive


@pytest.mark.parametrize("L", [3, 4, 5, 8])
@pytest.mark.parametrize("beta", [0.01, 0.3, 1.0, 4.0])
def test_threshold_jumps_above_beta_for_deep_nets(L, beta):
    """SPEC §1: for L > 2 the threshold exceeds β, so σ slightly above β is dropped.

    (True for these β; see the next test for the large-β regime where it is not.)
    """
    tau = float(dd.amplitude_threshold(beta=beta, depth=L))
    assert tau > beta * (1 + 1e-3)
    sigma = 0.5 * (beta + tau)  # in (β, τ)
    assert float(dd.optimal_amplitude(sigma, beta=beta, depth=L)) == 0.0
    s_b, _, _ = brute_scalar_min(sigma, beta, L)
    assert s_b == 0.0


@pytest.mark.parametrize("L", [3, 4, 5])
def test_threshold_falls_below_beta_for_large_beta(L):
    """The s^{2/L} penalty is not 2-homogeneous: τ_L(β) = c_L β^{L/(2L−2)} < β once β is large.

    Above β* = c_L^{(2L−2)/(L−2)} a singular value *below* β is kept. Brute force confirms it.
    """
    a = L / (2 * L - 2)
    c = (L - 2) ** a + (L - 2) ** ((2 - L) / (2 * L - 2))
    beta = 2.0 * c ** ((2 * L - 2) / (L - 2))
    tau = float(dd.amplitude_threshold(beta=beta, depth=L))
    assert tau < beta
    sigma = 0.5 * (tau + beta)
    s = float(dd.optimal_amplitude(sigma, beta=beta, depth=L))
    s_b, f_b, _ = brute_scalar_min(sigma, beta, L)
    assert s > 0 and s_b > 0
    assert float(scalar_obj(s, sigma, beta, L)) <= f_b + 1e-10


# ----------------------------------------------------------------------------- ridge path


def _ridge_problem(seed, n=7, d=2, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = scale * rng.standard_normal(n)
    return X, y


def brute_ridge_2d(X, y, beta, L, n_dir=1440, n_norm=600):
    """Grid over directions θ and norms r of v = r(cos θ, sin θ), refined by Nelder–Mead."""
    r_max = 2.0 * np.linalg.norm(np.linalg.lstsq(X, y, rcond=None)[0]) + 1e-3
    th = np.linspace(0, 2 * np.pi, n_dir, endpoint=False)
    r = np.linspace(0, r_max, n_norm)
    U = np.stack([np.cos(th), np.sin(th)], axis=1)  # (n_dir, 2)
    XU = U @ X.T  # (n_dir, n)
    # residuals for every (θ, r): r*XU − y
    R = r[None, :, None] * XU[:, None, :] - y[None, None, :]
    vals = 0.5 * (R**2).sum(-1) + 0.5 * beta * L * r[None, :] ** (2.0 / L)
    i, j = np.unravel_index(np.argmin(vals), vals.shape)
    grid_min = float(vals[i, j])
    v0 = r[j] * U[i]
    best = grid_min
    if r[j] > 0:
        res = minimize(lambda v: ridge_obj(v, X, y, beta, L), v0, method="Nelder-Mead",
                       options={"xatol": 1e-13, "fatol": 1e-15, "maxiter": 20_000})
        best = min(best, float(res.fun))
    return grid_min, best


@pytest.mark.parametrize("L", [2, 3, 4, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ridge_path_beats_brute_force_2d(L, seed):
    X, y = _ridge_problem(seed)
    for frac in (0.05, 0.3, 0.8):
        beta = frac * float(np.linalg.norm(X.T @ y))
        res = dd.ridge_path_solution(X, y, beta=beta, depth=L)
        # its value is the objective of its v
        assert res.objective == pytest.approx(ridge_obj(res.v, X, y, beta, L), rel=1e-12, abs=1e-14)
        grid_min, refined = brute_ridge_2d(X, y, beta, L)
        assert res.objective <= grid_min + 1e-10
        assert res.objective <= refined + 1e-10
        assert refined >= res.objective - 1e-9 * max(1.0, res.objective)  # brute force never strictly lower


@pytest.mark.parametrize("L", [2, 3, 4, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_ridge_path_matches_lbfgs_from_several_starts(L, seed):
    X, y = _ridge_problem(10 + seed, n=9, d=5)
    beta = 0.25 * float(np.linalg.norm(X.T @ y))
    res = dd.ridge_path_solution(X, y, beta=beta, depth=L)
    vals = lbfgs_ridge(X, y, beta, L) + [0.5 * float(y @ y)]
    assert min(vals) == pytest.approx(res.objective, rel=1e-8)
    assert all(v >= res.objective * (1 - 1e-9) for v in vals)


@pytest.mark.parametrize("L", [2, 3, 4])
def test_ridge_path_solution_lies_on_ridge_path(L):
    """Thm 3.3: a non-zero optimum is v(μ) = (XᵀX + μI)⁻¹Xᵀy with μ‖v‖^{2−2/L} = β."""
    X, y = _ridge_problem(21, n=9, d=4)
    beta = 0.05 * float(np.linalg.norm(X.T @ y))
    res = dd.ridge_path_solution(X, y, beta=beta, depth=L)
    assert np.linalg.norm(res.v) > 0
    mu = float(res.mu)
    v_mu = np.linalg.solve(X.T @ X + mu * np.eye(X.shape[1]), X.T @ y)
    np.testing.assert_allclose(res.v, v_mu, rtol=1e-8, atol=1e-10)
    assert mu * np.linalg.norm(res.v) ** (2 - 2.0 / L) == pytest.approx(beta, rel=1e-8)


def test_ridge_path_L2_matches_cvxpy_group_lasso():
    cp = pytest.importorskip("cvxpy")
    X, y = _ridge_problem(31, n=10, d=4)
    beta = 0.4 * float(np.linalg.norm(X.T @ y))
    res = dd.ridge_path_solution(X, y, beta=beta, depth=2)
    v = cp.Variable(4)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(X @ v - y) + beta * cp.norm(v, 2)))
    prob.solve(solver=cp.CLARABEL)
    assert res.objective <= prob.value * (1 + 1e-9)  # the exact solver never loses to the IPM
    assert res.objective == pytest.approx(prob.value, rel=1e-6)
    np.testing.assert_allclose(res.v, v.value, rtol=0, atol=1e-4 * max(1.0, np.linalg.norm(v.value)))


@pytest.mark.parametrize("L", [2, 3, 5])
def test_ridge_path_zero_when_beta_large(L):
    X, y = _ridge_problem(41, n=8, d=3)
    beta = 50.0 * float(np.linalg.norm(X.T @ y)) + 10.0
    res = dd.ridge_path_solution(X, y, beta=beta, depth=L)
    np.testing.assert_array_equal(res.v, np.zeros(3))
    assert res.objective == pytest.approx(0.5 * float(y @ y), rel=1e-14)


def test_ridge_path_accepts_column_vector_target():
    X, y = _ridge_problem(51, n=8, d=3)
    a = dd.ridge_path_solution(X, y, beta=0.5, depth=3)
    b = dd.ridge_path_solution(X, y.reshape(-1, 1), 0.5, 3)
    np.testing.assert_allclose(np.ravel(b.v), np.ravel(a.v), rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("fn", [lambda b: dd.optimal_amplitude(1.0, beta=b, depth=3),
                                lambda b: dd.amplitude_threshold(beta=b, depth=3),
                                lambda b: dd.ridge_path_solution(np.eye(3), np.ones(3), b, 3)])
def test_scalar_solvers_reject_negative_beta(fn):
    with pytest.raises(ValueError, match=r"`beta` == -1\.0, must be >= 0"):
        fn(-1.0)


@pytest.mark.parametrize("fn", [lambda L: dd.optimal_amplitude(1.0, beta=0.5, depth=L),
                                lambda L: dd.amplitude_threshold(beta=0.5, depth=L),
                                lambda L: dd.ridge_path_solution(np.eye(3), np.ones(3), 0.5, L)])
def test_scalar_solvers_reject_bad_depth(fn):
    with pytest.raises(ValueError, match=r"`depth` == 1, must be >= 2"):
        fn(1)
    with pytest.raises(TypeError, match=r"`depth` must be an integer"):
        fn(2.5)


def test_ridge_path_rejects_multi_output_and_bad_values():
    X = np.eye(3)
    with pytest.raises(ValueError, match=r"`y`|`Y`"):
        dd.ridge_path_solution(X, np.ones((3, 2)), 0.5, 3)
    with pytest.raises(ValueError, match=r"rows"):
        dd.ridge_path_solution(X, np.ones(4), 0.5, 3)
    Xn = X.copy()
    Xn[1, 1] = math.nan
    with pytest.raises(ValueError, match=r"NaN or infinite"):
        dd.ridge_path_solution(Xn, np.ones(3), 0.5, 3)
    assert math.isnan(Xn[1, 1])  # caller's array untouched
