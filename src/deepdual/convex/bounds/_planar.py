"""The exact value of ``c(r)`` for data of rank 2 (``"auto"`` on two row-space coordinates): an arc sweep.

On the unit circle the activation pattern changes only where ``u`` is perpendicular to a row, so
between consecutive such directions (an *arc*) the map ``u ↦ rᵀ(Xu)₊ = gᵀu`` is linear, with ``g = XᵀDr``
for the arc's pattern ``D``; its maximum over the arc is at an end or at ``g/‖g‖`` when that lies inside
(and the maximum of ``−rᵀ(Xu)₊`` at an end or at ``−g/‖g‖``). Evaluating ``|rᵀ(Xu)₊|`` at every such
candidate gives ``c(r)``, attained. Floating point: an arc end computed ``δ`` off moves the value by at
most ``δ·Σ|rᵢ|‖xᵢ‖`` (the map is Lipschitz with that constant), a few ulps of ``π`` here, far below the
inflation every bound receives (``_rounding._inflate``).
"""

from __future__ import annotations

import numpy as np

_TWO_PI = 2.0 * np.pi


def _arc_sweep(r: np.ndarray, X: np.ndarray) -> tuple[float, np.ndarray]:
    """``(c(r), u)`` for ``X`` with two columns (see the module docstring)."""
    rows = X[np.linalg.norm(X, axis=1) > 0]
    ang = np.arctan2(rows[:, 1], rows[:, 0])
    br = np.unique(np.mod(np.concatenate([ang + 0.5 * np.pi, ang - 0.5 * np.pi]), _TWO_PI))
    lo, hi = br, np.append(br[1:], br[0] + _TWO_PI)
    mid = 0.5 * (lo + hi)
    D = (X @ np.stack([np.cos(mid), np.sin(mid)])) > 0          # (n, arcs): the pattern of each arc
    G = X.T @ (D * r[:, None])                                   # (2, arcs): the gradient on each arc
    cands = [lo]
    for s in (1.0, -1.0):                                        # ±g/‖g‖ where it falls inside its arc
        th = np.mod(np.arctan2(s * G[1], s * G[0]), _TWO_PI)
        th = np.where(th < lo, th + _TWO_PI, th)
        inside = (th <= hi) & (np.abs(G).sum(axis=0) > 0)
        cands.append(th[inside])
    theta = np.concatenate(cands)
    U = np.stack([np.cos(theta), np.sin(theta)])
    vals = np.abs(r @ np.maximum(X @ U, 0.0))
    k = int(np.argmax(vals))
    return float(vals[k]), U[:, k]
