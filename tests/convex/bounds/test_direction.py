"""direction_bound: proven upper bounds on c(r) = max_{‖u‖≤1} |rᵀ(Xu)₊| (SPEC §6–7) against
independent oracles (tests/_oracle_bounds.py): the exact value in R² by an arc sweep, dense sampling
of the sphere, and the two exact methods (complete enumeration, branch and bound) against each
other in R³.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _oracle_bounds import exact_c_2d, patterns_2d, relu_value, sampled_max
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdual._numerics import CertificateError
from deepdual.convex.bounds import DirectionBound, _direction, direction_bound
from deepdual.convex.patterns import PatternSet, enumerate_patterns
from deepdual.convex.pricing import price

small_2d = st.integers(min_value=1, max_value=8).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=10_000)))


# ----------------------------------------------------------------------------------------- exactness
@settings(max_examples=12, deadline=None, derandomize=True)
@given(small_2d)
def test_exact_methods_match_the_arc_sweep_in_2d(case):
    n, seed = case
    rng = np.random.default_rng(seed)
    X, r = rng.standard_normal((n, 2)), rng.standard_normal(n)
    c = exact_c_2d(r, X)
    for kwargs in ({"method": "auto"}, {"method": "bnb"}, {"method": "enumerate", "patterns": patterns_2d(X)}):
        res = direction_bound(r, X, time_budget=5.0, **kwargs)
        assert res.upper >= c, kwargs
        assert res.exact, kwargs
        assert res.upper == pytest.approx(c, rel=1e-9, abs=1e-12), kwargs
        assert res.estimate == pytest.approx(c, rel=1e-9, abs=1e-12), kwargs
        assert relu_value(r, X, res.direction) == pytest.approx(res.estimate, rel=1e-12, abs=1e-15)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(small_2d)
def test_every_method_is_a_valid_bound_in_2d(case):
    n, seed = case
    rng = np.random.default_rng(seed)
    X, r = rng.standard_normal((n, 2)), rng.standard_normal(n)
    c = exact_c_2d(r, X)
    for method in ("milp", "lagrangian", "spectral"):
        res = direction_bound(r, X, time_budget=0.5, method=method)
        assert res.upper >= c, method
        assert res.estimate <= c * (1 + 1e-12) + 1e-15, method


@pytest.mark.parametrize("seed", range(4))
def test_enumeration_and_branch_and_bound_agree_in_3d(seed):
    rng = np.random.default_rng(seed)
    n = 12 + 6 * seed
    X, r = rng.standard_normal((n, 3)), rng.standard_normal(n)
    ps = enumerate_patterns(X)
    assert ps.complete
    a = direction_bound(r, X, patterns=ps, method="enumerate", time_budget=10.0)
    b = direction_bound(r, X, method="bnb", time_budget=10.0)
    assert a.exact and b.exact
    assert a.upper == pytest.approx(b.upper, rel=1e-9)
    assert a.upper >= sampled_max(r, X)


def test_data_with_a_bias_column_is_exact_by_branch_and_bound():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (60, 2))
    X = np.hstack([x, np.ones((60, 1))])
    r = np.sign(np.sin(3 * x[:, 0]) - x[:, 1]) - 0.3 * rng.standard_normal(60)
    res = direction_bound(r, X, time_budget=10.0)
    assert res.exact and "branch and bound" in res.method
    assert res.upper >= sampled_max(r, X)


def test_low_rank_data_is_bounded_in_its_row_space():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((8, 2))
    Q, _ = np.linalg.qr(rng.standard_normal((6, 2)))
    X, r = Z @ Q.T, rng.standard_normal(8)
    res = direction_bound(r, X, time_budget=5.0)
    c = exact_c_2d(r, Z)
    assert res.upper >= c
    assert res.exact and res.upper == pytest.approx(c, rel=1e-9)
    assert "2-dimensional row space" in res.method


# ----------------------------------------------------------------------------------------- validity in higher d
@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.integers(min_value=3, max_value=7), st.integers(min_value=0, max_value=10_000))
def test_upper_bounds_exceed_every_direction_found(d, seed):
    rng = np.random.default_rng(seed)
    n = 25
    X, r = rng.standard_normal((n, d)), rng.standard_normal(n)
    U = price(r, X, n_starts=8, seed=1)
    found = max(sampled_max(r, X, 5_000, seed), max((relu_value(r, X, U[:, j]) for j in range(U.shape[1])), default=0.0))
    for method in ("auto", "lagrangian", "spectral"):
        res = direction_bound(r, X, time_budget=0.5, method=method)
        assert res.upper >= found, method
        assert res.upper >= res.estimate
        assert relu_value(r, X, res.direction) == pytest.approx(res.estimate, rel=1e-12, abs=1e-15)


def test_lagrangian_is_tighter_than_the_old_spectral_bound():
    rng = np.random.default_rng(0)
    X, r = rng.standard_normal((120, 6)), rng.standard_normal(120)
    old = float(np.linalg.norm(X, 2)) * max(np.linalg.norm(np.maximum(r, 0)), np.linalg.norm(np.maximum(-r, 0)))
    res = direction_bound(r, X, method="lagrangian", time_budget=2.0)
    assert sampled_max(r, X) <= res.upper < 0.5 * old


def test_scaling_r_and_X_scales_the_bound():
    rng = np.random.default_rng(1)
    X, r = rng.standard_normal((7, 2)), rng.standard_normal(7)
    a = direction_bound(r, X, time_budget=2.0)
    b = direction_bound(3.7e5 * r, 1e-7 * X, time_budget=2.0)
    assert b.upper == pytest.approx(3.7e5 * 1e-7 * a.upper, rel=1e-9)
    assert b.exact


def test_degenerate_inputs():
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [-2.0, 0.0], [0.0, 1.0]])
    r = np.array([1.0, 0.5, 3.0, 1.0, -1.0])
    res = direction_bound(r, X, time_budget=2.0)
    assert res.exact and res.upper == pytest.approx(exact_c_2d(r, X), rel=1e-9)
    zero = direction_bound(np.zeros(5), X, time_budget=1.0)
    assert zero.upper == 0.0 and zero.exact and not np.any(zero.direction)
    one = direction_bound(np.array([2.0, -1.0]), np.array([[3.0], [1.0]]), time_budget=1.0)
    assert one.exact and one.upper == pytest.approx(5.0) and one.estimate == pytest.approx(5.0)
    single = direction_bound(np.array([-2.0]), np.array([[3.0, 4.0]]), time_budget=1.0)
    assert single.exact and single.upper == pytest.approx(10.0)


def test_a_bound_below_an_attained_value_raises(monkeypatch):
    rng = np.random.default_rng(0)
    X, r = rng.standard_normal((6, 3)), rng.standard_normal(6)
    monkeypatch.setattr(_direction, "_spectral", lambda r, X: (1e-9, "broken"))
    monkeypatch.setattr(_direction, "_row_quadratic", lambda r, X, deadline, optimize=True: (1e-9, []))
    with pytest.raises(CertificateError, match="below the attained value"):
        direction_bound(r, X, method="spectral", time_budget=1.0)


def test_time_budget_is_respected():
    rng = np.random.default_rng(0)
    X, r = rng.standard_normal((200, 10)), rng.standard_normal(200)
    for method in ("auto", "milp", "bnb"):
        res = direction_bound(r, X, time_budget=1.0, method=method)
        assert res.seconds <= 1.0 + 5.0, method
        assert math.isfinite(res.upper) and res.upper >= res.estimate > 0


def test_invalid_inputs():
    X = np.ones((4, 2))
    r = np.ones(4)
    with pytest.raises(ValueError, match="`X` has 4 rows but `r` has 3"):
        direction_bound(np.ones(3), X)
    with pytest.raises(ValueError, match="`r` must be a vector"):
        direction_bound(np.ones((4, 2)), X)
    with pytest.raises(ValueError, match=r"`r` contains 1 NaN or infinite value\(s\)"):
        direction_bound(np.array([1.0, np.nan, 0, 0]), X)
    with pytest.raises(ValueError, match="`X` must be 2-D"):
        direction_bound(r, np.ones(4))
    with pytest.raises(ValueError, match="`method` == 'fast'"):
        direction_bound(r, X, method="fast")
    with pytest.raises(ValueError, match="`time_budget` == 0.0, must be > 0"):
        direction_bound(r, X, time_budget=0)
    with pytest.raises(ValueError, match="`time_budget` == -1.0"):
        direction_bound(r, X, time_budget=-1)
    with pytest.raises(TypeError, match="`seed` must be an integer"):
        direction_bound(r, X, seed=1.5)
    with pytest.raises(ValueError, match="needs a complete pattern set"):
        direction_bound(r, X, method="enumerate")
    incomplete = PatternSet(np.ones((4, 1), bool), np.ones((2, 1)), False, "sampled")
    with pytest.raises(ValueError, match="needs a complete pattern set"):
        direction_bound(r, X, patterns=incomplete, method="enumerate")
    with pytest.raises(TypeError, match="`patterns` must be a deepdual.convex.patterns.PatternSet"):
        direction_bound(r, X, patterns=np.ones((4, 2), bool))
    wrong = PatternSet(np.ones((3, 1), bool), np.ones((2, 1)), True, "test")
    with pytest.raises(ValueError, match=r"`patterns.masks` must have shape \(n_samples, n_patterns\) = \(4, P\)"):
        direction_bound(r, X, patterns=wrong)


def test_result_record():
    res = direction_bound(np.array([1.0, -1.0, 2.0]), np.eye(3)[:, :2], time_budget=1.0)
    assert isinstance(res, DirectionBound)
    assert res.direction.shape == (2,)
    assert res.ratio == pytest.approx(res.upper / res.estimate)
    with pytest.raises(AttributeError):
        res.upper = 0.0  # frozen
