"""What every estimator shares: scikit-learn's data validation with one-line messages, numeric
targets, the data-range check and the parameter checks."""

from __future__ import annotations

import re

import numpy as np
from sklearn.utils.validation import validate_data as _sk_validate_data

from .. import _validation as V

__all__ = ["validate_data", "numeric_targets", "check_scale", "check_params", "end_to_end_map", "seed_of"]


def validate_data(estimator, X, y="no_validation", **kwargs):
    """scikit-learn's ``validate_data`` with its error messages folded into one line naming the argument.

    scikit-learn's estimator checks look for its own phrases, so they are kept verbatim.
    """
    try:
        if isinstance(y, str) and y == "no_validation":
            return _sk_validate_data(estimator, X, **kwargs)
        return _sk_validate_data(estimator, X, y, **kwargs)
    except (ValueError, TypeError) as exc:
        text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        if not re.search(r"\b[Xy]\b", text):
            text = f"`X`: {text}"
        raise type(exc)(text) from None


def numeric_targets(y):
    """Regression targets as numbers: numeric strings ("1.5") become floats, as in :func:`deepdual.closed_form`;
    anything else non-numeric is a one-line TypeError naming `y`."""
    if y is None or hasattr(y, "detach"):  # torch tensors are numeric (or refused by the checks that follow)
        return y
    arr = np.asarray(y)  # lists, arrays, pandas objects
    if arr.dtype.kind in "USO":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError("`y` has non-numeric entries; regression needs numeric targets "
                            "(use a classifier for class labels).") from None
    return y


def check_scale(X, Y) -> None:
    """The value range of :data:`deepdual._validation.DATA_RANGE`, named as scikit-learn names the arguments."""
    V.check_data_range(X, "X")
    V.check_data_range(Y, "y")


def check_params(est) -> tuple[int, float]:
    """``(depth, beta)`` of a closed-form estimator (depth 2 when it has none), its bool options checked."""
    depth = V.check_layer_count(V.check_depth(est.depth)) if hasattr(est, "depth") else 2
    beta = V.check_beta(est.beta)
    for name in ("whiten", "fit_intercept"):
        if hasattr(est, name):
            V.check_bool(getattr(est, name), name)
    return depth, beta


def end_to_end_map(network) -> np.ndarray:
    """``W = Σ_j W_{1,j} ⋯ w_{L,j}`` of shape (n_features, n_outputs) of a linear ParallelNet, in float64.

    The product is taken branch by branch from the input side, so it costs ``O(m·d·width)`` memory:
    no ``d × d`` identity is pushed through the network.
    """
    import torch

    with torch.no_grad():
        M = network.weights[0].detach().double()
        for W in network.weights[1:]:
            M = torch.matmul(M, W.detach().double())
        return M.sum(dim=0).cpu().numpy()


def seed_of(random_state) -> int:
    """An integer seed from scikit-learn's ``random_state`` (an int is used as it is)."""
    import numbers

    from sklearn.utils import check_random_state

    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return V.check_seed(int(random_state), "random_state", allow_none=False)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))
