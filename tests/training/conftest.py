"""Data shared by the tests of deepdual.training."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def classes():
    """30 samples of 3 separable-ish classes in 4 features: ``(X, one-hot Y, labels)``."""
    rng = np.random.default_rng(1)
    labels = np.arange(30) % 3
    X = rng.standard_normal((30, 4)) + 1.5 * np.eye(3, 4)[labels]
    return X, np.eye(3)[labels], labels


@pytest.fixture(scope="module")
def regression():
    """20 samples, 5 features, 3 targets: ``(X, Y)``."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 5)), rng.standard_normal((20, 3))
