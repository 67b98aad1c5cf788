# Over 400 lines: the paper's networks and the objective they are scored by (split candidate: MLP/BN).
"""The networks of the paper: the parallel architecture, a standard MLP, and the objective P(θ).

The parallel network of depth ``L`` has ``m`` branches; branch ``j`` computes

.. math::

    A_{0} = X,\\quad A_{l,j} = g(A_{l-1,j} W_{l,j}),\\quad f(X) = \\sum_j A_{L-1,j} w_{L,j},

with ``W_{1,j}`` of shape ``(d, m_1)``, hidden ``W_{l,j}`` of shape ``(m_{l-1}, m_l)``, a single unit
``w_{L-1,j}`` of shape ``(m_{L-2}, 1)`` and an output row ``w_{L,j}`` of shape ``(1, K)``. All branches
of a layer are stored as one tensor of shape ``(m, fan_in, fan_out)`` and multiplied in one batched
matmul. A parallel network is a standard MLP whose weight matrices are block-diagonal:
:meth:`ParallelNet.to_mlp` exports it as one, with identical outputs and penalty.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from . import _validation as V
from ._numerics import EPS

__all__ = ["ParallelNet", "MLP", "PaperBatchNorm", "objective", "penalty", "LOSSES", "ACTIVATIONS"]

ACTIVATIONS = ("linear", "relu")
LOSSES = ("squared", "cross_entropy")


def _act(name: str):
    return torch.relu if name == "relu" else (lambda z: z)


def _generator(seed):
    """A private generator: seeded, or with fresh entropy (never touches torch's global state)."""
    g = torch.Generator()
    g.manual_seed(int(seed) if seed is not None else int(np.random.SeedSequence().entropy % (2**63)))
    return g


class PaperBatchNorm(nn.Module):
    """Batch normalization as defined in the paper (Section 4.2), one unit per feature.

    .. math::

        \\mathrm{BN}_{\\gamma,\\alpha}(h) = \\gamma\\,\\frac{(I - \\tfrac1n 11^T)h}{\\|(I - \\tfrac1n 11^T)h\\|_2}
        + \\frac{\\alpha}{\\sqrt n}\\,1 .

    This is PyTorch's ``BatchNorm1d`` (without ``eps``) with its scale and shift divided by
    :math:`\\sqrt n`. In training mode the batch statistics are used and stored; in eval mode the
    stored mean and standard deviation are applied, so test points are mapped like the training
    batch they were fitted on.

    Parameters
    ----------
    num_features : int
        Number of units normalized independently.
    dtype, device : torch dtype and device.
    """

    def __init__(self, num_features: int, *, dtype=torch.float64, device=None):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(num_features, dtype=dtype, device=device))
        self.alpha = nn.Parameter(torch.zeros(num_features, dtype=dtype, device=device))
        self.register_buffer("running_mean", torch.zeros(num_features, dtype=dtype, device=device))
        self.register_buffer("running_std", torch.ones(num_features, dtype=dtype, device=device))
        self.register_buffer("batch_size", torch.ones((), dtype=dtype, device=device))

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # h: (..., n, features)
        if self.training:
            n = h.shape[-2]
            mean = h.mean(dim=-2, keepdim=True)
            centered = h - mean
            # A constant unit (e.g. a zero branch) has no direction: map it to 0, not NaN.
            norm = centered.norm(dim=-2, keepdim=True).clamp_min(torch.finfo(h.dtype).tiny)
            with torch.no_grad():
                self.running_mean.copy_(mean.reshape(self.running_mean.shape))
                self.running_std.copy_((norm / math.sqrt(n)).reshape(self.running_std.shape))
                self.batch_size.fill_(n)
            return self.gamma * centered / norm + self.alpha / math.sqrt(n)
        n = self.batch_size
        std = self.running_std.clamp_min(torch.finfo(h.dtype).tiny)
        return self.gamma * (h - self.running_mean) / (std * torch.sqrt(n)) + self.alpha / torch.sqrt(n)

    def penalty(self) -> torch.Tensor:
        return (self.gamma**2).sum() + (self.alpha**2).sum()


def _check_regularize(regularize: str, batchnorm: bool) -> str:
    V.check_choice(regularize, "regularize", ("all", "last"))
    if regularize == "last" and not batchnorm:
        raise ValueError("`regularize`='last' (only γ, α and the output layer, Theorem 4.4) needs batchnorm=True.")
    return regularize


class _PenaltyMixin:
    """Shared helpers: options common to both networks, the regularized parameters and their norm."""

    def _set_options(self, activation, bias, batchnorm, regularize, device, penalize_bias=False):
        """Validate and store the shared options; returns the validated device."""
        self.activation = V.check_choice(activation, "activation", ACTIVATIONS)
        self.bias = V.check_bool(bias, "bias")
        self.penalize_bias = V.check_bool(penalize_bias, "penalize_bias")
        if self.penalize_bias and not self.bias:
            raise ValueError("`penalize_bias`=True needs bias=True (there are no biases to penalize).")
        self.batchnorm = V.check_bool(batchnorm, "batchnorm")
        self.regularize = _check_regularize(regularize, self.batchnorm)
        return V.check_device(device, allow_meta=True)  # meta: shapes only, rejected by objective()

    @staticmethod
    def _check_init(dtype, seed, init_scale):
        """Validate the initialization arguments shared by both networks."""
        V.check_dtype(dtype)
        V.check_seed(seed)
        return V.check_scalar(init_scale, "init_scale", min_val=0)

    def regularized_parameters(self) -> list[torch.Tensor]:
        """Weights the penalty covers: every layer (or only the output layer when
        ``regularize='last'``) plus the batch-norm ``γ, α``."""
        params = list(self.weights) if self.regularize == "all" else [self.weights[-1]]
        if self.penalize_bias and self.regularize == "all":  # hidden-layer biases (SPEC §6 bias column)
            params += list(self.biases) if hasattr(self, "out_bias") else list(self.biases)[:-1]
        if self.bn is not None:
            params += [self.bn.gamma, self.bn.alpha]
        return params

    def penalty(self) -> torch.Tensor:
        """Sum of squared Frobenius norms of every regularized parameter (biases excluded unless
        ``penalize_bias``)."""
        return sum((p**2).sum() for p in self.regularized_parameters())


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
    """Σ‖W‖²_F over every regularized parameter of ``network``, evaluated in float64."""
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
    network : ParallelNet or MLP
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
