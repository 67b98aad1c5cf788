"""Activation patterns (SPEC §6): exact enumeration against the cell count and an LP oracle."""

import itertools

import numpy as np
import pytest
import torch
from scipy.optimize import linprog

from deepdual import ParallelNet
from deepdual.convex import (
    PatternSet,
    arrangement_bound,
    enumerate_patterns,
    merge_patterns,
    network_patterns,
    sample_patterns,
)


def _has_all_negative_cell(X):
    """True when some g has Xg < 0 on every row (the all-zero pattern, which PatternSet drops)."""
    res = linprog(np.zeros(X.shape[1]), A_ub=X, b_ub=-np.ones(X.shape[0]), bounds=[(None, None)] * X.shape[1],
                  method="highs")
    return res.status == 0


def _lp_cells(X):
    """Independent oracle: every cell pattern, by LP feasibility of each sign vector on distinct hyperplanes."""
    rows = [x for x in X if np.any(x)]
    H = []
    for x in rows:
        u = x / np.linalg.norm(x)
        if not any(abs(abs(h @ u) - 1) < 1e-12 for h in H):
            H.append(u)
    H = np.array(H)
    cells = set()
    for s in itertools.product((1.0, -1.0), repeat=len(H)):
        A = -np.array(s)[:, None] * H  # s_i h_iᵀ g >= 1
        res = linprog(np.zeros(X.shape[1]), A_ub=A, b_ub=-np.ones(len(H)), bounds=[(None, None)] * X.shape[1],
                      method="highs")
        if res.status == 0:
            mask = X @ res.x >= 0
            if mask.any():
                cells.add(mask.tobytes())
    return cells


def _as_set(ps):
    return {ps.masks[:, i].tobytes() for i in range(ps.n_patterns)}


def _check_consistent(X, ps):
    assert ps.masks.dtype == bool
    assert np.array_equal(ps.masks, X @ ps.generators >= 0)
    assert ps.masks.any(axis=0).all()
    assert len(_as_set(ps)) == ps.n_patterns
    nonzero = np.any(X != 0, axis=1)
    assert np.all(np.abs(X[nonzero] @ ps.generators) > 0)  # generators are interior points of their cells


def test_arrangement_bound_values():
    assert arrangement_bound(5, 3) == 2 * (1 + 4 + 6)
    assert arrangement_bound(10, 1) == 2
    assert arrangement_bound(3, 5) == 2 ** 3  # at most 2^n patterns
    assert arrangement_bound(4, 0) == 1
    assert arrangement_bound(200, 11) == 2 * sum(__import__("math").comb(199, k) for k in range(11))
    with pytest.raises(ValueError, match="n_samples"):
        arrangement_bound(0, 2)
    with pytest.raises(TypeError, match="rank"):
        arrangement_bound(5, 2.5)


@pytest.mark.parametrize("n", [5, 9, 17, 30])
def test_planar_points_with_bias_give_every_cell(n):
    rng = np.random.default_rng(n)
    X = np.hstack([rng.standard_normal((n, 2)), np.ones((n, 1))])
    ps = enumerate_patterns(X)
    _check_consistent(X, ps)
    assert ps.complete and ps.source == "enumerated"
    assert ps.n_patterns + _has_all_negative_cell(X) == arrangement_bound(n, 3) == n * n - n + 2


@pytest.mark.parametrize("rank, n, d", [(2, 12, 5), (3, 15, 6), (4, 10, 5), (5, 8, 6)])
def test_low_rank_data_in_general_position(rank, n, d):
    rng = np.random.default_rng(rank)
    X = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d))
    ps = enumerate_patterns(X)
    _check_consistent(X, ps)
    assert ps.complete
    assert ps.n_patterns + _has_all_negative_cell(X) == arrangement_bound(n, rank)


def test_enumeration_contains_every_sampled_pattern():
    rng = np.random.default_rng(3)
    X = np.hstack([rng.standard_normal((8, 2)), np.ones((8, 1))])
    found = _as_set(enumerate_patterns(X))
    sampled = X @ rng.standard_normal((3, 200_000)) >= 0
    sampled = sampled[:, sampled.any(axis=0)]
    assert {sampled[:, i].tobytes() for i in range(sampled.shape[1])} <= found


@pytest.mark.parametrize("case", ["duplicates_and_collinear", "zero_and_antipodal", "grid_with_bias"])
def test_degenerate_points_match_lp_oracle(case):
    rng = np.random.default_rng(7)
    if case == "duplicates_and_collinear":
        P = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, 1.0], [0.0, 1.0], [3.0, -1.0]])
        X = np.hstack([P, np.ones((6, 1))])
    elif case == "zero_and_antipodal":
        B = rng.standard_normal((4, 3))
        X = np.vstack([B, np.zeros((2, 3)), -B[:2], 2.5 * B[:1]])
    else:
        P = np.array([[i, j] for i in range(3) for j in range(3)], float)
        X = np.hstack([P, np.ones((9, 1))])
    ps = enumerate_patterns(X)
    _check_consistent(X, ps)
    assert ps.complete
    assert _as_set(ps) == _lp_cells(X)


def test_too_many_patterns_is_refused_before_work():
    X = np.random.default_rng(0).standard_normal((60, 6))
    with pytest.raises(ValueError, match=r"up to [\d,]+ activation patterns, more than `max_patterns` == 1,000"):
        enumerate_patterns(X, max_patterns=1000)
    with pytest.raises(ValueError, match="NaN"):
        enumerate_patterns(np.array([[np.nan, 1.0]]))


def test_zero_data_has_one_pattern():
    ps = enumerate_patterns(np.zeros((4, 2)))
    assert ps.n_patterns == 1 and ps.masks.all() and ps.complete


def test_sample_patterns():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 4))
    ps = sample_patterns(X, 50, seed=3)
    _check_consistent(X, ps)
    assert ps.n_patterns == 50 and not ps.complete and ps.source == "sampled"
    assert np.array_equal(ps.masks, sample_patterns(X, 50, seed=3).masks)
    assert _as_set(ps) <= _as_set(enumerate_patterns(X, max_patterns=10**6))
    small = sample_patterns(X[:3, :1], 50, seed=0)  # only 2 cells exist: fewer patterns than asked
    assert small.n_patterns <= 2


def test_network_patterns_are_the_neurons_patterns():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 3))
    net = ParallelNet(3, 1, branches=5, activation="relu", bias=True, seed=0)
    with torch.no_grad():
        net.biases[0].copy_(torch.randn(5, 1, 1, dtype=torch.float64))
    ps = network_patterns(net, X)
    U = net.weights[0].detach().numpy()[:, :, 0]
    b = net.biases[0].detach().numpy().reshape(-1)
    expected = {(X @ U[j] + b[j] >= 0).tobytes() for j in range(5)}
    assert _as_set(ps) == {e for e in expected if np.frombuffer(e, bool).any()}
    assert ps.generators.shape[0] == 4  # patterns of [X, 1]
    with pytest.raises(TypeError, match="two-layer ReLU"):
        network_patterns(ParallelNet(3, 1, depth=3, activation="relu"), X)


def test_merge_patterns():
    X = np.hstack([np.random.default_rng(0).standard_normal((10, 2)), np.ones((10, 1))])
    full, some = enumerate_patterns(X), sample_patterns(X, 10, seed=0)
    merged = merge_patterns(some, full)
    assert merged.complete and merged.source == "sampled+enumerated"
    assert _as_set(merged) == _as_set(full) and merged.n_patterns == full.n_patterns
    assert np.array_equal(merged.masks[:, : some.n_patterns], some.masks)
    with pytest.raises(ValueError, match="PatternSet 1"):
        merge_patterns(full, PatternSet(np.ones((3, 1), bool), np.ones((3, 1)), False, "x"))


def test_interior_generator_takes_the_asked_side_of_each_kink():
    """A direction on kinks (pricing's maxima are) gets a cell whose cone contains it; with ``side``
    the rows on a kink are active exactly where ``side > 0``."""
    from deepdual.convex.patterns import interior_generator

    rng = np.random.default_rng(4)
    X = rng.standard_normal((25, 4))
    g = np.linalg.svd(X[:3])[2][-1]  # x_iᵀg = 0 for the first three rows (a ray of the arrangement)
    on = np.abs(X @ g) <= 1e-12 * np.abs(X @ g).max()
    assert on.sum() == 3
    side = rng.standard_normal(25)
    for s in (None, side):
        h = interior_generator(X, g, rng, side=s)
        vals = X @ h
        assert np.all(vals != 0)                                   # interior: no row on a kink
        assert np.array_equal(vals[~on] > 0, (X @ g)[~on] > 0)     # the other rows keep their sign
        A = np.where((vals >= 0)[:, None], X, -X)
        assert np.all(A @ g >= -1e-12 * np.linalg.norm(g))         # g lies in the cone of the new pattern
        if s is not None:
            assert np.array_equal(vals[on] > 0, side[on] > 0)
    assert interior_generator(X, h) is h                            # already interior: unchanged
