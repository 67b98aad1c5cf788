"""A standard fully connected network (the export target of a parallel network)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .. import _validation as V
from ._common import _act, _generator, _PenaltyMixin
from .batchnorm import PaperBatchNorm


class MLP(_PenaltyMixin, nn.Module):
    """A standard fully connected network ``x ↦ g(...g(x W_1 + b_1)...) W_L + b_L``.

    Parameters
    ----------
    widths : list of int
        ``[d, m_1, ..., m_{L-1}, K]``; depth ``L = len(widths) - 1 >= 2``.
    activation : {"linear", "relu"}
    bias : bool, default False
        Unregularized biases in every layer.
    penalize_bias : bool, default False
        Include the hidden-layer biases in the penalty (the output bias stays unregularized).
    batchnorm : bool, default False
        :class:`PaperBatchNorm` before the last activation (the placement of Theorem 4.4).
    regularize : {"all", "last"}, default "all"
        As in :class:`ParallelNet`.
    dtype, device, seed, init_scale : as in :class:`ParallelNet`.
    """

    def __init__(self, widths: Sequence[int], *, activation: str = "relu", bias: bool = False,
                 batchnorm: bool = False, regularize: str = "all", dtype=torch.float64, device=None,
                 seed: int | None = None, init_scale: float = 1.0, penalize_bias: bool = False):
        super().__init__()
        if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
            raise TypeError(f"`widths` must be a list of ints [d, m_1, ..., K], got {type(widths).__name__}.")
        if len(widths) < 3:
            raise ValueError(f"`widths` == {list(widths)} gives depth {len(widths) - 1}; need >= 2 layers "
                             "([d, hidden, K]).")
        self.depth = V.check_layer_count(len(widths) - 1, "widths")
        self.widths = [V.check_positive_int(w, f"widths[{i}]") for i, w in enumerate(widths)]
        device = self._set_options(activation, bias, batchnorm, regularize, device, penalize_bias)
        init_scale = self._check_init(dtype, seed, init_scale)
        count = sum(a * b for a, b in zip(self.widths[:-1], self.widths[1:]))
        V.check_memory(count, 8, what=f"MLP(widths={self.widths})", fix="pass narrower `widths`")
        gen = _generator(seed)
        self.weights = nn.ParameterList([
            nn.Parameter((torch.randn(a, b, generator=gen, dtype=torch.float64) * init_scale / math.sqrt(a))
                         .to(dtype=dtype, device=device))
            for a, b in zip(self.widths[:-1], self.widths[1:])
        ])
        if self.bias:
            self.biases = nn.ParameterList(
                [nn.Parameter(torch.zeros(b, dtype=dtype, device=device)) for b in self.widths[1:]])
        self.bn = PaperBatchNorm(self.widths[-2], dtype=dtype, device=device) if self.batchnorm else None

    @property
    def in_features(self) -> int:
        return self.widths[0]

    @property
    def out_features(self) -> int:
        return self.widths[-1]

    def layer_matrices(self) -> list[np.ndarray]:
        """The float64 weight matrices ``W_1, ..., W_L`` (shape ``(fan_in, fan_out)``)."""
        return [w.detach().cpu().double().numpy().copy() for w in self.weights]

    def layer_singular_values(self) -> list[np.ndarray]:
        """Singular values of every matrix of :meth:`layer_matrices`, in decreasing order, float64."""
        return [np.linalg.svd(W, compute_uv=False) for W in self.layer_matrices()]

    def config(self) -> dict:
        return {"class": "MLP", "widths": list(self.widths), "activation": self.activation,
                "bias": self.bias, "batchnorm": self.batchnorm, "regularize": self.regularize,
                "penalize_bias": self.penalize_bias}

    def hidden_activations(self, X: torch.Tensor) -> list[torch.Tensor]:
        """Activations ``A_1, ..., A_{L-1}``, each of shape ``(n, m_l)``."""
        g = _act(self.activation)
        A = X
        out = []
        for i, W in enumerate(self.weights[:-1]):
            Z = A @ W
            if self.bias:
                Z = Z + self.biases[i]
            if self.bn is not None and i == len(self.weights) - 2:
                Z = self.bn(Z)
            A = g(Z)
            out.append(A)
        return out

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        out = self.hidden_activations(X)[-1] @ self.weights[-1]
        if self.bias:
            out = out + self.biases[-1]
        return out

    @torch.no_grad()
    def to_sequential(self) -> nn.Sequential:
        """Export as ``nn.Sequential`` of ``nn.Linear`` (+ activations, + :class:`PaperBatchNorm`)."""
        layers: list[nn.Module] = []
        W0 = self.weights[0]
        for i, W in enumerate(self.weights):
            lin = nn.Linear(W.shape[0], W.shape[1], bias=self.bias, dtype=W0.dtype, device=W0.device)
            lin.weight.copy_(W.T)
            if self.bias:
                lin.bias.copy_(self.biases[i])
            layers.append(lin)
            if i < len(self.weights) - 1:
                if self.bn is not None and i == len(self.weights) - 2:
                    bn = PaperBatchNorm(W.shape[1], dtype=W0.dtype, device=W0.device)
                    bn.load_state_dict(self.bn.state_dict())
                    layers.append(bn)
                layers.append(nn.ReLU() if self.activation == "relu" else nn.Identity())
        seq = nn.Sequential(*layers)
        seq.train(self.training)
        return seq

