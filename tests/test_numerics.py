"""SPEC §7 building blocks: the rank rule, exact sums, the residual-form dual and the self-check."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

import deepdual as dd
from deepdual._numerics import (
    EPS,
    CertificateError,
    checked_lower_bound,
    dual_objective,
    exact_dot,
    rank_cutoff,
    rounding_slack,
    significant,
)


def _exact_dual(R, Y, theta):
    t = Fraction(theta)
    ry = sum(Fraction(float(a)) * Fraction(float(b)) for a, b in zip(R.ravel(), Y.ravel()))
    rr = sum(Fraction(float(a)) ** 2 for a in R.ravel())
    return t * ry - t * t * rr / 2


@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e6, 1e8])
def test_dual_objective_never_exceeds_the_exact_value(scale):
    rng = np.random.default_rng(0)
    for _ in range(20):
        Y = scale * rng.standard_normal((7, 2))
        R = Y * 1e-7 + scale * 1e-9 * rng.standard_normal((7, 2))  # tiny residual: ‖Y‖² ≫ D
        theta = float(rng.uniform(0.1, 1.0))
        got = Fraction(dual_objective(R, Y, theta))
        exact = _exact_dual(R, Y, theta)
        assert got <= exact
        assert abs(float(exact - got)) <= 64 * EPS * (abs(float(exact)) + float(np.sum(np.abs(R * Y))))


def test_exact_dot_sums_without_cancellation():
    a = np.array([1e16, 1.0, -1e16])
    b = np.ones(3)
    total, absum = exact_dot(a, b)
    assert total == 1.0 and absum == 2e16 + 1.0
    assert float(np.dot(a, b)) != 1.0  # what plain summation loses


def test_one_rank_rule():
    s = np.array([3.0, 1e-3, 3.0 * 10 * EPS, 1e-17])
    assert rank_cutoff(s, (10, 4)) == pytest.approx(10 * EPS * 3.0)
    np.testing.assert_array_equal(significant(s, (10, 4)), [True, True, False, False])
    assert significant(np.zeros(0), (3, 3)).size == 0


def test_checked_lower_bound_clips_within_rounding_and_raises_beyond():
    assert checked_lower_bound(1.0 + 1e-17, 1.0, 1e-15, what="t") == 1.0
    assert checked_lower_bound(0.5, 1.0, 1e-15, what="t") == 0.5
    with pytest.raises(CertificateError, match="exceeds the attained objective"):
        checked_lower_bound(1.001, 1.0, 1e-6, what="t")
    with pytest.raises(CertificateError, match="non-finite"):
        checked_lower_bound(float("nan"), 1.0, 1e-6, what="t")
    assert rounding_slack(1.0, 2.0, 1e-10) == pytest.approx(2e-10 + 0.5e-20 + 64 * EPS)


def test_float32_networks_are_evaluated_in_float64():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((9, 4)), rng.standard_normal((9, 2))
    net32 = dd.ParallelNet(4, 2, depth=3, branches=3, seed=0, dtype=torch.float32)
    net64 = dd.ParallelNet(4, 2, depth=3, branches=3, seed=0, dtype=torch.float32).double()
    assert dd.objective(net32, X, Y, beta=0.3) == dd.objective(net64, X, Y, beta=0.3)
    assert next(net32.parameters()).dtype == torch.float32  # the caller's network is untouched


def test_certify_and_closed_form_refuse_a_lower_bound_above_the_attained_objective(monkeypatch):
    """The self-check is wired in: a (deliberately) false bound raises instead of being returned."""
    import deepdual.certificates as certs
    import deepdual.theorems.linear as linear_mod
    from deepdual.solution import Certificate

    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    net = dd.ParallelNet(3, 2, depth=2, branches=2, seed=0)
    real = certs.certify_linear

    def lying(network, X, Y, beta, depth):
        c = real(network, X, Y, beta, depth)
        return Certificate(objective=c.objective, lower_bound=2 * c.objective + 1, gap=-1.0, method="lie", exact=False)

    monkeypatch.setattr(certs, "certify_linear", lying)
    with pytest.raises(CertificateError, match="refusing to return a false certificate"):
        dd.certify(net, X, Y, beta=0.5)
    monkeypatch.setattr(linear_mod, "residual_lower_bound", lambda R, X, Y, beta: (1e9, R))
    with pytest.raises(CertificateError, match="exceeds the attained objective"):
        dd.closed_form(X, Y[:, 0], beta=0.5, depth=2)
