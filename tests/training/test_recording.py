"""Tests of deepdual.training.recording: what ``train(record=...)`` logs, when, and its errors."""

from __future__ import annotations

import dataclasses
import functools
import json
import math

import numpy as np
import pytest
import torch

from deepdual import MLP, ParallelNet
from deepdual.metrics import neural_collapse, numerical_rank
from deepdual.training import RECORDS, train


def test_record_logs_requested_metrics_at_requested_epochs(regression):
    X, Y = regression
    (_, D), (_, K), M = X.shape, Y.shape, 8

    def output_norm(network, Xt, Yt):
        return float(network(Xt).norm())

    net = ParallelNet(D, K, branches=M, seed=0)
    hist = train(net, X, Y, beta=3.0, optimizer="gd", lr=0.01, epochs=10, record_every=3,
                 record=("ranks", "weights", output_norm))
    assert hist.record_epochs == [0, 3, 6, 9, 10]
    assert set(hist.records) == {"ranks", "weights", "output_norm"}
    assert all(len(v) == 5 for v in hist.records.values())
    for ranks, mats in zip(hist.records["ranks"], hist.records["weights"], strict=True):
        assert ranks == [numerical_rank(W) for W in mats]
        assert [W.shape for W in mats] == [(D, M), (M, K)]
    # weights are copies taken at their epoch, the last one is the final network
    assert not np.array_equal(hist.records["weights"][0][0], hist.records["weights"][-1][0])
    assert np.array_equal(hist.records["weights"][-1][0], net.layer_matrices()[0])
    with torch.no_grad():
        assert hist.records["output_norm"][-1] == pytest.approx(float(net(torch.as_tensor(X)).norm()))
    d = json.loads(json.dumps(hist.to_dict()))
    assert d["records"]["ranks"] == hist.records["ranks"]
    assert d["records"]["weights"][-1][1] == hist.records["weights"][-1][1].tolist()
    assert d["settings"]["record"] == ["ranks", "weights", "output_norm"]


@pytest.mark.parametrize("kind", ["mlp", "parallel"])
def test_record_structure_and_neural_collapse(classes, kind):
    X, Y, labels = classes
    if kind == "mlp":
        net = MLP([4, 8, 3], activation="relu", seed=0)
    else:
        net = ParallelNet(4, 3, branches=5, depth=3, hidden=4, activation="relu", seed=0)
    hist = train(net, X, Y, beta=0.01, optimizer="lbfgs", lr=1.0, epochs=4, record_every=2,
                 record=["norms", "alignment", "neural_collapse"])
    assert hist.record_epochs == [0, 2, 4]
    nc = hist.records["neural_collapse"][-1]
    assert isinstance(nc, dict) and math.isfinite(nc["nc1"])
    # same numbers as calling the metric by hand on the final network
    Xt = torch.as_tensor(X)
    with torch.no_grad():
        H = net.hidden_activations(Xt)[-1]
        W = net.weights[-1]
        if kind == "parallel":
            H, W = H.squeeze(-1).T, W.reshape(W.shape[0], 3)
        pred = net(Xt).argmax(1).numpy()
    ref = neural_collapse(H.numpy(), labels, classifier=W.detach().numpy().T, predictions=pred)
    assert nc == pytest.approx(dataclasses.asdict(ref), rel=1e-10, nan_ok=True)
    assert nc["nc3"] is not None and nc["nc4"] is not None
    norms = hist.records["norms"][-1]
    assert len(norms) == net.depth and norms[0].operator <= norms[0].frobenius + 1e-12
    assert len(hist.records["alignment"][-1]) == net.depth - 1
    d = json.loads(json.dumps(hist.to_dict()))
    assert d["records"]["norms"][-1][0] == {"operator": norms[0].operator, "frobenius": norms[0].frobenius}
    assert d["records"]["neural_collapse"][-1]["nc1"] == nc["nc1"]


def test_every_named_record_is_accepted(classes):
    X, Y, _ = classes
    hist = train(MLP([4, 5, 3], seed=0), X, Y, beta=0.1, optimizer="lbfgs", lr=1.0, epochs=1, record=list(RECORDS))
    assert set(hist.records) == set(RECORDS) and hist.record_epochs == [0, 1]
    assert all(len(v) == 2 for v in hist.records.values())


def test_no_record_records_nothing(classes):
    X, Y, _ = classes
    for record in ((), None):
        hist = train(MLP([4, 5, 3], seed=0), X, Y, beta=0.1, epochs=2, record=record)
        assert hist.records == {} and hist.record_epochs == [] and hist.settings["record"] == []


def test_bad_record_arguments_raise_clear_errors(classes):
    X, Y, _ = classes
    net = MLP([4, 5, 3], seed=0)
    with pytest.raises(TypeError, match=r"`record` must be a name, a callable or a list of them, got int"):
        train(net, X, Y, beta=0.1, record=3)
    with pytest.raises(TypeError, match=r"`record` callable .* has no __name__; wrap it in a named function"):
        train(net, X, Y, beta=0.1, record=[functools.partial(numerical_rank)])
    with pytest.raises(ValueError, match=r"`record` asks for 'neural_collapse', which needs K >= 2 output classes"):
        train(MLP([4, 5, 1], seed=0), X, Y[:, :1], beta=0.1, record="neural_collapse")
