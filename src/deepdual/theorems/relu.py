"""Closed forms for deep ReLU parallel networks (Section 4): rank-one data and whitened data.

* Rank-one data ``X = c a₀ᵀ`` with ``c >= 0`` (Theorem 4.1, Proposition 4.2): every branch outputs
  ``c κ_j w_{L,j}ᵀ`` with ``κ_j >= 0``, so ``f = c zᵀ`` and a single balanced branch along ``Yᵀc`` is
  optimal; every layer has rank one.
* Whitened data ``X Xᵀ = I`` with one-hot labels (Theorem 4.3): one branch per class along
  ``Xᵀy_k``, balanced amplitude ``s_k = s*(√n_k; β, L)``; a scalar target of any sign uses two
  branches, for ``y₊`` and ``y₋``.

The two-layer network with biases on 1-D data (Theorem 4.2) lives in :mod:`.spline`.
"""

from __future__ import annotations

import numpy as np

from .. import _validation as V
from .._validation import NoClosedFormError
from ..duality.relu import relu_dual_bound
from ..networks import forward_numpy
from ..scalar import amplitudes_and_deficits, branch_penalty
from ..solution import Solution
from ._build import balanced_network, finish

__all__ = ["relu_closed_form", "rank_one_closed_form", "whitened_closed_form", "rank_one_factors"]

#: Relative tolerance on the second singular value for deciding that ``X`` has rank one.
RANK_ONE_RTOL = 1e-10


def _gram(X: np.ndarray) -> tuple[np.ndarray, float]:
    """``(G, scale)``: the smaller Gram matrix of ``X / scale`` (``XXᵀ`` when n <= d, else ``XᵀX``), ``scale``
    the power of two nearest ``max|X|`` — dividing by it is exact, so ``scale²·G`` is the Gram of ``X`` itself
    to the last bit and one product serves both the rank-one test and the whitened-rows check."""
    top = float(np.max(np.abs(X))) if X.size else 0.0
    scale = 2.0 ** round(np.log2(top)) if top > 0 else 1.0
    Xu = X / scale  # entries of order one: no overflow of the squares
    return (Xu @ Xu.T if X.shape[0] <= X.shape[1] else Xu.T @ Xu), scale


def rank_one_factors(X: np.ndarray, gram: tuple[np.ndarray, float] | None = None
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """``(c, a₀)`` with ``X = c a₀ᵀ``, ``‖c‖ = 1`` and ``sum(c) >= 0``; ``None`` if rank(X) != 1.

    A Gram-matrix test rejects clearly higher-rank ``X`` without an SVD:
    ``1 − ‖XᵀX‖_F² / ‖X‖_F⁴ ≈ 2σ₂²/σ₁²`` is 0 exactly when rank(X) <= 1. ``gram`` may pass
    :func:`_gram` of ``X`` when the caller has it.
    """
    if not X.size or not np.any(X):
        return None
    G, scale = gram if gram is not None else _gram(X)
    fro2 = float(np.trace(G))  # ‖X/scale‖_F²
    if 1.0 - float(np.sum(G * G)) / fro2**2 > 1e-8:
        return None
    U, s, Vt = np.linalg.svd(X / scale, full_matrices=False)
    if s[0] == 0 or (s.size > 1 and s[1] > RANK_ONE_RTOL * s[0]):
        return None
    c, a0 = U[:, 0], (s[0] * scale) * Vt[0]
    if c.sum() < 0:
        c, a0 = -c, -a0
    c = np.where(np.abs(c) < 1e-15, 0.0, c)
    return c, a0


def rank_one_closed_form(X, Y, *, beta, depth, branches=None, hidden=1) -> Solution:
    """Optimal deep ReLU network on rank-one data ``X = c a₀ᵀ``, ``c >= 0`` (Thm 4.1, Prop. 4.2).

    With ``‖c‖ = 1``, ``σ = ‖a₀‖`` and ``ρ = ‖Yᵀc‖``, the network output is ``c zᵀ`` with
    ``z = σ u* Yᵀc/ρ`` and ``u* = s*(ρ/σ; β/σ², L)``; the optimum is
    ``½(ρ − σu*)² + ½(‖Y‖² − ρ²) + (βL/2) u*^{2/L}``.
    """
    c, a0 = rank_one_factors(X)
    V.check_nonnegative_vector(c, "c", theorem="Theorem 4.1")
    sigma = float(np.linalg.norm(a0))
    proj = Y.T @ c
    rho = float(np.linalg.norm(proj))
    if beta > 0:
        amp, deficit = amplitudes_and_deficits(np.array([rho / sigma]), beta / sigma**2, depth)
        u, du = float(amp[0]), float(deficit[0])
    else:
        u, du = rho / sigma, 0.0
    # ‖Y‖² − ρ² as the norm of the part of Y off c (no cancellation, SPEC §7)
    off = Y - np.outer(c, proj)
    optimum = 0.5 * (sigma * du) ** 2 + 0.5 * float(np.sum(off**2)) + float(branch_penalty(u, beta, depth))
    out_dir = proj / rho if rho > 0 else np.zeros_like(proj)
    net = balanced_network((a0 / sigma)[:, None], np.array([u]), out_dir[None, :], depth=depth,
                           activation="relu", branches=branches, hidden=hidden)
    theorem = "Theorem 4.1" if Y.shape[1] == 1 else "Proposition 4.2"
    return finish(net, X, Y, beta=beta, depth=depth, activation="relu", theorem=theorem, optimum=optimum,
                  lower_bound=optimum, details={"sigma": sigma, "rho": rho, "amplitude": float(u)})


def _signed_parts(Y: np.ndarray):
    """Columns to fit with one nonnegative branch each, and the output row of each branch."""
    if Y.shape[1] == 1:
        y = Y[:, 0]
        parts = [np.maximum(y, 0.0), np.maximum(-y, 0.0)]
        return np.column_stack(parts), np.array([[1.0], [-1.0]])
    return Y, np.eye(Y.shape[1])


def whitened_closed_form(X, Y, *, beta, depth, branches=None, hidden=1, gram=None, whitened=False) -> Solution:
    """Optimal deep ReLU network for whitened data ``XXᵀ = I`` and one-hot labels (Theorem 4.3).

    Branch ``k`` has first layer ``s_k^{1/L} (Xᵀy_k/‖y_k‖) e_1ᵀ``, hidden layers ``s_k^{1/L} e_1e_1ᵀ`` and
    output ``s_k^{1/L} e_kᵀ``, so column ``k`` of the output is ``s_k y_k/‖y_k‖`` with
    ``s_k = s*(‖y_k‖; β, L)`` and

    .. math::

        P^* = \\sum_k \\tfrac12(\\|y_k\\| - s_k)^2 + \\tfrac{\\beta L}{2} s_k^{2/L}.

    A scalar target of any sign is split into ``y₊`` and ``y₋`` (outputs ``+1`` and ``−1``).
    ``XXᵀ = I`` is checked (from ``gram``, :func:`_gram` of ``X``, when given) unless ``whitened``: rows
    that ``closed_form(whiten=True)`` made orthonormal (``U Vᵀ`` of a full-row-rank ``X``).
    """
    if not whitened:
        if gram is not None and X.shape[0] <= X.shape[1]:
            G, scale = gram
            V.check_whitened_rows(X, theorem="Theorem 4.3", gram=G * (scale * scale))
        else:
            V.check_whitened_rows(X, theorem="Theorem 4.3")
    if Y.shape[1] > 1:
        V.check_one_hot(Y, theorem="Theorem 4.3")
    parts, outputs = _signed_parts(Y)
    norms = np.linalg.norm(parts, axis=0)
    amps, deficits = amplitudes_and_deficits(norms, beta, depth)
    dirs = X.T @ parts / np.where(norms > 0, norms, 1.0)
    optimum = float(np.sum(0.5 * deficits**2 + branch_penalty(amps, beta, depth)))
    net = balanced_network(dirs, amps, outputs, depth=depth, activation="relu", branches=branches, hidden=hidden)
    lower = optimum
    if depth == 2 and beta > 0:
        lower = relu_dual_bound(Y - forward_numpy(net, X), X, Y, beta, x_norm=1.0)[0]  # XXᵀ = I checked
    return finish(net, X, Y, beta=beta, depth=depth, activation="relu", theorem="Theorem 4.3", optimum=optimum,
                  lower_bound=lower, details={"class_norms": norms.tolist(), "amplitudes": amps.tolist()})


def relu_closed_form(X, Y, *, beta, depth, bias=False, branches=None, hidden=1, tol=1e-10,
                     max_iter=None, whitened=False) -> Solution:
    """Dispatch among the ReLU theorems (inputs already validated; ``whitened``: rows made orthonormal by
    ``closed_form(whiten=True)``, of rank n, so rank one only when n = 1)."""
    if bias:
        if depth != 2 or X.shape[1] != 1 or Y.shape[1] != 1:
            raise NoClosedFormError(
                "`bias`=True has an exact solver only for depth=2, 1-D inputs and a scalar target "
                f"(Theorem 4.2); got depth={depth}, X with {X.shape[1]} column(s), Y with {Y.shape[1]}. "
                "Deeper networks also fit linear splines (Corollary 4.2): train them with deepdual.train."
            )
        from .spline import spline_closed_form

        return spline_closed_form(X[:, 0], Y[:, 0], beta=beta, branches=branches, tol=tol,
                                  max_iter=200 if max_iter is None else max_iter)
    if beta == 0:
        raise NoClosedFormError("`beta` == 0 (minimum-norm interpolation) has no ReLU closed form here; "
                         "pass beta > 0 (Theorems 4.1, 4.3 are for the regularized problem).")
    if whitened and X.shape[0] > 1:
        return whitened_closed_form(X, Y, beta=beta, depth=depth, branches=branches, hidden=hidden, whitened=True)
    gram = _gram(X)
    if X.shape[0] > 1 and rank_one_factors(X, gram) is not None:
        return rank_one_closed_form(X, Y, beta=beta, depth=depth, branches=branches, hidden=hidden)
    return whitened_closed_form(X, Y, beta=beta, depth=depth, branches=branches, hidden=hidden, gram=gram)
