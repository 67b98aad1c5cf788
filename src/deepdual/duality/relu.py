"""Weak-duality bounds for two-layer ReLU networks from a residual (Theorems 4.3, 4.4; SPEC §6).

The dual of the two-layer ReLU problem (no bias) is ``max_Λ ⟨Λ, Y⟩ − ½‖Λ‖²`` subject to
``max_{‖u‖<=1} ‖Λᵀ(Xu)₊‖ <= β``; any residual scaled into that set gives a lower bound on ``P*``.
"""

from __future__ import annotations

import numpy as np

from .._numerics import EPS, dual_objective

__all__ = ["relu_dual_bound", "nonneg_direction_bound"]


def nonneg_direction_bound(Lam: np.ndarray) -> float:
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
    bound = smax * nonneg_direction_bound(R) * (1.0 + 64.0 * EPS * max(R.shape))
    theta = 1.0 if bound <= beta else beta / bound
    return dual_objective(R, Y, theta), theta * R


