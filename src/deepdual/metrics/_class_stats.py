"""Per-class sufficient statistics of features, and their exact merge across batches.

The private pieces that :func:`~deepdual.metrics.neural_collapse` and
:class:`~deepdual.metrics.NeuralCollapseAccumulator` share: class counts, class means and the
pooled within-class scatter, in float64, merged with the pairwise update of Chan, Golub & LeVeque
(no subtraction of large raw second moments, so no cancellation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True, eq=False)
class _ClassStats:
    """Sufficient statistics: counts (K,), class means (K, p), pooled within-class scatter (p, p)."""

    counts: np.ndarray
    means: np.ndarray
    scatter: np.ndarray


def _batch_stats(H: np.ndarray, idx: np.ndarray, K: int) -> _ClassStats:
    """Statistics of one batch; ``idx`` holds class indices in ``[0, K)``."""
    n = idx.size
    counts = np.bincount(idx, minlength=K).astype(np.float64)
    onehot = sparse.csr_matrix((np.ones(n), (idx, np.arange(n))), shape=(K, n))
    sums = np.asarray(onehot @ H)
    means = np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)
    C = H - means[idx]
    return _ClassStats(counts, means, C.T @ C)


def _merge_stats(a: _ClassStats, b: _ClassStats) -> _ClassStats:
    """Exact merge of two sets of statistics (Chan et al.'s pairwise update, per class)."""
    n = a.counts + b.counts
    frac_b = np.divide(b.counts, n, out=np.zeros_like(n), where=n > 0)
    delta = b.means - a.means
    means = a.means + frac_b[:, None] * delta
    w = a.counts * frac_b  # n_a n_b / (n_a + n_b), 0 when either side is empty
    scatter = a.scatter + b.scatter + (delta * w[:, None]).T @ delta
    return _ClassStats(n, means, scatter)
