"""Independent oracles for the linear closed forms, certificates and networks (SPEC §2, §3, §5).

Only the public API is used. Oracles: our own float64 L-BFGS training of the same ``ParallelNet``
architecture from several random (non-zero) initializations, CVXPY on the convex problems,
a brute-force scalar minimizer, and the structural claims (rank staircase, balance, Prop. 3.1).
"""

from __future__ import annotations

import math

import cvxpy as cp  # a test dependency: missing means failing, not skipping
import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

import deepdual as dd

pytestmark = pytest.mark.oracle  # checked against independent references (SPEC §7 oracles)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny problems: intra-op threads only add contention (restored afterwards)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)

# ----------------------------------------------------------------------------- oracles


def train_lbfgs(X, Y, *, beta, depth, branches, hidden=3, seed=0, rounds=6, activation="linear"):
    """Our own trainer: full-batch L-BFGS (strong Wolfe) on P(θ) of paper eq. (2), float64.

    The initialization scale cycles with the seed (1, 1.5, 2): for L > 2 the origin is a local
    minimum, and small deep initializations can fall into its basin.
    """
    net = dd.ParallelNet(X.shape[1], Y.shape[1], depth=depth, branches=branches, hidden=hidden,
                         activation=activation, seed=seed, init_scale=1.0 + 0.5 * (seed % 3))
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)
    opt = torch.optim.LBFGS(list(net.parameters()), lr=1.0, max_iter=250, history_size=100,
                            tolerance_grad=1e-13, tolerance_change=1e-16, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = 0.5 * ((net(Xt) - Yt) ** 2).sum() + 0.5 * beta * net.penalty()
        loss.backward()
        return loss

    prev = math.inf
    for _ in range(rounds):
        val = float(opt.step(closure).detach())
        if abs(prev - val) <= 1e-14 * max(1.0, abs(val)):
            break
        prev = val
    return net


def end_to_end(net):
    """Σ_j W[1,j] ⋯ w[L,j] (d × K) of a linear ParallelNet, from its branch weights."""
    total = 0.0
    for j in range(net.branches):
        M = None
        for W in net.branch_weights(j):
            M = W if M is None else M @ W
        total = total + M
    return np.asarray(total)


def my_objective(net, X, Y, beta):
    """P(θ) computed from the weights in NumPy (independent of deepdual.objective)."""
    W = end_to_end(net)
    pen = sum(float((w**2).sum()) for j in range(net.branches) for w in net.branch_weights(j))
    return 0.5 * float(((X @ W - Y) ** 2).sum()) + 0.5 * beta * pen


def brute_amplitude(sigma, beta, L):
    """argmin_{s>=0} ½(σ−s)² + (βL/2)s^{2/L} by grid + bounded refinement (no root finding)."""
    f = lambda s: 0.5 * (sigma - s) ** 2 + 0.5 * beta * L * np.power(np.maximum(s, 0.0), 2.0 / L)
    grid = np.linspace(0.0, sigma, 20_001)
    k = int(np.argmin(f(grid)))
    best = (float(f(grid[k])), float(grid[k]))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    if hi > lo:
        r = minimize_scalar(lambda s: float(f(s)), bounds=(lo, hi), method="bounded", options={"xatol": 1e-14})
        best = min(best, (float(r.fun), float(r.x)))
    return best[1]


def oracle_orthonormal(X, Y, beta, L):
    """W* and P* when XᵀX = I or XXᵀ = I: singular-value-wise scalar problems, brute-forced."""
    U, sig, Vt = np.linalg.svd(X.T @ Y, full_matrices=False)
    s = np.array([brute_amplitude(si, beta, L) for si in sig])
    W = (U * s) @ Vt
    P = 0.5 * float(((X @ W - Y) ** 2).sum()) + 0.5 * beta * L * float(np.sum(s ** (2.0 / L)))
    return W, P


def cvxpy_nuclear(X, Y, beta):
    W = cp.Variable((X.shape[1], Y.shape[1]))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(X @ W - Y) + beta * cp.normNuc(W)))
    prob.solve(solver=cp.CLARABEL)
    return W.value, prob.value


def orthonormal_columns(rng, n, d):
    return np.linalg.qr(rng.standard_normal((n, d)))[0]  # XᵀX = I_d


def orthonormal_rows(rng, n, d):
    return np.linalg.qr(rng.standard_normal((d, n)))[0].T  # XXᵀ = I_n, n < d


def frob(W):
    return float(np.linalg.norm(W))


def spec(W):
    return float(np.linalg.norm(W, 2)) if W.size else 0.0


# ----------------------------------------------------------------------------- problems


def make_problem(kind, seed, K):
    """Return X, Y, beta for one of the kinds used below; beta puts some σ on each side."""
    rng = np.random.default_rng(seed)
    if kind == "general":
        X = rng.standard_normal((12, 5))
    elif kind == "cols":
        X = orthonormal_columns(rng, 12, 4)
    elif kind == "rows":
        X = orthonormal_rows(rng, 4, 7)
    else:  # pragma: no cover
        raise AssertionError(kind)
    Y = rng.standard_normal((X.shape[0], K))
    sig = np.linalg.svd(X.T @ Y, compute_uv=False)
    beta = float(0.3 * sig[0])
    return X, Y, beta


CASES = (
    [("general", L, 1, seed) for L in (2, 3, 4, 5) for seed in (0, 1)]
    + [("general", 2, 3, seed) for seed in (0, 1)]
    + [("cols", L, 3, seed) for L in (2, 3, 4, 5) for seed in (2, 3)]
    + [("rows", L, 2, seed) for L in (3, 4, 5) for seed in (4,)]
    + [("cols", L, 1, 5) for L in (3, 5)]
)


@pytest.mark.parametrize("kind,L,K,seed", CASES)
def test_closed_form_matched_by_training_and_never_beaten(kind, L, K, seed):
    X, Y, beta = make_problem(kind, seed, K)
    sol = dd.closed_form(X, Y, beta=beta, depth=L)
    # the reported objective is P of the returned network, and agrees with the formula's P*
    assert sol.objective == pytest.approx(my_objective(sol.network, X, Y, beta), rel=1e-12)
    assert sol.objective == pytest.approx(dd.objective(sol.network, X, Y, beta=beta), rel=1e-12)
    assert sol.objective == pytest.approx(sol.optimum, rel=1e-9)
    if kind in ("cols", "rows"):
        _, P_oracle = oracle_orthonormal(X, Y, beta, L)
        assert sol.optimum == pytest.approx(P_oracle, rel=1e-9)
    values = [my_objective(train_lbfgs(X, Y, beta=beta, depth=L, branches=K + 2, hidden=3, seed=s), X, Y, beta)
              for s in range(4)]
    assert min(values) == pytest.approx(sol.objective, rel=1e-6), values
    assert all(v >= sol.objective * (1 - 1e-9) for v in values), (values, sol.objective)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_layer_vector_output_matches_cvxpy_nuclear_norm(seed):
    X, Y, beta = make_problem("general", 10 + seed, 3)
    sol = dd.closed_form(X, Y, beta=beta, depth=2)
    W_cvx, P_cvx = cvxpy_nuclear(X, Y, beta)
    assert sol.objective == pytest.approx(P_cvx, rel=1e-6)
    assert sol.objective <= P_cvx * (1 + 1e-8)
    W = end_to_end(sol.network)
    np.testing.assert_allclose(W, W_cvx, rtol=0, atol=1e-4 * max(1.0, frob(W_cvx)))
    np.testing.assert_allclose(sol.predict(X), X @ W, rtol=1e-10, atol=1e-10)
    # the network penalty is that of the nuclear norm: Σ‖W‖² = 2‖W‖_*
    assert dd.penalty(sol.network) == pytest.approx(2 * np.linalg.svd(W, compute_uv=False).sum(), rel=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_nuclear_norm_regression_and_projection_match_cvxpy(seed):
    X, Y, beta = make_problem("general", 20 + seed, 3)
    res = dd.nuclear_norm_regression(X, Y, beta=beta)
    W_cvx, P_cvx = cvxpy_nuclear(X, Y, beta)
    assert res.objective == pytest.approx(P_cvx, rel=1e-6)
    assert res.lower_bound <= res.objective + 1e-12
    assert res.lower_bound <= P_cvx * (1 + 1e-7)  # a valid lower bound on the optimum
    np.testing.assert_allclose(res.W, W_cvx, rtol=0, atol=1e-4 * max(1.0, frob(W_cvx)))
    # projection P_{X,β}(Y) vs CVXPY, and Λ* = Y − XW*
    Lam = dd.project(X, Y, beta=beta)
    U = cp.Variable(Y.shape)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(U - Y)), [cp.sigma_max(X.T @ U) <= beta])
    prob.solve(solver=cp.CLARABEL)
    np.testing.assert_allclose(Lam, U.value, rtol=0, atol=1e-4 * max(1.0, frob(Y)))
    assert np.linalg.norm(X.T @ Lam, 2) <= beta * (1 + 1e-9)
    np.testing.assert_allclose(Lam, Y - X @ res.W, rtol=0, atol=1e-5 * frob(Y))


def test_projection_is_identity_inside_the_constraint_set():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((8, 3))
    Y = rng.standard_normal((8, 2))
    beta = 2.0 * np.linalg.norm(X.T @ Y, 2)
    np.testing.assert_allclose(dd.project(X, Y, beta=beta), Y, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- rank staircase


def whitened_problem(sigmas, seed=0, n=12, d=5):
    """X with XᵀX = I and Y with prescribed singular values of XᵀY (plus noise orthogonal to X)."""
    rng = np.random.default_rng(seed)
    X = orthonormal_columns(rng, n, d)
    K = len(sigmas)
    U = np.linalg.qr(rng.standard_normal((d, K)))[0]
    V = np.linalg.qr(rng.standard_normal((K, K)))[0]
    noise = rng.standard_normal((n, K))
    noise -= X @ (X.T @ noise)
    Y = X @ (U * np.asarray(sigmas)) @ V.T + noise
    np.testing.assert_allclose(np.linalg.svd(X.T @ Y, compute_uv=False), sorted(sigmas, reverse=True), atol=1e-12)
    return X, Y


def my_rank(W, rtol=1e-7):
    s = np.linalg.svd(W, compute_uv=False)
    return int(np.sum(s > rtol * max(1.0, s[0] if s.size else 0.0)))


SIGMAS = [4.0, 2.5, 1.5, 0.7]


def test_rank_staircase_two_layer_steps_at_singular_values():
    X, Y = whitened_problem(SIGMAS)
    for i, s in enumerate(SIGMAS):
        for beta, expected in ((s * (1 - 1e-6), i + 1), (s * (1 + 1e-6), i)):
            sol = dd.closed_form(X, Y, beta=beta, depth=2, branches=len(SIGMAS))
            first = sol.network.layer_matrices()[0]
            assert my_rank(first) == expected, (beta, expected)
            assert sol.ranks[0] == expected
            assert np.linalg.matrix_rank(end_to_end(sol.network), tol=1e-9) == expected


@pytest.mark.parametrize("L", [3, 4, 5])
def test_rank_staircase_deep_threshold_jumps_above_beta(L):
    X, Y = whitened_problem(SIGMAS, seed=1)
    tau = lambda b: float(dd.amplitude_threshold(beta=b, depth=L))
    # β_c with τ(β_c) = σ₂ (bisection); then β in (β_c, σ₂) has β < σ₂ < τ(β): σ₂ must be dropped
    lo, hi = 1e-8, SIGMAS[1]
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if tau(mid) < SIGMAS[1] else (lo, mid)
    beta = 0.5 * (hi + SIGMAS[1])
    assert beta < SIGMAS[1] < tau(beta) < SIGMAS[0]
    sol = dd.closed_form(X, Y, beta=beta, depth=L, branches=len(SIGMAS), hidden=2)
    n_above_beta = sum(s > beta for s in SIGMAS)
    assert n_above_beta == 2
    assert my_rank(sol.network.layer_matrices()[0]) == 1  # only σ₁ > τ survives
    assert sol.ranks[0] == 1
    # and the trained network agrees that dropping σ₂ is optimal
    values = [my_objective(train_lbfgs(X, Y, beta=beta, depth=L, branches=3, hidden=2, seed=s), X, Y, beta)
              for s in range(3)]
    assert min(values) == pytest.approx(sol.objective, rel=1e-6)
    assert all(v >= sol.objective * (1 - 1e-9) for v in values)
    # on either side of each τ⁻¹(σ_i) the staircase counts #{σ_i > τ_L(β)}
    for b in (0.3 * beta, 0.8 * beta, 1.5 * beta):
        sol_b = dd.closed_form(X, Y, beta=b, depth=L, branches=len(SIGMAS), hidden=2)
        assert my_rank(sol_b.network.layer_matrices()[0]) == sum(s > tau(b) for s in SIGMAS)


# ----------------------------------------------------------------------------- structure


STRUCT_CASES = [("general", L, 1, 30) for L in (2, 3, 4, 5)] + [("cols", L, 3, 31) for L in (2, 3, 4, 5)] \
    + [("rows", L, 3, 32) for L in (3, 5)] + [("general", 2, 3, 33)]


@pytest.mark.parametrize("kind,L,K,seed", STRUCT_CASES)
def test_balanced_rank_one_branches_and_end_to_end_product(kind, L, K, seed):
    X, Y, beta = make_problem(kind, seed, K)
    m = K + 2
    sol = dd.closed_form(X, Y, beta=beta, depth=L, branches=m, hidden=3)
    net = sol.network
    assert net.branches == m and net.depth == L
    assert [s[0] for s in net.layer_shapes] == [m] * L
    W = end_to_end(net)
    active = 0
    for j in range(m):
        Ws = net.branch_weights(j)
        norms = [frob(w) for w in Ws]
        if max(norms) < 1e-12:
            continue  # an unused (zero) branch
        active += 1
        # Lemma 1.1: balanced — every layer has the same Frobenius norm c_j^{1/L}
        c = float(np.linalg.norm(end_to_end_branch(Ws)))
        np.testing.assert_allclose(norms, c ** (1.0 / L), rtol=1e-8)
        # Prop 3.1: every layer rank one, ‖W‖_F = ‖W‖₂
        for w in Ws:
            assert frob(w) == pytest.approx(spec(w), rel=1e-8)
    assert active == np.linalg.matrix_rank(W, tol=1e-9 * max(1.0, frob(W)))
    # the end-to-end product is the solution of the reduced problem
    if kind in ("cols", "rows"):
        W_star, _ = oracle_orthonormal(X, Y, beta, L)
        np.testing.assert_allclose(W, W_star, rtol=0, atol=1e-7 * max(1.0, frob(W_star)))
    elif K == 1:
        v = dd.ridge_path_solution(X, Y[:, 0], beta=beta, depth=L).v
        np.testing.assert_allclose(W[:, 0], v, rtol=0, atol=1e-9 * max(1.0, frob(v)))
        if L > 2:
            best = min((train_lbfgs(X, Y, beta=beta, depth=L, branches=1, hidden=3, seed=s) for s in range(3)),
                       key=lambda nt: my_objective(nt, X, Y, beta))
            np.testing.assert_allclose(end_to_end(best), W, rtol=0, atol=1e-4 * max(1.0, frob(W)))
    else:
        W_cvx, _ = cvxpy_nuclear(X, Y, beta)
        np.testing.assert_allclose(W, W_cvx, rtol=0, atol=1e-4 * max(1.0, frob(W_cvx)))
    # penalty of the balanced network = L Σ σ_i(W)^{2/L}
    sv = np.linalg.svd(W, compute_uv=False)
    assert dd.penalty(net) == pytest.approx(L * float(np.sum(sv[sv > 1e-12] ** (2.0 / L))), rel=1e-8)
    np.testing.assert_allclose(sol.predict(X[:3]), X[:3] @ W, rtol=1e-10, atol=1e-12)


def end_to_end_branch(Ws):
    M = Ws[0]
    for w in Ws[1:]:
        M = M @ w
    return M


# ----------------------------------------------------------------------------- certificates


EXACT_CASES = [("general", L, 1, 40) for L in (2, 3, 4)] + [("cols", L, 3, 41) for L in (2, 3, 5)] \
    + [("rows", 4, 3, 42), ("general", 2, 3, 43)]


@pytest.mark.parametrize("kind,L,K,seed", EXACT_CASES)
def test_certified_gap_is_tiny_for_closed_forms(kind, L, K, seed):
    X, Y, beta = make_problem(kind, seed, K)
    sol = dd.closed_form(X, Y, beta=beta, depth=L)
    assert sol.lower_bound is not None and sol.gap is not None
    assert sol.lower_bound <= sol.objective * (1 + 1e-12)
    assert sol.gap <= 1e-8 * sol.objective
    cert = dd.certify(sol.network, X, Y, beta=beta)
    assert cert.objective == pytest.approx(sol.objective, rel=1e-12)
    assert cert.gap <= 1e-8 * cert.objective
    assert cert.relative_gap <= 1e-8
    assert cert.gap == pytest.approx(cert.objective - cert.lower_bound, abs=1e-12)


def dual_value(Lam, Y):
    return -0.5 * float(((Lam - Y) ** 2).sum()) + 0.5 * float((Y**2).sum())


def sgd_momentum(X, Y, beta, m, steps, seed, lr=2e-3, momentum=0.9):
    net = dd.ParallelNet(X.shape[1], Y.shape[1], depth=2, branches=m, seed=seed)
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, X.shape[0], (4,), generator=gen)
        opt.zero_grad()
        loss = 0.5 * ((net(Xt[idx]) - Yt[idx]) ** 2).sum() * (X.shape[0] / 4) + 0.5 * beta * net.penalty()
        loss.backward()
        opt.step()
    return net


@pytest.mark.parametrize("K", [1, 3])
def test_certify_sgd_trained_two_layer_net(K):
    X, Y, beta = make_problem("general", 50 + K, K)
    P_star = dd.closed_form(X, Y, beta=beta, depth=2).objective
    for steps in (20, 300):
        net = sgd_momentum(X, Y, beta, m=K + 2, steps=steps, seed=steps)
        P_net = my_objective(net, X, Y, beta)
        cert = dd.certify(net, X, Y, beta=beta)
        assert cert.objective == pytest.approx(P_net, rel=1e-12)
        assert cert.lower_bound <= P_star * (1 + 1e-10)  # valid lower bound (weak duality)
        assert cert.gap >= P_net - P_star - 1e-10 * P_star
        assert not cert.exact
        # the dual variable it reports is feasible and attains the bound
        Lam = np.asarray(cert.dual)
        assert np.linalg.norm(X.T @ Lam, 2) <= beta * (1 + 1e-9)
        assert dual_value(Lam, Y) == pytest.approx(cert.lower_bound, rel=1e-9, abs=1e-12)
        # and it is the scaled residual of SPEC §2
        R = Y - X @ end_to_end(net)
        np.testing.assert_allclose(Lam, R * min(1.0, beta / np.linalg.norm(X.T @ R, 2)), atol=1e-9)


@pytest.mark.parametrize("K", [1, 2])
def test_certify_weak_duality_on_random_networks(K):
    X, Y, beta = make_problem("general", 60 + K, K)
    P_star = dd.closed_form(X, Y, beta=beta, depth=2).objective
    for seed in range(15):
        scale = [0.01, 0.3, 1.0, 3.0][seed % 4]
        net = dd.ParallelNet(X.shape[1], K, depth=2, branches=3, seed=seed, init_scale=scale)
        cert = dd.certify(net, X, Y, beta=beta)
        P_net = my_objective(net, X, Y, beta)
        assert cert.lower_bound <= P_net + 1e-12
        assert cert.lower_bound <= P_star * (1 + 1e-10)
        assert P_net >= P_star * (1 - 1e-12)


@pytest.mark.parametrize("L,K,kind", [(3, 1, "general"), (4, 2, "cols")])
def test_certify_deep_linear_uses_exact_optimum(L, K, kind):
    X, Y, beta = make_problem(kind, 70 + L, K)
    P_star = dd.closed_form(X, Y, beta=beta, depth=L).objective
    net = train_lbfgs(X, Y, beta=beta, depth=L, branches=K + 1, hidden=2, seed=0, rounds=2)
    cert = dd.certify(net, X, Y, beta=beta)
    assert cert.exact
    assert cert.lower_bound == pytest.approx(P_star, rel=1e-10)
    assert cert.objective == pytest.approx(my_objective(net, X, Y, beta), rel=1e-12)
    assert cert.gap >= -1e-10 * P_star


def test_certify_refuses_where_no_certificate_exists():
    X, Y, beta = make_problem("general", 80, 3)
    net = dd.ParallelNet(5, 3, depth=3, branches=2, seed=0)
    with pytest.raises(dd.NoCertificateError, match=r"XᵀX = I or XXᵀ = I"):
        dd.certify(net, X, Y, beta=beta)
    assert issubclass(dd.NoCertificateError, ValueError)


def test_certify_relu_network_is_refused_or_a_valid_lower_bound():
    """A two-layer ReLU net on generic data: either no certificate, or weak duality must hold
    against the best of several of our own trained ReLU networks (wide, many seeds)."""
    X, Y, beta = make_problem("general", 81, 3)
    trained = [train_lbfgs(X, Y, beta=beta, depth=2, branches=6, seed=s, activation="relu", rounds=3)
               for s in range(3)]
    best = min(dd.objective(nt, X, Y, beta=beta) for nt in trained)
    nets = trained + [dd.ParallelNet(5, 3, depth=2, branches=4, activation="relu", seed=s) for s in range(4)]
    certified = 0
    for net in nets:
        try:
            cert = dd.certify(net, X, Y, beta=beta)
        except dd.NoCertificateError:
            continue
        certified += 1
        assert cert.objective == pytest.approx(dd.objective(net, X, Y, beta=beta), rel=1e-12)
        assert cert.lower_bound <= best * (1 + 1e-9), (cert, best)
    assert certified >= 1, "no network was certified: the weak-duality check ran on nothing"


# ----------------------------------------------------------------------------- beta = 0


def underdetermined(seed, K, n=4, d=7):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, K))


@pytest.mark.parametrize("K", [1, 3])
def test_min_norm_two_layer_matches_cvxpy(K):
    X, Y = underdetermined(90 + K, K)
    sol = dd.closed_form(X, Y, beta=0, depth=2)
    W = cp.Variable((X.shape[1], K))
    prob = cp.Problem(cp.Minimize(cp.normNuc(W)), [X @ W == Y])
    prob.solve(solver=cp.CLARABEL)
    assert sol.objective == pytest.approx(2 * prob.value, rel=1e-6)
    pinv_nuc = np.linalg.svd(np.linalg.pinv(X) @ Y, compute_uv=False).sum()
    assert sol.objective == pytest.approx(2 * pinv_nuc, rel=1e-10)
    assert sol.objective == pytest.approx(dd.penalty(sol.network), rel=1e-12)
    np.testing.assert_allclose(sol.network(torch.as_tensor(X)).detach().numpy(), Y, atol=1e-9)
    cert = dd.certify(sol.network, X, Y, beta=0)
    assert cert.gap <= 1e-8 * cert.objective


@pytest.mark.parametrize("L", [3, 4, 5])
@pytest.mark.parametrize("K", [1, 3])
def test_min_norm_deep_penalty_formula_and_interpolation(L, K):
    X, Y = underdetermined(100 + L + K, K)
    sol = dd.closed_form(X, Y, beta=0, depth=L, hidden=2)
    sv = np.linalg.svd(np.linalg.pinv(X) @ Y, compute_uv=False)
    expected = L * float(np.sum(sv ** (2.0 / L)))
    assert sol.objective == pytest.approx(expected, rel=1e-10)
    assert dd.penalty(sol.network) == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(sol.network(torch.as_tensor(X)).detach().numpy(), Y, atol=1e-9)
    np.testing.assert_allclose(end_to_end(sol.network), np.linalg.pinv(X) @ Y, atol=1e-9)


def test_min_norm_beats_other_interpolants():
    """Any interpolating linear net (W = X⁺Y + null-space part, balanced) has a larger penalty."""
    X, Y = underdetermined(110, 2)
    L = 3
    P0 = dd.closed_form(X, Y, beta=0, depth=L).objective
    rng = np.random.default_rng(0)
    N = np.eye(X.shape[1]) - np.linalg.pinv(X) @ X
    for _ in range(20):
        W = np.linalg.pinv(X) @ Y + N @ rng.standard_normal((X.shape[1], 2))
        assert L * np.sum(np.linalg.svd(W, compute_uv=False) ** (2.0 / L)) >= P0 * (1 - 1e-12)


# ----------------------------------------------------------------------------- networks


@pytest.mark.parametrize("activation", ["linear", "relu"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("depth", [2, 3, 4])
def test_to_mlp_identical_output_and_penalty(activation, bias, batchnorm, depth):
    rng = np.random.default_rng(depth)
    X = torch.as_tensor(rng.standard_normal((9, 4)))
    net = dd.ParallelNet(4, 3, depth=depth, branches=3, hidden=[2, 3][: depth - 2] if depth > 2 else 1,
                         activation=activation, bias=bias, batchnorm=batchnorm, seed=depth)
    kw = {}
    if bias:
        kw["biases"] = [rng.standard_normal(s[0] * s[2]) for s in net.layer_shapes[:-1]]
        kw["out_bias"] = rng.standard_normal(3)
    if batchnorm:
        kw["gamma"] = rng.standard_normal(3)
        kw["alpha"] = rng.standard_normal(3)
    net.set_weights([rng.standard_normal(s) for s in net.layer_shapes], **kw)
    mlp = net.to_mlp()
    assert isinstance(mlp, dd.MLP)
    with torch.no_grad():
        out_p, out_m = net(X).numpy(), mlp(X).numpy()
        out_s = net.to_sequential()(X).numpy()
    np.testing.assert_allclose(out_m, out_p, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out_s, out_p, rtol=1e-12, atol=1e-12)
    assert dd.penalty(mlp) == pytest.approx(dd.penalty(net), rel=1e-12)
    Y = rng.standard_normal((9, 3))
    assert dd.objective(mlp, X.numpy(), Y, beta=0.3) == pytest.approx(dd.objective(net, X.numpy(), Y, beta=0.3),
                                                                        rel=1e-12)
    # eval mode on new points (batch statistics frozen from the training batch)
    net.eval()
    mlp_eval = net.to_mlp()
    Xn = torch.as_tensor(rng.standard_normal((5, 4)))
    with torch.no_grad():
        np.testing.assert_allclose(mlp_eval(Xn).numpy(), net(Xn).numpy(), rtol=1e-12, atol=1e-12)
    # block-diagonal export: layer_matrices has the MLP's shapes
    mats = net.layer_matrices()
    assert [M.shape for M in mats] == [tuple(w.shape) for w in mlp.weights]


def test_objective_of_parallel_net_matches_numpy():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    net = dd.ParallelNet(3, 2, depth=4, branches=2, hidden=[3, 2], seed=1)
    assert dd.objective(net, X, Y, beta=0.7) == pytest.approx(my_objective(net, X, Y, 0.7), rel=1e-12)


def test_closed_form_pads_branches_with_zeros_and_sets_hidden_width():
    X, Y, beta = make_problem("cols", 120, 3)
    sol = dd.closed_form(X, Y, beta=beta, depth=3, branches=6, hidden=4)
    assert sol.network.branches == 6
    assert sol.network.layer_shapes[0] == (6, X.shape[1], 4)
    base = dd.closed_form(X, Y, beta=beta, depth=3)
    assert sol.objective == pytest.approx(base.objective, rel=1e-10)
    n_zero = sum(all(frob(w) == 0 for w in sol.network.branch_weights(j)) for j in range(6))
    assert n_zero >= 6 - 3


# ----------------------------------------------------------------------------- bad inputs


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((10, 4)), rng.standard_normal((10, 3))


def _bad_calls():
    X, Y = _data()
    Xnan = X.copy()
    Xnan[2, 1] = np.nan
    Yinf = Y.copy()
    Yinf[0, 0] = np.inf
    Yw = np.random.default_rng(2).standard_normal((6, 2))  # with X = eye(6, 4): XᵀX = I, rank-2 XᵀY
    return [
        ("nan-X", Xnan, Y, dict(beta=1.0, depth=2), ValueError, r"`X` contains 1 NaN or infinite"),
        ("inf-Y", X, Yinf, dict(beta=1.0, depth=2), ValueError, r"`Y` contains 1 NaN or infinite"),
        ("1d-X", X[:, 0].copy(), Y, dict(beta=1.0, depth=2), ValueError, r"`X` must be 2-D.*reshape"),
        ("rows", X, Y[:9].copy(), dict(beta=1.0, depth=2), ValueError, r"`X` has 10 rows but `Y` has 9"),
        ("neg-beta", X, Y, dict(beta=-1.0, depth=2), ValueError, r"`beta` == -1\.0, must be >= 0"),
        ("nan-beta", X, Y, dict(beta=float("nan"), depth=2), ValueError, r"`beta`.*finite"),
        ("depth1", X, Y, dict(beta=1.0, depth=1), ValueError, r"`depth` == 1, must be >= 2"),
        ("depth-float", X, Y, dict(beta=1.0, depth=2.5), TypeError, r"`depth` must be an integer"),
        ("activation", X, Y, dict(beta=1.0, depth=2, activation="tanh"), ValueError,
         r"`activation` == 'tanh', must be one of"),
        ("deep-vector", X, Y, dict(beta=1.0, depth=3), ValueError, r"XᵀX = I or XXᵀ = I"),
        ("beta0-range", X, Y, dict(beta=0, depth=2), ValueError, r"not in the range of `X`"),
        ("few-branches", np.eye(6, 4), Yw, dict(beta=1e-3, depth=2, branches=1),
         ValueError, r"`branches` == 1.*branches >= 2"),
    ]


@pytest.mark.parametrize("case", _bad_calls(), ids=lambda c: c[0])
def test_closed_form_rejects_bad_input_without_touching_it(case):
    _, X, Y, kw, exc, pattern = case
    X0, Y0 = np.array(X, copy=True), np.array(Y, copy=True)
    with pytest.raises(exc, match=pattern):
        dd.closed_form(X, Y, **kw)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)


def test_deep_vector_output_error_names_condition_and_fix():
    X, Y = _data()
    with pytest.raises(ValueError, match=r"(?s)XᵀX = I or XXᵀ = I.*(Whiten|whiten).*depth=2"):
        dd.closed_form(X, Y, beta=1.0, depth=4)


def test_successful_calls_do_not_modify_inputs():
    X, Y, beta = make_problem("general", 130, 3)
    X0, Y0 = X.copy(), Y.copy()
    sol = dd.closed_form(X, Y, beta=beta, depth=2)
    dd.certify(sol.network, X, Y, beta=beta)
    dd.project(X, Y, beta=beta)
    dd.nuclear_norm_regression(X, Y, beta=beta)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)


def test_other_entry_points_validate_inputs():
    X, Y = _data()
    with pytest.raises(ValueError, match=r"rows"):
        dd.nuclear_norm_regression(X, Y[:9], beta=1.0)
    with pytest.raises(ValueError, match=r"`beta` == -1\.0, must be >= 0"):
        dd.nuclear_norm_regression(X, Y, beta=-1.0)
    with pytest.raises(ValueError, match=r"`beta` == -1\.0, must be >= 0"):
        dd.project(X, Y, beta=-1.0)
    with pytest.raises(ValueError, match=r"rows"):
        dd.project(X, Y[:9], beta=1.0)
    net = dd.ParallelNet(4, 3, depth=2, branches=2, seed=0)
    with pytest.raises(ValueError, match=r"`beta` == -1\.0, must be >= 0"):
        dd.certify(net, X, Y, beta=-1.0)
    with pytest.raises(ValueError, match=r"features"):
        dd.certify(net, X[:, :3], Y, beta=1.0)
    with pytest.raises(dd.NoCertificateError, match=r"does not interpolate"):
        dd.certify(net, X, Y, beta=0)
    with pytest.raises(ValueError, match=r"`activation` == 'tanh'"):
        dd.ParallelNet(4, activation="tanh")
    with pytest.raises(ValueError, match=r"`depth` == 1"):
        dd.ParallelNet(4, depth=1)
