"""The CIFAR-10 reader, on small batch files written by the tests."""

import os
import pickle

import numpy as np
import pytest

from deepdual.data import load_cifar10


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
    with pytest.raises(ValueError, match=r"'test_batch' .*\(refusing to load \w+\.getcwd \(only NumPy arrays allowed\)"):
        load_cifar10(tmp_path, train=False)
    with pytest.raises(ValueError, match="`batches` entries must be ints in 1..5"):
        load_cifar10(tmp_path, batches=[6])


def test_cifar_reader_argument_and_content_errors(tmp_path):
    _fake_cifar(tmp_path, n_per_file=2, n_files=1)
    with pytest.raises(TypeError, match="`train` must be True or False, got 1"):
        load_cifar10(tmp_path, train=1)
    with pytest.raises(ValueError, match=r"`batches` == \(1, 1\), must list distinct batch numbers"):
        load_cifar10(tmp_path, batches=(1, 1))
    with pytest.raises(ValueError, match=r"`batches` == \(\), must list distinct batch numbers"):
        load_cifar10(tmp_path, batches=())
    _write_batch(tmp_path / "data_batch_2", np.full((2, 3072), 300, np.int16), [0, 1])
    with pytest.raises(ValueError, match="'data_batch_2' .*pixel values must lie in 0-255"):
        load_cifar10(tmp_path, batches=[2])
    with open(tmp_path / "data_batch_3", "wb") as fh:
        pickle.dump([1, 2], fh)
    with pytest.raises(ValueError, match="'data_batch_3' .* holds a list, expected a dict"):
        load_cifar10(tmp_path, batches=[3])
    with open(tmp_path / "data_batch_4", "wb") as fh:
        pickle.dump({b"data": np.zeros((0, 3072), np.uint8), b"labels": np.zeros(0, np.int64)}, fh)
    with pytest.raises(ValueError, match="CIFAR-10 files data_batch_4 in .* hold no images"):
        load_cifar10(tmp_path, batches=[4])
