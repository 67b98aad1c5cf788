"""Tests of deepdual.metrics.collapse: neural collapse (function and accumulator) and the simplex ETF."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepdual import MLP
from deepdual.metrics import NeuralCollapse, NeuralCollapseAccumulator, neural_collapse, simplex_etf

NC_FIELDS = ("nc1", "nc2_norm_cv", "nc2_cos_std", "nc2_cos_mean_dev", "nc2_etf_distance", "nc3")


def _orthogonal(n, rng):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def _etf_features(K, dim, sizes, rng, *, noise=0.0, offset=None):
    """Samples of class k at the ETF vertex k (randomly rotated in R^dim), plus optional noise."""
    M = simplex_etf(K, dim, seed=int(rng.integers(1 << 30)))  # (dim, K)
    labels = np.concatenate([np.full(n, k) for k, n in enumerate(sizes)])
    rng.shuffle(labels)
    H = M.T[labels] + noise * rng.standard_normal((labels.size, dim))
    if offset is not None:
        H = H + offset
    return H, labels, M


def _assert_nc_close(a: NeuralCollapse, b: NeuralCollapse, rtol, atol=0.0):
    for f in NC_FIELDS + ("nc4",):
        x, y = getattr(a, f), getattr(b, f)
        if x is None or y is None:
            assert x is None and y is None, f
        else:
            assert x == pytest.approx(y, rel=rtol, abs=atol), f


# ---------------------------------------------------------------------- simplex ETF


@pytest.mark.parametrize("K,dim", [(2, 1), (2, 5), (3, 2), (5, 5), (6, 9)])
def test_simplex_etf_has_unit_columns_and_equal_negative_cosines(K, dim):
    M = simplex_etf(K, dim, seed=3)
    assert M.shape == (dim, K)
    expected = (K / (K - 1)) * (np.eye(K) - 1.0 / K)
    np.testing.assert_allclose(M.T @ M, expected, atol=1e-13)
    np.testing.assert_allclose(M.sum(axis=1), 0.0, atol=1e-13)
    np.testing.assert_allclose(simplex_etf(K), np.sqrt(K / (K - 1)) * (np.eye(K) - 1.0 / K), atol=1e-15)
    with pytest.raises(ValueError, match="`dim` == "):
        simplex_etf(K, K - 2) if K > 2 else simplex_etf(K, 0)


# ---------------------------------------------------------------------- neural collapse


@pytest.mark.parametrize("K,dim,sizes", [
    (2, 1, [5, 5]), (2, 4, [3, 11]), (3, 2, [4, 4, 4]), (4, 3, [1, 7, 2, 5]),
    (5, 8, [6, 6, 6, 6, 6]), (10, 12, list(range(1, 11))),
])
def test_exact_simplex_etf_gives_zero_nc1_to_nc3(K, dim, sizes):
    rng = np.random.default_rng(K * 100 + dim)
    H, y, M = _etf_features(K, dim, sizes, rng, offset=rng.standard_normal(dim) * 3)
    classifier = 2.5 * M  # (n_features, K) network layout, rows ∝ centered means
    nc = neural_collapse(H, y, classifier=classifier, predictions=y)
    assert nc.num_classes == K and nc.n_samples == sum(sizes)
    for f in NC_FIELDS:
        assert abs(getattr(nc, f)) < 1e-10, (f, getattr(nc, f))
    assert nc.nc4 == 0.0  # the nearest class mean of a vertex is its own class
    wrong = y.copy()
    wrong[0] = (y[0] + 1) % K
    assert neural_collapse(H, y, predictions=wrong).nc4 == pytest.approx(1 / y.size)
    # the (K, n_features) layout gives the same NC3 (unambiguous when dim != K)
    if dim != K:
        assert neural_collapse(H, y, classifier=classifier.T).nc3 < 1e-10


def test_non_etf_data_gives_clearly_positive_values():
    rng = np.random.default_rng(4)
    K, p = 4, 6
    means = rng.standard_normal((K, p)) * np.array([3, 1, 0.5, 0.2, 0, 0])
    y = np.repeat(np.arange(K), 30)
    H = means[y] + 0.5 * rng.standard_normal((y.size, p))
    W = rng.standard_normal((p, K))
    preds = rng.integers(0, K, size=y.size)
    nc = neural_collapse(H, y, classifier=W, predictions=preds)
    assert nc.nc1 > 0.05
    assert nc.nc2_norm_cv > 0.05 and nc.nc2_cos_std > 0.05 and nc.nc2_cos_mean_dev > 0.05
    assert nc.nc2_etf_distance > 0.05 and nc.nc3 > 0.1
    assert 0.3 < nc.nc4 < 1.0  # random predictions disagree with the NCC about 3/4 of the time
    # within-class noise only (means are an exact ETF): NC1 > 0, NC2 ≈ 0
    H2, y2, M = _etf_features(3, 5, [50, 50, 50], rng, noise=0.1)
    nc2 = neural_collapse(H2, y2)
    assert nc2.nc1 > 1e-3 and nc2.nc3 is None and nc2.nc4 is None


def test_nc1_matches_direct_formula_with_pseudo_inverse():
    rng = np.random.default_rng(5)
    K, p = 4, 7
    y = np.array([0] * 10 + [1] * 25 + [2] * 5 + [3] * 12)
    H = rng.standard_normal((K, p))[y] * 2 + rng.standard_normal((y.size, p))
    mu = np.stack([H[y == k].mean(0) for k in range(K)])
    muG = mu.mean(0)
    Sw = sum(np.outer(h - mu[c], h - mu[c]) for h, c in zip(H, y, strict=True)) / y.size
    Sb = (mu - muG).T @ (mu - muG) / K
    lam, U = np.linalg.eigh(Sb)
    lam, U = lam[-(K - 1):], U[:, -(K - 1):]
    expected = np.trace(Sw @ (U / lam) @ U.T) / K
    nc = neural_collapse(H, y)
    assert nc.nc1 == pytest.approx(expected, rel=1e-10)
    Mc = mu - muG
    norms = np.linalg.norm(Mc, axis=1)
    assert nc.nc2_norm_cv == pytest.approx(norms.std() / norms.mean(), rel=1e-12)
    cos = [(Mc[i] @ Mc[j]) / (norms[i] * norms[j]) for i in range(K) for j in range(i + 1, K)]
    assert nc.nc2_cos_std == pytest.approx(np.std(cos), rel=1e-10)
    assert nc.nc2_cos_mean_dev == pytest.approx(np.mean(np.abs(np.array(cos) + 1 / (K - 1))), rel=1e-10)


def test_neural_collapse_is_invariant_to_rotation_scaling_and_permutation():
    rng = np.random.default_rng(6)
    K, p = 5, 8
    y = rng.integers(0, K, size=200)
    H = rng.standard_normal((K, p))[y] + 0.7 * rng.standard_normal((y.size, p))
    W = rng.standard_normal((p, K))
    preds = rng.integers(0, K, size=y.size)
    ref = neural_collapse(H, y, classifier=W, predictions=preds)
    Q = _orthogonal(p, rng)
    perm = rng.permutation(K)
    Wp = np.empty_like(W)
    Wp[:, perm] = W  # column of class k moves to class perm[k]
    moved = neural_collapse(3.7 * H @ Q + 5.0, perm[y], classifier=0.2 * Q.T @ Wp, predictions=perm[preds])
    _assert_nc_close(moved, ref, rtol=1e-9)
    assert ref.nc1 > 0.1  # a non-trivial value was compared


def test_labels_need_not_be_contiguous_without_num_classes():
    rng = np.random.default_rng(7)
    H = rng.standard_normal((40, 3))
    y = np.repeat([0, 1, 2, 3], 10)
    values = np.array([-5, 2, 7, 100])
    ref = neural_collapse(H, y, predictions=y)
    other = neural_collapse(H, values[y], predictions=values[y])
    _assert_nc_close(other, ref, rtol=1e-14)
    assert neural_collapse(H, y, num_classes=4).nc1 == pytest.approx(ref.nc1, rel=1e-14)


@pytest.mark.parametrize("with_predictions", [False, True])
def test_accumulator_over_batches_equals_one_shot(with_predictions):
    rng = np.random.default_rng(8)
    K, p, n = 6, 9, 403
    y = rng.integers(0, K, size=n)
    H = 50.0 + rng.standard_normal((K, p))[y] + 0.3 * rng.standard_normal((n, p))  # large offset
    W = rng.standard_normal((K, p))
    preds = np.where(rng.random(n) < 0.2, rng.integers(0, K, size=n), y) if with_predictions else None
    one_shot = neural_collapse(H, y, classifier=W, predictions=preds, num_classes=K)
    acc = NeuralCollapseAccumulator(num_classes=K, num_features=p)
    cuts = [0, 1, 17, 150, 151, 300, n]  # includes a single-row batch and batches missing classes
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        acc.update(torch.from_numpy(H[a:b]), y[a:b], None if preds is None else preds[a:b])
    assert acc.n_samples == n
    _assert_nc_close(acc.compute(classifier=W), one_shot, rtol=1e-10, atol=1e-12)
    assert one_shot.nc1 > 0.01
    assert (one_shot.nc4 is not None) == with_predictions
    acc.reset()
    with pytest.raises(ValueError, match="no data"):
        acc.compute()


def test_accumulator_rejects_inconsistent_batches():
    acc = NeuralCollapseAccumulator(num_classes=3, num_features=2)
    acc.update(np.ones((2, 2)), [0, 1], predictions=[0, 1])
    with pytest.raises(ValueError, match="for some batches and not for others"):
        acc.update(np.ones((2, 2)), [0, 1])
    with pytest.raises(ValueError, match="num_features == 2"):
        acc.update(np.ones((2, 3)), [0, 1], predictions=[0, 1])
    with pytest.raises(ValueError, match=r"must lie in \[0, 3\)"):
        acc.update(np.ones((1, 2)), [3], predictions=[0])
    with pytest.raises(ValueError, match=r"class\(es\) \[2\] have no samples"):
        acc.compute()
    with pytest.raises(ValueError, match="`num_classes` == 1, must be >= 2"):
        NeuralCollapseAccumulator(num_classes=1, num_features=2)


def test_float32_input_gives_the_float64_values():
    # Regression: float32 statistics fed to a float64 pinv gave NC1 = -3.7e7 in a peer.
    rng = np.random.default_rng(9)
    K, p = 10, 64
    H64, y, M = _etf_features(K, p, [40] * K, rng, noise=1e-3, offset=100.0)
    H32 = H64.astype(np.float32)
    W = M.astype(np.float32)
    r32 = neural_collapse(H32, y, classifier=W, predictions=y)
    r32_torch = neural_collapse(torch.from_numpy(H32), torch.from_numpy(y), classifier=torch.from_numpy(W),
                                predictions=torch.from_numpy(y))
    r64_same = neural_collapse(H32.astype(np.float64), y, classifier=W.astype(np.float64), predictions=y)
    # identical input values: identical results, whatever the dtype
    _assert_nc_close(r32, r64_same, rtol=0, atol=0)
    _assert_nc_close(r32_torch, r64_same, rtol=0, atol=0)
    # and close to the float64 original: float32 rounding of H (≈ 100·6e-8 = 6e-6 vs noise 1e-3)
    r64 = neural_collapse(H64, y, classifier=M, predictions=y)
    assert np.isfinite(r32.nc1) and r32.nc1 >= 0
    assert 1e-7 < r64.nc1 < 1e-4
    assert r32.nc1 == pytest.approx(r64.nc1, rel=1e-3)  # observed 8e-5
    for f in NC_FIELDS[1:]:
        assert abs(getattr(r32, f) - getattr(r64, f)) < 1e-6, f
    # the same data breaks the naive route (float32 statistics, float64 pinv): the test is sensitive
    mu = np.stack([H32[y == k].mean(0) for k in range(K)])
    C = H32 - mu[y]
    Sw = (C.T @ C / y.size).astype(np.float64)
    Sb = ((mu - H32.mean(0)).T @ (mu - H32.mean(0)) / K).astype(np.float64)
    naive = np.trace(Sw @ np.linalg.pinv(Sb, rcond=1e-15)) / K
    assert abs(naive - r64.nc1) > 1e3 * r64.nc1
    # exact ETF in float32: no blow-up, NC1 stays tiny
    Hx, yx, _ = _etf_features(K, p, [5] * K, rng, offset=100.0)
    exact32 = neural_collapse(Hx.astype(np.float32), yx)
    assert 0 <= exact32.nc1 < 1e-10


def test_degenerate_class_means_do_not_blow_up():
    # three classes whose means are collinear: Σ_B has rank 1 < K - 1; the null eigenvalue is not inverted
    rng = np.random.default_rng(10)
    y = np.repeat([0, 1, 2], 20)
    H = np.array([[-1.0, 0], [0, 0], [1.0, 0]])[y] + 0.1 * rng.standard_normal((60, 2))
    H -= np.stack([H[y == k].mean(0) for k in range(3)])[y] * np.array([0, 1])  # class means on the x-axis
    nc = neural_collapse(H, y)
    assert np.isfinite(nc.nc1) and 0 < nc.nc1 < 1.0
    mu = np.stack([H[y == k].mean(0) for k in range(3)])
    Sw = (H - mu[y]).T @ (H - mu[y]) / y.size
    Sb = (mu - mu.mean(0)).T @ (mu - mu.mean(0)) / 3
    assert nc.nc1 == pytest.approx(np.trace(Sw @ np.linalg.pinv(Sb, rcond=1e-10)) / 3, rel=1e-9)
    with pytest.raises(ValueError, match="every class mean of `H` is the same"):  # undefined: an error, not NaN
        neural_collapse(np.zeros((4, 2)), [0, 0, 1, 1])


def test_neural_collapse_rejects_bad_input():
    H = np.zeros((4, 3))
    H_nan = H.copy()
    H_nan[2, 1] = np.nan
    with pytest.raises(ValueError, match="`H` contains 1 NaN"):
        neural_collapse(H_nan, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="`H` has 4 rows but `labels` has 3"):
        neural_collapse(H, [0, 1, 0])
    with pytest.raises(ValueError, match="K >= 2"):
        neural_collapse(H, [1, 1, 1, 1])
    with pytest.raises(TypeError, match="non-integer values"):
        neural_collapse(H, [0, 1, 0.5, 1])
    with pytest.raises(TypeError, match="dtype <U1"):
        neural_collapse(H, np.array(["a", "b", "a", "b"]))
    with pytest.raises(ValueError, match="one-hot"):
        neural_collapse(H, np.eye(4)[:, :2])
    with pytest.raises(ValueError, match=r"class\(es\) \[2\] have no samples"):
        neural_collapse(H, [0, 1, 0, 1], num_classes=3)
    with pytest.raises(ValueError, match=r"`classifier` has shape \(2, 2\); expected \(3, 2\)"):
        neural_collapse(H, [0, 1, 0, 1], classifier=np.ones((2, 2)))
    with pytest.raises(ValueError, match="`H` has 4 rows but `predictions` has 2"):
        neural_collapse(H, [0, 1, 0, 1], predictions=[0, 1])
    with pytest.raises(ValueError, match="must be 2-D"):
        neural_collapse(np.zeros(4), [0, 1, 0, 1])


def test_classifier_can_be_a_network():
    rng = np.random.default_rng(11)
    net = MLP([4, 5, 3], seed=1)
    y = np.repeat(np.arange(3), 7)
    H = rng.standard_normal((21, 5))
    via_net = neural_collapse(H, y, classifier=net)
    via_matrix = neural_collapse(H, y, classifier=net.layer_matrices()[-1])
    assert via_net.nc3 == via_matrix.nc3 and via_net.nc3 > 0
