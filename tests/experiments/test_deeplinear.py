"""The β band of a spurious minimum (Figure 2b's explanation), checked against a brute-force scan of the
scalar problem ½(σ − s)² + (βL/2)s^{2/L} (SPEC §1)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdual.experiments._deeplinear import spurious_band, stationary_threshold
from deepdual.scalar import amplitude_threshold


def _local_minima(sigma: float, beta: float, L: int) -> tuple[bool, bool]:
    """(a local minimum with s > 0 exists, the global minimum is s = 0), from a fine grid of s."""
    s = np.linspace(0.0, 1.5 * sigma, 200_001)
    h = 0.5 * (sigma - s) ** 2 + 0.5 * beta * L * s ** (2.0 / L)
    interior = np.flatnonzero((h[1:-1] < h[:-2]) & (h[1:-1] < h[2:])) + 1
    return bool(interior.size), bool(h[0] <= h.min())


@pytest.mark.parametrize("L", [3, 4, 6])
@pytest.mark.parametrize("sigma", [0.3, 2.6, 40.0])
def test_spurious_band_ends_and_inside(L, sigma):
    lo, hi = spurious_band(sigma, L)
    assert 0 < lo < hi
    assert amplitude_threshold(beta=lo, depth=L) == pytest.approx(sigma, rel=1e-12)  # jump τ_L(β_lo) = σ
    assert stationary_threshold(hi, L) == pytest.approx(sigma, rel=1e-12)  # stationary threshold at β_hi = σ
    for beta, spurious, global_zero in ((np.sqrt(lo * hi), True, True),  # inside: s > 0 local, 0 global
                                        (0.5 * lo, True, False),  # below: the minimum s > 0 is the global one
                                        (2.0 * hi, False, True)):  # above: s = 0 only
        local, zero = _local_minima(sigma, beta, L)
        assert (local, zero) == (spurious, global_zero), (beta, lo, hi)


def test_spurious_band_is_empty_for_two_layers():
    assert spurious_band(1.7, 2) == (1.7, 1.7)
