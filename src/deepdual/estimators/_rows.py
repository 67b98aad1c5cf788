"""The remedy for rows the whitening of Theorem 4.3 cannot take.

Theorem 4.3 needs orthonormal rows, reached by whitening, which needs linearly independent rows
(so ``n_samples <= n_features``). Ordinary data break that in two ways:

* **Centred rows** (``StandardScaler``): the rows sum to zero, so ``1ᵀX = 0`` and the rank drops by one.
  Appending a constant feature restores it exactly: ``1`` is orthogonal to the columns of ``X``, so
  ``rank [X, 1] = rank X + 1``. In general the constant raises the rank iff ``1 ∉ range(X)``.
* **Dependent rows** (duplicates, constant pixels, ``n_samples > n_features``): no feature map makes
  them orthonormal. A maximal linearly independent subset is kept, chosen greedily (pivoted
  Gram-Schmidt: each step keeps the row farthest from the span of those kept), taking the classes in
  turn so that each class keeps rows while it has independent ones; the other rows are dropped.

Both are deterministic functions of the training data.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DependentRowsWarning", "ROW_RTOL", "independent_rows"]

#: A row is dependent on the rows kept before it when its distance to their span is at most this
#: times the largest row norm (rows that close to dependent would make whitening amplify rounding
#: by more than ``1/ROW_RTOL``).
ROW_RTOL = 1e-8


class DependentRowsWarning(UserWarning):
    """Some training rows were linearly dependent on others and were left out of the fit."""


def independent_rows(X: np.ndarray, codes: np.ndarray, rtol: float = ROW_RTOL) -> np.ndarray:
    """Sorted indices of a maximal set of linearly independent rows of ``X``, the classes taken in turn.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated float64 data.
    codes : ndarray of int of shape (n_samples,)
        Class index of every row (one class for regression-like use).
    rtol : float
        A row whose distance to the span of the rows kept so far is at most ``rtol · max_i ‖x_i‖`` is
        dependent.

    Returns
    -------
    ndarray of int
        At most ``min(n_samples, n_features)`` indices; empty when ``X`` is zero.
    """
    n, d = X.shape
    R = np.array(X, dtype=np.float64, copy=True)
    norms2 = np.einsum("ij,ij->i", R, R)
    top = float(np.sqrt(norms2.max())) if n else 0.0
    tol2 = (rtol * top) ** 2
    if top == 0.0:
        return np.zeros(0, dtype=np.intp)
    members = [np.flatnonzero(codes == k) for k in np.unique(codes)]
    kept: list[int] = []
    active = [m for m in members if m.size]
    while active and len(kept) < min(n, d):
        still = []
        for idx in active:
            if len(kept) >= min(n, d):
                break
            res = norms2[idx]
            j = int(np.argmax(res))
            if res[j] <= tol2:
                continue  # every row of this class lies in the span of the rows kept: the class is done
            i = int(idx[j])
            q = R[i] / np.sqrt(norms2[i])
            R -= np.outer(R @ q, q)  # modified Gram-Schmidt: project every residual off the new direction
            norms2 = np.einsum("ij,ij->i", R, R)
            kept.append(i)
            still.append(idx)
        active = still
    return np.sort(np.asarray(kept, dtype=np.intp))
