"""Layer metrics: numerical rank, operator and Frobenius norms, alignment of consecutive layers.

Weight conventions follow :mod:`deepdual.networks`: a layer matrix ``W_l`` has shape
``(fan_in, fan_out)`` and the network computes ``A_l = g(A_{l-1} W_l)``. A *network* is any object
with a method ``layer_matrices()`` returning that list (:class:`deepdual.MLP`,
:class:`deepdual.ParallelNet`); a plain list of 2-D matrices works too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validation as V

__all__ = ["RANK_RTOL", "numerical_rank", "layer_ranks", "LayerNorm", "layer_norms", "alignment"]

#: Default relative tolerance of :func:`numerical_rank`.
RANK_RTOL = 1e-6


def numerical_rank(A, rtol: float = RANK_RTOL) -> int:
    """Number of singular values of ``A`` above ``rtol · σ_max(A)`` (0 for a zero matrix).

    Parameters
    ----------
    A : array-like or torch.Tensor of shape (p, q)
        A 1-D input is read as a single row.
    rtol : float, default 1e-6
        Relative tolerance. Singular values ``σ_i <= rtol · σ_1`` count as zero.

    Returns
    -------
    int

    Notes
    -----
    .. math::

        \\operatorname{rank}_{\\mathrm{rtol}}(A) = \\#\\{i : \\sigma_i(A) > \\mathrm{rtol}\\,\\sigma_1(A)\\}.

    The default 1e-6 sits far above float64 rounding (about 1e-16 relative) and below the
    singular-value gaps that the paper's low-rank claims produce (Proposition 3.1, Theorem 4.1).
    """
    rtol = V.check_scalar(rtol, "rtol", min_val=0)
    M = V.as_float_array(A, "A")
    if M.ndim > 2:
        raise ValueError(f"`A` must be a 2-D matrix (or 1-D, read as one row), got shape {M.shape}; "
                         "pass one matrix at a time, e.g. [numerical_rank(a) for a in A].")
    if M.size == 0:
        return 0
    return rank_from_singular_values(_singular_values(np.atleast_2d(M)), rtol)


def _unit_scale(M: np.ndarray) -> np.ndarray:
    """``M / max|M|`` (``M`` itself when zero), so that LAPACK sees entries of order one."""
    top = float(np.max(np.abs(M))) if M.size else 0.0
    return M / top if top > 0 else M


def _singular_values(M: np.ndarray) -> np.ndarray:
    """Singular values of a finite float64 matrix at any scale: computed on ``M / max|M|`` and scaled back.

    LAPACK fails to converge on matrices of subnormal or near-overflow entries; the rank and the
    ratios of singular values do not depend on the scale.
    """
    top = float(np.max(np.abs(M))) if M.size else 0.0
    if top == 0.0:
        return np.zeros(min(M.shape))
    return np.linalg.svd(M / top, compute_uv=False) * top


def _layer_list(network_or_matrices, name: str = "network_or_matrices") -> list[np.ndarray]:
    """The layer matrices of a network (``layer_matrices()``) or of a list, as float64 2-D arrays."""
    if hasattr(network_or_matrices, "layer_matrices"):
        mats = list(network_or_matrices.layer_matrices())
    elif isinstance(network_or_matrices, (str, bytes)) or not hasattr(network_or_matrices, "__iter__"):
        raise TypeError(
            f"`{name}` must be a network with a layer_matrices() method or a list of 2-D matrices, "
            f"got {type(network_or_matrices).__name__}."
        )
    else:
        mats = list(network_or_matrices)
        if isinstance(network_or_matrices, np.ndarray) and network_or_matrices.ndim == 2:
            raise TypeError(f"`{name}` is a single matrix; pass a list of layer matrices, e.g. [W].")
    out = []
    for i, W in enumerate(mats):
        arr = V.as_float_array(W, f"{name}[{i}]")
        if arr.ndim != 2:
            raise ValueError(f"`{name}[{i}]` must be a 2-D matrix (fan_in, fan_out), got shape {arr.shape}.")
        out.append(arr)
    return out


def layer_ranks(network_or_matrices, rtol: float = RANK_RTOL) -> list[int]:
    """Numerical rank of every layer matrix (see :func:`numerical_rank`).

    Parameters
    ----------
    network_or_matrices : network or list of array-like of shape (fan_in, fan_out)
        An object with ``layer_matrices()`` (:class:`deepdual.MLP`, :class:`deepdual.ParallelNet`,
        whose block-diagonal export is used) or a list of matrices.
    rtol : float, default 1e-6

    Returns
    -------
    list of int, one per layer.

    References
    ----------
    Ergen & Pilanci (2021), Proposition 3.1 and Theorem 4.1: optimal layers are rank one per branch.
    """
    rtol = V.check_scalar(rtol, "rtol", min_val=0)
    if hasattr(network_or_matrices, "layer_singular_values"):  # branch by branch, no dense export
        V.check_network(network_or_matrices, "network_or_matrices")
        return [rank_from_singular_values(s, rtol) for s in network_or_matrices.layer_singular_values()]
    return [numerical_rank(W, rtol) for W in _layer_list(network_or_matrices)]


@dataclass(frozen=True)
class LayerNorm:
    """Norms of one layer matrix.

    Attributes
    ----------
    operator : float
        Largest singular value ``‖W‖₂``.
    frobenius : float
        ``‖W‖_F``. ``frobenius == operator`` exactly when ``W`` has rank at most one.
    """

    operator: float
    frobenius: float


def layer_norms(network_or_matrices) -> list[LayerNorm]:
    """Operator and Frobenius norm of every layer matrix.

    Parameters
    ----------
    network_or_matrices : network or list of array-like of shape (fan_in, fan_out)

    Returns
    -------
    list of LayerNorm, one per layer.

    Notes
    -----
    .. math::

        \\|W\\|_2 = \\sigma_1(W) \\le \\|W\\|_F = \\big(\\textstyle\\sum_i \\sigma_i(W)^2\\big)^{1/2},

    with equality iff ``rank W <= 1``.

    References
    ----------
    Ergen & Pilanci (2021), Proposition 3.1 (``‖W_l‖_F = ‖W_l‖_2`` at the optimum) and Figure 3a.
    """
    if hasattr(network_or_matrices, "layer_singular_values"):  # branch by branch, no dense export
        V.check_network(network_or_matrices, "network_or_matrices")
        values = network_or_matrices.layer_singular_values()
    else:
        values = [_singular_values(W) for W in _layer_list(network_or_matrices)]
    out = []
    for s in values:
        if s.size == 0:
            out.append(LayerNorm(0.0, 0.0))
            continue
        out.append(LayerNorm(operator=float(np.max(s)), frobenius=V.safe_norm(s)))
    return out


def alignment(network_or_matrices, k: int = 1) -> list[float]:
    """Alignment of the top-``k`` singular subspaces of consecutive layers.

    For layers ``W_l`` of shape ``(fan_in, fan_out)`` and ``W_{l+1}`` of shape
    ``(fan_out, fan_out')`` (the network computes ``X @ W_l``), the signal leaves ``W_l`` along its
    right singular vectors (in :math:`\\mathbb{R}^{fan\\_out}`) and enters ``W_{l+1}`` along its left
    singular vectors (the same space). With :math:`V_k` the top-``k`` right singular vectors of
    ``W_l`` and :math:`U_k` the top-``k`` left singular vectors of ``W_{l+1}``:

    .. math::

        a_l = \\frac1k \\|V_k^T U_k\\|_F^2 = \\frac1k \\sum_{i=1}^k \\cos^2\\theta_i ,

    the mean squared cosine of the principal angles :math:`\\theta_i` between the two subspaces.
    ``a_l`` lies in [0, 1]: 1 means the subspaces coincide (perfect alignment), 0 that they are
    orthogonal.

    Parameters
    ----------
    network_or_matrices : network or list of array-like of shape (fan_in, fan_out)
        At least one matrix; consecutive shapes must chain (``W_l.shape[1] == W_{l+1}.shape[0]``).
    k : int, default 1
        Subspace dimension, ``1 <= k <= min`` of all matrix dimensions.

    Returns
    -------
    list of float
        ``L - 1`` values, ``a_1, ..., a_{L-1}`` (empty for a single layer).

    Notes
    -----
    When the ``k``-th and ``(k+1)``-th singular values of a layer are equal the top-``k``
    subspace is not unique and the value depends on the SVD's choice; use ``k`` at a gap.

    References
    ----------
    Ergen & Pilanci (2021), Theorems 3.1 and 3.3: at the optimum each layer is
    ``t·ρ_{l-1}ρ_lᵀ``, so consecutive layers are aligned (``a_l = 1`` with ``k = 1``).
    """
    k = V.check_positive_int(k, "k")
    mats = _layer_list(network_or_matrices)
    for i, (A, B) in enumerate(zip(mats[:-1], mats[1:], strict=True)):
        if A.shape[1] != B.shape[0]:
            raise ValueError(
                f"layer {i} has shape {A.shape} but layer {i + 1} has shape {B.shape}; "
                "consecutive layers must chain (fan_out of one = fan_in of the next)."
            )
    if len(mats) < 2:
        return []
    kmax = min(min(W.shape) for W in mats)
    if k > kmax:
        raise ValueError(f"`k` == {k}, must be <= {kmax} (the smallest layer dimension).")
    out = []
    for A, B in zip(mats[:-1], mats[1:], strict=True):
        _, _, At = np.linalg.svd(_unit_scale(A), full_matrices=False)  # subspaces: scale-free
        Ub, _, _ = np.linalg.svd(_unit_scale(B), full_matrices=False)
        C = At[:k] @ Ub[:, :k]
        out.append(float(min(1.0, np.sum(C**2) / k)))
    return out


def rank_from_singular_values(s, rtol: float = RANK_RTOL) -> int:
    """:func:`numerical_rank` from singular values already computed (any order): ``#{σ_i > rtol·max σ}``."""
    s = np.asarray(s, dtype=np.float64).reshape(-1)
    if s.size == 0 or not np.any(s):
        return 0
    return int(np.count_nonzero(s > rtol * np.max(s)))
