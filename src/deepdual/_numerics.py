"""Floating-point rules every closed form and certificate shares (SPEC §7).

* **One rank rule**: a singular value is zero when it is at most ``max(n, d) · eps · σ₁``
  (:func:`rank_cutoff`), in closed forms and certificates alike.
* **No cancellation**: dual objectives are written through the residual (:func:`dual_objective`), and
  inner products whose terms are of size ``‖Y‖²`` are summed exactly (:func:`exact_dot`).
* **Self-check**: a lower bound above an attained objective, beyond float rounding, is a bug
  (:func:`checked_lower_bound` raises :class:`CertificateError`, never returns it).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["EPS", "CertificateError", "rank_cutoff", "significant", "exact_dot", "dual_objective",
           "rounding_slack", "checked_lower_bound"]

EPS = float(np.finfo(np.float64).eps)


class CertificateError(RuntimeError):
    """Internal error: a computed lower bound exceeds an attained objective beyond rounding.

    This is a bug in deepdual, never a property of the input; it is raised instead of returning a
    false certificate.
    """


def rank_cutoff(s: np.ndarray, shape: tuple[int, int]) -> float:
    """Largest singular value treated as zero: ``max(shape) · eps · σ₁`` (``0`` when ``σ₁ = 0``)."""
    top = float(np.max(s)) if np.size(s) else 0.0
    return max(shape) * EPS * top


def significant(s: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Boolean mask of the singular values ``s`` (of a matrix of ``shape``) above :func:`rank_cutoff`."""
    s = np.asarray(s, dtype=np.float64)
    return s > rank_cutoff(s, shape) if s.size else np.zeros(0, bool)


def exact_dot(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``⟨a, b⟩`` summed exactly (``math.fsum`` of the rounded products) and ``Σ|a_i b_i|``.

    The result's error is at most ``eps · Σ|a_i b_i|`` (one rounding per product) plus the final
    rounding, whatever the cancellation between the terms.
    """
    p = np.multiply(np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel())
    return math.fsum(p.tolist()), float(np.sum(np.abs(p)))


def dual_objective(R: np.ndarray, Y: np.ndarray, theta: float) -> float:
    """A float-safe lower bound on the dual objective ``D(θR) = θ⟨R, Y⟩ − ½θ²‖R‖²``.

    ``D(Λ) = −½‖Λ − Y‖² + ½‖Y‖²`` is never formed as a difference of ``‖Y‖²``-sized numbers
    (SPEC §7): with ``Λ = θR`` it equals ``θ⟨R, Y⟩ − ½θ²‖R‖²``; ``⟨R, Y⟩`` is summed exactly and the
    rounding of both terms (``2·eps`` of their absolute sums) is subtracted, so the value returned is
    at most the exact ``D(θR)`` for the floating-point ``R`` given.
    """
    ry, ry_abs = exact_dot(R, Y)
    rr, _ = exact_dot(R, R)
    value = theta * ry - 0.5 * theta * theta * rr
    return float(value - 4.0 * EPS * (theta * ry_abs + theta * theta * rr))


def rounding_slack(objective: float, residual_norm: float, output_error: float) -> float:
    """How far a float64 evaluation of ``P(θ)`` can fall below the exact value.

    ``½‖R‖²`` computed from a residual whose entries carry an absolute error of Frobenius norm
    ``output_error`` (forward-pass rounding) errs by at most ``‖R‖·δ + ½δ²``; the penalty and the sum
    carry a relative ``O(eps)`` error.
    """
    d = float(output_error)
    return float(residual_norm * d + 0.5 * d * d + 64.0 * EPS * abs(objective))


def checked_lower_bound(lower: float, attained: float, slack: float, *, what: str) -> float:
    """Return ``min(max(lower, 0), attained)``, or raise :class:`CertificateError` when ``lower`` exceeds
    an attained objective by more than the rounding ``slack``.

    A lower bound above the objective of a real network is false (SPEC §7, self-check); within
    rounding it is clipped to the attained value, which is then itself a valid bound. P(θ) is a sum of
    a loss and a penalty, both nonnegative, so 0 is always a valid bound and a negative ``lower`` (a weak
    dual point, e.g. when β is below round-off of ‖Y‖) is raised to it.
    """
    if not (math.isfinite(lower) and math.isfinite(attained)):
        raise CertificateError(f"internal error in {what}: non-finite lower bound {lower!r} or objective "
                               f"{attained!r}; please report this input.")
    if lower > attained + slack:
        raise CertificateError(
            f"internal error in {what}: lower bound {lower:.17g} exceeds the attained objective "
            f"{attained:.17g} by {lower - attained:.3g} (rounding allows {slack:.3g}); refusing to return a "
            "false certificate — please report this input."
        )
    return float(min(max(lower, 0.0), attained))
