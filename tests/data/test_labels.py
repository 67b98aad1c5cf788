"""One-hot encoding of labels and the check of a label vector."""

import numpy as np
import pytest

from deepdual.data import one_hot


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


def test_one_hot_label_checks():
    np.testing.assert_array_equal(one_hot(np.array([[2], [1]])).Y, [[0, 1], [1, 0]])  # a column is read as a vector
    with pytest.raises(ValueError, match="`labels` is empty; at least one label needed"):
        one_hot([])
    with pytest.raises(ValueError, match="`labels` contains NaN or infinite values"):
        one_hot([1.0, np.nan])
    with pytest.raises(ValueError, match=r"`classes` must be a non-empty 1-D sequence, got shape \(0,\)"):
        one_hot([1], classes=[])
