"""Pricing (SPEC §6): directions with a large |rᵀ(Xu)₊|, checked against exact values and the cones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdual.convex.bounds import cone_value, direction_bound
from deepdual.convex.pricing import _ascend, _search, price


def _values(r, X, U):
    return np.abs(r @ np.maximum(X @ U, 0.0))


def exact_c_2d(r, X):
    """c(r) in R² by a sweep over the arcs between hyperplane directions (the map is linear on each)."""
    ang = np.arctan2(X[:, 1], X[:, 0])[np.linalg.norm(X, axis=1) > 0]
    br = np.sort(np.mod(np.concatenate([ang + np.pi / 2, ang - np.pi / 2, [0.0]]), 2 * np.pi))
    br = np.concatenate([br, [br[0] + 2 * np.pi]])
    best = 0.0
    for a, b in zip(br[:-1], br[1:]):
        m = 0.5 * (a + b)
        g = X.T @ ((X @ np.array([np.cos(m), np.sin(m)]) > 0) * r)
        cands = [a, b]
        for s in (1.0, -1.0):
            th = math.atan2(s * g[1], s * g[0]) % (2 * np.pi)
            cands += [t for t in (th - 2 * np.pi, th, th + 2 * np.pi) if a <= t <= b]
        best = max(best, max(abs(float(r @ np.maximum(X @ np.array([np.cos(t), np.sin(t)]), 0.0))) for t in cands))
    return best


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(min_value=1, max_value=8), st.integers(min_value=0, max_value=10_000))
def test_finds_the_maximum_in_2d(n, seed):
    rng = np.random.default_rng(seed)
    X, r = rng.standard_normal((n, 2)), rng.standard_normal(n)
    U = price(r, X, n_starts=16)
    assert U.shape[0] == 2
    assert _values(r, X, U)[0] == pytest.approx(exact_c_2d(r, X), rel=1e-9, abs=1e-14)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.integers(min_value=2, max_value=6), st.integers(min_value=0, max_value=10_000))
def test_directions_are_unit_sorted_distinct_and_cell_optimal(d, seed):
    rng = np.random.default_rng(seed)
    X, r = rng.standard_normal((30, d)), rng.standard_normal(30)
    U = price(r, X, n_starts=8)
    vals = _values(r, X, U)
    assert np.allclose(np.linalg.norm(U, axis=0), 1.0)
    assert np.all(np.diff(vals) <= 1e-15)
    G = U.T @ U
    assert np.all(G[~np.eye(U.shape[1], dtype=bool)] < 1 - 1e-9)
    # each direction maximizes its sign's linear piece on its own cell: value == cone value there
    for j in range(U.shape[1]):
        u = U[:, j]
        s = 1.0 if r @ np.maximum(X @ u, 0) > 0 else -1.0
        t = X @ u
        D = (t > 1e-12) | ((np.abs(t) <= 1e-12) & (s * r > 0))
        cone, _ = cone_value(X.T @ (D * s * r), X, D)
        assert vals[j] == pytest.approx(cone, rel=1e-7, abs=1e-12)
    # never above a proven bound
    assert vals[0] <= direction_bound(r, X, time_budget=0.5, method="spectral").upper


def test_the_ascent_is_monotone():
    rng = np.random.default_rng(0)
    X, r = rng.standard_normal((40, 5)), rng.standard_normal(40)
    tol = 1e-12 * np.linalg.norm(X, axis=1)
    for _ in range(10):
        u0 = rng.standard_normal(5)
        u0 /= np.linalg.norm(u0)
        u, v = _ascend(r, X, u0, tol)
        assert v >= float(r @ np.maximum(X @ u0, 0.0)) - 1e-15
        assert v == pytest.approx(float(r @ np.maximum(X @ u, 0.0)))
        assert np.linalg.norm(u) == pytest.approx(1.0)


def test_threshold_filters_and_may_return_nothing():
    rng = np.random.default_rng(1)
    X, r = rng.standard_normal((20, 3)), rng.standard_normal(20)
    U = price(r, X, n_starts=8)
    vals = _values(r, X, U)
    thr = float(np.median(vals))
    above = price(r, X, n_starts=8, threshold=thr)
    assert np.all(_values(r, X, above) > thr)
    assert above.shape[1] == int(np.sum(vals > thr))
    bound = direction_bound(r, X, time_budget=1.0).upper
    none = price(r, X, n_starts=8, threshold=bound)
    assert none.shape == (3, 0)


def test_zero_residual_and_determinism():
    X = np.random.default_rng(2).standard_normal((10, 3))
    assert price(np.zeros(10), X).shape == (3, 0)
    r = np.random.default_rng(3).standard_normal(10)
    np.testing.assert_array_equal(price(r, X, seed=5), price(r, X, seed=5))


def test_extra_starts_are_used():
    rng = np.random.default_rng(4)
    X, r = rng.standard_normal((30, 4)), rng.standard_normal(30)
    U, vals = _search(r, X, n_starts=2, seed=0)
    best = U[:, :1]
    # a start at the best direction found with many starts is kept (it is a fixed point of the ascent)
    V = price(r, X, n_starts=1, starts=3.0 * best)
    assert _values(r, X, V)[0] >= vals[0] * (1 - 1e-12)


def test_invalid_inputs():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="`X` has 4 rows but `r` has 5"):
        price(np.ones(5), X)
    with pytest.raises(ValueError, match="`r` must be a vector"):
        price(np.ones((4, 3)), X)
    with pytest.raises(ValueError, match="`n_starts` == 0, must be >= 1"):
        price(np.ones(4), X, n_starts=0)
    with pytest.raises(TypeError, match="`n_starts` must be an integer"):
        price(np.ones(4), X, n_starts=2.5)
    with pytest.raises(ValueError, match="`seed` == -1, must be >= 0"):
        price(np.ones(4), X, seed=-1)
    with pytest.raises(ValueError, match="`threshold` == -1.0, must be finite and >= 0"):
        price(np.ones(4), X, threshold=-1.0)
    with pytest.raises(TypeError, match="`threshold` must be a real number"):
        price(np.ones(4), X, threshold="big")
    with pytest.raises(ValueError, match=r"`starts` must have shape \(n_features, k\) = \(2, k\)"):
        price(np.ones(4), X, starts=np.ones((3, 2)))
    with pytest.raises(ValueError, match="`X` must be 2-D"):
        price(np.ones(4), np.ones(4))
