"""The certified trust-region dual bound dominates the sampled maximum, and not by much."""

from __future__ import annotations

import numpy as np

from deepdual.convex.bounds import _trust_region


def test_trs_certificate_dominates_the_maximum():
    rng = np.random.default_rng(5)
    U = rng.standard_normal((3, 40_000))
    U /= np.linalg.norm(U, axis=0)
    for _ in range(5):
        A = rng.standard_normal((3, 3))
        S, b = A + A.T, rng.standard_normal(3)
        sampled = float(np.max(np.sum(U * (S @ U), axis=0) + b @ U))
        bound = _trust_region._trs_certified(S, b)
        assert sampled <= bound <= sampled + 0.05 * (1 + abs(sampled))
