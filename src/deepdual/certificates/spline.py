"""Global-optimality certificate for two-layer ReLU networks with biases on 1-D data (Theorem 4.2)."""

from __future__ import annotations

from .. import _validation as V
from ..networks import forward_numpy, objective
from ..solution import Certificate, NoCertificateError
from ..theorems.spline._atoms import (
    CERT_METHOD,
    _check_interpolable,
    _dual_bound,
    _merge,
    _unmerge_dual,
)
from ..theorems.spline.lasso import _lasso
from ._common import interpolation_objective

__all__ = ["certify_spline"]


def _check_network(network) -> None:
    act = getattr(network, "activation", None)
    if act is None or not hasattr(network, "penalty"):
        raise TypeError(f"`network` must be a deepdual ParallelNet or MLP, got {type(network).__name__}.")
    what = []
    if act != "relu":
        what.append(f"activation={act!r} (needs 'relu')")
    if getattr(network, "depth", None) != 2:
        what.append(f"depth={getattr(network, 'depth', None)} (needs 2)")
    if not getattr(network, "bias", False):
        what.append("bias=False (needs bias=True)")
    if getattr(network, "batchnorm", False):
        what.append("batchnorm=True (needs False)")
    if network.in_features != 1 or network.out_features != 1:
        what.append(f"{network.in_features} input(s) / {network.out_features} output(s) (needs 1 / 1)")
    if what:
        raise NoCertificateError(
            "The 1-D certificate (Theorem 4.2) is for two-layer ReLU networks with biases, one input and "
            "one output; this network has " + ", ".join(what) + "."
        )


def certify_spline(network, x, y, *, beta: float) -> Certificate:
    """Global-optimality certificate for any two-layer ReLU network with biases on 1-D data.

    The residual ``λ = y − f(x)`` is shifted to ``1ᵀλ = 0`` and scaled into
    ``{|φ_jᵀλ| <= β}`` over the ``2n`` data-point atoms; since ``t ↦ Σ_k λ_k (x_k − t)₊`` is piecewise
    linear with breaks at the data, that is dual feasibility for *every* breakpoint ``t ∈ R``, so

    .. math::

        P(\\theta) \\ \\ge\\ P^* \\ \\ge\\ \\lambda^T y - \\tfrac12\\|\\lambda\\|^2

    for every network, of any width (Theorem 4.2). ``gap = P(θ) − lower_bound >= P(θ) − P*``.

    Parameters
    ----------
    network : ParallelNet or MLP
        Two-layer ReLU network with ``bias=True``, one input, one output.
    x : array-like of shape (n,) or (n, 1)
    y : array-like of shape (n,) or (n, 1)
    beta : float
        For ``beta = 0`` the network must interpolate (``max|f(x) − y| <= 1e-6 · max|y|``); its
        ``objective`` is its penalty ``Σ‖W‖²`` and ``lower_bound`` the exact minimum ``2 R(y)`` of the
        linear spline interpolant (``exact=True``).

    Returns
    -------
    Certificate
        ``method = "1-D ReLU dual over all breakpoints (Theorem 4.2)"``; ``dual`` is ``λ`` on the
        original points.

    Raises
    ------
    NoCertificateError
        If the architecture is not a two-layer ReLU network with biases on one input, or (``beta = 0``)
        the network does not interpolate.
    """
    xa, ya = V.check_univariate(x, y)
    beta = V.check_beta(beta)
    _check_network(network)
    data = _merge(xa, ya)
    if beta == 0.0:
        _check_interpolable(data, ya, "x", "y")
        value = interpolation_objective(network, xa.reshape(-1, 1), ya.reshape(-1, 1))
        res = _lasso(xa, ya, 0.0, 1e-10, 1)
        lower = 2.0 * res.lower_bound
        return Certificate(objective=value, lower_bound=lower, gap=value - lower, method=CERT_METHOD,
                           exact=True, dual=2.0 * res.dual)
    value = objective(network, xa.reshape(-1, 1), ya, beta=beta)
    f = forward_numpy(network, data.xk.reshape(-1, 1)).reshape(-1)
    lower, lam = _dual_bound(data, f, beta)
    return Certificate(objective=float(value), lower_bound=float(lower), gap=float(value - lower),
                       method=CERT_METHOD, exact=False, dual=_unmerge_dual(data, ya, lam))
