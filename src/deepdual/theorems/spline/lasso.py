"""``spline_lasso``: the exact, certified 1-D ReLU Lasso (Theorem 4.2, Corollary 4.1)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ... import _validation as V
from ..._compat import keyword_only
from ..._records import Record
from ._active_set import _solve_merged
from ._atoms import (
    _atom_values,
    _atoms,
    _check_interpolable,
    _dot,
    _evaluate,
    _merge,
    _min_norm_dual,
    _unmerge_dual,
)


# ----------------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class SplineLassoResult(Record):
    """Certified solution of the 1-D ReLU Lasso (see :func:`spline_lasso`).

    Attributes
    ----------
    knots : ndarray of shape (p,)
        The distinct data points, sorted (``p <= n``).
    right : ndarray of shape (p,)
        Coefficients of the right atoms ``(x − knots_i)₊``.
    left : ndarray of shape (p,)
        Coefficients of the left atoms ``(knots_i − x)₊``.
    intercept : float
        The free constant ``c``.
    objective : float
        Objective ``½‖Φz + c − y‖² + β‖z‖₁`` of the returned ``(z, c)`` on the original points (for
        ``beta = 0``: ``‖z‖₁`` of the minimum-norm interpolant).
    lower_bound : float
        Dual objective of the dual-feasible ``dual`` (a certified lower bound on the optimum).
    gap : float
        ``objective − lower_bound``, at most ``tol · max(ν², objective)`` (``ν = max|y − ȳ|``) unless a warning
        was issued.
    dual : ndarray of shape (n,)
        The dual-feasible ``λ`` on the original points, in input order.
    iterations : int
        Interior-point iterations plus polishing solves.
    beta : float
    """

    knots: np.ndarray
    right: np.ndarray
    left: np.ndarray
    intercept: float
    objective: float
    lower_bound: float
    gap: float
    dual: np.ndarray = field(repr=False)
    iterations: int
    beta: float

    @property
    def l1_norm(self) -> float:
        """``‖z‖₁`` (the network penalty ``Σ(w² + v²)`` of the balanced network is twice this)."""
        return float(np.abs(self.right).sum() + np.abs(self.left).sum())

    @property
    def support(self) -> int:
        """Number of nonzero atoms (= neurons of the network built from it)."""
        return int(np.count_nonzero(self.right) + np.count_nonzero(self.left))

    def predict(self, x_new) -> np.ndarray:
        """``Φ(x_new) z + c`` of shape (m,) for points of shape (m,) or (m, 1)."""
        xa = V.as_float_array(x_new, "x_new")
        if xa.ndim == 2 and xa.shape[1] == 1:
            xa = xa[:, 0]
        if xa.ndim != 1:
            raise ValueError(f"`x_new` must have shape (m,) or (m, 1), got shape {xa.shape}.")
        R = np.maximum(xa[:, None] - self.knots[None, :], 0.0)
        Lf = np.maximum(self.knots[None, :] - xa[:, None], 0.0)
        return R @ self.right + Lf @ self.left + self.intercept



def _lasso(x: np.ndarray, y: np.ndarray, beta: float, tol: float, max_iter: int,
           x_name: str = "x", y_name: str = "y") -> SplineLassoResult:
    """Solve in normalized units (SPEC §7): ``x ↦ (x − x̄)/a``, ``y ↦ (y − ȳ)/ν``, ``β ↦ β/(aν)``.

    Kinks ``(x − x_i)₊`` are invariant to the shift and scale by ``a``, the free intercept absorbs ``ȳ``,
    so the optimum is ``ν²`` times the normalized one; the knots stay the original data points.
    """
    if beta > 0.0 and x.size > 1:
        xc, yc = float(np.mean(x)), float(np.mean(y))
        a, nu = float(np.max(np.abs(x - xc))), float(np.max(np.abs(y - yc)))
        if a > 0 and nu > 0 and np.isfinite(beta / (a * nu)):
            xn = (x - xc) / a
            if np.unique(xn).size == np.unique(x).size:
                f = nu / a
                if beta / (a * nu) < _INTERPOLATION_BETA:
                    return _interpolating(xn, (y - yc) / nu, beta, a, nu, xc, yc, x, x_name, y_name)
                res = _lasso_unit(xn, (y - yc) / nu, beta / (a * nu), tol, max_iter, x_name, y_name)
                return SplineLassoResult(np.unique(x), res.right * f, res.left * f, nu * res.intercept + yc,
                                         nu * nu * res.objective, nu * nu * res.lower_bound, nu * nu * res.gap,
                                         nu * res.dual, res.iterations, float(beta))
    return _lasso_unit(x, y, beta, tol, max_iter, x_name, y_name)


#: Normalized β below which float64 cannot represent the optimum's departure from interpolation:
#: β' = β/(aν) this small (e.g. β = 1e-300 with x of scale 1e149) is solved as the interpolant.
_INTERPOLATION_BETA = 1e-280


def _interpolating(xn: np.ndarray, yn: np.ndarray, beta: float, a: float, nu: float, xc: float, yc: float,
                   x: np.ndarray, x_name: str, y_name: str) -> SplineLassoResult:
    """The linear-spline interpolant with its certificate when ``t = β/(aν)`` is below round-off.

    In normalized units the interpolant ``z₀`` (``‖z₀‖₁ = R``) has objective ``t·R``; the minimum-norm dual
    ``λ₀`` (``max|Φᵀλ₀| <= 1``, ``λ₀ᵀy = L₀``) scaled by ``t`` is dual feasible for the Lasso, so
    ``t·L₀ − ½t²‖λ₀‖²`` is a lower bound. Back in the original units both are multiplied by ``ν²``; each is
    computed as ``(β·ν/a)·R`` so that it underflows to 0 rather than overflows, and the lower bound is at
    least 0 (the objective is nonnegative).
    """
    res = _lasso_unit(xn, yn, 0.0, 1.0, 1, x_name, y_name)
    t = beta / (a * nu)
    scale = beta * (nu / a) if nu <= a else (beta / a) * nu  # ν²·t without overflow
    objective = scale * res.objective
    lower = max(0.0, scale * res.lower_bound - 0.5 * scale * t * float(res.dual @ res.dual))
    f = nu / a
    return SplineLassoResult(np.unique(x), res.right * f, res.left * f, nu * res.intercept + yc, objective,
                             min(lower, objective), max(objective - lower, 0.0), nu * t * res.dual, 0, float(beta))


def _lasso_unit(x: np.ndarray, y: np.ndarray, beta: float, tol: float, max_iter: int,
                x_name: str = "x", y_name: str = "y") -> SplineLassoResult:
    data = _merge(x, y)
    p = data.xk.shape[0]
    if beta == 0.0:
        _check_interpolable(data, y, x_name, y_name)
        right, left, c = _atoms(data.xk, data.yk)
        value = float(np.abs(right).sum() + np.abs(left).sum())
        lam = _min_norm_dual(data.xk, data.yk)
        S, L = _atom_values(data.xk, lam)
        amax = max(1.0, float(np.max(np.abs(S))), float(np.max(np.abs(L))))
        lam = lam / amax
        lower = float(_dot(lam, data.yk))
        g = data.group
        return SplineLassoResult(data.xk.copy(), right, left, c, value, lower, value - lower,
                                 lam[g] / data.w[g], 0, 0.0)
    gap, xs, a, a_dual, iters = _solve_merged(data, beta, tol, max_iter)
    r_s, l_s, c = _atoms(xs, a)
    pos = np.searchsorted(data.xk, xs)
    right = np.zeros(p)
    left = np.zeros(p)
    right[pos] = r_s
    left[pos] = l_s
    l1 = float(np.abs(r_s).sum() + np.abs(l_s).sum())
    primal, dual, gap, lam = _evaluate(data, xs, a, beta, a_dual=a_dual, l1=l1)
    if gap > tol * max(1.0, abs(primal)):
        warnings.warn(
            f"spline_lasso reached max_iter = {max_iter} with relative duality gap "
            f"{gap / max(1.0, abs(primal)):.3g} > tol = {tol:g}; the returned solution is certified only "
            "to that gap. Increase max_iter or tol.", RuntimeWarning, stacklevel=3)
    return SplineLassoResult(data.xk.copy(), right, left, c, primal, dual, gap,
                             _unmerge_dual(data, y, lam), int(iters), float(beta))


@keyword_only("beta")
def spline_lasso(x, y, *, beta: float, tol: float = 1e-10, max_iter: int = 200) -> SplineLassoResult:
    """Exact, certified solution of the 1-D ReLU Lasso (two-layer ReLU network with biases).

    .. math::

        \\min_{z, c}\\ \\tfrac12\\|\\Phi z + c\\,1 - y\\|_2^2 + \\beta\\|z\\|_1 ,\\qquad
        \\Phi = [(x - x_i)_+,\\ (x_i - x)_+]_{i=1}^n .

    **Algorithm.** Repeated ``x`` are merged (mean targets, multiplicity weights). The dual is written
    in the variables ``g_i = Σ_k λ_k (x_k − x_i)₊`` (the right-atom correlations); then ``λ`` is the
    second difference of ``g``, the dual objective is a pentadiagonal quadratic, and the ``2n`` atom
    constraints are boxes ``|g_i| <= β`` and ``|g_i − g_1| <= β``. A Mehrotra predictor–corrector
    interior-point method solves it with O(n) work per iteration (banded Cholesky + one Schur
    complement for the ``g_1`` column), ~15–40 iterations whatever the conditioning — the approach of
    ℓ1 trend filtering (Kim, Koh, Boyd & Gorinevsky, 2009). From the iterate the active atoms (kink
    locations and signs, and whether an affine atom is used) are read off, and the **exact** optimum
    on that support is computed by a tridiagonal least-squares solve in the knot values. The result is
    accepted only when its duplicate-aware duality gap — primal value of the returned ``(z, c)``
    against the dual objective of its scaled, centered residual — is at most ``tol · max(1, value)``;
    otherwise the interior-point method continues. Active-set or homotopy methods can need O(n)
    pivots; first-order methods stall on the O(n⁴) conditioning of the dual Hessian.

    ``beta = 0`` is the minimum-norm interpolation ``min ‖z‖₁ s.t. Φz + c = y``, solved exactly by the
    linear spline interpolant (Corollary 4.1) with ``‖z‖₁ = R(y)``; its LP dual certificate is built
    from the kink signs.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, 1)
    y : array-like of shape (n,) or (n, 1)
    beta : float
        Regularization ``β >= 0``.
    tol : float, default 1e-10
        Required duality gap, relative to ``max(1, value)``.
    max_iter : int, default 200
        Interior-point iterations before giving up with a ``RuntimeWarning`` (the returned result then
        carries its true, larger gap).

    Returns
    -------
    SplineLassoResult

    Raises
    ------
    ValueError
        Bad shapes, NaN, ``beta < 0``, or repeated ``x`` with different ``y`` when ``beta = 0``.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.2 and Corollary 4.1.
    """
    xa, ya = V.check_univariate(x, y)
    beta = V.check_beta(beta)
    tol = float(tol)
    if not tol > 0:
        raise ValueError(f"`tol` == {tol}, must be > 0.")
    max_iter = V.check_positive_int(max_iter, "max_iter")
    return _lasso(xa, ya, beta, tol, max_iter)
