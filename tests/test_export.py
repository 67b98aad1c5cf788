"""Export: save/load round trips (bitwise) and conversion to torch.nn.Sequential."""

import json
import os

import numpy as np
import pytest
import torch

import deepdual
from deepdual.data import one_hot
from deepdual.estimators import DeepLinearRegressor, DeepReLUClassifier, SplineReLURegressor
from deepdual.export import (
    load_metadata,
    load_network,
    load_solution,
    load_whitener,
    save_network,
    save_solution,
    to_sequential,
)
from deepdual.training import train


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        assert torch.equal(sa[k], sb[k]), k


NETWORKS = [
    lambda: deepdual.ParallelNet(6, 3, depth=4, branches=5, hidden=[4, 2], activation="relu", seed=1),
    lambda: deepdual.ParallelNet(1, 1, depth=2, branches=7, activation="relu", bias=True, seed=2),
    lambda: deepdual.ParallelNet(6, 2, depth=3, branches=3, activation="relu", batchnorm=True,
                                 regularize="last", seed=3),
    lambda: deepdual.MLP([6, 5, 4, 2], activation="linear", bias=True, seed=4),
    lambda: deepdual.MLP([6, 5, 2], activation="relu", dtype=torch.float32, seed=5).eval(),
]


@pytest.mark.parametrize("make", NETWORKS)
def test_network_round_trip_is_bitwise(make, tmp_path):
    net = make()
    X = torch.randn(11, net.in_features, dtype=next(net.parameters()).dtype, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "net.pt"
    save_network(net, path, metadata={"note": "test", "values": [1, 2.5]})
    back = load_network(path)
    assert type(back) is type(net)
    assert back.config() == net.config()
    assert back.training == net.training
    _same_state(net, back)
    with torch.no_grad():
        assert torch.equal(net(X), back(X))
    assert load_metadata(path) == {"note": "test", "values": [1, 2.5]}
    # the file holds only plain types: loadable with weights_only=True, architecture as JSON
    raw = torch.load(path, weights_only=True)
    assert json.loads(raw["architecture"])["class"] == net.config()["class"]


@pytest.mark.parametrize("make", NETWORKS)
def test_to_sequential_identical_outputs(make):
    net = make().double()
    X = torch.randn(9, net.in_features, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    seq = to_sequential(net)
    assert isinstance(seq, torch.nn.Sequential)
    with torch.no_grad():
        diff = (seq(X) - net(X)).abs().max().item()
    assert diff <= 1e-12


def test_sequential_can_be_fine_tuned_with_plain_torch():
    sol = deepdual.closed_form(np.random.default_rng(0).standard_normal((5, 8)), np.eye(5)[[0, 1, 2, 0, 1]][:, :3],
                               beta=1e-2, depth=3, activation="relu", whiten=True)
    seq = to_sequential(sol.network)
    opt = torch.optim.SGD(seq.parameters(), lr=1e-3)
    Xw = torch.as_tensor(sol.whitener.transform(np.random.default_rng(0).standard_normal((5, 8))))
    loss = seq(Xw).pow(2).sum()
    loss.backward()
    opt.step()
    assert all(p.grad is not None for p in seq.parameters())


def test_solution_round_trip_predicts_raw_points_bitwise(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 30))
    labels = np.arange(12) % 4
    sol = deepdual.closed_form(X, one_hot(labels).Y, beta=1e-3, depth=3, activation="relu", whiten=True)
    path = tmp_path / "sol.pt"
    save_solution(sol, path, metadata={"classes": [0, 1, 2, 3]})
    back = load_solution(path)
    X_new = rng.standard_normal((20, 30))
    assert np.array_equal(back.predict(X_new), sol.predict(X_new))
    assert np.max(np.abs(back.predict(X_new) - sol.predict(X_new))) <= 1e-12
    assert back.summary() == sol.summary()
    assert back.whitener.condition_number_ == sol.whitener.condition_number_
    assert np.array_equal(load_whitener(path).components_, sol.whitener.components_)
    _same_state(back.network, sol.network)


@pytest.mark.parametrize("fit", [
    lambda rng: DeepReLUClassifier(depth=4).fit(rng.standard_normal((9, 20)), list("abc") * 3),
    lambda rng: DeepLinearRegressor(depth=3, fit_intercept=False).fit(rng.standard_normal((30, 4)),
                                                                      rng.standard_normal(30)),
    lambda rng: SplineReLURegressor(beta=1e-3).fit(np.linspace(-1, 1, 9)[:, None], rng.standard_normal(9)),
])
def test_estimator_solution_round_trip(fit, tmp_path):
    rng = np.random.default_rng(5)
    est = fit(rng)
    path = tmp_path / "est.pt"
    save_solution(est.solution_, path)
    back = load_solution(path)
    X_new = rng.standard_normal((7, est.n_features_in_))
    assert np.array_equal(back.predict(X_new), est.solution_.predict(X_new))


def test_trained_network_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    net = deepdual.ParallelNet(3, 2, depth=3, branches=4, activation="relu", seed=0)
    train(net, X, Y, beta=1e-2, optimizer="sgd", lr=1e-2, momentum=0.9, epochs=5, progress=False)
    path = tmp_path / "trained.pt"
    save_network(net, path)
    back = load_network(path)
    assert deepdual.objective(back, X, Y, beta=1e-2) == deepdual.objective(net, X, Y, beta=1e-2)


def test_errors(tmp_path):
    net = deepdual.ParallelNet(2, 1, seed=0)
    with pytest.raises(TypeError, match="must be a deepdual ParallelNet or MLP"):
        save_network(torch.nn.Linear(2, 1), tmp_path / "x.pt")
    with pytest.raises(TypeError, match="`metadata` must be JSON-serializable"):
        save_network(net, tmp_path / "x.pt", metadata={"a": object()})
    assert not os.listdir(tmp_path)  # nothing written, not even a temporary file
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_network(net, tmp_path / "missing" / "x.pt")
    with pytest.raises(FileNotFoundError, match="No model file"):
        load_network(tmp_path / "nothing.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a model saved by deepdual"):
        load_network(tmp_path / "foreign.pt")
    save_network(net, tmp_path / "bare.pt")
    with pytest.raises(ValueError, match="holds a bare network"):
        load_solution(tmp_path / "bare.pt")
    with pytest.raises(TypeError, match="must be a deepdual Solution"):
        save_solution(net, tmp_path / "y.pt")
