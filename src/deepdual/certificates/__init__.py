"""``certify``: how far any network is from the global optimum of problem (2)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import _validation as V
from .._numerics import EPS, checked_lower_bound, rounding_slack
from ..networks import LOSSES, as_network, forward_error_bound, forward_numpy
from ..solution import Certificate, NoCertificateError
from ._common import INTERPOLATION_TOL, interpolation_objective
from .linear import certify_linear
from .relu import certify_relu
from .spline import certify_spline
from .two_layer import DEFAULT_TIME_BUDGET, ReLUCertificate, certify_two_layer

__all__ = ["certify", "certify_linear", "certify_relu", "certify_spline", "certify_two_layer", "ReLUCertificate",
           "interpolation_objective", "INTERPOLATION_TOL"]

def _kind(network) -> str:
    act = getattr(network, "activation", None)
    if act is None or not hasattr(network, "penalty"):
        raise TypeError(f"`network` must be a deepdual ParallelNet or MLP, got {type(network).__name__}.")
    if getattr(network, "batchnorm", False):
        return f"{act}-bn"
    return f"{act}-bias" if getattr(network, "bias", False) else act


def certify(network, X, Y, *, beta: float, loss: str = "squared",
            time_budget: float = DEFAULT_TIME_BUDGET) -> Certificate:
    """Certify a network against the global optimum of problem (2).

    * Two-layer linear network (parallel or standard), ``β > 0``: the residual ``R = Y − f(X)`` scaled
      into ``{σ_max(XᵀΛ) <= β}`` is dual feasible, so ``D(Λ)`` is a valid lower bound for any network,
      trained or not (Section 2, Theorem 2.4).
    * Deep linear networks where the optimum is known exactly (scalar output on any ``X``,
      Theorem 3.3; vector output with ``XᵀX = I`` or ``XXᵀ = I``, Theorem 3.6) and ``β = 0``
      (minimum-norm interpolation, lower bound ``L Σ σ_i(X⁺Y)^{2/L}``, Theorems 2.2, 2.4, 3.2, 3.5):
      the lower bound is the exact optimum.
    * Two-layer ReLU networks on any data, ``β > 0``: the dual of the convex program (SPEC §6) with a
      proven bound on its constraint ``c(R) = max_{‖u‖≤1} ‖Rᵀ(Xu)₊‖`` computed within ``time_budget``
      (:mod:`deepdual.certificates.two_layer`; exact when the activation patterns can be enumerated
      or on data of rank ``<= 4``, so the gap of an optimal network closes). Biases regularized
      (``penalize_bias=True``) or not (a PyTorch ``Sequential``) are both covered; 1-D data with
      unregularized biases use the exact spline certificate (Theorem 4.2).
    * Deeper ReLU networks: see :mod:`deepdual.certificates.relu` (Theorems 4.1–4.3).

    Parameters
    ----------
    network : ParallelNet, MLP or torch.nn.Sequential
        A ``Sequential`` of ``Linear``/``ReLU`` layers (biases or not, any float dtype) is read by
        :func:`~deepdual.networks.from_sequential`; its biases are unregularized.
    X : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_outputs) or (n_samples,)
    beta : float
    loss : {"squared"}
        Certificates are for the squared loss.
    time_budget : float, default 1.0
        Seconds for the bound of a two-layer ReLU certificate (``> 0``; the call returns within it plus
        the set-up). More time tightens the bound on high-rank data; other certificates ignore it.
        The bound is always proven, but on a loaded machine a short budget may stop at a looser one.

    Returns
    -------
    Certificate
        With ``beta = 0`` the ``objective`` is the network's penalty ``Σ‖W‖²`` and the network must
        interpolate (``max|f(X) − Y| <= 1e-6 · max|Y|``). Two-layer ReLU certificates are
        :class:`~deepdual.certificates.ReLUCertificate` records: they also say which bound was used
        (``bound_method``) and how long it ran (``bound_seconds``).

    Raises
    ------
    NoCertificateError
        When no certificate exists for this architecture and data (the message says why).
    """
    Xa = V.check_array(X, "X")
    Ya = V.check_targets(Y, Xa.shape[0])
    beta = V.check_beta(beta)
    V.check_choice(loss, "loss", LOSSES)
    time_budget = V.check_scalar(time_budget, "time_budget", min_val=0, include_boundaries="neither")
    network = as_network(network)
    V.check_network(network)
    kind = _kind(network)
    V.check_network_data(network, Xa, Ya)
    if loss != "squared":
        raise NoCertificateError("Certificates are implemented for the squared loss only (SPEC §2–4); "
                                 f"got loss={loss!r}.")
    depth = network.depth
    if kind == "linear":
        cert = certify_linear(network, Xa, Ya, beta, depth)
    elif kind.startswith("relu"):
        cert = certify_relu(network, Xa, Ya, beta, kind, time_budget=time_budget)
    else:
        raise NoCertificateError(
            f"No certificate for a {kind.replace('-', ' with ')} network: the paper's linear theorems "
            "(Sections 2–3) have no biases or batch normalization."
        )
    return _self_checked(cert, network, Xa, Ya, beta)


def _self_checked(cert: Certificate, network, X, Y, beta) -> Certificate:
    """SPEC §7 self-check: a lower bound above the network's attained objective (beyond rounding) is a bug."""
    if beta == 0.0:
        slack = 64.0 * EPS * abs(cert.objective) * (network.depth + 1)
    else:
        R = Y - forward_numpy(network, X)
        slack = rounding_slack(cert.objective, float(np.linalg.norm(R)), forward_error_bound(network, X))
    lower = checked_lower_bound(cert.lower_bound, cert.objective, slack, what=f"certify ({cert.method})")
    if lower == cert.lower_bound:
        return cert
    return replace(cert, lower_bound=lower, gap=cert.objective - lower)
