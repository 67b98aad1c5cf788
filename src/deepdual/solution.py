"""The records returned by closed forms and certificates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from . import _validation as V
from ._records import Record
from ._validation import NoClosedFormError
from .metrics import numerical_rank
from .metrics.layers import rank_from_singular_values

__all__ = ["Solution", "Certificate", "NoCertificateError", "NoClosedFormError"]


class NoCertificateError(ValueError):
    """Raised when no global-optimality certificate exists for a network/data combination."""


@dataclass(frozen=True)
class Certificate(Record):
    """A global-optimality certificate of a network for the regularized problem (2).

    Attributes
    ----------
    objective : float
        Primal objective ``P(θ)`` of the network (for ``beta = 0``: its penalty ``Σ‖W‖²``).
    lower_bound : float
        A valid lower bound on the global optimum ``P*`` (a dual objective, or ``P*`` itself when the
        optimum is known in closed form).
    gap : float
        ``objective − lower_bound`` ``>= P(θ) − P*``.
    method : str
        The theorem or construction that gives the bound.
    exact : bool
        True when ``lower_bound`` is the exact optimum (closed form), False for a dual bound.
    dual : ndarray or None
        The dual-feasible variable that certifies the bound, when there is one.
    """

    objective: float
    lower_bound: float
    gap: float
    method: str
    exact: bool
    dual: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """JSON-serializable summary (no dual variable)."""
        return {"objective": self.objective, "lower_bound": self.lower_bound, "gap": self.gap,
                "relative_gap": self.relative_gap, "method": self.method, "exact": self.exact}


@dataclass(frozen=True)
class Solution(Record):
    """A globally optimal network given by a theorem of the paper.

    Attributes
    ----------
    network : ParallelNet
        The balanced optimal network of problem (2) (float64).
    objective : float
        ``P(θ)`` evaluated on ``network`` (for ``beta = 0``: the penalty ``Σ‖W‖²`` of the
        minimum-norm interpolation problem).
    optimum : float
        The optimal value ``P*`` given by the theorem's formula.
    lower_bound : float or None
        Certified lower bound on ``P*`` (dual objective), or ``None`` where no certificate exists.
    gap : float or None
        ``objective − lower_bound``.
    theorem : str
        The result implemented, e.g. ``"Theorem 3.6"``.
    ranks : tuple of int
        Numerical rank of every layer (block-diagonal export, see ``ParallelNet.layer_matrices``).
    beta : float
    depth : int
    activation : str
    whitener : object or None
        The feature map applied to inputs before ``network`` (``closed_form(..., whiten=True)``).
    details : dict
        Theorem-specific quantities (singular values, amplitudes, ridge parameter, ...).
    """

    network: Any
    objective: float
    optimum: float
    lower_bound: float | None
    gap: float | None
    theorem: str
    ranks: tuple
    beta: float
    depth: int
    activation: str
    whitener: Any = None
    details: dict = field(default_factory=dict, repr=False)

    def predict(self, X_new) -> np.ndarray:
        """Network output on new inputs (raw inputs if a whitener was fitted), float64 ``(n, K)``.

        Parameters
        ----------
        X_new : array-like of shape (n_samples, n_features)
        """
        X = V.check_array(X_new, "X_new")
        if self.whitener is not None:
            X = self.whitener.transform(X)
        net = self.network
        V.check_network_data(net, X, x_name="X_new")
        was_training = net.training
        net.eval()
        try:
            with torch.no_grad():
                ref = next(net.parameters())
                out = net(torch.as_tensor(X, dtype=ref.dtype, device=ref.device))
        finally:
            net.train(was_training)
        out = out.detach().cpu().double().numpy()
        if not np.all(np.isfinite(out)):
            raise ValueError(
                f"The network's output on `X_new` is not finite (float {str(ref.dtype).removeprefix('torch.')} "
                f"overflows at this scale, max |X_new| = {np.max(np.abs(X)):.3g}); rescale `X_new` like the "
                "training data, or check the network's weights."
            )
        return out

    def summary(self) -> dict:
        """Same as :meth:`to_dict`."""
        return self.to_dict()

    def to_dict(self) -> dict:
        """JSON-serializable summary (no network weights)."""
        return {"theorem": self.theorem, "objective": self.objective, "optimum": self.optimum,
                "lower_bound": self.lower_bound, "gap": self.gap, "relative_gap": self.relative_gap,
                "ranks": list(self.ranks), "beta": self.beta, "depth": self.depth,
                "activation": self.activation, "whitened": self.whitener is not None}


def layer_ranks_of(network, rtol: float = 1e-6) -> tuple:
    """Numerical rank of every layer matrix, from :meth:`layer_singular_values` (branch by branch)."""
    if hasattr(network, "layer_singular_values"):
        return tuple(rank_from_singular_values(s, rtol) for s in network.layer_singular_values())
    return tuple(numerical_rank(M, rtol) for M in network.layer_matrices())
