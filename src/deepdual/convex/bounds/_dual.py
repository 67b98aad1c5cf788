"""The lower bound given by a dual point ``λ`` and a proven bound ``c̄`` on its constraint (SPEC §6–7).

``t·λ`` is dual feasible for every ``0 <= t <= β/c̄`` (the constraint is homogeneous), and
``D(tλ) = t⟨λ, Y⟩ − ½t²‖λ‖²`` is largest at ``t = ⟨λ, Y⟩/‖λ‖²``; the scale is the smaller of the two
(for a residual ``λ = Y − f`` the second is ``1 + ⟨λ, f⟩/‖λ‖²``: above 1 for a network no larger than its
fit warrants, below 1 for one that overshoots — where ``t = min(1, β/c̄)`` could even give a negative
bound). ``D`` is summed without cancellation (:func:`deepdual._numerics.dual_objective`), so the value is
proven for the ``t`` used, however ``t`` was rounded. With a free output bias the dual also needs
``1ᵀλ = 0``: a centred ``λ`` sums to ``s`` (exactly, ``math.fsum``) rather than 0, so the bound is taken
for the real ``λ₀ = λ − (s/n)1``, whose constraint exceeds ``λ``'s by at most ``‖s‖·H/n`` (``H`` bounds
``1ᵀh`` for every feature ``h``) and whose dual value is at least ``D(tλ) − t·|s|·|1ᵀY|/n``.
"""

from __future__ import annotations

import math

import numpy as np

from ..._numerics import EPS, dual_objective

__all__ = ["centring_error", "dual_lower_bound"]


def _sums(L: np.ndarray) -> np.ndarray:
    """``|1ᵀL|`` per column, exactly summed and rounded up."""
    return np.array([abs(math.fsum(L[:, k].tolist())) for k in range(L.shape[1])]) * (1.0 + 2 * EPS)


def centring_error(L: np.ndarray, center: bool) -> float:
    """``‖1ᵀL‖`` (rounded up) when ``L`` should be centred, else 0."""
    return float(np.linalg.norm(_sums(L))) * (1.0 + 2 * EPS) if center else 0.0


def dual_lower_bound(L: np.ndarray, Y: np.ndarray, beta: float, c_upper: float, *, center: bool = False,
                     H: float = 0.0) -> tuple[float, float]:
    """``(t, D)``: the scale ``t = min(β/(c̄ + ‖1ᵀL‖H/n), ⟨L, Y⟩₊/‖L‖²)`` of the dual point ``L`` (shape
    (n, K)) and a proven lower bound ``D`` on the optimum (module docstring)."""
    n = L.shape[0]
    c_total = c_upper + centring_error(L, center) * H / n
    cap = math.inf if c_total <= 0 else beta / c_total  # every t in [0, cap] is dual feasible
    ly, ll = float(np.sum(L * Y)), float(np.sum(L * L))
    best = max(ly / ll, 0.0) if ll > 0 else 1.0           # D(tL) is largest at t = ⟨L, Y⟩/‖L‖²
    t = min(cap, best)
    value = dual_objective(L, Y, t)
    if center:
        value -= t * float(_sums(L) @ (np.abs(Y).sum(axis=0) * (1.0 + n * EPS))) / n
    return t, value
