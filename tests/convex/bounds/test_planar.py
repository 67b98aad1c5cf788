"""The rank-2 arc sweep of direction_bound against the independent arc-sweep oracle (tests/_oracle_bounds.py)."""

from __future__ import annotations

import numpy as np
import pytest
from _oracle_bounds import exact_c_2d, sampled_max

from deepdual.convex.bounds import direction_bound


@pytest.mark.parametrize("seed", range(6))
def test_arc_sweep_is_exact_and_never_below_the_oracle(seed):
    rng = np.random.default_rng(seed)
    n = 5 + 40 * seed
    X, r = rng.standard_normal((n, 2)), rng.standard_normal(n)
    if seed % 2:  # duplicate, opposite and zero rows
        X = np.vstack([X, X[:3], -X[3:5], np.zeros((2, 2))])
        r = np.concatenate([r, rng.standard_normal(7)])
    c = exact_c_2d(r, X)
    res = direction_bound(r, X)
    assert "arc sweep" in res.method and res.exact
    assert c <= res.upper <= c * (1 + 1e-10)
    assert res.estimate == pytest.approx(c, rel=1e-12)
    assert abs(float(r @ np.maximum(X @ res.direction, 0.0))) == pytest.approx(c, rel=1e-12)


def test_rank_two_data_in_more_dimensions():
    rng = np.random.default_rng(9)
    B = np.linalg.qr(rng.standard_normal((6, 2)))[0]
    Z, r = rng.standard_normal((80, 2)), rng.standard_normal(80)
    res = direction_bound(r, Z @ B.T)
    assert res.upper >= exact_c_2d(r, Z) and res.upper == pytest.approx(exact_c_2d(r, Z), rel=1e-9)
    assert res.upper >= sampled_max(r, Z @ B.T, n_dirs=5000)
