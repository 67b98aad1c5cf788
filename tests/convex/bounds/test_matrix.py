"""matrix_direction_bound: proven bounds on max_{‖u‖≤1} ‖Rᵀ(Xu)₊‖ for vector outputs, against brute force in R²."""

from __future__ import annotations

import numpy as np
import pytest
from _oracle_bounds import exact_c_2d, patterns_2d

from deepdual.convex.bounds import matrix_direction_bound


def test_matrix_bound_is_valid_and_uses_complete_patterns():
    rng = np.random.default_rng(6)
    th = np.linspace(0, 2 * np.pi, 100_001)
    U = np.stack([np.cos(th), np.sin(th)])
    for _ in range(3):
        X, R = rng.standard_normal((7, 2)), rng.standard_normal((7, 3))
        brute = float(np.max(np.linalg.norm(R.T @ np.maximum(X @ U, 0.0), axis=0)))
        with_p = matrix_direction_bound(R, X, patterns=patterns_2d(X), time_budget=3.0)
        without = matrix_direction_bound(R, X, time_budget=3.0)
        for res in (with_p, without):
            assert res.upper >= brute
            assert res.estimate <= brute * (1 + 1e-6)
            assert res.estimate >= 0.99 * brute
        assert with_p.upper <= without.upper * (1 + 1e-12)
    X, R = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))
    assert matrix_direction_bound(R, X, time_budget=2.0).upper == pytest.approx(exact_c_2d(R[:, 0], X), rel=1e-9)


def test_matrix_bound_invalid_inputs():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="`X` has 4 rows but `R` has 3"):
        matrix_direction_bound(np.ones((3, 2)), X)
    with pytest.raises(ValueError, match="`time_budget` == inf, must be finite"):
        matrix_direction_bound(np.ones((4, 2)), X, time_budget=float("inf"))
