"""Closed-form bounds on ``c(r)`` (method ``"spectral"``; every method reports them too)."""

from __future__ import annotations

import numpy as np


def _spectral(r: np.ndarray, X: np.ndarray) -> tuple[float, str]:
    """Closed-form bounds on ``c(r)``; returns the smallest and its name (not yet inflated)."""
    sx = float(np.linalg.norm(X, 2)) if X.size else 0.0
    half_lin = 0.5 * float(np.linalg.norm(X.T @ r))
    old = sx * max(float(np.linalg.norm(np.maximum(r, 0))), float(np.linalg.norm(np.maximum(-r, 0))))
    restricted = 0.0
    split = 0.0
    for s in (1.0, -1.0):
        pos = s * r > 0
        if not np.any(pos):
            continue
        rp = s * r[pos]
        Xp = X[pos]
        sp = float(np.linalg.norm(Xp, 2))
        b_rows = sp * float(np.linalg.norm(rp))
        # Σ rᵢ|tᵢ| ≤ sqrt(Σrᵢ) sqrt(Σ rᵢ tᵢ²) (Cauchy–Schwarz), a second bound on the even part
        w = float(np.sqrt(max(np.linalg.eigvalsh((Xp * rp[:, None]).T @ Xp)[-1], 0.0)))
        b_cs = float(np.sqrt(rp.sum())) * w
        restricted = max(restricted, b_rows)
        split = max(split, half_lin + 0.5 * min(b_rows, b_cs))
    cands = [(old, "σ_max(X)·max(‖r₊‖, ‖r₋‖)"), (restricted, "‖r₊‖·σ_max(X_{r>0})"),
             (split, "even/odd split ½‖Xᵀr‖ + ½‖r₊‖σ_max(X_{r>0})")]
    return min(cands, key=lambda c: c[0])

