"""Certificates for two-layer ReLU networks on any data: the dual of the convex program (SPEC §6–7).

For a residual ``R = Y − f(X)`` of any two-layer ReLU network, ``Λ = t·R`` is dual feasible when

.. math::

    t\\,\\bar c \\le \\beta, \\qquad \\bar c \\ \\ge\\ c(R) = \\max_{\\|u\\|_2 \\le 1} \\|R^T (Xu)_+\\|_2 ,

and then ``D(Λ) = ⟨Λ, Y⟩ − ½‖Λ‖² <= P*`` (weak duality). ``c̄`` is a *proven* bound from
:mod:`deepdual.convex.bounds`, the smallest found within the time budget: exact on data of rank 2 (arc
sweep), by branch and bound then, if that does not close, by enumerating the cells on rank 3–4, by
enumeration when there are few patterns; otherwise the Lagrangian and MILP bounds, and the closed
forms — among them ``σ_max(X)·max(‖r₊‖, ‖r₋‖)``, the bound used before. When the bound is exact and
the network optimal (``c(R) = β``) the gap closes. On high-rank data (scalar output) two thirds of the
budget go to a better dual point than the scaled residual: ``λ`` and the Lagrangian multipliers
optimized together (:func:`deepdual.convex.bounds.joint_dual_point`), kept when its bound is larger.

Biases change the dual constraint:

* no biases: as above, on ``X``;
* hidden biases regularized with the weights (``penalize_bias=True``, the convex program's model
  with a column of ones) and a free output bias: ``1ᵀΛ = 0`` (the residual is centred) and the
  constraint is on ``[X, 1]``;
* unregularized biases (a PyTorch ``Sequential``, :class:`~deepdual.MLP` with ``bias=True``): ``1ᵀΛ = 0``
  and ``max_{‖u‖≤1, b∈R} ‖Λᵀ(Xu + b1)₊‖ <= β``. For fixed ``u`` the map ``b ↦ Λᵀ(Xu + b1)₊`` is piecewise
  linear, zero for ``b <= −max|xᵢᵀu|`` and constant for ``b >= ρ = max‖xᵢ‖`` (``1ᵀΛ = 0``), so its
  largest norm is at a kink ``b = −x_kᵀu``: the constraint is ``max_k c(Λ; X − 1x_kᵀ)`` (one bound per
  distinct row, the largest candidates first) and also ``<= √2·c(Λ; [X, ρ1])`` (``‖u‖ <= 1``,
  ``|b| <= ρ``).

Floating point: a centred residual sums to ``s`` (exactly, ``math.fsum``) rather than 0; the real
``Λ₀ = Λ − (s/n)1`` has ``1ᵀΛ₀ = 0``, its constraint exceeds ``Λ``'s by at most ``|s|·H/n`` with ``H``
a bound on ``1ᵀh`` for every feature ``h``, and its dual value is at least ``D(Λ) − |s||1ᵀY|/n``; both
are accounted for. The shifted matrices are formed in floating point; their rounding is added
(``2·eps·Σ‖Λᵢ‖(‖xᵢ‖ + ρ)``).

References
----------
Pilanci, M. and Ergen, T. (2020). Neural networks are convex regularizers. ICML 2020.
Ergen, T. and Pilanci, M. (2021). ICML 2021, eq. (4) with L = 2 (the dual constraint). SPEC §6–7.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .._numerics import EPS
from ..convex import bounds as B
from ..convex.patterns import arrangement_bound, distinct_hyperplanes, enumerate_patterns
from ..networks import forward_numpy, objective
from ..solution import Certificate

__all__ = ["ReLUCertificate", "certify_two_layer", "DEFAULT_TIME_BUDGET", "ENUMERATE_UP_TO"]

#: Seconds spent on the bound of ``c(R)`` by default (``certify(..., time_budget=)``).
DEFAULT_TIME_BUDGET = 1.0
#: Enumerate the activation patterns (an exact bound) when there are at most this many.
ENUMERATE_UP_TO = 2000
#: Rank <= 4, scalar output: enumerate (after branch and bound did not close) up to this many patterns.
ENUMERATE_LOW_RANK_UP_TO = 50_000
#: Unregularized biases: the kinks are tried when (distinct rows) × n × d is at most this (the cheap bounds
#: of every kink cost that much).
KINKS_UP_TO = 5e8
#: Seconds left after the bound at the residual below which the joint optimization is not started.
JOINT_MIN_SECONDS = 0.5

_BIASES = {"none": "no biases", "regularized": "hidden biases regularized with the weights, free output bias",
           "unregularized": "unregularized biases"}


@dataclass(frozen=True)
class ReLUCertificate(Certificate):
    """A :class:`~deepdual.Certificate` of a two-layer ReLU network by the convex program's dual (SPEC §6).

    Attributes
    ----------
    bound_method : str
        Which proven bound on the dual constraint ``c(R)`` was used (and the others computed).
    bound_seconds : float
        Wall time spent on that bound.
    c_upper : float
        The proven bound ``c̄ >= c(R)`` (``R`` the residual, centred when there is a free output bias).
    c_estimate : float
        The largest ``‖Rᵀ(Xu)₊‖`` attained by a direction found: a lower bound on ``c(R)``, an *estimate*.
    c_exact : bool
        ``c_upper`` is attained (the bound is exact up to rounding).
    time_budget : float
        Seconds allowed for the bound.
    biases : {"none", "regularized", "unregularized"}
        The model whose optimum is bounded (see :mod:`deepdual.certificates.two_layer`).
    """

    bound_method: str = ""
    bound_seconds: float = 0.0
    c_upper: float = math.inf
    c_estimate: float = 0.0
    c_exact: bool = False
    time_budget: float = 0.0
    biases: str = "none"

    def to_dict(self) -> dict:
        """JSON-serializable summary (no dual variable)."""
        return {**super().to_dict(), "bound_method": self.bound_method, "bound_seconds": self.bound_seconds,
                "c_upper": self.c_upper, "c_estimate": self.c_estimate, "c_exact": self.c_exact,
                "time_budget": self.time_budget, "biases": self.biases}


def _bound(Lam: np.ndarray, X: np.ndarray, patterns, budget: float, enough: float, seed: int):
    """Proven bound on ``max_{‖u‖≤1} ‖Λᵀ(Xu)₊‖`` (scalar or vector) on validated arrays."""
    return B.residual_bound(Lam, X, patterns=patterns, time_budget=budget, enough=enough, seed=seed)


def _patterns(X: np.ndarray, K: int):
    """A complete pattern set when the arrangement is small and enumeration helps (vector outputs, or
    rank above what branch and bound handles), else ``None``."""
    m, rank = distinct_hyperplanes(X)
    if rank == 0 or arrangement_bound(max(m, 1), rank) > ENUMERATE_UP_TO:
        return None
    if K == 1 and rank <= B.BNB_MAX_DIM:
        return None  # branch and bound is exact and faster there
    return enumerate_patterns(X, max_patterns=ENUMERATE_UP_TO)


def _unregularized_bound(Lam: np.ndarray, X: np.ndarray, budget: float, enough: float, seed: int):
    """``max_{‖u‖≤1, b} ‖Λᵀ(Xu + b1)₊‖`` for ``1ᵀΛ = 0``, bounded by the kinks ``b = −x_kᵀu`` and by
    ``√2·c(Λ; [X, ρ1])`` (module docstring). Returns ``(upper, estimate, text, exact)``."""
    t0 = time.perf_counter()
    deadline = t0 + budget
    n, d = X.shape
    xn = np.linalg.norm(X, axis=1)
    rho = float(xn.max()) * (1.0 + 4.0 * (d + 2) * EPS) if n else 0.0
    lam_n = np.linalg.norm(Lam, axis=1)
    round_err = 2.0 * EPS * float(lam_n @ (xn + rho)) * (d + 2)
    lifted = _bound(Lam, np.hstack([X, np.full((n, 1), rho)]), None, 0.5 * budget, enough / math.sqrt(2), seed)
    upper_lift = lifted.upper * math.sqrt(2.0) * (1.0 + 4 * EPS)
    best, u_text, exact = upper_lift, f"√2·c(Λ; [X, ρ1]) with {lifted.method.split(' [')[0]}", False
    estimate = lifted.estimate
    rows = np.unique(X, axis=0)
    if best <= enough or rows.shape[0] * n * d > KINKS_UP_TO:
        return best, estimate, u_text, exact
    # the kinks, one per distinct row, the largest cheap bound first
    cheap = np.empty(rows.shape[0])
    sx = float(np.linalg.norm(X, 2))
    if Lam.shape[1] == 1:
        pos, neg = np.maximum(Lam[:, 0], 0.0), np.maximum(-Lam[:, 0], 0.0)
        spec = max(float(np.linalg.norm(pos)), float(np.linalg.norm(neg)))
    else:
        from ..duality.relu import nonneg_direction_bound

        pos = neg = lam_n
        spec = nonneg_direction_bound(Lam)
    step = max(1, int(2e6 // (n * d)))
    for lo in range(0, rows.shape[0], step):
        dist = np.linalg.norm(X[None, :, :] - rows[lo:lo + step, None, :], axis=2)  # (k, n)
        tri = np.maximum(dist @ pos, dist @ neg)
        cheap[lo:lo + step] = np.minimum(tri, (sx + math.sqrt(n) * np.linalg.norm(rows[lo:lo + step], axis=1)) * spec)
    cheap = cheap * (1.0 + 8.0 * (n + d) * EPS) + round_err
    order = np.argsort(-cheap)
    shift_max, done, refined = 0.0, True, 0
    for k in order:
        if cheap[k] <= max(shift_max, enough):
            shift_max = max(shift_max, float(cheap[k]))
            break
        left = deadline - time.perf_counter()
        if left <= 0:
            shift_max, done = max(shift_max, float(cheap[k])), False
            break
        res = _bound(Lam, X - rows[k], None, max(left / 4, min(left, 0.05)), max(shift_max, enough), seed)
        refined += 1
        shift_max = max(shift_max, res.upper + round_err)
        estimate = max(estimate, res.estimate)
        if shift_max >= best:  # the kinks cannot beat the lifted bound any more
            done = False
            break
    if shift_max < best:
        best, exact = shift_max, done and shift_max <= estimate * (1 + B.EXACT_RTOL) + round_err
        u_text = (f"max over the kinks b = −x_kᵀu of c(Λ; X − 1x_kᵀ) ({refined} of {rows.shape[0]} bounded by the "
                  "convex-program bounds, the rest by closed forms)")
    return best, estimate, u_text, exact


def certify_two_layer(network, X: np.ndarray, Y: np.ndarray, beta: float, *,
                      time_budget: float = DEFAULT_TIME_BUDGET, seed: int = 0) -> ReLUCertificate:
    """Certificate of any two-layer ReLU network (validated inputs; see :func:`deepdual.certify`).

    Parameters
    ----------
    network : ParallelNet or MLP
        Depth 2, ReLU, no batch normalization; biases regularized (``penalize_bias``) or not.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    beta : float
        ``β > 0``.
    time_budget : float
        Seconds for the bound on the dual constraint (the call returns within it plus set-up).
    seed : int
        Seed of the direction search (only the estimate depends on it).

    Returns
    -------
    ReLUCertificate
    """
    t0 = time.perf_counter()
    value = objective(network, X, Y, beta=beta)
    F = forward_numpy(network, X)
    R = Y - F
    n, d = X.shape
    biases = "none" if not network.bias else ("regularized" if network.penalize_bias else "unregularized")
    center = biases != "none"
    H = 0.0
    if center:  # free output bias: 1ᵀΛ = 0 (module docstring, floating point)
        R = R - R.mean(axis=0, keepdims=True)
        xn = np.linalg.norm(X, axis=1)
        # 1ᵀh <= Σ‖xᵢ‖ + n (features on [X, 1]) or Σ‖xᵢ‖ + n·max‖x‖ (|b| <= ρ, kinks)
        extra = n if biases == "regularized" else n * float(xn.max())
        H = (float(np.sum(xn)) + extra) * (1.0 + 8 * (d + 2) * EPS)
    deadline = t0 + time_budget
    enough = max(beta - B.centring_error(R, center) * H / n, 0.0)
    joint = False
    if biases == "unregularized":
        c_up, c_est, text, exact = _unregularized_bound(R, X, max(deadline - time.perf_counter(), 1e-3), enough, seed)
    else:
        Xp = np.hstack([X, np.ones((n, 1))]) if biases == "regularized" else X
        pats = _patterns(Xp, R.shape[1])
        # the Lagrangian route (high rank, no complete patterns): a third of the time for the residual,
        # the rest for the dual point and the multipliers optimized together
        joint = R.shape[1] == 1 and pats is None and distinct_hyperplanes(Xp)[1] > B.BNB_MAX_DIM
        left = max(deadline - time.perf_counter(), 1e-3)
        low_rank = R.shape[1] == 1 and pats is None and not joint
        res = _bound(R, Xp, pats, left / 3 if joint else 0.4 * left if low_rank else left, enough, seed)
        if low_rank and not res.exact and res.upper > enough:
            # rank <= 4: branch and bound struggles where many neurons attain c(r) (an optimal network's
            # residual); an enumeration of the cells, when they are few enough, settles it
            m, rank = distinct_hyperplanes(Xp)
            cells = arrangement_bound(max(m, 1), rank)
            # (listing the cells takes ~1e-4 s each, measured: only when that fits in the time left)
            if cells <= ENUMERATE_LOW_RANK_UP_TO and 1e-4 * cells < deadline - time.perf_counter():
                more = _bound(R, Xp, enumerate_patterns(Xp, max_patterns=ENUMERATE_LOW_RANK_UP_TO),
                              max(deadline - time.perf_counter(), 1e-3), enough, seed)
                if more.upper < res.upper:
                    res = more
        c_up, c_est, text, exact = res.upper, res.estimate, res.method, res.exact
        joint = joint and not exact and deadline - time.perf_counter() >= JOINT_MIN_SECONDS
    lam = R
    t, lower = B.dual_lower_bound(R, Y, beta, c_up, center=center, H=H)
    if joint:
        found = B.joint_dual_point(R[:, 0], Xp, Y[:, 0], beta, deadline, center=center)
        if found is not None:
            lam_j, c_j = found
            lam_j = lam_j[:, None]
            t_j, lower_j = B.dual_lower_bound(lam_j, Y, beta, c_j, center=center, H=H)
            if lower_j > lower:
                lam, t, lower, c_up, exact = lam_j, t_j, lower_j, c_j, False
                text = ("joint dual point: λ and the Lagrangian multipliers optimized together "
                        f"(c(λ) <= {c_j:.6g}) [residual: {text}]")
    seconds = time.perf_counter() - t0
    short = text.split(" [")[0]
    tag = " (exact)" if exact and "exact" not in short else ""
    method = (f"two-layer ReLU dual (SPEC §6, {_BIASES[biases]}): c <= {c_up:.6g} proven by {short}{tag} "
              f"in {seconds:.2g} s")
    return ReLUCertificate(objective=value, lower_bound=lower, gap=value - lower, method=method, exact=False,
                           dual=t * lam, bound_method=text, bound_seconds=seconds, c_upper=float(c_up),
                           c_estimate=float(c_est), c_exact=bool(exact), time_budget=float(time_budget),
                           biases=biases)
