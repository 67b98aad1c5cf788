"""Data sources: one-hot labels, synthetic data of the paper, shipped data, CIFAR files, Fig. 4 split."""

import os
import pickle

import numpy as np
import pytest

from deepdual.data import (
    Dataset,
    RankOneDataset,
    Split,
    load_cifar10,
    load_digits_data,
    load_mnist_data,
    one_dimensional_data,
    one_hot,
    rank_one_data,
    teacher_data,
    undersample_whitened,
)
from deepdual.whitening import is_whitened


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_data()


# ---------------------------------------------------------------------------------- one_hot


def test_one_hot_round_trip_with_strings():
    labels = np.array(["dog", "cat", "bird", "cat", "dog"])
    enc = one_hot(labels)
    assert enc.classes.tolist() == ["bird", "cat", "dog"]
    assert enc.Y.dtype == np.float64 and enc.Y.shape == (5, 3)
    assert np.all(enc.Y.sum(axis=1) == 1) and set(np.unique(enc.Y)) == {0.0, 1.0}
    assert enc.labels.tolist() == labels.tolist()
    assert enc.decode(enc.Y + 0.1).tolist() == labels.tolist()


def test_one_hot_given_class_order_and_unknown_label():
    enc = one_hot([3, 1, 3], classes=[3, 2, 1])
    np.testing.assert_array_equal(enc.Y, [[1, 0, 0], [0, 0, 1], [1, 0, 0]])
    assert enc.classes.tolist() == [3, 2, 1]
    assert one_hot(["a"], classes=["b", "a"]).Y.tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError, match=r"not in `classes`: 'zebra'"):
        one_hot(["cat", "zebra"], classes=["cat", "dog"])
    with pytest.raises(ValueError, match="repeated entries"):
        one_hot([1, 2], classes=[1, 2, 1])
    with pytest.raises(ValueError, match="must be 1-D"):
        one_hot(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="`scores` has 2 columns but there are 3 classes"):
        enc.decode(np.zeros((1, 2)))


# ---------------------------------------------------------------------------------- synthetic


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


# ---------------------------------------------------------------------------------- real data


def test_digits_loader():
    ds = load_digits_data()
    assert ds.X.shape == (1797, 64) and ds.X.dtype == np.float64
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0
    assert ds.classes.tolist() == list(range(10))
    np.testing.assert_array_equal(ds.classes[ds.Y.argmax(axis=1)], ds.labels)


def test_mnist_loader(mnist):
    assert mnist.X.shape == (5000, 784) and mnist.X.dtype == np.float64
    assert mnist.X.min() == 0.0 and mnist.X.max() == 1.0
    assert np.bincount(mnist.labels).tolist() == [500] * 10
    assert mnist.Y.shape == (5000, 10) and np.all(mnist.Y.sum(axis=1) == 1)
    # the returned arrays are the caller's own: editing them does not affect the next load
    mnist2 = load_mnist_data()
    assert mnist2.X is not mnist.X and mnist2.X.flags.writeable


# ---------------------------------------------------------------------------------- CIFAR files


def _write_batch(path, data, labels, protocol=2):
    with open(path, "wb") as fh:
        pickle.dump({b"batch_label": b"test", b"data": data, b"labels": list(labels)}, fh, protocol=protocol)


def _fake_cifar(folder, n_per_file=5, n_files=5):
    rng = np.random.default_rng(0)
    datas, labels = [], []
    for i in range(1, n_files + 1):
        data = rng.integers(0, 256, size=(n_per_file, 3072), dtype=np.uint8)
        lab = rng.integers(0, 10, size=n_per_file).tolist()
        _write_batch(folder / f"data_batch_{i}", data, lab, protocol=2 if i % 2 else pickle.HIGHEST_PROTOCOL)
        datas.append(data)
        labels.append(lab)
    test = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
    _write_batch(folder / "test_batch", test, [9, 0, 1, 2])
    return datas, labels, test


def test_cifar_reader_on_small_files(tmp_path):
    datas, labels, test = _fake_cifar(tmp_path)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    with open(tmp_path / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": names, b"num_vis": 3072}, fh, protocol=2)

    ds = load_cifar10(tmp_path)
    assert ds.X.shape == (25, 3072) and ds.X.dtype == np.float64
    np.testing.assert_array_equal(ds.X, np.concatenate(datas) / 255.0)
    np.testing.assert_array_equal(ds.labels, np.concatenate(labels))
    assert ds.labels.dtype == np.int64 and ds.Y.shape == (25, 10)
    np.testing.assert_array_equal(ds.Y.argmax(axis=1), ds.labels)
    assert ds.extras["label_names"][0] == "airplane" and len(ds.extras["label_names"]) == 10

    two = load_cifar10(tmp_path, batches=(1, 2))
    np.testing.assert_array_equal(two.X, np.concatenate(datas[:2]) / 255.0)
    capped = load_cifar10(tmp_path, max_per_file=2)
    np.testing.assert_array_equal(capped.labels, np.concatenate([lab[:2] for lab in labels]))
    te = load_cifar10(str(tmp_path), train=False)
    np.testing.assert_array_equal(te.X, test / 255.0)
    assert te.labels.tolist() == [9, 0, 1, 2] and te.name == "cifar10-test"


def test_cifar_reader_only_two_batches_present(tmp_path):
    datas, labels, _ = _fake_cifar(tmp_path, n_per_file=5, n_files=2)
    ds = load_cifar10(tmp_path, batches=[1, 2])
    assert ds.X.shape == (10, 3072)
    np.testing.assert_array_equal(ds.labels, labels[0] + labels[1])
    with pytest.raises(FileNotFoundError, match=r"has no file 'data_batch_3'.*found: data_batch_1, data_batch_2"):
        load_cifar10(tmp_path)


def test_cifar_reader_reads_numpy1_era_pickles(tmp_path):
    """The official files were pickled with NumPy 1 (module path numpy.core.multiarray)."""
    data = np.arange(2 * 3072, dtype=np.int64).reshape(2, 3072) % 256
    blob = pickle.dumps({b"data": data.astype(np.uint8), b"labels": [4, 7]}, protocol=2)
    blob = blob.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in blob
    (tmp_path / "test_batch").write_bytes(blob)
    ds = load_cifar10(tmp_path, train=False)
    np.testing.assert_array_equal(ds.X, data / 255.0)
    assert ds.labels.tolist() == [4, 7]


def test_cifar_reader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist or is not a directory"):
        load_cifar10(tmp_path / "nope")
    _fake_cifar(tmp_path, n_per_file=2, n_files=1)
    (tmp_path / "data_batch_2").write_bytes(b"this is not a pickle")
    with pytest.raises(ValueError, match=r"'data_batch_2' in .* is not a readable python-pickle batch"):
        load_cifar10(tmp_path, batches=[1, 2])
    with open(tmp_path / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8)}, fh)
    with pytest.raises(ValueError, match=r"'data_batch_3' .* lacks key\(s\) b'labels'"):
        load_cifar10(tmp_path, batches=[3])
    _write_batch(tmp_path / "data_batch_4", np.zeros((2, 100), np.uint8), [0, 1])
    with pytest.raises(ValueError, match=r"'data_batch_4' .* shape \(2, 100\)"):
        load_cifar10(tmp_path, batches=[4])
    _write_batch(tmp_path / "data_batch_5", np.zeros((2, 3072), np.uint8), [0, 12])
    with pytest.raises(ValueError, match="labels must lie in 0-9"):
        load_cifar10(tmp_path, batches=[5])
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump([os.getcwd], fh)  # a global that is not a NumPy array: never executed
    with pytest.raises(ValueError, match=r"'test_batch' .* refusing to load posix.getcwd|refusing to load"):
        load_cifar10(tmp_path, train=False)
    with pytest.raises(ValueError, match="`batches` entries must be ints in 1..5"):
        load_cifar10(tmp_path, batches=[6])


# ---------------------------------------------------------------------------------- Fig. 4 split


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
