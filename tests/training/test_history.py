"""Tests of deepdual.training.history: the History record of a run and TrainingDivergedError."""

from __future__ import annotations

import collections
import dataclasses
import json

import numpy as np
import pytest
import torch

from deepdual import MLP, objective
from deepdual.metrics import LayerNorm
from deepdual.training import History, TrainingDivergedError, train


def test_history_is_the_papers_objective_and_serializes(regression):
    X, Y = regression
    net = MLP([X.shape[1], 6, Y.shape[1]], activation="relu", bias=True, seed=0)
    hist = train(net, X, Y, beta=0.1, optimizer="adam", lr=1e-2, epochs=25)
    assert isinstance(hist, History)
    assert hist.objective.shape == hist.loss.shape == hist.penalty.shape == (25,)
    assert hist.epochs_run == 25 and not hist.stopped_early and hist.seconds > 0
    np.testing.assert_allclose(hist.objective, hist.loss + 0.05 * hist.penalty, rtol=1e-14)
    assert hist.final_objective == pytest.approx(objective(net, X, Y, beta=0.1), rel=1e-13)
    assert hist.best_objective == min(hist.initial_objective, hist.objective.min())
    assert hist.final_objective < hist.initial_objective
    with pytest.raises(dataclasses.FrozenInstanceError):
        hist.epochs_run = 3
    with pytest.raises(ValueError, match="read-only"):
        hist.objective[0] = 0.0
    d = json.loads(json.dumps(hist.to_dict()))
    assert d["objective"] == hist.objective.tolist()
    assert d["settings"]["optimizer"] == "adam" and d["settings"]["beta"] == 0.1
    assert d["settings"]["dtype"] == "float64" and d["settings"]["lr_schedule"] is None


def test_objective_properties_without_epochs_fall_back_to_the_initial_value():
    empty = np.empty(0)
    hist = History(objective=empty, loss=empty, penalty=empty, initial_objective=2.5)
    assert hist.final_objective == 2.5 and hist.best_objective == 2.5
    ran = History(objective=np.array([3.0, 1.0, 2.0]), loss=np.zeros(3), penalty=np.zeros(3), initial_objective=2.5)
    assert ran.final_objective == 2.0 and ran.best_objective == 1.0
    risen = History(objective=np.array([3.0, 4.0]), loss=np.zeros(2), penalty=np.zeros(2), initial_objective=2.5)
    assert risen.best_objective == 2.5  # initialization counts


def test_to_dict_turns_records_into_json_types():
    Pair = collections.namedtuple("Pair", "a b")
    records = {
        "tensor": [torch.tensor([1.0, 2.0])],
        "array": [np.eye(2)],
        "scalar": [np.float32(0.5), np.int64(3), np.bool_(True)],
        "dataclass": [LayerNorm(operator=1.0, frobenius=2.0)],
        "namedtuple": [Pair(1, np.arange(2))],
        "nested": [{"k": (1, np.float64(2.0))}],
        "other": [object],
    }
    hist = History(objective=np.array([1.0]), loss=np.array([1.0]), penalty=np.array([0.0]),
                   initial_objective=2.0, records=records, record_epochs=[0], settings={"device": "cpu"})
    d = hist.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["records"] == {
        "tensor": [[1.0, 2.0]],
        "array": [[[1.0, 0.0], [0.0, 1.0]]],
        "scalar": [0.5, 3, True],
        "dataclass": [{"operator": 1.0, "frobenius": 2.0}],
        "namedtuple": [{"a": 1, "b": [0, 1]}],
        "nested": [{"k": [1, 2.0]}],
        "other": [repr(object)],
    }
    assert d["final_objective"] == 1.0 and d["best_objective"] == 1.0 and d["record_epochs"] == [0]


def test_training_diverged_error_is_a_value_error_with_epoch_and_lr():
    err = TrainingDivergedError("diverged", epoch=3, lr=0.5)
    assert isinstance(err, ValueError) and str(err) == "diverged"
    assert (err.epoch, err.lr) == (3, 0.5)
