"""The parallel network of paper eq. (2): ``m`` branches of depth ``L`` whose outputs are summed."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .. import _validation as V
from ._common import _act, _generator, _PenaltyMixin
from .batchnorm import PaperBatchNorm
from .mlp import MLP


class ParallelNet(_PenaltyMixin, nn.Module):
    """The paper's parallel network (eq. 2): ``m`` branches of depth ``L``, outputs summed.

    Parameters
    ----------
    in_features : int
        Input dimension ``d``.
    out_features : int, default 1
        Output dimension ``K``.
    depth : int, default 2
        Number of layers ``L >= 2``. ``L = 2`` is the ordinary two-layer network with ``m`` neurons.
    branches : int, default 1
        Number of parallel branches ``m``.
    hidden : int or list of int, default 1
        Widths ``m_1, ..., m_{L-2}`` of the hidden layers inside each branch (ignored for ``L = 2``).
        The last hidden layer of a branch is always a single unit.
    activation : {"linear", "relu"}
        Activation ``g``.
    bias : bool, default False
        Unregularized biases in every hidden layer and in the output (Theorem 4.2, Prop. 4.1).
    penalize_bias : bool, default False
        Include the hidden-layer biases in the penalty (the output bias stays unregularized): the
        two-layer ReLU convex program with a column of ones (SPEC §6) regularizes them with ``u``.
    batchnorm : bool, default False
        The paper's batch normalization (:class:`PaperBatchNorm`) before the last activation of every
        branch (Theorem 4.4); its ``γ, α`` are regularized.
    regularize : {"all", "last"}, default "all"
        Which weights the penalty covers: every layer, or (with ``batchnorm``) only ``γ, α`` and the
        output layer, as in Theorem 4.4 (footnote 7 of the paper regularizes all).
    dtype : torch.dtype, default torch.float64
    device : torch device, optional
    seed : int, optional
        Seed of the initialization (``N(0, init_scale² / fan_in)`` entries).
    init_scale : float, default 1.0

    References
    ----------
    Ergen & Pilanci (2021), eq. (2) and Section 4.2.
    """

    def __init__(self, in_features: int, out_features: int = 1, *, depth: int = 2, branches: int = 1,
                 hidden=1, activation: str = "linear", bias: bool = False, batchnorm: bool = False,
                 regularize: str = "all", dtype=torch.float64, device=None, seed: int | None = None,
                 init_scale: float = 1.0, penalize_bias: bool = False):
        super().__init__()
        self.in_features = V.check_positive_int(in_features, "in_features")
        self.out_features = V.check_positive_int(out_features, "out_features")
        self.depth = V.check_layer_count(V.check_depth(depth))
        self.branches = V.check_positive_int(branches, "branches")
        self.hidden = V.check_widths(hidden, "hidden", self.depth - 2) if self.depth > 2 else []
        device = self._set_options(activation, bias, batchnorm, regularize, device, penalize_bias)
        init_scale = self._check_init(dtype, seed, init_scale)
        m = self.branches
        sizes = [self.in_features, *self.hidden, 1]
        count = m * (sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + self.out_features)
        # initialized in float64 whatever the dtype: weights, a temporary and the copy in `dtype`
        V.check_memory(count, 8, what=f"ParallelNet(in_features={self.in_features}, out_features={self.out_features}, "
                       f"depth={self.depth}, branches={m})", fix="pass fewer `branches` or narrower `hidden` layers")
        gen = _generator(seed)
        weights = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            w = torch.randn(m, fan_in, fan_out, generator=gen, dtype=torch.float64) * init_scale / math.sqrt(fan_in)
            weights.append(nn.Parameter(w.to(dtype=dtype, device=device)))
        w_out = torch.randn(m, 1, self.out_features, generator=gen, dtype=torch.float64) * init_scale / math.sqrt(m)
        weights.append(nn.Parameter(w_out.to(dtype=dtype, device=device)))
        self.weights = nn.ParameterList(weights)
        if self.bias:
            self.biases = nn.ParameterList(
                [nn.Parameter(torch.zeros(m, 1, s, dtype=dtype, device=device)) for s in sizes[1:]]
            )
            self.out_bias = nn.Parameter(torch.zeros(self.out_features, dtype=dtype, device=device))
        self.bn = PaperBatchNorm(m, dtype=dtype, device=device) if self.batchnorm else None

    # ------------------------------------------------------------------ structure
    @property
    def layer_shapes(self) -> list[tuple[int, int, int]]:
        """Shapes ``(m, fan_in, fan_out)`` of the stored layer tensors, input to output."""
        return [tuple(w.shape) for w in self.weights]

    def branch_weights(self, j: int) -> list[np.ndarray]:
        """The float64 weight matrices ``W_{1,j}, ..., w_{L,j}`` of branch ``j``."""
        return [w[j].detach().cpu().double().numpy().copy() for w in self.weights]

    def layer_matrices(self) -> list[np.ndarray]:
        """Block-diagonal float64 weight matrices of the equivalent MLP (see :meth:`to_mlp`)."""
        return [w.detach().cpu().double().numpy() for w in self.to_mlp().weights]

    def layer_singular_values(self) -> list[np.ndarray]:
        """Singular values of every matrix of :meth:`layer_matrices`, in decreasing order, float64.

        Computed block by block (the singular values of a block-diagonal matrix are those of its
        blocks), so the cost grows linearly with the number of branches: no dense
        ``(m·m_l) × (m·m_{l+1})`` matrix is formed.
        """
        with torch.no_grad():
            W = [w.detach().cpu().double().numpy() for w in self.weights]
        m = self.branches
        out = [np.linalg.svd(np.concatenate(list(W[0]), axis=1), compute_uv=False)]
        for B in W[1:-1]:  # (m, fan_in, fan_out): block-diagonal in the MLP
            out.append(np.sort(np.linalg.svd(B, compute_uv=False).reshape(-1))[::-1])
        out.append(np.linalg.svd(W[-1].reshape(m, self.out_features), compute_uv=False))
        return out

    @torch.no_grad()
    def set_weights(self, weights: Sequence, biases: Sequence | None = None, out_bias=None,
                    gamma=None, alpha=None) -> "ParallelNet":
        """Overwrite the weights from arrays shaped like :attr:`layer_shapes`; returns ``self``."""
        if len(weights) != len(self.weights):
            raise ValueError(f"`weights` has {len(weights)} layers; this network has {len(self.weights)}.")
        for i, (p, w) in enumerate(zip(self.weights, weights)):
            arr = torch.as_tensor(V.as_float_array(w, f"weights[{i}]"))
            if tuple(arr.shape) != tuple(p.shape):
                raise ValueError(f"`weights[{i}]` has shape {tuple(arr.shape)}; expected {tuple(p.shape)}.")
            p.copy_(arr.to(p))
        if biases is not None:
            if not self.bias:
                raise ValueError("`biases` given but the network was built with bias=False.")
            for i, (p, b) in enumerate(zip(self.biases, biases)):
                p.copy_(torch.as_tensor(V.as_float_array(b, f"biases[{i}]")).reshape(p.shape).to(p))
        if out_bias is not None:
            self.out_bias.copy_(torch.as_tensor(V.as_float_array(out_bias, "out_bias")).reshape(-1).to(self.out_bias))
        for name, val in (("gamma", gamma), ("alpha", alpha)):
            if val is not None:
                if self.bn is None:
                    raise ValueError(f"`{name}` given but the network was built with batchnorm=False.")
                getattr(self.bn, name).copy_(torch.as_tensor(V.as_float_array(val, name)).reshape(-1).to(self.bn.gamma))
        return self

    def config(self) -> dict:
        """Architecture as a JSON-serializable dict (enough to rebuild the module)."""
        return {"class": "ParallelNet", "in_features": self.in_features, "out_features": self.out_features,
                "depth": self.depth, "branches": self.branches, "hidden": list(self.hidden),
                "activation": self.activation, "bias": self.bias, "batchnorm": self.batchnorm,
                "regularize": self.regularize, "penalize_bias": self.penalize_bias}

    # ------------------------------------------------------------------ forward
    def hidden_activations(self, X: torch.Tensor) -> list[torch.Tensor]:
        """Activations ``A_1, ..., A_{L-1}`` of every branch, each of shape ``(m, n, m_l)``."""
        g = _act(self.activation)
        A = X
        out = []
        last = len(self.weights) - 2
        for i, W in enumerate(self.weights[:-1]):
            Z = torch.matmul(A, W)
            if self.bias:
                Z = Z + self.biases[i]
            if i == last and self.bn is not None:
                Z = self.bn(Z.squeeze(-1).transpose(0, 1)).transpose(0, 1).unsqueeze(-1)
            A = g(Z)
            out.append(A)
        return out

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        A = self.hidden_activations(X)[-1]  # (m, n, 1)
        out = torch.matmul(A, self.weights[-1]).sum(dim=0)  # (n, K)
        if self.bias:
            out = out + self.out_bias
        return out

    # ------------------------------------------------------------------ export
    @torch.no_grad()
    def to_mlp(self) -> "MLP":
        """The equivalent standard network with block-diagonal weights (identical output and penalty)."""
        m = self.branches
        widths = [self.in_features, *[m * h for h in self.hidden], m, self.out_features]
        V.check_memory(sum(a * b for a, b in zip(widths[:-1], widths[1:])), 8, copies=2,
                       what=f"The block-diagonal export of this ParallelNet (MLP widths {widths})",
                       fix="use layer_singular_values() or branch_weights(j), which work branch by branch")
        mlp = MLP(widths, activation=self.activation, bias=self.bias, batchnorm=self.batchnorm,
                  regularize=self.regularize, penalize_bias=self.penalize_bias, seed=0, dtype=self.weights[0].dtype,
                  device=self.weights[0].device)
        mats = [torch.cat(list(self.weights[0]), dim=1)]
        mats += [torch.block_diag(*list(W)) for W in self.weights[1:-1]]
        mats.append(self.weights[-1].reshape(m, self.out_features))
        for p, M in zip(mlp.weights, mats):
            p.copy_(M)
        if self.bias:
            for p, b in zip(mlp.biases[:-1], self.biases):
                p.copy_(b.reshape(-1))
            mlp.biases[-1].copy_(self.out_bias)
        if self.bn is not None:
            mlp.bn.load_state_dict(self.bn.state_dict())
        mlp.train(self.training)
        return mlp

    def to_sequential(self) -> nn.Sequential:
        """A plain ``torch.nn.Sequential`` with identical outputs (via :meth:`to_mlp`)."""
        return self.to_mlp().to_sequential()

