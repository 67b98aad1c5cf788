"""The paper's batch normalization (Section 4.2)."""

from __future__ import annotations

import math

import torch
from torch import nn


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

