"""Independent oracles for ``c(r) = max_{‖u‖≤1} |rᵀ(Xu)₊|``, written without reading deepdual.convex.bounds.

In R² the exact value by sweeping the arcs between consecutive hyperplane directions (the map is
linear on each arc, so its maximum is at an endpoint or at the direction of its gradient), every
cell pattern built by hand from the arc midpoints, and dense sampling of the sphere (a lower bound
on ``c(r)``, so every proven bound must exceed it).
"""

from __future__ import annotations

import math

import numpy as np

from deepdual.convex.patterns import PatternSet


def _arc_breaks(X):
    ang = np.arctan2(X[:, 1], X[:, 0])[np.linalg.norm(X, axis=1) > 0]
    br = np.sort(np.mod(np.concatenate([ang + np.pi / 2, ang - np.pi / 2, [0.0]]), 2 * np.pi))
    return np.concatenate([br, [br[0] + 2 * np.pi]])


def exact_c_2d(r, X):
    """c(r) in R² exactly: on each arc between hyperplane directions the map is gᵀu."""
    br = _arc_breaks(X)
    best = 0.0
    for a, b in zip(br[:-1], br[1:]):
        cands = [a, b]
        m = 0.5 * (a + b)
        D = X @ np.array([np.cos(m), np.sin(m)]) > 0
        g = X.T @ (D * r)
        for s in (1.0, -1.0):
            th = math.atan2(s * g[1], s * g[0]) % (2 * np.pi)
            cands += [t for t in (th - 2 * np.pi, th, th + 2 * np.pi) if a <= t <= b]
        for t in cands:
            best = max(best, abs(float(r @ np.maximum(X @ np.array([np.cos(t), np.sin(t)]), 0.0))))
    return best


def patterns_2d(X):
    """Every cell pattern in R², built by hand from the arc midpoints (independent of patterns.py)."""
    br = _arc_breaks(X)
    mids = 0.5 * (br[:-1] + br[1:])
    G = np.stack([np.cos(mids), np.sin(mids)])
    return PatternSet(masks=(X @ G) >= 0, generators=G, complete=True, source="test")


def sampled_max(r, X, n_dirs=20_000, seed=0):
    """max |rᵀ(Xu)₊| over random unit directions: a lower bound on c(r)."""
    U = np.random.default_rng(seed).standard_normal((X.shape[1], n_dirs))
    U /= np.linalg.norm(U, axis=0)
    return float(np.max(np.abs(r @ np.maximum(X @ U, 0.0))))


def relu_value(r, X, u):
    return abs(float(r @ np.maximum(X @ u, 0.0)))

