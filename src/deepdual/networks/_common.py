"""Options shared by the paper's networks: activations, losses, seeded generators, the penalty."""

from __future__ import annotations

import numpy as np
import torch

from .. import _validation as V

ACTIVATIONS = ("linear", "relu")
LOSSES = ("squared", "cross_entropy")


def _act(name: str):
    return torch.relu if name == "relu" else (lambda z: z)


def _generator(seed):
    """A private generator: seeded, or with fresh entropy (never touches torch's global state)."""
    g = torch.Generator()
    g.manual_seed(int(seed) if seed is not None else int(np.random.SeedSequence().entropy % (2**63)))
    return g



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

