"""Independent oracles for the batch-norm closed form and neural collapse (SPEC §4; Thm 4.4, Cor 4.3).

Only the public API is used; the closed-form modules are not read. Oracles:

* the BN forward pass recomputed here in NumPy from the network's weights, γ and α
  (BN(z) = γ (I − 11ᵀ/n)z/‖(I − 11ᵀ/n)z‖ + α 1/√n, before the last ReLU);
* our own dual certificate: for one-hot Y every branch output is v wᵀ with v = ReLU(BN) ≥ 0,
  ‖v‖ ≤ ‖(γ, α)‖, so P ≥ ½‖f − Y‖² + β Σ‖v‖‖w‖ and Λ = Y − f* (columns min(‖y_k‖, β) y_k/‖y_k‖)
  satisfies max_{v ≥ 0, ‖v‖ ≤ 1} ‖Λᵀv‖ ≤ β; its value ⟨Λ, Y⟩ − ½‖Λ‖² must equal the formula;
* our own batched training (Adam, then L-BFGS with strong-Wolfe line search, float64) of the last
  layer's parameters (w_{L−1}, γ, α, w_L, earlier layers fixed) and of the whole network;
* neural collapse: within-class spread and the simplex ETF computed here.

Measured (while writing this file; seeds 0-5): last-layer training ("last") reaches the formula
to ~1e-10 relative in the best run; see the assertion messages for per-case numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _oracle_optim import adam_then_lbfgs, one_thread

import deepdual as dd
from deepdual.data import one_hot

pytestmark = pytest.mark.oracle  # checked against independent references (SPEC §7 oracles)

# ----------------------------------------------------------------------------- oracles


def before_bn(net, X):
    """A_{L−2} of every branch, list of (n, width) arrays (A₀ = X for L = 2), in NumPy."""
    out = []
    for j in range(net.branches):
        A = X
        for W in net.branch_weights(j)[:-2]:
            A = np.maximum(A @ W, 0.0)
        out.append(A)
    return out


def bn_forward(net, X):
    """(z, b, H, f): pre-BN (m, n), BN output (m, n), last hidden ReLU(b) (n, m), output (n, K)."""
    n = X.shape[0]
    gamma = net.bn.gamma.detach().numpy().astype(np.float64)
    alpha = net.bn.alpha.detach().numpy().astype(np.float64)
    z, b = [], []
    for j, A in enumerate(before_bn(net, X)):
        zj = (A @ net.branch_weights(j)[-2]).reshape(-1)
        c = zj - zj.mean()
        nc = np.linalg.norm(c)
        u = c / nc if nc > 0 else np.zeros_like(c)
        z.append(zj)
        b.append(gamma[j] * u + alpha[j] / math.sqrt(n))
    b = np.array(b)
    H = np.maximum(b, 0.0).T
    WL = np.concatenate([net.branch_weights(j)[-1] for j in range(net.branches)], axis=0)  # (m, K)
    return np.array(z), b, H, H @ WL


def my_objective(net, X, Y, beta):
    f = bn_forward(net, X)[3]
    pen = float((net.bn.gamma.detach().numpy() ** 2).sum() + (net.bn.alpha.detach().numpy() ** 2).sum())
    layers = range(net.depth) if net.regularize == "all" else [net.depth - 1]
    pen += sum(float((net.branch_weights(j)[i] ** 2).sum()) for j in range(net.branches) for i in layers)
    return 0.5 * float(((f - Y) ** 2).sum()) + 0.5 * beta * pen


def formula(Y, beta):
    """(P*, s) of Theorem 4.4: s_k = (‖y_k‖ − β)₊, P* = Σ ½(‖y_k‖ − s_k)² + β s_k."""
    norms = np.linalg.norm(Y, axis=0)
    s = np.maximum(norms - beta, 0.0)
    return float(np.sum(0.5 * (norms - s) ** 2 + beta * s)), s


def dual_value(Y, beta):
    """⟨Λ, Y⟩ − ½‖Λ‖² for Λ = Y − f* (feasible: see the module docstring)."""
    norms = np.linalg.norm(Y, axis=0)
    Lam = Y * (np.minimum(norms, beta) / norms)
    # feasibility: ‖Λᵀv‖ ≤ β‖v‖ for v ≥ 0 — the columns of Λ are orthogonal with norms ≤ β
    G = Lam.T @ Lam
    assert np.allclose(G, np.diag(np.diag(G))) and np.all(np.sqrt(np.diag(G)) <= beta + 1e-15)
    return float((Lam * Y).sum() - 0.5 * (Lam**2).sum())


def bn_problem(seed, counts, *, depth, d=None, hidden=None, branches=None, regularize="last"):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(counts)), counts)
    rng.shuffle(labels)
    n = labels.size
    X = rng.standard_normal((n, d or n + 2))
    Y = one_hot(labels).Y
    net = dd.ParallelNet(X.shape[1], len(counts), depth=depth, branches=branches or len(counts) + 1,
                         hidden=hidden or 2 * n, activation="relu", batchnorm=True, regularize=regularize,
                         seed=seed)
    return X, Y, labels, net


def train_bn(A_list, Y, *, beta, branches, seeds=range(6), adam_steps=300, lbfgs_iter=200, lbfgs_restarts=2,
             lr=2e-2, regularize="last", fixed_penalty=0.0):
    """Train (w_{L−1}, γ, α, w_L) of a BN branch set on fixed features A_j; return per-seed P values.

    ``A_list[j]`` is branch j's A_{L−2} (n × width). All seeds train at once (batched, independent).
    With ``regularize='all'`` the w_{L−1} norm is penalized as well and ``fixed_penalty`` (the
    earlier layers' Σ‖W‖²) is added to every value.
    """
    n, K = Y.shape
    S = len(list(seeds))
    width = A_list[0].shape[1]
    A = torch.as_tensor(np.stack(A_list))  # (m, n, width)
    Yt = torch.as_tensor(Y)
    g = torch.Generator().manual_seed(1234 + 17 * min(seeds))
    w = (torch.randn(S, branches, width, 1, generator=g, dtype=torch.float64) / math.sqrt(width)).requires_grad_()
    gam = (1.0 + 0.5 * torch.randn(S, branches, 1, generator=g, dtype=torch.float64)).requires_grad_()
    alp = (0.5 * torch.randn(S, branches, 1, generator=g, dtype=torch.float64)).requires_grad_()
    wL = (torch.randn(S, branches, 1, K, generator=g, dtype=torch.float64) / math.sqrt(branches)).requires_grad_()
    params = [w, gam, alp, wL]

    def per_seed():
        z = (A @ w).squeeze(-1)  # (S, m, n)
        c = z - z.mean(-1, keepdim=True)
        u = c / c.norm(dim=-1, keepdim=True).clamp_min(1e-300)
        h = torch.relu(gam * u + alp / math.sqrt(n))  # (S, m, n)
        out = torch.einsum("smn,smk->snk", h, wL[:, :, 0, :])
        pen = (gam**2).sum((1, 2)) + (alp**2).sum((1, 2)) + (wL**2).sum((1, 2, 3))
        if regularize == "all":
            pen = pen + (w**2).sum((1, 2, 3)) + fixed_penalty
        return 0.5 * ((out - Yt) ** 2).sum((1, 2)) + 0.5 * beta * pen

    adam_then_lbfgs(params, per_seed, lr=lr, adam_steps=adam_steps, lbfgs_iter=lbfgs_iter,
                    lbfgs_restarts=lbfgs_restarts)
    with torch.no_grad():
        return per_seed().numpy()


# ----------------------------------------------------------------------------- the closed form

CASES = [
    # (depth, class counts, beta, regularize)
    (2, (3, 2), 0.4, "last"),
    (2, (4, 2, 1), 1.2, "last"),  # ‖y_3‖ = 1 < β: class 3 is off
    (3, (3, 3, 3), 0.5, "last"),
    (3, (5, 1, 2), 0.3, "all"),
    (4, (2, 2, 3, 1), 0.3, "last"),
    (4, (3, 3), 0.8, "all"),
]


@pytest.mark.parametrize("L,counts,beta,regularize", CASES)
def test_bn_output_objective_and_structure(L, counts, beta, regularize):
    X, Y, labels, net = bn_problem(L + len(counts), counts, depth=L, regularize=regularize)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    X0, Y0 = X.copy(), Y.copy()
    sol = dd.batchnorm_closed_form(net, X, Y, beta=beta)
    # the caller's network and arrays are untouched
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    assert "4.4" in sol.theorem
    P, s = formula(Y, beta)
    assert dual_value(Y, beta) == pytest.approx(P, rel=1e-12)  # our own certificate: P is the optimum
    out = sol.network
    assert out.config() == net.config()
    z, b, H, f = bn_forward(out, X)
    norms = np.linalg.norm(Y, axis=0)
    K = Y.shape[1]
    served = []
    for k in range(K):
        target_b = math.sqrt(s[k]) * Y[:, k] / norms[k]
        # the branch that carries class k: its output row has column k
        WL = np.concatenate([out.branch_weights(j)[-1] for j in range(out.branches)], axis=0)
        if s[k] == 0:
            np.testing.assert_allclose(f[:, k], 0.0, atol=1e-12)
            continue
        j = int(np.argmax(np.abs(WL[:, k])))
        served.append(j)
        np.testing.assert_allclose(b[j], target_b, rtol=0, atol=1e-10)  # BN output = √s_k y_k/‖y_k‖
        np.testing.assert_allclose(f[:, k], s[k] * Y[:, k] / norms[k], rtol=0, atol=1e-10)
        # balanced: ‖(γ_j, α_j)‖ = ‖w_L,j‖ = √s_k
        gj, aj = float(out.bn.gamma.detach()[j]), float(out.bn.alpha.detach()[j])
        assert math.hypot(gj, aj) == pytest.approx(math.sqrt(s[k]), rel=1e-9)
        assert np.linalg.norm(WL[j]) == pytest.approx(math.sqrt(s[k]), rel=1e-9)
        # (γ, α) ∝ (‖y_k − ȳ_k 1‖, √n ȳ_k)
        ybar = Y[:, k].mean()
        ratio = np.array([np.linalg.norm(Y[:, k] - ybar), math.sqrt(Y.shape[0]) * ybar]) / norms[k]
        np.testing.assert_allclose([gj, aj], math.sqrt(s[k]) * ratio, rtol=1e-9, atol=1e-12)
    assert len(set(served)) == len(served)  # one branch per class
    np.testing.assert_allclose(f, Y * (s / norms), atol=1e-10)
    # objective: ours, the library's evaluator, the reported value, and the formula
    mine = my_objective(out, X, Y, beta)
    out.train()
    assert dd.objective(out, X, Y, beta=beta) == pytest.approx(mine, rel=1e-10)
    assert sol.objective == pytest.approx(mine, rel=1e-10)
    assert sol.optimum == pytest.approx(P, rel=1e-12)
    if regularize == "last":
        assert sol.details["attained"] is True
        assert sol.objective == pytest.approx(P, rel=1e-10)
        # the layers before the last hidden unit are the caller's
        for j in range(net.branches):
            for Wa, Wb in zip(net.branch_weights(j)[:-2], out.branch_weights(j)[:-2]):
                np.testing.assert_array_equal(Wa, Wb)
    else:
        # footnote 7: all layers regularized — an infimum, approached from above
        assert sol.details["attained"] is False
        assert P <= sol.objective <= P + 1e-9 * max(1.0, P)
    if sol.lower_bound is not None:
        assert sol.lower_bound <= P * (1 + 1e-9)
    # predict on the training points (eval mode, stored batch statistics) gives the same output
    np.testing.assert_allclose(sol.predict(X), f, atol=1e-9)


@pytest.mark.parametrize("L,counts,beta", [(2, (3, 2), 0.4), (3, (4, 2, 1), 0.3), (3, (2, 2, 2, 2), 0.9)])
def test_last_layer_training_never_beats_bn_closed_form(L, counts, beta):
    X, Y, labels, net = bn_problem(20 + L, counts, depth=L, regularize="last")
    sol = dd.batchnorm_closed_form(net, X, Y, beta=beta)
    P, _ = formula(Y, beta)
    A_list = before_bn(sol.network, X)
    values = train_bn(A_list, Y, beta=beta, branches=net.branches)
    rel = (values - P) / P
    print(f"BN last-layer L={L} counts={counts} rel excess:", rel)
    assert np.all(values >= P * (1 - 1e-9)), f"a trained run beat Theorem 4.4: rel {rel}"
    assert rel.min() <= 1e-6, f"best last-layer run did not reach P* = {P}: rel {rel}"


def test_full_network_training_with_all_layers_regularized_never_beats_bn_formula():
    """Footnote 7: with every layer penalized the formula is still a lower bound (our certificate)."""
    counts, beta, L = (3, 2, 1), 0.3, 3
    X, Y, labels, net = bn_problem(7, counts, depth=L, regularize="all", hidden=8)
    P, _ = formula(Y, beta)
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)
    values = []
    for seed in range(2):
        m = dd.ParallelNet(X.shape[1], Y.shape[1], depth=L, branches=4, hidden=8, activation="relu",
                           batchnorm=True, regularize="all", seed=seed, init_scale=1.5)
        m.train()
        params = list(m.parameters())
        with one_thread():
            opt = torch.optim.Adam(params, lr=2e-2)
            for _ in range(300):
                opt.zero_grad()
                (0.5 * ((m(Xt) - Yt) ** 2).sum() + 0.5 * beta * m.penalty()).backward()
                opt.step()
            opt = torch.optim.LBFGS(params, max_iter=200, tolerance_grad=1e-14, tolerance_change=1e-13,
                                    line_search_fn="strong_wolfe")

            def closure():
                opt.zero_grad()
                loss = 0.5 * ((m(Xt) - Yt) ** 2).sum() + 0.5 * beta * m.penalty()
                loss.backward()
                return loss

            opt.step(closure)
        values.append(my_objective(m, X, Y, beta))
    values = np.asarray(values)
    assert np.all(values >= P * (1 - 1e-9)), ((values - P) / P, P)
    print("BN full-network rel excess:", (values - P) / P)


# ----------------------------------------------------------------------------- neural collapse


@pytest.mark.parametrize("K,per_class,L", [(2, 4, 2), (3, 3, 3), (4, 3, 3), (5, 2, 2)])
def test_neural_collapse_of_bn_closed_form(K, per_class, L):
    counts = (per_class,) * K
    X, Y, labels, net = bn_problem(30 + K, counts, depth=L, regularize="last")
    beta = 0.3
    sol = dd.batchnorm_closed_form(net, X, Y, beta=beta)
    _, b, H_mine, f = bn_forward(sol.network, X)
    H, centered = dd.last_hidden_class_means(sol.network, X, labels)
    H, centered = np.asarray(H), np.asarray(centered)
    np.testing.assert_allclose(H, H_mine, atol=1e-12)
    # our own class means, centered by the mean of the class means
    means = np.array([H_mine[labels == k].mean(axis=0) for k in range(K)])
    my_centered = means - means.mean(axis=0)
    np.testing.assert_allclose(centered, my_centered, atol=1e-12)
    # NC1: no within-class variation at all
    for k in range(K):
        np.testing.assert_allclose(H_mine[labels == k], np.broadcast_to(means[k], H_mine[labels == k].shape),
                                   atol=1e-12)
    # Cor 4.3: centered means ∝ simplex-ETF columns √(K/n)(e_k − 1/K) on the class branches
    n = labels.size
    s = formula(Y, beta)[1][0]
    WL = np.concatenate([sol.network.branch_weights(j)[-1] for j in range(sol.network.branches)], axis=0)
    cols = [int(np.argmax(np.abs(WL[:, k]))) for k in range(K)]
    expected = math.sqrt(s) * math.sqrt(K / n) * (np.eye(K) - 1.0 / K)
    np.testing.assert_allclose(my_centered[:, cols], expected, atol=1e-12)
    others = [j for j in range(sol.network.branches) if j not in cols]
    np.testing.assert_allclose(my_centered[:, others], 0.0, atol=1e-12)
    etf = dd.simplex_etf(K)  # (K, K) columns
    Mhat = my_centered[:, cols].T  # columns = centered class means
    np.testing.assert_allclose(Mhat / np.linalg.norm(Mhat), etf / np.linalg.norm(etf), atol=1e-12)
    G = my_centered @ my_centered.T
    cos = G / np.sqrt(np.outer(np.diag(G), np.diag(G)))
    np.testing.assert_allclose(cos[~np.eye(K, dtype=bool)], -1.0 / (K - 1), atol=1e-12)
    # the library's NC metrics
    pred = np.argmax(f, axis=1)
    nc = dd.neural_collapse(H, labels, classifier=WL, predictions=pred)
    assert abs(nc.nc1) <= 1e-10
    assert nc.nc2_norm_cv <= 1e-10
    assert nc.nc2_cos_std <= 1e-10
    assert nc.nc2_cos_mean_dev <= 1e-10
    assert nc.nc2_etf_distance <= 1e-10
    assert nc.nc4 == 0.0


# ----------------------------------------------------------------------------- bad input


def test_bn_closed_form_rejects_too_narrow_layer_before_bn():
    X, Y, _, _ = bn_problem(0, (2, 2, 2), depth=3)
    narrow = dd.ParallelNet(X.shape[1], 3, depth=3, branches=3, hidden=4, activation="relu", batchnorm=True,
                            regularize="last", seed=0)  # width 4 < n = 6
    state = {k: v.clone() for k, v in narrow.state_dict().items()}
    X0, Y0 = X.copy(), Y.copy()
    with pytest.raises(ValueError, match="range"):
        dd.batchnorm_closed_form(narrow, X, Y, beta=0.1)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    for k, v in narrow.state_dict().items():
        assert torch.equal(v, state[k]), k


def test_bn_closed_form_rejects_n_greater_than_d_at_depth_two():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 5))  # A₀ = X has rank 5 < n = 8
    Y = one_hot(np.arange(8) % 2).Y
    net = dd.ParallelNet(5, 2, depth=2, branches=2, activation="relu", batchnorm=True, seed=0)
    with pytest.raises(ValueError, match="range"):
        dd.batchnorm_closed_form(net, X, Y, beta=0.1)


def test_bn_closed_form_rejects_non_one_hot_and_non_bn_networks():
    X, Y, _, net = bn_problem(1, (2, 2, 2), depth=3)
    Y0 = Y.copy()
    with pytest.raises(ValueError, match="one-hot"):
        dd.batchnorm_closed_form(net, X, 0.5 * Y, beta=0.1)
    np.testing.assert_array_equal(Y, Y0)
    plain = dd.ParallelNet(X.shape[1], 3, depth=3, branches=3, hidden=12, activation="relu", seed=0)
    with pytest.raises(ValueError, match="batchnorm=True"):
        dd.batchnorm_closed_form(plain, X, Y, beta=0.1)
    too_few = dd.ParallelNet(X.shape[1], 3, depth=3, branches=2, hidden=12, activation="relu", batchnorm=True,
                             seed=0)
    with pytest.raises(ValueError, match="branches"):
        dd.batchnorm_closed_form(too_few, X, Y, beta=0.1)
