"""Two-layer ReLU networks with biases on 1-D data: an exact, certified Lasso solver (Section 4).

With unregularized biases, a neuron ``(w x + b)₊ v`` costs ``(β/2)(w² + v²) >= β|w v|`` and equals
``|w| v (x − t)₊`` or ``|w| v (t − x)₊`` with breakpoint ``t = −b/w``. A breakpoint between two data
points is, *on the data*, a convex combination of the two data-point atoms with the same ℓ1 cost,
breakpoints outside the data range are affine on the data, and ``w = 0`` neurons are constants.
Problem (2) therefore equals the finite Lasso

.. math::

    \\min_{z, c}\\ \\tfrac12\\|\\Phi z + c\\,1 - y\\|_2^2 + \\beta\\|z\\|_1,\\qquad
    \\Phi = [(x - x_i)_+,\\ (x_i - x)_+]_{i=1}^n ,

with dual

.. math::

    \\max_\\lambda\\ \\lambda^T y - \\tfrac12\\|\\lambda\\|^2
    \\quad\\text{s.t.}\\quad 1^T\\lambda = 0,\\ |\\phi_j^T\\lambda| \\le \\beta .

The dual constraint over *all* breakpoints ``t ∈ R`` is piecewise linear in ``t`` with breaks at the
data, so checking the ``2n`` data-point atoms checks every neuron: the scaled residual of any network
is a dual-feasible point and gives a valid lower bound (:func:`certify_spline`).

In terms of the fitted values ``f`` at the sorted distinct points (slopes ``m_i``, kinks
``Δ_i = m_i − m_{i−1}``, ``P``/``N`` the total positive/negative kink), the least ℓ1 cost of a
representation is

.. math::

    R(f) = \\sum_i |\\Delta_i| + \\max(0,\\ -m_1 - P,\\ m_1 - N)

(the two affine atoms ``(x − x_1)₊`` and ``(x_n − x)₊`` pay for the end slopes that the kinks' own
left/right split cannot absorb; the LP dual of ``min ‖z‖₁ s.t. Φz + c = f`` attains the same value).

References
----------
Ergen & Pilanci (2021), Theorem 4.2 and Corollary 4.1.
"""

from .lasso import SplineLassoResult, spline_lasso
from .network import spline_closed_form

__all__ = ["SplineLassoResult", "spline_lasso", "spline_closed_form"]
