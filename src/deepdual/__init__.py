"""deepdual: globally optimal deep networks from convex duality (Ergen & Pilanci, ICML 2021)."""

from .networks import MLP, ParallelNet, PaperBatchNorm, objective, penalty
from .scalar import amplitude_threshold, optimal_amplitude, ridge_path_solution

__all__ = [
    "MLP",
    "ParallelNet",
    "PaperBatchNorm",
    "objective",
    "penalty",
    "optimal_amplitude",
    "amplitude_threshold",
    "ridge_path_solution",
]

__version__ = "0.1.0"
