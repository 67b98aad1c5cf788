"""Tests of deepdual.metrics.splines: kinks, the linear spline interpolant, breakpoints of 1-D networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepdual import MLP
from deepdual.metrics import (
    KinksAtData,
    kinks,
    kinks_at_data,
    linear_spline,
    sup_distance_to_spline,
    two_layer_breakpoints,
)


def _pl(x):
    return np.abs(x - 0.3) + 2 * np.maximum(x + 0.55, 0) - np.maximum(x - 0.71, 0)


def test_kinks_of_known_piecewise_linear_function_are_exact():
    k = kinks(_pl, -1.0, 1.0)
    np.testing.assert_allclose(k, [-0.55, 0.3, 0.71], atol=1e-9)
    # off-grid kinks, one very close to the left end and one at the right end region
    c = np.array([-0.9999, -0.123456789, 0.4141414141, 0.99991])
    slopes = np.array([1.5, -2.0, 0.75, -3.0])

    def f(t):
        return 0.2 * t + 1.0 + sum(s * np.maximum(t - ci, 0) for s, ci in zip(slopes, c, strict=True))

    np.testing.assert_allclose(kinks(f, -1.0, 1.0), c, atol=1e-9)
    np.testing.assert_allclose(kinks(f, -1.0, 1.0, grid=1001), c, atol=1e-9)


def test_kinks_of_random_piecewise_linear_functions():
    rng = np.random.default_rng(12)
    for _ in range(5):
        c = np.sort(rng.uniform(-2, 3, size=6))
        c = c[np.concatenate([[True], np.diff(c) > 0.05])]
        s = rng.choice([-1, 1], size=c.size) * rng.uniform(0.1, 5, size=c.size)

        def f(t, c=c, s=s):
            return 3 - t + np.sum(s[:, None] * np.maximum(t[None, :] - c[:, None], 0), axis=0)

        np.testing.assert_allclose(kinks(f, -2.0, 3.0), c, atol=1e-9)


def test_no_kinks_on_linear_or_smooth_free_functions():
    assert kinks(lambda t: 3.0 * t - 2.0, -1, 1).size == 0
    assert kinks(lambda t: np.zeros_like(t), 0, 1).size == 0
    assert kinks(lambda t: 1e8 + 1e-3 * t, 0, 1).size == 0
    assert kinks(lambda t: np.full_like(t, 7.0), -5, 5).size == 0


def test_kinks_rejects_bad_input():
    with pytest.raises(ValueError, match="need `lo` < `hi`"):
        kinks(_pl, 1.0, 0.0)
    with pytest.raises(TypeError, match="callable"):
        kinks(np.ones(3), 0.0, 1.0)
    with pytest.raises(ValueError, match=r"to shape \(2,\)"):
        kinks(lambda t: np.ones(2), 0.0, 1.0)
    with pytest.raises(ValueError, match=r"`f\(t\)` contains"):
        kinks(lambda t: np.where(t > 0.5, np.nan, t), -1.0, 1.0)


def test_linear_spline_interpolates_and_extends_with_end_slopes():
    x = np.array([0.5, -1.0, 2.0, 0.0])
    y = np.array([1.0, 3.0, -2.0, 0.0])
    s = linear_spline(x, y)
    np.testing.assert_allclose(s(x), y, atol=1e-15)
    assert s(0.25) == pytest.approx(0.5)
    assert s(-2.0) == pytest.approx(6.0)  # slope −3 of the first segment
    assert s(3.0) == pytest.approx(-4.0)  # slope −2 of the last segment
    np.testing.assert_allclose(kinks(s, -1.0, 2.0), [0.0, 0.5], atol=1e-9)
    with pytest.raises(ValueError, match="repeated values"):
        linear_spline([0, 1, 1], [0, 1, 2])
    with pytest.raises(ValueError, match="`x` has 3 points but `y` has 2"):
        linear_spline([0, 1, 2], [0, 1])


def test_sup_distance_to_spline():
    rng = np.random.default_rng(13)
    x = np.sort(rng.uniform(-1, 1, 9))
    y = rng.standard_normal(9)
    s = linear_spline(x, y)
    assert sup_distance_to_spline(s, x, y) == pytest.approx(0.0, abs=1e-14)
    # a bump of height 0.3 at a grid point in the data range, plus a constant shift 0.1
    t0 = x[3]

    def bump(t):
        return s(t) + 0.1 + 0.3 * np.maximum(0, 1 - np.abs(t - t0) / 0.01)

    assert sup_distance_to_spline(bump, x, y) == pytest.approx(0.4, rel=1e-12)
    # a smooth perturbation: sup of |0.05 sin(3t)| over [min x, max x]

    def smooth(t):
        return s(t) + 0.05 * np.sin(3 * t)

    tt = np.linspace(x[0], x[-1], 200001)
    assert sup_distance_to_spline(smooth, x, y) == pytest.approx(np.max(np.abs(0.05 * np.sin(3 * tt))), rel=1e-5)


def test_kinks_at_data():
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    res = kinks_at_data([0.0, 0.5 + 1e-9], x, tol=1e-6)
    assert isinstance(res, KinksAtData) and res.at_data and bool(res)
    assert res.max_distance == pytest.approx(1e-9, rel=1e-6)
    off = kinks_at_data([0.25, 1.9], x, tol=1e-6)
    np.testing.assert_allclose(off.distances, [0.25, 0.1])
    assert not off.at_data and not off and off.max_distance == pytest.approx(0.25)
    empty = kinks_at_data([], x)
    assert empty.at_data and empty.max_distance == 0.0


def test_two_layer_breakpoints_match_kinks_of_the_network():
    net = MLP([1, 6, 1], bias=True, seed=3)
    with torch.no_grad():
        net.weights[0].copy_(torch.tensor([[1.0, -2.0, 0.0, 0.5, 3.0, 1.0]]))
        net.weights[1].copy_(torch.tensor([[1.0], [0.7], [5.0], [-1.0], [0.0], [2.0]]))
        net.biases[0].copy_(torch.tensor([0.3, 0.4, 1.0, -0.2, 0.1, -0.6]))
    bp = two_layer_breakpoints(net.weights, net.biases)
    # unit 2 has w = 0 and unit 4 has v = 0: inactive
    np.testing.assert_allclose(bp, [-0.3, 0.2, 0.4, 0.6])

    def f(t):
        return net(torch.from_numpy(t)[:, None]).detach().numpy().ravel()

    np.testing.assert_allclose(kinks(f, -1.0, 1.0), bp, atol=1e-9)
    assert kinks_at_data(bp, [-0.3, 0.2, 0.4, 0.6, 0.9]).at_data
    np.testing.assert_allclose(
        two_layer_breakpoints([np.array([1.0, 2.0]), np.array([1.0, 1.0])], np.array([1.0, 1.0])), [-1.0, -0.5])
    with pytest.raises(ValueError, match=r"shape \(1, m\)"):
        two_layer_breakpoints([np.ones((2, 3)), np.ones((3, 1))], np.ones(3))
    with pytest.raises(ValueError, match="`biases` has 2 hidden entries"):
        two_layer_breakpoints([np.ones((1, 3)), np.ones((3, 1))], np.ones(2))
