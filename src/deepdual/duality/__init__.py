"""Dual problems and weak-duality bounds: two-layer linear (Theorem 2.4) and ReLU (Theorems 4.3, 4.4).

Bounds live here, below the closed forms and the certificates that call them.
"""

from .linear import (
                     NuclearResult,
                     feasible_dual,
                     feasible_scale,
                     linear_dual_objective,
                     min_norm_map,
                     min_norm_penalty,
                     min_norm_singular_values,
                     nuclear_norm_regression,
                     project,
                     residual_lower_bound,
)
from .relu import nonneg_direction_bound, relu_dual_bound

__all__ = ["NuclearResult", "feasible_dual", "feasible_scale", "linear_dual_objective", "min_norm_map",
           "min_norm_penalty", "min_norm_singular_values", "nuclear_norm_regression", "project",
           "residual_lower_bound", "nonneg_direction_bound", "relu_dual_bound"]
