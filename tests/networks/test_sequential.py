"""`from_sequential`: a PyTorch Sequential of Linear/ReLU layers read as the same function and objective."""

import numpy as np
import pytest
import torch
from torch import nn

import deepdual as dd
from deepdual.networks import as_network, forward_numpy

RNG = np.random.default_rng(0)
X = RNG.standard_normal((12, 4))
Y = RNG.standard_normal((12, 2))


def _reference(seq, X, Y, beta):
    """P(θ) computed by hand on the Sequential, weights only in the penalty, in float64."""
    seq64 = seq.double() if next(seq.parameters()).dtype == torch.float64 else seq
    with torch.no_grad():
        out = seq64.double()(torch.tensor(X)).numpy()
    pen = sum(float((m.weight.double() ** 2).sum()) for m in seq.modules() if isinstance(m, nn.Linear))
    return 0.5 * np.sum((out - Y) ** 2) + 0.5 * beta * pen, out


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_same_function_and_objective(bias, dtype):
    torch.manual_seed(1)
    seq = nn.Sequential(nn.Linear(4, 7, bias=bias), nn.ReLU(), nn.Linear(7, 5, bias=bias), nn.ReLU(),
                        nn.Linear(5, 2, bias=bias)).to(dtype)
    mlp = dd.from_sequential(seq)
    assert mlp.widths == [4, 7, 5, 2] and mlp.activation == "relu" and mlp.bias == bias
    assert next(mlp.parameters()).dtype == dtype
    ref_obj, ref_out = _reference(seq, X, Y, 0.3)
    np.testing.assert_allclose(forward_numpy(mlp, X), ref_out, rtol=1e-12, atol=1e-12)
    assert dd.objective(seq, X, Y, beta=0.3) == pytest.approx(ref_obj, rel=1e-12)
    assert dd.penalty(seq) == pytest.approx(dd.penalty(mlp), rel=1e-15)


def test_mixed_bias_nested_and_identity():
    torch.manual_seed(2)
    seq = nn.Sequential(nn.Sequential(nn.Linear(4, 6), nn.ReLU()), nn.Identity(), nn.Linear(6, 2, bias=False))
    mlp = dd.from_sequential(seq)
    assert mlp.bias and float(mlp.biases[-1].abs().sum()) == 0.0
    _, ref_out = _reference(seq, X, Y, 0.0)
    np.testing.assert_allclose(forward_numpy(mlp, X), ref_out, rtol=1e-12, atol=1e-12)


def test_linear_network_and_copy_semantics():
    seq = nn.Sequential(nn.Linear(4, 3, bias=False), nn.Linear(3, 2, bias=False)).double()
    mlp = dd.from_sequential(seq)
    assert mlp.activation == "linear"
    with torch.no_grad():
        seq[0].weight.zero_()
    assert float(mlp.weights[0].abs().sum()) > 0  # a copy


@pytest.mark.parametrize("seq, match", [
    (lambda: nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1)), r"`network\[1\]` is Tanh"),
    (lambda: nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Dropout(), nn.Linear(5, 1)), r"`network\[2\]` is Dropout"),
    (lambda: nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 1), nn.ReLU()), "ends with a ReLU"),
    (lambda: nn.Sequential(nn.Linear(4, 5)), "1 Linear layer"),
    (lambda: nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(6, 1)), "not a chain"),
    (lambda: nn.Sequential(nn.ReLU(), nn.Linear(4, 5), nn.Linear(5, 1)), "does not follow a Linear"),
    (lambda: nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 5), nn.Linear(5, 1)), "some hidden"),
    (lambda: nn.Linear(4, 1), "must be a torch.nn.Sequential"),
])
def test_unsupported_layers_are_named(seq, match):
    with pytest.raises(TypeError, match=match):
        dd.from_sequential(seq())


def test_as_network_passes_deepdual_networks_through():
    net = dd.ParallelNet(4, 2, branches=3, depth=2, seed=0)
    assert as_network(net) is net
    assert isinstance(as_network(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))), dd.MLP)
