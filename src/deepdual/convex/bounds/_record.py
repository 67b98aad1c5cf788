"""The result of every bound, :class:`DirectionBound`, and when it counts as exact."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Relative tolerance under which the best attained value counts as equal to the upper bound.
EXACT_RTOL = 1e-9


@dataclass(frozen=True)
class DirectionBound:
    """A proven upper bound on ``c(r) = max_{‖u‖≤1} |rᵀ(Xu)₊|`` and the best direction found.

    Attributes
    ----------
    upper : float
        Proven upper bound on ``c(r)`` (``math.inf`` when none was obtained). Safe to use in a
        dual certificate: ``λ = r·min(1, β/upper)`` is dual feasible.
    estimate : float
        ``|rᵀ(X·direction)₊|``, the best value attained by a direction found: a lower bound on
        ``c(r)``, an *estimate* — never use it as a bound.
    direction : ndarray of shape (n_features,)
        Unit vector attaining ``estimate`` (zeros when ``estimate`` is 0).
    method : str
        Which bound produced ``upper`` (human-readable, with the other methods tried).
    exact : bool
        ``upper`` equals ``c(r)`` (attained by ``direction``, up to the floating-point inflation
        described in :mod:`deepdual.convex.bounds`).
    seconds : float
        Wall time spent.
    components : tuple of (str, float)
        Every proven upper bound computed on the way, by method; ``upper`` is their minimum.
    """

    upper: float
    estimate: float
    direction: np.ndarray = field(repr=False)
    method: str
    exact: bool
    seconds: float
    components: tuple = ()

    @property
    def ratio(self) -> float:
        """``upper / estimate`` (``inf`` when the estimate is 0 and the bound is not)."""
        if self.estimate > 0:
            return self.upper / self.estimate
        return 1.0 if self.upper == 0 else math.inf
