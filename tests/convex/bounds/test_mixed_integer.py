"""The big-M MILP bound: valid against an arc sweep, tighter with more ball cuts."""

from __future__ import annotations

import time

import numpy as np
import pytest
from _oracle_bounds import exact_c_2d

from deepdual.convex.bounds import _mixed_integer, direction_bound


def test_milp_bound_exceeds_brute_force_and_tightens_with_cuts():
    rng = np.random.default_rng(2)
    X, r = rng.standard_normal((7, 2)), rng.standard_normal(7)
    c = exact_c_2d(r, X)
    res = direction_bound(r, X, method="milp", time_budget=5.0)
    assert res.upper >= c
    assert res.upper == pytest.approx(c, rel=1e-3)
    box = [np.eye(2)[k] * s for k in range(2) for s in (1.0, -1.0)]
    for s in (1.0, -1.0):
        ci = max(float(s * r @ np.maximum(X @ np.array([np.cos(t), np.sin(t)]), 0))
                 for t in np.linspace(0, 2 * np.pi, 20001))
        coarse = _mixed_integer._milp_one_sign(s * r, X, time.perf_counter() + 5, list(box))[0]
        cuts = box + [np.array([np.cos(t), np.sin(t)]) for t in np.linspace(0, 2 * np.pi, 64, endpoint=False)]
        fine = _mixed_integer._milp_one_sign(s * r, X, time.perf_counter() + 5, cuts)[0]
        assert coarse >= fine - 1e-7 >= ci - 1e-6

