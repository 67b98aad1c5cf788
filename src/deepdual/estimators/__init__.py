"""scikit-learn estimators: certified two-layer and deep networks behind ``fit`` / ``predict``.

Closed forms (training-free, globally optimal; each a thin wrapper over :func:`deepdual.closed_form`,
the whole :class:`~deepdual.Solution` in ``solution_`` and the PyTorch module in ``network_``):

* :class:`DeepReLUClassifier` - deep ReLU parallel network on whitened rows with one-hot labels
  (Theorem 4.3). Centred or dependent rows get a remedy (a constant feature; a maximal independent
  subset of the rows, with a :class:`DependentRowsWarning`).
* :class:`DeepLinearRegressor` - deep linear network (Sections 2-3, Theorems 2.3, 2.4, 3.3, 3.6).
* :class:`SplineReLURegressor` - two-layer ReLU network with biases on 1-D inputs (Theorem 4.2,
  Corollary 4.1): the optimal model is a linear spline with kinks at data points.

The two-layer convex program on any data (SPEC §6; wrappers over :func:`deepdual.convex_relu`, with
``objective_``, ``gap_`` and ``certificate_``):

* :class:`ConvexReLURegressor` - two-layer ReLU network for regression, any ``n`` and ``d``.
* :class:`ConvexReLUClassifier` - the same on one-hot targets, one program per class.

They follow scikit-learn's conventions (parameters stored in ``__init__``, learned attributes end
in ``_``, ``fit`` returns ``self``) and so work with ``clone``, ``Pipeline`` and ``GridSearchCV``.
"""

from __future__ import annotations

from ._convex import ConvexReLUClassifier, ConvexReLURegressor
from ._linear import DeepLinearRegressor
from ._relu import DeepReLUClassifier
from ._rows import ROW_RTOL, DependentRowsWarning
from ._spline import SplineReLURegressor

__all__ = ["DeepReLUClassifier", "DeepLinearRegressor", "SplineReLURegressor", "ConvexReLURegressor",
           "ConvexReLUClassifier", "DependentRowsWarning", "ROW_RTOL"]
