"""The whitened, undersampled split of Figure 4."""

import numpy as np
import pytest

from deepdual.data import Split, load_digits_data, undersample_whitened
from deepdual.whitening import is_whitened


def test_undersample_whitened_mnist_random_features(mnist):
    split = undersample_whitened(mnist.X, mnist.labels, n=60, d=90, test_size=500, seed=0)
    assert isinstance(split, Split)
    assert split.X_train.shape == (60, 90) and split.X_test.shape == (500, 90)
    assert np.abs(split.X_train @ split.X_train.T - np.eye(60)).max() < 1e-10
    assert is_whitened(split.X_train)
    assert np.bincount(split.y_train).tolist() == [6] * 10
    assert set(split.train_indices).isdisjoint(split.test_indices)
    assert len(set(split.test_indices)) == 500
    np.testing.assert_array_equal(split.y_train, mnist.labels[split.train_indices])
    np.testing.assert_array_equal(split.y_test, mnist.labels[split.test_indices])
    np.testing.assert_array_equal(split.classes[split.Y_train.argmax(axis=1)], split.y_train)
    np.testing.assert_array_equal(split.classes[split.Y_test.argmax(axis=1)], split.y_test)
    # features: 90 distinct columns, each varying over the training samples
    f = split.feature_indices
    assert f.shape == (90,) and len(set(f)) == 90
    assert np.all(mnist.X[split.train_indices][:, f].var(axis=0) > 0)
    # the test points go through the same column choice and the same whitening map
    M = split.whitener.matrix_
    np.testing.assert_allclose(split.X_test, mnist.X[split.test_indices][:, f] @ M, atol=1e-10)
    np.testing.assert_allclose(split.transform(mnist.X[split.train_indices]), split.X_train, atol=1e-10)
    assert "60 training samples (6 per class" in split.description
    assert "90 features = a uniformly random subset" in split.description
    # reproducible from the seed
    again = undersample_whitened(mnist.X, mnist.labels, n=60, d=90, test_size=500, seed=0)
    np.testing.assert_array_equal(again.train_indices, split.train_indices)
    np.testing.assert_array_equal(again.feature_indices, f)


def test_undersample_whitened_pca_features(mnist):
    X = mnist.X[:, ::8]  # 98 of the pixels keep the reference PCA cheap
    split = undersample_whitened(X, mnist.labels, n=20, d=30, test_size=100, seed=1,
                                 classes=[7, 3], feature_method="pca")
    assert split.classes.tolist() == [7, 3]
    assert np.bincount(split.y_train, minlength=10)[[3, 7]].tolist() == [10, 10]
    np.testing.assert_array_equal(split.Y_train[:, 0] == 1, split.y_train == 7)
    assert set(split.y_test) <= {3, 7} and split.feature_indices is None
    assert np.abs(split.X_train @ split.X_train.T - np.eye(20)).max() < 1e-10
    # the projection spans the top principal subspace of the documented pool
    pool = np.isin(mnist.labels, [3, 7])
    pool[split.test_indices] = False
    mean = X[pool].mean(axis=0)
    ref = np.linalg.svd(X[pool] - mean, full_matrices=False)[2][:30]  # PCA by direct SVD
    np.testing.assert_allclose(split.pca_mean, mean, atol=1e-12)
    overlap = np.linalg.svd(ref @ split.pca_components.T, compute_uv=False)
    np.testing.assert_allclose(overlap, 1.0, atol=1e-8)
    np.testing.assert_allclose(split.transform(X[split.test_indices]), split.X_test, atol=1e-10)
    with pytest.raises(ValueError, match="`X` has 784 features; this split was made from data with 98"):
        split.transform(mnist.X[:2])
    assert "top 30 principal directions" in split.description


def test_undersample_whitened_digits():
    ds = load_digits_data()
    split = undersample_whitened(ds.X, ds.labels, n=30, d=40, test_size=50, seed=2)
    assert np.abs(split.X_train @ split.X_train.T - np.eye(30)).max() < 1e-10
    assert np.bincount(split.y_train).tolist() == [3] * 10
    no_test = undersample_whitened(ds.X, ds.labels, n=30, d=40, test_size=0, seed=2)
    assert no_test.X_test.shape == (0, 40) and no_test.Y_test.shape == (0, 10)
    np.testing.assert_array_equal(no_test.X_train, split.X_train)  # same seed, same training rows


def test_undersample_whitened_errors(mnist):
    X, y = mnist.X, mnist.labels
    with pytest.raises(ValueError, match=r"`n` == 55 is not a multiple of the 10 classes"):
        undersample_whitened(X, y, n=55, d=90, test_size=10)
    with pytest.raises(ValueError, match=r"`n` == 100 > `d` == 90.*at most 90"):
        undersample_whitened(X, y, n=100, d=90, test_size=10)
    with pytest.raises(ValueError, match=r"class 2 has 1 sample\(s\) but 3 per class"):
        undersample_whitened(X[:1001], y[:1001], n=9, d=90, test_size=1)
    with pytest.raises(ValueError, match=r"`test_size` == 5000, but only 4940"):
        undersample_whitened(X, y, n=60, d=90, test_size=5000)
    with pytest.raises(ValueError, match="only .* features vary over the 10 training samples"):
        undersample_whitened(X, y, n=10, d=700, test_size=1)
    with pytest.raises(ValueError, match="`X` has 5000 rows but `labels` has 10"):
        undersample_whitened(X, y[:10], n=10, d=20, test_size=1)
    with pytest.raises(ValueError, match="`feature_method` == 'svd'"):
        undersample_whitened(X, y, n=10, d=20, test_size=1, feature_method="svd")


def test_undersample_whitened_feature_errors():
    ds = load_digits_data()
    with pytest.raises(ValueError, match="`d` == 65, but `X` has only 64 features"):
        undersample_whitened(ds.X, ds.labels, n=10, d=65, test_size=1)
    # 360 samples of classes 0 and 1, 330 of them for testing: 30 left for 50 principal directions
    with pytest.raises(ValueError, match="the PCA pool has 30 samples, fewer than `d` == 50"):
        undersample_whitened(ds.X, ds.labels, n=10, d=50, test_size=330, classes=[0, 1], feature_method="pca")
    A = np.random.default_rng(0).standard_normal((200, 10))
    with pytest.raises(ValueError, match="the PCA pool spans fewer than `d` == 15 directions"):
        undersample_whitened(np.hstack([A, A]), np.arange(200) % 2, n=10, d=15, test_size=0, feature_method="pca")
