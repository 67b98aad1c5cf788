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
from ..networks import objective
from .._numerics import EPS, dual_objective
from ..scalar import amplitudes_and_deficits, branch_penalty
from ..solution import Certificate, NoCertificateError, Solution
from ._build import balanced_network, finish

__all__ = ["relu_closed_form", "rank_one_closed_form", "whitened_closed_form", "certify_relu",
           "relu_dual_bound", "rank_one_factors"]

#: Relative tolerance on the second singular value for deciding that ``X`` has rank one.
RANK_ONE_RTOL = 1e-10


def rank_one_factors(X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(c, a₀)`` with ``X = c a₀ᵀ``, ``‖c‖ = 1`` and ``sum(c) >= 0``; ``None`` if rank(X) != 1.

    A Gram-matrix test rejects clearly higher-rank ``X`` without an SVD:
    ``1 − ‖XᵀX‖_F² / ‖X‖_F⁴ ≈ 2σ₂²/σ₁²`` is 0 exactly when rank(X) <= 1.
    """
    fro2 = float(np.sum(X * X))
    if fro2 == 0.0:
        return None
    G = X @ X.T if X.shape[0] <= X.shape[1] else X.T @ X
    if 1.0 - float(np.sum(G * G)) / fro2**2 > 1e-8:
        return None
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    if s[0] == 0 or (s.size > 1 and s[1] > RANK_ONE_RTOL * s[0]):
        return None
    c, a0 = U[:, 0], s[0] * Vt[0]
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


def whitened_closed_form(X, Y, *, beta, depth, branches=None, hidden=1) -> Solution:
    """Optimal deep ReLU network for whitened data ``XXᵀ = I`` and one-hot labels (Theorem 4.3).

    Branch ``k`` has first layer ``s_k^{1/L} (Xᵀy_k/‖y_k‖) e_1ᵀ``, hidden layers ``s_k^{1/L} e_1e_1ᵀ`` and
    output ``s_k^{1/L} e_kᵀ``, so column ``k`` of the output is ``s_k y_k/‖y_k‖`` with
    ``s_k = s*(‖y_k‖; β, L)`` and

    .. math::

        P^* = \\sum_k \\tfrac12(\\|y_k\\| - s_k)^2 + \\tfrac{\\beta L}{2} s_k^{2/L}.

    A scalar target of any sign is split into ``y₊`` and ``y₋`` (outputs ``+1`` and ``−1``).
    """
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
        lower = relu_dual_bound(Y - _outputs_np(net, X), X, Y, beta, x_norm=1.0)[0]  # XXᵀ = I checked
    return finish(net, X, Y, beta=beta, depth=depth, activation="relu", theorem="Theorem 4.3", optimum=optimum,
                  lower_bound=lower, details={"class_norms": norms.tolist(), "amplitudes": amps.tolist()})


def relu_closed_form(X, Y, *, beta, depth, bias=False, branches=None, hidden=1) -> Solution:
    """Dispatch among the ReLU theorems (inputs already validated)."""
    if bias:
        if depth != 2 or X.shape[1] != 1 or Y.shape[1] != 1:
            raise ValueError(
                "`bias`=True has an exact solver only for depth=2, 1-D inputs and a scalar target "
                f"(Theorem 4.2); got depth={depth}, X with {X.shape[1]} column(s), Y with {Y.shape[1]}. "
                "Deeper networks also fit linear splines (Corollary 4.2): train them with deepdual.train."
            )
        from .spline import spline_closed_form

        return spline_closed_form(X[:, 0], Y[:, 0], beta=beta, branches=branches)
    if beta == 0:
        raise ValueError("`beta` == 0 (minimum-norm interpolation) has no ReLU closed form here; "
                         "pass beta > 0 (Theorems 4.1, 4.3 are for the regularized problem).")
    if X.shape[0] > 1 and rank_one_factors(X) is not None:
        return rank_one_closed_form(X, Y, beta=beta, depth=depth, branches=branches, hidden=hidden)
    return whitened_closed_form(X, Y, beta=beta, depth=depth, branches=branches, hidden=hidden)


# ---------------------------------------------------------------------------- certificates
def _outputs_np(network, X):
    from ..certificates import _outputs

    return _outputs(network, X)


def _nonneg_direction_bound(Lam: np.ndarray) -> float:
    """Upper bound on ``max_{a >= 0, ‖a‖ <= 1} ‖Λᵀa‖``: ``sqrt(min(λ_max(ΛΛᵀ), λ_max((ΛΛᵀ)₊)))``.

    Exact when the columns of ``Λ`` have disjoint nonnegative supports (one-hot residuals) and for
    a single column it is ``max(‖λ₊‖, ‖λ₋‖)``.
    """
    if Lam.shape[1] == 1:
        lam = Lam[:, 0]
        return float(max(np.linalg.norm(np.maximum(lam, 0)), np.linalg.norm(np.maximum(-lam, 0))))
    G = Lam @ Lam.T
    top = float(np.linalg.eigvalsh(G)[-1])
    top_pos = float(np.linalg.eigvalsh(np.maximum(G, 0.0))[-1])
    return float(np.sqrt(max(min(top, top_pos), 0.0)))


def relu_dual_bound(R: np.ndarray, X: np.ndarray, Y: np.ndarray, beta: float, *,
                    x_norm: float | None = None) -> tuple[float, np.ndarray]:
    """Weak-duality lower bound for two-layer ReLU networks (no bias) from a residual ``R``.

    For any unit ``w``, ``(Xw)_+`` is a nonnegative vector of norm at most ``σ_max(X)``, so
    ``Λ = θR`` with ``θ = min(1, β / (σ_max(X) · max_{a>=0,‖a‖<=1}‖Rᵀa‖))`` satisfies the dual
    constraint ``max_{‖w‖<=1} ‖Λᵀ(Xw)_+‖ <= β`` and ``D(Λ) = −½‖Λ − Y‖² + ½‖Y‖² <= P*``. Tight for
    whitened data (``σ_max(X) = 1``, Theorem 4.3); with ``X = I`` it bounds networks with batch
    normalization before the last ReLU (Theorem 4.4). ``x_norm`` may pass a known ``σ_max(X)``.
    """
    smax = float(np.linalg.norm(X, ord=2)) if x_norm is None else float(x_norm)
    bound = smax * _nonneg_direction_bound(R) * (1.0 + 64.0 * EPS * max(R.shape))
    theta = 1.0 if bound <= beta else beta / bound
    return dual_objective(R, Y, theta), theta * R


def certify_relu(network, X, Y, beta, kind: str) -> Certificate:
    """Certificates for ReLU networks; see :func:`deepdual.certify`."""
    depth = network.depth
    if kind == "relu-bias":
        if depth == 2 and X.shape[1] == 1 and Y.shape[1] == 1:
            from .spline import certify_spline

            return certify_spline(network, X[:, 0], Y[:, 0], beta=beta)
        raise NoCertificateError(
            "No certificate for a ReLU network with biases unless it has depth 2 on 1-D data with a scalar "
            f"target (Theorem 4.2); got depth {depth}, {X.shape[1]} input feature(s), {Y.shape[1]} output(s)."
        )
    if beta == 0:
        raise NoCertificateError("ReLU certificates are for the regularized problem; pass beta > 0.")
    value = objective(network, X, Y, beta=beta)
    R = Y - _outputs_np(network, X)
    if kind == "relu-bn":
        lower, Lam = relu_dual_bound(R, np.eye(X.shape[0]), Y, beta, x_norm=1.0)
        return Certificate(objective=value, lower_bound=lower, gap=value - lower, exact=False, dual=Lam,
                           method="batch-norm relaxation to a two-layer ReLU network on X = I (Theorem 4.4)")
    factors = rank_one_factors(X) if X.shape[0] > 1 else None
    rank_one = factors is not None and bool(np.all(factors[0] >= 0))
    if depth == 2 and not rank_one:
        lower, Lam = relu_dual_bound(R, X, Y, beta)
        return Certificate(objective=value, lower_bound=lower, gap=value - lower, exact=False, dual=Lam,
                           method="two-layer ReLU dual, max over nonnegative directions (Theorems 4.3, 2.3)")
    if depth > 2 and not hasattr(network, "branches"):
        raise NoCertificateError(
            "No certificate for a standard (non-parallel) deep ReLU MLP: the paper's strong duality holds for "
            "the parallel architecture (Section 6); use deepdual.ParallelNet."
        )
    from . import closed_form

    try:
        sol = closed_form(X, Y, beta=beta, depth=depth, activation="relu")
    except ValueError as exc:
        raise NoCertificateError(f"No certificate for a depth-{depth} ReLU network on this data: {exc}") from None
    return Certificate(objective=value, lower_bound=sol.optimum, gap=value - sol.optimum, exact=True,
                       method=f"{sol.theorem} (exact optimum)")
