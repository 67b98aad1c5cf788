"""Structure metrics of networks: numerical rank, norms, alignment, neural collapse, spline kinks.

All metrics are computed in float64 NumPy, whatever the dtype of their input: NumPy arrays and
torch tensors (any device, any float dtype) are converted with ``.detach().cpu().numpy()`` and
cast to float64 *before* any statistic is formed.

Every metric is a pure function. Neural collapse, whose data can arrive in batches, also has an
accumulator (:class:`NeuralCollapseAccumulator`, ``update`` / ``compute`` in the manner of
torchmetrics) built from the same private pieces, so streaming and one-shot results agree to
rounding.

Weight conventions follow :mod:`deepdual.networks`: a layer matrix ``W_l`` has shape
``(fan_in, fan_out)`` and the network computes ``A_l = g(A_{l-1} W_l)``. A *network* is any object
with a method ``layer_matrices()`` returning that list (:class:`deepdual.MLP`,
:class:`deepdual.ParallelNet`); a plain list of 2-D matrices works too.

Modules
-------
layers
    :func:`numerical_rank`, :func:`layer_ranks`, :func:`layer_norms`, :func:`alignment`.
collapse
    :func:`neural_collapse`, :class:`NeuralCollapseAccumulator`, :func:`simplex_etf`; both NC entry
    points are built on the per-class statistics of the private ``_class_stats``.
splines
    :func:`linear_spline`, :func:`sup_distance_to_spline`, :func:`kinks`, :func:`kinks_at_data`,
    :func:`two_layer_breakpoints`.
"""

from __future__ import annotations

from .collapse import NeuralCollapse, NeuralCollapseAccumulator, neural_collapse, simplex_etf
from .layers import RANK_RTOL as RANK_RTOL  # the default tolerance, importable from here as before
from .layers import LayerNorm, alignment, layer_norms, layer_ranks, numerical_rank
from .splines import (
    KinksAtData,
    LinearSpline,
    kinks,
    kinks_at_data,
    linear_spline,
    sup_distance_to_spline,
    two_layer_breakpoints,
)

__all__ = [
    "numerical_rank",
    "layer_ranks",
    "LayerNorm",
    "layer_norms",
    "alignment",
    "NeuralCollapse",
    "neural_collapse",
    "NeuralCollapseAccumulator",
    "simplex_etf",
    "LinearSpline",
    "linear_spline",
    "sup_distance_to_spline",
    "kinks",
    "KinksAtData",
    "kinks_at_data",
    "two_layer_breakpoints",
]
