"""The networks of the paper: the parallel architecture, a standard MLP, and the objective P(θ).

The parallel network of depth ``L`` has ``m`` branches; branch ``j`` computes

.. math::

    A_{0} = X,\\quad A_{l,j} = g(A_{l-1,j} W_{l,j}),\\quad f(X) = \\sum_j A_{L-1,j} w_{L,j},

with ``W_{1,j}`` of shape ``(d, m_1)``, hidden ``W_{l,j}`` of shape ``(m_{l-1}, m_l)``, a single unit
``w_{L-1,j}`` of shape ``(m_{L-2}, 1)`` and an output row ``w_{L,j}`` of shape ``(1, K)``. All branches
of a layer are stored as one tensor of shape ``(m, fan_in, fan_out)`` and multiplied in one batched
matmul. A parallel network is a standard MLP whose weight matrices are block-diagonal:
:meth:`ParallelNet.to_mlp` exports it as one, with identical outputs and penalty.
"""

from ._common import ACTIVATIONS, LOSSES
from .batchnorm import PaperBatchNorm
from .mlp import MLP
from .objective import as_float64 as as_float64
from .objective import check_finite_objective as check_finite_objective
from .objective import data_loss as data_loss
from .objective import forward_error_bound as forward_error_bound
from .objective import forward_numpy as forward_numpy
from .objective import objective, penalty
from .objective import objective_value as objective_value
from .parallel import ParallelNet
from .sequential import as_network as as_network
from .sequential import from_sequential

# Names imported "as themselves" (as_float64, data_loss, forward_numpy, ...) are used across deepdual but are
# not public API: float64 forward passes, their rounding bound, P(θ) without checks.
__all__ = ["ParallelNet", "MLP", "PaperBatchNorm", "objective", "penalty", "from_sequential", "LOSSES",
           "ACTIVATIONS"]
