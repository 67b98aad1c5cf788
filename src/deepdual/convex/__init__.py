"""Two-layer ReLU networks on any data: the convex program of the paper's dual (SPEC §6).

``convex_relu`` is the entry point; the pieces are the activation patterns (:mod:`.patterns`, the
arrangement geometry in :mod:`._arrangement`), the solver on a pattern set (:mod:`.solver`: an
interior-point identification, :mod:`._ipm`, finished exactly by an active-set Newton method,
:mod:`._active_set`, on the normalized blocks of :mod:`._blocks`), the network of a solution
(:mod:`.network`), pricing (:mod:`.pricing`) and proven bounds on the dual constraint (:mod:`.bounds`).
"""

from .network import network_from_cones
from .patterns import (
                       PatternSet,
                       arrangement_bound,
                       enumerate_patterns,
                       merge_patterns,
                       network_patterns,
                       sample_patterns,
)
from .program import convex_relu
from .solver import ConeSolution, solve_cones

__all__ = ["convex_relu", "PatternSet", "arrangement_bound", "enumerate_patterns", "sample_patterns",
           "network_patterns", "merge_patterns", "ConeSolution", "solve_cones", "network_from_cones"]
