"""cone_value: the certified maximum of gᵀu over a pattern cone, against CVXPY."""

from __future__ import annotations

import numpy as np
import pytest

from deepdual.convex.bounds import cone_value


def test_cone_value_matches_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(4)
    X = rng.standard_normal((15, 4))
    for _ in range(3):
        mask = X @ rng.standard_normal(4) >= 0
        g = rng.standard_normal(4)
        val, u = cone_value(g, X, mask)
        v = cp.Variable(4)
        A = np.where(mask[:, None], X, -X)
        prob = cp.Problem(cp.Maximize(g @ v), [A @ v >= 0, cp.norm(v) <= 1])
        prob.solve(solver="CLARABEL")
        assert val == pytest.approx(prob.value, abs=1e-6)
        assert np.all(A @ u >= -1e-10)
        assert np.linalg.norm(u) == pytest.approx(1.0) or (not np.any(u) and val < 1e-12)
        assert float(g @ u) == pytest.approx(val, rel=1e-9, abs=1e-12)


def test_cone_value_invalid_inputs():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"`g` must have shape \(2,\)"):
        cone_value(np.ones(3), X, np.ones(4, bool))
    with pytest.raises(ValueError, match=r"`mask` must have shape \(4,\)"):
        cone_value(np.ones(2), X, np.ones(3, bool))
    with pytest.raises(ValueError, match="`mask` must be boolean"):
        cone_value(np.ones(2), X, np.full(4, 0.5))
