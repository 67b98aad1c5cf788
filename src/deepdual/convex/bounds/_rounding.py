"""The floating-point safeguards every bound shares: the inflation of a computed bound, the a-priori
scale ``Σ|rᵢ|‖xᵢ‖`` and exact power-of-two rescaling (see "Floating point" in
:mod:`deepdual.convex.bounds`)."""

from __future__ import annotations

import math

import numpy as np

_EPS = float(np.finfo(np.float64).eps)


def _kappa(n: int, d: int) -> float:
    return 16.0 * (n + d + 10) * _EPS


def _inflate(value: float, scale: float, n: int, d: int) -> float:
    """A computed bound, inflated to dominate its rounding errors ("Floating point" in the package docstring)."""
    if not math.isfinite(value):
        return value
    k = _kappa(n, d)
    return float(value + k * (abs(value) + scale))


def _scale(r: np.ndarray, X: np.ndarray) -> float:
    """``Σ|rᵢ|‖xᵢ‖``: bounds ``|rᵀ(Xu)₊|`` for every unit ``u`` and every partial sum of it."""
    return float(np.abs(r) @ np.linalg.norm(X, axis=1))


def _pow2(x: float) -> float:
    """The power of two nearest above ``x > 0`` (exact rescaling)."""
    return float(2.0 ** math.ceil(math.log2(x))) if x > 0 else 1.0

