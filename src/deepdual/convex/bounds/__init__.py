"""Proven upper bounds on the dual constraint ``c(r) = max_{‖u‖≤1} |rᵀ(Xu)₊|`` (SPEC §6, §7).

For a residual ``r = y − f(X)`` of any two-layer ReLU network,

.. math::

    \\lambda = r\\,\\min\\big(1, \\beta / \\bar c\\big), \\qquad \\bar c \\ge c(r)
    = \\max_{\\|u\\|_2 \\le 1} |r^T (Xu)_+| ,

is dual feasible, and ``D(λ) = λᵀy − ½‖λ‖²`` is a lower bound on the optimum of the two-layer
problem — but only if ``c̄ ≥ c(r)`` is *proven*. This package computes such ``c̄`` ("upper") and,
separately, the best value attained by a direction it found ("estimate", a lower bound on
``c(r)``, never used as a bound).

Why this is hard, and what each method does
-------------------------------------------
On the cone ``K_D = {u : (2D − I)Xu ≥ 0}`` of an activation pattern ``D`` the map
``u ↦ rᵀ(Xu)₊ = g_Dᵀu`` (``g_D = XᵀDr``) is linear, so

.. math::

    c(r) = \\max_D \\max\\big(\\|\\Pi_{K_D}(g_D)\\|, \\|\\Pi_{K_D}(-g_D)\\|\\big),

exact over *all* patterns (the cells of the hyperplane arrangement of the rows of ``X``; about
``2 Σ_{k<d} C(n−1, k)`` of them). Computing ``c(r)`` is NP-hard when ``d`` grows: with rows
``±x_i`` and ``r = 1`` it is ``max_{‖u‖≤1} ‖Xu‖₁ = max_{s ∈ {±1}ⁿ} ‖Xᵀs‖``, which is MAX-CUT when
``XXᵀ`` is a graph Laplacian. For ``n = 200, d = 10`` (``~10¹⁵`` cells) only relaxations are
affordable, and their quality is limited by cancellation: ``rᵀ(Xu)₊ = h₊(u) − h₋(u)`` is a small
difference of two support functions each ~25 times larger (for a trained network's residual).
Everything works in the row space of ``X`` (``c`` only depends on it; a numerically dropped part
``E`` adds ``‖r‖·‖E‖``), so low-rank data in high dimension is as easy as its rank.

* ``"enumerate"`` — a *complete* :class:`~deepdual.convex.patterns.PatternSet`: exact. Each cone
  value is certified by its NNLS multipliers (``gᵀu ≤ ‖g + Aᵀμ‖`` on ``K_D ∩ ball`` for any
  ``μ ≥ 0``), patterns are visited in decreasing ``‖g_D‖`` (an upper bound on both cone values)
  and the search stops once ``‖g_D‖`` drops below the best cone value. Out of time, the unvisited
  patterns contribute ``‖g_D‖``: still valid.
* ``"bnb"`` — spatial branch and bound over simplicial cones ``cone(v₁..v_d)`` covering the sphere.
  On a cone, ``rᵢ(xᵢᵀVλ)₊ ≤ Σ_k λ_k rᵢ(xᵢᵀv_k)₊`` for ``rᵢ > 0`` (sublinearity) and
  ``rᵢ(t)₊ ≤ θᵢ rᵢ t`` (``θᵢ ∈ [0, 1]``) for ``rᵢ < 0``, so ``f ≤ bᵀλ`` and the node bound is
  ``max_{λ≥0, ‖Vλ‖≤1} bᵀλ = min{‖y‖ : Vᵀy ≥ b}``. Exact in the limit (cones on which every row
  keeps its sign); practical for rank ``≤ 4`` (e.g. 2-D data with a bias column: exact in under a
  second for ``n = 200``). Sibling cones may leave slivers of width ``O(depth·eps)`` uncovered;
  ``|f(u) − f(u')| ≤ Σ|rᵢ|‖xᵢ‖·‖u − u'‖`` makes that part of the rounding inflation below.
* ``"milp"`` — the exact mixed-integer program (HiGHS via :func:`scipy.optimize.milp`):
  maximize ``rᵀh`` with ``h ≥ Xu, h ≥ 0`` and, for ``rᵢ > 0``, ``hᵢ ≤ xᵢᵀu + Mᵢ(1 − zᵢ)``,
  ``hᵢ ≤ Mᵢzᵢ``, ``Mᵢ = ‖xᵢ‖``, over a polyhedral outer approximation of the unit ball (box,
  tangent planes ``±x̂ᵢᵀu ≤ 1`` and cuts at the solutions' directions). Its dual bound is valid; the
  big-M relaxation is weak, so it only closes for small ``n``.
* ``"lagrangian"`` — per-row quadratic bounds: ``rᵢ(t)₊ ≤ αᵢt² + βᵢt + γᵢ`` on ``|t| ≤ ‖xᵢ‖``,
  summed into ``uᵀSu + bᵀu + Σγᵢ`` (``S = Σαᵢxᵢxᵢᵀ``, ``b = Σβᵢxᵢ``) and maximized over the ball by
  the trust-region dual ``σ + ¼bᵀ(σI − S)⁻¹b``. Every ``(α, β)`` gives a valid bound (with the
  smallest valid ``γᵢ`` in closed form); the bound is a convex function of ``(α, β)`` — the dual of
  an SDP relaxation that convexifies each row exactly in ``(t, t², (t)₊)`` — minimized by L-BFGS
  on smoothed versions and re-evaluated exactly.
* ``"spectral"`` — closed forms: ``σ_max(X) max(‖r₊‖, ‖r₋‖)`` (the bound deepdual used before), its
  row-restricted version ``‖r₊‖ σ_max(X_{r>0})``, the even/odd split ``(t)₊ = ½t + ½|t|``
  with ``Σ_{r>0} rᵢ|tᵢ| ≤ min(‖r₊‖‖X₊u‖, (Σrᵢ)^{½}(Σrᵢtᵢ²)^{½})``, and the quadratic majorant
  (the ``"lagrangian"`` starting point: ``|t| ≤ κt² + 1/(4κ)`` on rows ``rᵢ > 0``, ``|t| ≥ t²/‖xᵢ‖``
  on rows ``rᵢ < 0``, one ``κ`` by a 1-D search). Every method reports these too.
* ``"auto"`` — rank 2: the exact arc sweep (:mod:`._planar`). Otherwise the estimate by
  :func:`deepdual.convex.pricing.price`'s search, then: enumeration for a complete pattern set; else
  branch and bound (rank ``≤ 4``), the Lagrangian bound, and the MILP when at most 40 rows have one
  sign; returns the minimum of the valid upper bounds, and stops early once a bound is attained (or,
  with ``enough``, once a bound is low enough for the caller).

Beyond one residual, :func:`joint_dual_point` optimizes the dual point itself together with the
Lagrangian multipliers (the dual of the SDP relaxation of the whole problem), and
:func:`dual_lower_bound` turns a dual point and its proven ``c̄`` into a lower bound.

Measured (``python -m benchmarks.convex_bounds``; residuals of 50-neuron networks trained by Adam
then L-BFGS, ``β = 1``): on random ``n = 200, d = 10`` data the Lagrangian bound is 3.8× the best
direction found (6.3 vs 1.66; the old bound was 45) after about 3 s, and more time does not help
(a first split of the sphere along one hyperplane lowers it by at most 3%); on 500 digits
(``d = 64``, rank 56) 7.4×; on 2-D moons with a bias column branch and bound is exact in under 1 s.


Floating point
--------------
Inputs are rescaled by powers of two (exact) so that ``max|rᵢ| ≤ 1`` and ``max|Xᵢⱼ| ≤ 1``.
Every returned ``upper`` is the computed bound inflated by ``κ·(upper + scale)`` with
``κ = 16(n + d + 10)·eps`` and ``scale = Σ|rᵢ|‖xᵢ‖`` (an a-priori bound on every partial sum),
which dominates the rounding of the sums and products that form it (each a sum of at most
``n + d`` terms bounded by ``scale``). Cone values use their NNLS multipliers as certificates
(with the rounding of ``g + Aᵀμ`` added explicitly); simplicial nodes add a feasibility
correction; the trust-region dual validates ``λ_min(σI − S) > 0`` against the backward error of
the eigensolver and adds the perturbation ``‖ΔS‖ + ‖Δb‖`` caused by forming ``S`` and ``b``.
The MILP bound is the one that rests on a solver's tolerances rather than on a certificate
recomputed here: HiGHS's dual bound, whose LP relaxations are solved to feasibility tolerances
(``1e-7`` primal/dual, ``1e-6`` integrality, on the rescaled data), inflated by ``1e-5·scale``
(ten times the objective change when every ``hᵢ`` moves by ``1e-6·‖xᵢ‖``). ``exact`` means
``upper`` is attained by ``direction`` up to the inflation.

References
----------
Pilanci, M. and Ergen, T. (2020). Neural networks are convex regularizers: exact polynomial-time
convex optimization formulations for two-layer networks. ICML 2020.
Ergen, T. and Pilanci, M. (2021). Revealing the structure of deep neural networks via convex
duality. ICML 2021, eq. (4) with L = 2. SPEC §6 (the certificate) and §7 (numerics).

Modules
-------
``_direction``
    :func:`direction_bound`: input checks, the method choice (``"auto"``), the row space of ``X``.
``_matrix``
    :func:`matrix_direction_bound` for vector outputs; :func:`residual_bound`, either one on validated
    arrays (what the certificates call).
``_enumeration``
    :func:`cone_value` and ``"enumerate"``.
``_branch_and_bound``, ``_mixed_integer``, ``_lagrangian``, ``_closed_forms``
    ``"bnb"``, ``"milp"``, ``"lagrangian"``, ``"spectral"``, one method family each;
    ``_trust_region`` holds the trust-region dual the Lagrangian bound uses.
``_joint``
    :func:`joint_dual_point`: the dual point and the Lagrangian multipliers optimized together (a
    better certificate than any scaled residual; what :func:`deepdual.certify` tries with time left).
``_dual``
    :func:`dual_lower_bound`: the lower bound of a dual point and a proven ``c̄`` (centred or not).
``_planar``
    the exact arc sweep for data of rank 2 (what ``"auto"`` uses there).
``_record``, ``_rounding``
    :class:`DirectionBound` and the floating-point safeguards every method shares.
"""

from __future__ import annotations

from ._direction import BNB_MAX_DIM as BNB_MAX_DIM  # the tuning constants, importable from here as before
from ._direction import METHODS as METHODS
from ._direction import MILP_MAX_BINARIES as MILP_MAX_BINARIES
from ._direction import direction_bound
from ._dual import centring_error, dual_lower_bound
from ._enumeration import cone_value
from ._joint import joint_dual_point
from ._lagrangian import ROW_TAUS as ROW_TAUS
from ._matrix import matrix_direction_bound, residual_bound
from ._mixed_integer import MILP_INFLATION as MILP_INFLATION
from ._record import EXACT_RTOL as EXACT_RTOL
from ._record import DirectionBound

__all__ = ["DirectionBound", "cone_value", "direction_bound", "matrix_direction_bound", "residual_bound",
           "joint_dual_point", "dual_lower_bound", "centring_error"]
