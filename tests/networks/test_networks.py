"""Networks: parallel architecture, block-diagonal export, paper batch norm, objective, validation."""

import numpy as np
import pytest
import torch

import deepdual as dd


def _data(n=12, d=4, K=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, K))


def _loop_forward(net, X):
    """Reference forward pass with a Python loop over branches (slow path, for checking)."""
    g = torch.relu if net.activation == "relu" else (lambda z: z)
    out = 0
    for j in range(net.branches):
        A = X
        for i, W in enumerate(net.weights[:-1]):
            Z = A @ W[j]
            if net.bias:
                Z = Z + net.biases[i][j]
            A = g(Z)
        out = out + A @ net.weights[-1][j]
    return out + (net.out_bias if net.bias else 0)


@pytest.mark.parametrize("depth", [2, 3, 5])
@pytest.mark.parametrize("activation", ["linear", "relu"])
@pytest.mark.parametrize("bias", [False, True])
def test_batched_forward_equals_branch_loop(depth, activation, bias):
    X, _ = _data()
    net = dd.ParallelNet(4, 3, depth=depth, branches=5, hidden=[3] * (depth - 2) or 1,
                         activation=activation, bias=bias, seed=1)
    if bias:
        with torch.no_grad():
            for b in net.biases:
                b.normal_()
            net.out_bias.normal_()
    Xt = torch.as_tensor(X)
    assert torch.allclose(net(Xt), _loop_forward(net, Xt), atol=1e-13, rtol=0)


def test_penalty_is_sum_of_squared_weights_and_objective_matches_formula():
    X, Y = _data()
    net = dd.ParallelNet(4, 3, depth=3, branches=4, hidden=2, activation="relu", seed=2)
    pen = sum(float((w.detach() ** 2).sum()) for w in net.weights)
    assert dd.penalty(net) == pytest.approx(pen, rel=1e-14)
    with torch.no_grad():
        out = net(torch.as_tensor(X)).numpy()
    expected = 0.5 * np.sum((out - Y) ** 2) + 0.5 * 0.7 * pen
    assert dd.objective(net, X, Y, beta=0.7) == pytest.approx(expected, rel=1e-14)


def test_paper_batchnorm_matches_definition_and_eval_mode_reuses_training_statistics():
    X, Y = _data(n=10)
    net = dd.ParallelNet(4, 3, depth=3, branches=3, hidden=6, activation="relu", batchnorm=True, seed=3)
    with torch.no_grad():
        net.bn.gamma.copy_(torch.tensor([0.5, 1.5, 2.0], dtype=torch.float64))
        net.bn.alpha.copy_(torch.tensor([0.1, -0.3, 0.2], dtype=torch.float64))
    Xt = torch.as_tensor(X)
    net.train()
    out_train = net(Xt)
    # Definition: BN(h) = γ (I − 11ᵀ/n) h / ‖(I − 11ᵀ/n) h‖ + α 1/√n, before the last ReLU.
    A = net.hidden_activations(Xt)[-2]  # (m, n, width) before the last unit
    h = torch.matmul(A, net.weights[-2])[:, :, 0]  # (m, n)
    c = h - h.mean(dim=1, keepdim=True)
    bn = net.bn.gamma[:, None] * c / c.norm(dim=1, keepdim=True) + net.bn.alpha[:, None] / np.sqrt(10)
    ref = (torch.relu(bn)[:, :, None] * net.weights[-1]).sum(0)
    assert torch.allclose(out_train, ref, atol=1e-13)
    net.eval()
    assert torch.allclose(net(Xt), out_train, atol=1e-12)


def test_regularize_last_penalizes_only_bn_and_output_layer():
    net = dd.ParallelNet(4, 2, depth=3, branches=2, hidden=3, activation="relu", batchnorm=True,
                         regularize="last", seed=0)
    expected = float((net.weights[-1].detach() ** 2).sum() + (net.bn.gamma.detach() ** 2).sum()
                     + (net.bn.alpha.detach() ** 2).sum())
    assert dd.penalty(net) == pytest.approx(expected, rel=1e-14)
    assert dd.penalty(net.to_mlp()) == pytest.approx(expected, rel=1e-14)
    with pytest.raises(ValueError, match="regularize.*batchnorm=True"):
        dd.ParallelNet(4, 2, depth=3, regularize="last")


def test_export_with_batchnorm_and_bias_is_identical():
    X, _ = _data()
    net = dd.ParallelNet(4, 3, depth=4, branches=3, hidden=[5, 2], activation="relu", bias=True,
                         batchnorm=True, seed=4)
    Xt = torch.as_tensor(X)
    for module in (net.to_mlp(), net.to_sequential()):
        assert torch.equal(module(Xt), net(Xt)) or torch.allclose(module(Xt), net(Xt), atol=1e-14)


def test_zero_branch_through_batchnorm_gives_zero_not_nan():
    X, _ = _data()
    net = dd.ParallelNet(4, 3, depth=2, branches=2, activation="relu", batchnorm=True, seed=0)
    with torch.no_grad():
        net.weights[0][1].zero_()
    out = net(torch.as_tensor(X))
    assert torch.isfinite(out).all()


def test_set_weights_validates_shapes_and_layers():
    net = dd.ParallelNet(4, 3, depth=3, branches=2, hidden=2)
    good = [np.zeros(s) for s in net.layer_shapes]
    net.set_weights(good)
    assert dd.penalty(net) == 0.0
    with pytest.raises(ValueError, match=r"weights\[1\].*expected"):
        net.set_weights([good[0], np.zeros((2, 3, 3)), good[2], good[3]] if len(good) == 4 else
                        [good[0], np.zeros((2, 9, 9)), good[2]])
    with pytest.raises(ValueError, match="layers"):
        net.set_weights(good[:-1])
    with pytest.raises(ValueError, match="NaN"):
        net.set_weights([np.full(s, np.nan) for s in net.layer_shapes])


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(depth=1), ValueError, "depth.*>= 2"),
    (dict(depth=2.5), TypeError, "depth.*integer"),
    (dict(branches=0), ValueError, "branches.*>= 1"),
    (dict(activation="tanh"), ValueError, "activation.*'linear', 'relu'"),
    (dict(depth=4, hidden=[3]), ValueError, "hidden.*2"),
])
def test_parallel_net_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        dd.ParallelNet(3, 1, **kwargs)


def test_mlp_bad_widths():
    with pytest.raises(ValueError, match="widths.*depth 1"):
        dd.MLP([3, 2])
    with pytest.raises(TypeError, match="widths"):
        dd.MLP("3,4,2")


@pytest.mark.parametrize("X, Y, beta, match", [
    (np.ones((5, 4)), np.ones((4, 3)), 1.0, "X` has 5 rows but `Y` has 4"),
    (np.ones(5), np.ones((5, 3)), 1.0, "X` must be 2-D"),
    (np.ones((5, 4)), np.ones((5, 3)), -1.0, "beta` == -1.0, must be >= 0"),
    (np.ones((5, 3)), np.ones((5, 3)), 1.0, "X` has 3 features but the network expects 4"),
    (np.ones((5, 4)), np.ones((5, 2)), 1.0, "Y` has 2 columns but the network has 3 outputs"),
    (np.full((5, 4), np.inf), np.ones((5, 3)), 1.0, "X` contains 20 NaN or infinite"),
])
def test_objective_bad_inputs(X, Y, beta, match):
    net = dd.ParallelNet(4, 3)
    with pytest.raises(ValueError, match=match):
        dd.objective(net, X, Y, beta=beta)


def test_objective_rejects_non_numeric_beta_and_data():
    net = dd.ParallelNet(2, 1)
    with pytest.raises(TypeError, match="beta` must be a real number"):
        dd.objective(net, np.ones((3, 2)), np.ones(3), beta="1")
    with pytest.raises(TypeError, match="non-numeric"):
        dd.objective(net, np.array([["a", "b"]] * 3, dtype=object), np.ones(3), beta=1.0)


def test_config_rebuilds_same_architecture():
    net = dd.ParallelNet(4, 3, depth=4, branches=3, hidden=[5, 2], activation="relu", bias=True)
    cfg = net.config()
    assert cfg.pop("class") == "ParallelNet"
    clone = dd.ParallelNet(**cfg)
    assert clone.layer_shapes == net.layer_shapes
