"""Synthetic data of the paper: teacher networks, rank-one inputs, 1-D points."""

import numpy as np
import pytest

from deepdual.data import Dataset, RankOneDataset, one_dimensional_data, rank_one_data, teacher_data


def test_teacher_data_shapes_covariance_and_teacher():
    ds = teacher_data(20000, 5, 3, depth=2, width=50, activation="linear", seed=0)
    assert isinstance(ds, Dataset) and ds.labels is None
    assert ds.X.shape == (20000, 5) and ds.Y.shape == (20000, 3)
    assert ds.X.dtype == np.float64 and ds.Y.dtype == np.float64
    assert np.abs(ds.X.mean(axis=0)).max() < 0.05
    assert np.abs(np.cov(ds.X, rowvar=False) - np.eye(5)).max() < 0.05
    W1, W2 = ds.extras["teacher_weights"]
    assert W1.shape == (5, 50) and W2.shape == (50, 3)
    np.testing.assert_allclose(ds.Y, ds.X @ W1 @ W2, atol=1e-12)
    # a linear teacher gives targets of rank <= k, determined exactly by X
    coef = np.linalg.lstsq(ds.X, ds.Y, rcond=None)[0]
    np.testing.assert_allclose(ds.X @ coef, ds.Y, atol=1e-10)


def test_teacher_data_relu_noise_and_seeds():
    ds = teacher_data(30, 4, 2, depth=3, width=[6, 7], activation="relu", noise=0.0, seed=1)
    Ws = ds.extras["teacher_weights"]
    assert [W.shape for W in Ws] == [(4, 6), (6, 7), (7, 2)]
    H = np.maximum(np.maximum(ds.X @ Ws[0], 0) @ Ws[1], 0)
    np.testing.assert_allclose(ds.Y, H @ Ws[2], atol=1e-12)
    same = teacher_data(30, 4, 2, depth=3, width=[6, 7], activation="relu", seed=1)
    np.testing.assert_array_equal(same.X, ds.X)
    other = teacher_data(30, 4, 2, depth=3, width=[6, 7], activation="relu", seed=2)
    assert not np.allclose(other.X, ds.X)
    noisy = teacher_data(30, 4, 2, depth=3, width=[6, 7], activation="relu", noise=0.5, seed=1)
    resid = noisy.Y - _forward(noisy.X, noisy.extras["teacher_weights"])
    assert 0.2 < resid.std() < 1.0
    assert "relu" in ds.description and "4 -> 6 -> 7 -> 2" in ds.description
    with pytest.raises(ValueError, match="`activation` == 'tanh'"):
        teacher_data(5, 2, 1, activation="tanh")
    with pytest.raises(ValueError, match="`width` has 1 entries; this depth needs 2"):
        teacher_data(5, 2, 1, depth=3, width=[4])
    with pytest.raises(ValueError, match="`noise` == -1.0"):
        teacher_data(5, 2, 1, noise=-1.0)


def _forward(X, Ws):
    H = X
    for W in Ws[:-1]:
        H = np.maximum(H @ W, 0)
    return H @ Ws[-1]


@pytest.mark.parametrize("targets", ["random", "teacher"])
def test_rank_one_data(targets):
    ds = rank_one_data(25, 10, 3, targets=targets, seed=3)
    assert isinstance(ds, RankOneDataset)
    assert ds.X.shape == (25, 10) and ds.Y.shape == (25, 3)
    assert np.linalg.matrix_rank(ds.X) == 1
    assert np.all(ds.c >= 0) and np.isclose(np.linalg.norm(ds.c), 1.0)
    np.testing.assert_allclose(ds.X, np.outer(ds.c, ds.a0), atol=0)
    if targets == "teacher":  # positive homogeneity: f(c_i a0) = c_i f(a0)
        assert np.linalg.matrix_rank(ds.Y) == 1
    else:
        assert np.linalg.matrix_rank(ds.Y) == 3


def test_one_dimensional_data():
    ds = one_dimensional_data(8, seed=4, lo=-2, hi=3)
    x = ds.X[:, 0]
    assert ds.X.shape == (8, 1) and ds.Y.shape == (8, 1)
    assert np.all(np.diff(x) >= 5 / 80) and x.min() >= -2 and x.max() <= 3
    assert np.all(np.abs(ds.Y) <= 1)
    np.testing.assert_array_equal(one_dimensional_data(8, seed=4, lo=-2, hi=3).X, ds.X)
    with pytest.raises(ValueError, match="`lo` == 1.0 must be < `hi` == 1.0"):
        one_dimensional_data(3, lo=1, hi=1)
    with pytest.raises(ValueError, match="`seed` == -1"):
        one_dimensional_data(3, seed=-1)
    with pytest.raises(ValueError, match="`lo` == nan, must be a finite real number"):
        one_dimensional_data(3, lo=np.nan)
    with pytest.raises(ValueError, match="`hi` == True, must be a finite real number"):
        one_dimensional_data(3, hi=True)
