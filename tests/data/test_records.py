"""The records the data sources return: sizes, frozen fields, read-only extras."""

import dataclasses

import numpy as np
import pytest

from deepdual.data import Dataset, RankOneDataset, rank_one_data, teacher_data


def test_dataset_sizes_and_frozen_fields():
    ds = teacher_data(5, 3, 2, seed=0)
    assert isinstance(ds, Dataset)
    assert (ds.n_samples, ds.n_features) == (5, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.X = np.zeros((5, 3))
    with pytest.raises(TypeError):
        ds.extras["activation"] = "relu"  # extras are a read-only mapping
    assert ds.extras["activation"] == "linear"
    plain = Dataset(X=np.zeros((2, 4)), Y=np.zeros((2, 1)), labels=None, name="x", description="x")
    assert dict(plain.extras) == {} and plain.classes is None


def test_rank_one_dataset_is_a_dataset_with_its_factors():
    ds = rank_one_data(6, 4, seed=0)
    assert isinstance(ds, RankOneDataset) and isinstance(ds, Dataset)
    assert ds.c.shape == (6,) and ds.a0.shape == (4,)
    assert (ds.n_samples, ds.n_features) == (6, 4)
