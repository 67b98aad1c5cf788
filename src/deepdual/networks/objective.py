"""The objective P(θ) of paper eq. (2) and float64 forward passes with their rounding bound."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from .. import _validation as V
from .._numerics import EPS
from ._common import LOSSES
from .sequential import as_network


def _as_tensor(a, like: torch.Tensor) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a.to(dtype=like.dtype, device=like.device)
    return torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=like.dtype, device=like.device)


def data_loss(out: torch.Tensor, Y: torch.Tensor, loss: str = "squared") -> torch.Tensor:
    """Summed loss over samples: ``½‖out − Y‖²_F`` or the cross-entropy against target rows ``Y``."""
    if loss == "squared":
        return 0.5 * ((out - Y) ** 2).sum()
    return -(Y * torch.log_softmax(out, dim=1)).sum()


def as_float64(network: nn.Module) -> nn.Module:
    """``network`` itself when all its tensors are float64, else a float64 copy (same device)."""
    tensors = list(network.parameters()) + list(network.buffers())
    if all(t.dtype == torch.float64 for t in tensors if t.is_floating_point()):
        return network
    return copy.deepcopy(network).to(torch.float64)


def forward_numpy(network: nn.Module, X: np.ndarray) -> np.ndarray:
    """The network's output on validated ``X`` as a float64 NumPy array, evaluated in float64."""
    net = as_float64(network)
    ref = next(net.parameters())
    with torch.no_grad():
        out = net(torch.as_tensor(np.asarray(X, np.float64), dtype=torch.float64, device=ref.device))
    return out.detach().cpu().numpy()


def forward_error_bound(network: nn.Module, X: np.ndarray) -> float:
    """A bound on ``‖fl(f(X)) − f(X)‖_F`` for a float64 forward pass (used by the self-checks, SPEC §7).

    Each matmul of inner dimension ``k`` errs by at most ``γ_k = k·eps/(1 − k·eps)`` times the product of
    absolute values, and ReLU and identity are 1-Lipschitz, so the error of the output is at most
    ``γ · (|X||W₁|⋯|W_L|)`` with ``γ`` the sum of the inner dimensions (plus the bias additions). Networks
    with batch normalization get a relative allowance of ``1e-10·‖f‖`` (their normalization is not
    covered by this argument).
    """
    net = as_float64(network)
    Xa = np.abs(np.asarray(X, np.float64))
    if getattr(net, "bn", None) is not None:
        return 1e-10 * float(np.linalg.norm(forward_numpy(net, X))) + 1e-300
    absnet = copy.deepcopy(net)
    inner = 0
    with torch.no_grad():
        for p in absnet.parameters():
            p.abs_()
        for w in absnet.weights:
            inner += int(w.shape[-2]) + 2
    inner += int(getattr(absnet, "branches", 1))
    bound = np.abs(forward_numpy(absnet, Xa))
    gamma = inner * EPS / (1.0 - inner * EPS)
    return float(gamma * np.linalg.norm(bound)) * 1.01


def penalty(network: nn.Module) -> float:
    """Σ‖W‖²_F over every regularized parameter of ``network`` (a deepdual network or a PyTorch ``Sequential``,
    see :func:`~deepdual.networks.from_sequential`), evaluated in float64."""
    network = as_network(network)
    V.check_network(network)
    with torch.no_grad():
        return float(as_float64(network).penalty())


def objective(network: nn.Module, X, Y, *, beta: float, loss: str = "squared") -> float:
    """The regularized training objective P(θ) of paper eq. (2), evaluated in float64.

    .. math::

        P(\\theta) = \\tfrac12\\|f_\\theta(X) - Y\\|_F^2 + \\tfrac{\\beta}{2}\\sum_{j}\\sum_{l}\\|W_{l,j}\\|_F^2

    Float32 (or other precision) networks are evaluated through a float64 copy, so the value is the
    objective of the stored weights, not of a float32 forward pass.

    Parameters
    ----------
    network : ParallelNet, MLP or torch.nn.Sequential
        A ``Sequential`` of ``Linear``/``ReLU`` layers is read by :func:`~deepdual.networks.from_sequential`
        (biases unregularized).
    X : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_outputs) or (n_samples,)
    beta : float
        Regularization strength ``β >= 0``.
    loss : {"squared", "cross_entropy"}
        ``"cross_entropy"`` replaces ½‖·‖² by the summed cross-entropy against the rows of ``Y``.

    Returns
    -------
    float

    References
    ----------
    Ergen & Pilanci (2021), eq. (2).
    """
    beta = V.check_beta(beta)
    V.check_choice(loss, "loss", LOSSES)
    Xa = V.check_array(X, "X")
    Ya = V.check_targets(Y, Xa.shape[0])
    network = as_network(network)
    V.check_network(network)
    V.check_network_data(network, Xa, Ya)
    return check_finite_objective(objective_value(network, Xa, Ya, beta=beta, loss=loss))


def check_finite_objective(value: float) -> float:
    """``value`` when finite; a one-line ``ValueError`` naming the inputs when P(θ) overflows float64."""
    if not np.isfinite(value):
        raise ValueError(
            f"The objective P(θ) of `network` on `X`, `Y` overflows float64 (P = {value}): the network's outputs "
            "or weights are too large at this scale of `X`; rescale `X` and `Y` (or the weights) towards 1."
        )
    return value


def objective_value(network: nn.Module, X: np.ndarray, Y: np.ndarray, *, beta: float,
                    loss: str = "squared") -> float:
    """:func:`objective` on validated float64 arrays (no checks), in float64."""
    net = as_float64(network)
    ref = next(net.parameters())
    with torch.no_grad():
        Xt = torch.as_tensor(X, dtype=torch.float64, device=ref.device)
        Yt = torch.as_tensor(Y, dtype=torch.float64, device=ref.device)
        value = data_loss(net(Xt), Yt, loss) + 0.5 * beta * net.penalty()
    return float(value)
