"""The cone-constrained program on a pattern set, against CVXPY/Clarabel (SPEC §6)."""

import numpy as np
import pytest

from deepdual import objective
from deepdual.convex import enumerate_patterns, merge_patterns, network_from_cones, sample_patterns, solve_cones
from deepdual.convex.solver import cone_objective


def _cvxpy_value(X, y, masks, beta):
    cp = pytest.importorskip("cvxpy")
    n, d = X.shape
    P = masks.shape[1]
    Vv, Wv = cp.Variable((d, P)), cp.Variable((d, P))
    Dm = masks.astype(float)
    out = cp.sum(cp.multiply(Dm, X @ Vv - X @ Wv), axis=1)
    S = 2 * Dm - 1
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(out - y)
                                  + beta * (cp.sum(cp.norm(Vv, 2, axis=0)) + cp.sum(cp.norm(Wv, 2, axis=0)))),
                      [cp.multiply(S, X @ Vv) >= 0, cp.multiply(S, X @ Wv) >= 0])
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return prob.value


def _data(n=24, d=3, K=1, bias=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Y = np.tanh(X @ rng.standard_normal((d, K))) + 0.3 * rng.standard_normal((n, K))
    if bias:
        X = np.hstack([X, np.ones((n, 1))])
    return X, Y


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("K", [1, 2])
def test_matches_cvxpy_and_network(bias, K):
    X, Y = _data(K=K, bias=bias, seed=K + 2 * bias)
    beta = 0.3
    ps = sample_patterns(X, 30, seed=1)
    sol = solve_cones(X, Y, ps, beta=beta)
    ref = sum(_cvxpy_value(X, Y[:, k], ps.masks, beta) for k in range(K))
    assert sol.objective == pytest.approx(ref, rel=1e-6)
    assert sol.lower_bound <= sol.objective and sol.gap <= 1e-6 * sol.objective
    assert solve_cones(X, Y, ps, beta=beta, tol=1e-6).converged  # the stopping rule: restricted duality gap
    # exactly feasible: every block in its pattern's cone
    S = 2.0 * ps.masks - 1.0
    for k in range(K):
        for U in (sol.v[k], sol.w[k]):
            assert np.all(S * (X @ U.T) >= 0)
    assert sol.max_violation == 0.0
    # the network of the solution attains the convex objective (balanced weights, ReLU = D on the cone)
    net = network_from_cones(sol, ps, bias=bias)
    Xraw = X[:, :-1] if bias else X
    assert objective(net, Xraw, Y, beta=beta) == pytest.approx(sol.objective, rel=1e-10)
    assert net.penalize_bias == bias
    # vector output: each neuron feeds one output
    W2 = net.weights[1].detach().numpy()[:, 0, :]
    assert np.all(np.count_nonzero(W2, axis=1) <= 1)


def test_objective_is_computed_from_the_residual():
    X, Y = _data(seed=5)
    ps = sample_patterns(X, 20, seed=0)
    sol = solve_cones(X, Y, ps, beta=0.1)
    value, R = cone_objective(X, Y, sol.v, sol.w, 0.1)
    assert value == sol.objective
    assert np.all(np.isfinite(R))


def test_complete_patterns_small_beta_and_scale_invariance():
    X, Y = _data(n=12, d=2, bias=True, seed=3)
    ps = enumerate_patterns(X)
    beta = 1e-3
    sol = solve_cones(X, Y, ps, beta=beta)
    ref = _cvxpy_value(X, Y[:, 0], ps.masks, beta)
    assert sol.objective == pytest.approx(ref, rel=1e-6)
    # P*(cY; β) = c² P*(Y; β/c) for L = 2 (SPEC §7)
    c = 1e4
    scaled = solve_cones(X, c * Y, ps, beta=beta * c)
    assert scaled.objective == pytest.approx(c * c * sol.objective, rel=1e-7)


def test_warm_start_reproduces_and_extends():
    X, Y = _data(n=30, d=3, seed=9)
    beta = 0.2
    first = sample_patterns(X, 20, seed=0)
    sol = solve_cones(X, Y, first, beta=beta)
    again = solve_cones(X, Y, first, beta=beta, warm_start=sol)
    assert again.objective == pytest.approx(sol.objective, rel=1e-8)
    more = merge_patterns(first, sample_patterns(X, 40, seed=1))
    grown = solve_cones(X, Y, more, beta=beta, warm_start=sol)
    assert grown.objective <= sol.objective * (1 + 1e-8)  # more patterns: never worse
    assert grown.objective == pytest.approx(_cvxpy_value(X, Y[:, 0], more.masks, beta), rel=1e-6)


def test_zero_target_gives_zero_network():
    X, _ = _data(seed=1)
    sol = solve_cones(X, np.zeros(X.shape[0]), sample_patterns(X, 10, seed=0), beta=1.0)
    assert sol.objective == 0.0 and sol.n_neurons == 0


def test_bad_inputs():
    X, Y = _data()
    ps = sample_patterns(X, 10, seed=0)
    with pytest.raises(ValueError, match="beta"):
        solve_cones(X, Y, ps, beta=0.0)
    with pytest.raises(ValueError, match="`patterns` is for"):
        solve_cones(X[:10], Y[:10], ps, beta=1.0)
    with pytest.raises(TypeError, match="PatternSet"):
        solve_cones(X, Y, ps.masks, beta=1.0)
    with pytest.raises(ValueError, match="rows"):
        solve_cones(X, Y[:5], ps, beta=1.0)


def test_restricted_gap_closes_to_rounding_and_the_bound_is_valid():
    """The finish ends at a KKT point: the restricted duality gap is at rounding level (``converged``
    at tol = 1e-10 is honest) and the lower bound is below CVXPY's optimum."""
    X, Y = _data(n=40, d=4, seed=11)
    ps = sample_patterns(X, 60, seed=2)
    beta = 0.1
    sol = solve_cones(X, Y, ps, beta=beta, tol=1e-10)
    ref = _cvxpy_value(X, Y[:, 0], ps.masks, beta)
    assert sol.converged and 0 <= sol.gap <= 1e-10 * sol.objective
    assert sol.lower_bound <= ref * (1 + 1e-9)
    assert sol.objective == pytest.approx(ref, rel=1e-7)


@pytest.mark.parametrize("kind", ["integer_grid", "duplicated_rows", "zero_solution"])
def test_degenerate_data_against_cvxpy(kind):
    """Degenerate data (many points on each kink, repeated rows) and a β above which zero is optimal."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 3))
    y = rng.standard_normal(30)
    beta = 0.3
    if kind == "integer_grid":
        X = np.round(X)
    elif kind == "duplicated_rows":
        X[:10] = X[10:20]
    else:
        beta = 2.0 * float(np.linalg.norm(X.T @ y))  # ≥ max_u |yᵀ(Xu)₊|: the zero network is optimal
    ps = sample_patterns(X, 40, seed=1)
    sol = solve_cones(X, y, ps, beta=beta)
    assert sol.converged and sol.max_violation == 0.0
    if kind == "zero_solution":
        assert sol.n_neurons == 0 and sol.objective == pytest.approx(0.5 * float(y @ y), rel=1e-12)
    else:
        assert sol.objective == pytest.approx(_cvxpy_value(X, y, ps.masks, beta), rel=1e-6)


def test_working_set_path_agrees_with_the_direct_path(monkeypatch):
    """With few blocks allowed in one interior-point solve the solver works on growing working sets
    and checks every block at the end; it must land on the same optimum."""
    import deepdual.convex.solver as S

    X, Y = _data(n=60, d=4, seed=13)
    ps = sample_patterns(X, 300, seed=0)
    beta = 0.05
    direct = solve_cones(X, Y, ps, beta=beta)
    monkeypatch.setattr(S, "IPM_BLOCKS", 100)
    monkeypatch.setattr(S, "SHRINK_ABOVE", 50)
    small = solve_cones(X, Y, ps, beta=beta)
    assert direct.converged and small.converged
    assert small.objective == pytest.approx(direct.objective, rel=1e-9)
    assert small.lower_bound <= direct.objective * (1 + 1e-12)


def test_time_budget_returns_a_feasible_network():
    X, Y = _data(n=60, d=4, seed=3)
    ps = sample_patterns(X, 200, seed=0)
    full = solve_cones(X, Y, ps, beta=0.05)
    cut = solve_cones(X, Y, ps, beta=0.05, time_budget=1e-4)
    assert not cut.converged and cut.max_violation == 0.0
    assert cut.objective >= full.objective * (1 - 1e-12)  # a real network of the restricted program
    assert cut.lower_bound <= full.objective * (1 + 1e-12)  # and still a valid bound
    net = network_from_cones(cut, ps)
    assert objective(net, X, Y, beta=0.05) == pytest.approx(cut.objective, rel=1e-10)
    with pytest.raises(ValueError, match="time_budget"):
        solve_cones(X, Y, ps, beta=0.05, time_budget=0.0)
