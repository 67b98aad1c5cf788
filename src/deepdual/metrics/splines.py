"""Functions of one variable: the linear spline interpolant, the kinks of a piecewise-linear function.

The paper's 1-D claims (Theorem 4.2, Corollaries 4.1 and 4.2) are statements about where an
optimal ReLU network bends: at data points, and as β → 0 it becomes the linear spline through the
data. These metrics measure exactly that, for any callable mapping shape (m,) to (m,).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import _validation as V

__all__ = [
    "LinearSpline",
    "linear_spline",
    "sup_distance_to_spline",
    "kinks",
    "KinksAtData",
    "kinks_at_data",
    "two_layer_breakpoints",
]

_EPS = np.finfo(np.float64).eps


def _evaluate(f: Callable, t: np.ndarray, name: str = "f") -> np.ndarray:
    """``f(t)`` as a float64 vector of shape (m,); ``(m, 1)`` outputs are flattened."""
    if not callable(f):
        raise TypeError(f"`{name}` must be a callable mapping an array of shape (m,) to (m,).")
    v = V.as_float_array(f(t), f"{name}(t)")
    if v.shape == (t.size, 1):
        v = v.reshape(-1)
    if v.shape != (t.size,):
        raise ValueError(f"`{name}` mapped an array of shape ({t.size},) to shape {v.shape}; expected ({t.size},).")
    return v


@dataclass(frozen=True, eq=False)
class LinearSpline:
    """Continuous piecewise-linear interpolant through ``(knots[i], values[i])``.

    Inside ``[knots[0], knots[-1]]`` it is the linear interpolant (``np.interp``); outside it
    continues linearly with the slope of the first / last segment.

    Attributes
    ----------
    knots : ndarray of shape (n_knots,)
        Strictly increasing.
    values : ndarray of shape (n_knots,)
    """

    knots: np.ndarray
    values: np.ndarray

    def __call__(self, t):
        """Evaluate at ``t`` (scalar or array of any shape; returns the same shape)."""
        ta = V.as_float_array(t, "t")
        flat = np.atleast_1d(ta).reshape(-1)
        x, y = self.knots, self.values
        out = np.interp(flat, x, y)
        s0 = (y[1] - y[0]) / (x[1] - x[0])
        s1 = (y[-1] - y[-2]) / (x[-1] - x[-2])
        left, right = flat < x[0], flat > x[-1]
        out[left] = y[0] + s0 * (flat[left] - x[0])
        out[right] = y[-1] + s1 * (flat[right] - x[-1])
        return out.reshape(ta.shape) if ta.ndim else float(out[0])


def _spline_data(x, y) -> tuple[np.ndarray, np.ndarray]:
    xa = V.check_array(x, "x", ndim=1, min_rows=2)
    ya = V.check_array(y, "y", ndim=1)
    if ya.shape != xa.shape:
        raise ValueError(f"`x` has {xa.size} points but `y` has {ya.size}; pass one value per point.")
    order = np.argsort(xa, kind="stable")
    xs, ys = xa[order], ya[order]
    if np.any(np.diff(xs) == 0):
        raise ValueError(
            "`x` has repeated values, so the spline interpolant is undefined; average `y` over "
            "repeated points first."
        )
    return xs, ys


def linear_spline(x, y) -> LinearSpline:
    """The linear spline interpolant of 1-D data.

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Distinct points (any order; sorted here), at least 2.
    y : array-like of shape (n_points,)

    Returns
    -------
    LinearSpline
        Callable; the interpolant on ``[min x, max x]``, extended linearly outside with the slopes
        of the end segments.

    References
    ----------
    Ergen & Pilanci (2021), Corollaries 4.1 and 4.2: as β → 0 the optimal ReLU network on 1-D
    data is this interpolant, for every depth.
    """
    xs, ys = _spline_data(x, y)
    return LinearSpline(xs, ys)


def sup_distance_to_spline(f: Callable, x, y, *, grid: int = 2001) -> float:
    """Largest distance between ``f`` and the linear spline interpolant of ``(x, y)`` on the data range.

    Parameters
    ----------
    f : callable
        Maps an array of shape (m,) to an array of shape (m,) (``(m, 1)`` is accepted). For a torch
        network use e.g. ``lambda t: net(torch.from_numpy(t)[:, None]).detach().numpy()``.
    x, y : array-like of shape (n_points,)
        The data, as in :func:`linear_spline`.
    grid : int, default 2001
        Number of equispaced evaluation points on ``[min x, max x]``; the data points are added.

    Returns
    -------
    float
        .. math:: \\max_{t \\in T} |f(t) - s(t)|,

        over the grid ``T`` (including the data points). Exact when ``f`` is piecewise linear with
        its kinks in ``T`` (the maximum of a piecewise-linear difference is at a kink or an end).

    References
    ----------
    Ergen & Pilanci (2021), Corollary 4.2 and Figure 1.
    """
    xs, ys = _spline_data(x, y)
    grid = V.check_positive_int(grid, "grid", minimum=2)
    t = np.union1d(np.linspace(xs[0], xs[-1], grid), xs)
    spline = LinearSpline(xs, ys)
    return float(np.max(np.abs(_evaluate(f, t) - spline(t))))


def kinks(f: Callable, lo: float, hi: float, *, grid: int = 4001, tol: float = 1e-7) -> np.ndarray:
    """Locations of the kinks (breakpoints) of a continuous piecewise-linear function on ``[lo, hi]``.

    Parameters
    ----------
    f : callable
        Maps an array of shape (m,) to shape (m,); evaluate networks in float64 (float32 rounding
        looks like kinks everywhere unless ``tol`` is raised to about 1e-4).
    lo, hi : float
        The interval, ``lo < hi``.
    grid : int, default 4001
        Number of equispaced points ``t_0 = lo, ..., t_{grid-1} = hi`` used for detection.
    tol : float, default 1e-7
        Relative detection threshold: a slope change larger than ``2·tol·S/(hi − lo)`` is always
        detected, with :math:`S = \\max(\\max_i |f(t_i)|,\\ \\max(|lo|, |hi|, hi-lo)\\cdot\\max|f'|)`
        the scale of the function (float64 rounding noise is also ignored).

    Returns
    -------
    ndarray of shape (n_kinks,)
        Sorted kink locations in ``[lo, hi]``.

    Notes
    -----
    Detection: the second differences

    .. math:: \\Delta^2_i = f(t_{i-1}) - 2 f(t_i) + f(t_{i+1})

    vanish where ``f`` is linear on ``[t_{i-1}, t_{i+1}]``; a kink of slope change ``δ`` at ``c``
    gives :math:`\\Delta^2_i = \\delta\\,(h - |t_i - c|)_+` (``h`` the spacing), so it shows at one
    or two consecutive centers. Location: for each run of centers ``a..b`` above the threshold the
    kink is in :math:`(t_{a-1}, t_{b+1})`; the line through :math:`t_{a-2}, t_{a-1}` and the line
    through :math:`t_{b+1}, t_{b+2}` lie on the two adjacent linear pieces, and their intersection
    is the kink — exact for piecewise-linear functions up to floating point. Near ``lo`` / ``hi``
    a one-sided probe at distance ``1e-6·h`` replaces the missing grid point (error at most that).
    Kinks closer together than about three grid spacings are not separated: raise ``grid``.
    Results are clipped to their bracket and duplicates merged.

    References
    ----------
    Ergen & Pilanci (2021), Corollaries 4.1 and 4.2: kinks of the optimal 1-D network lie at data
    points.
    """
    lo, hi = V.check_scalar(lo, "lo"), V.check_scalar(hi, "hi")
    if not lo < hi:
        raise ValueError(f"need `lo` < `hi`, got lo == {lo}, hi == {hi}.")
    grid = V.check_positive_int(grid, "grid", minimum=7)
    tol = V.check_scalar(tol, "tol", min_val=0)
    t = np.linspace(lo, hi, grid)
    v = _evaluate(f, t)
    h = (hi - lo) / (grid - 1)
    slopes = np.diff(v) / np.diff(t)
    S = max(float(np.max(np.abs(v))), max(abs(lo), abs(hi), hi - lo) * float(np.max(np.abs(slopes))))
    if S == 0.0:
        return np.empty(0)
    d2 = v[:-2] - 2.0 * v[1:-1] + v[2:]  # d2[i - 1] belongs to center t_i
    thresh = max(tol * S / (grid - 1), 64 * _EPS * S)
    centers = np.flatnonzero(np.abs(d2) > thresh) + 1
    if centers.size == 0:
        return np.empty(0)
    breaks = np.flatnonzero(np.diff(centers) > 1)
    starts = np.concatenate([[centers[0]], centers[breaks + 1]])
    ends = np.concatenate([centers[breaks], [centers[-1]]])
    probe = 1e-6 * h
    found = []
    for a, b in zip(starts, ends, strict=True):
        if a >= 2:
            tl, vl, sl = t[a - 1], v[a - 1], slopes[a - 2]
        else:
            tp = np.array([t[0], t[0] + probe])
            vp = _evaluate(f, tp)
            tl, vl, sl = tp[0], vp[0], (vp[1] - vp[0]) / probe
        if b <= grid - 3:
            tr, vr, sr = t[b + 1], v[b + 1], slopes[b + 1]
        else:
            tp = np.array([t[-1] - probe, t[-1]])
            vp = _evaluate(f, tp)
            tr, vr, sr = tp[1], vp[1], (vp[1] - vp[0]) / probe
        ds = sl - sr
        if abs(ds) * h <= thresh:  # no real change of slope across the run: noise
            continue
        c = tl + (vr - vl + sr * (tl - tr)) / ds
        found.append(min(max(c, t[a - 1]), t[b + 1]))
    if not found:
        return np.empty(0)
    out = np.sort(np.asarray(found))
    keep = np.concatenate([[True], np.diff(out) > 1e-9 * (hi - lo)])
    return out[keep]


@dataclass(frozen=True, eq=False)
class KinksAtData:
    """How far kinks are from the nearest data point.

    Attributes
    ----------
    distances : ndarray of shape (n_kinks,)
        Distance of each kink to its nearest data point.
    max_distance : float
        ``max(distances)``, 0.0 when there is no kink.
    at_data : bool
        ``max_distance <= tol``. The record is truthy exactly when ``at_data`` is.
    """

    distances: np.ndarray
    max_distance: float
    at_data: bool

    def __bool__(self) -> bool:
        return bool(self.at_data)


def kinks_at_data(kink_locations, x, *, tol: float = 1e-6) -> KinksAtData:
    """Check that every kink sits at a data point (Corollaries 4.1 and 4.2 of the paper).

    Parameters
    ----------
    kink_locations : array-like of shape (n_kinks,)
        E.g. the output of :func:`kinks` or :func:`two_layer_breakpoints`.
    x : array-like of shape (n_points,)
        Data points.
    tol : float, default 1e-6
        Distance below which a kink counts as at a data point.

    Returns
    -------
    KinksAtData
        ``distances``, ``max_distance`` and ``at_data`` (``max_distance <= tol``).
    """
    k = V.check_array(kink_locations, "kink_locations", ndim=1, min_rows=0)
    xs = np.sort(V.check_array(x, "x", ndim=1, min_rows=1))
    tol = V.check_scalar(tol, "tol", min_val=0)
    if k.size == 0:
        return KinksAtData(np.empty(0), 0.0, True)
    pos = np.clip(np.searchsorted(xs, k), 1, max(xs.size - 1, 1))
    lo_n = xs[np.maximum(pos - 1, 0)]
    hi_n = xs[np.minimum(pos, xs.size - 1)]
    d = np.minimum(np.abs(k - lo_n), np.abs(k - hi_n))
    m = float(d.max())
    return KinksAtData(d, m, m <= tol)


def two_layer_breakpoints(weights, biases) -> np.ndarray:
    """Breakpoints ``−b_i/w_i`` of a two-layer ReLU network on one-dimensional input.

    The network is :math:`f(x) = \\sum_i v_i^T\\,(w_i x + b_i)_+ \\,(+\\ c)`; unit ``i`` bends at
    :math:`x = -b_i/w_i` when it is active, i.e. :math:`w_i \\neq 0` and :math:`v_i \\neq 0`.

    Parameters
    ----------
    weights : sequence ``[W_1, W_2]``
        ``W_1`` of shape (1, m) (or (m,)): input weights; ``W_2`` of shape (m, K) (or (m,)): output
        weights — the layout of :attr:`deepdual.MLP.weights`.
    biases : array-like of shape (m,), or a sequence whose first entry is it
        Hidden biases ``b`` (``MLP.biases`` works: its first entry is used).

    Returns
    -------
    ndarray of shape (n_breakpoints,)
        Sorted distinct breakpoints of the active units. Where the slope changes of several units
        cancel at one point the network has no kink there, but the point is still listed; use
        :func:`kinks` for the kinks of the function itself.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.2 and Corollary 4.1.
    """
    if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__") or len(weights) != 2:
        raise ValueError("`weights` must be a sequence [W_1, W_2] of the two layers' weights.")
    W1 = V.as_float_array(weights[0], "weights[0]")
    W2 = V.as_float_array(weights[1], "weights[1]")
    if W1.ndim == 2 and W1.shape[0] != 1:
        raise ValueError(f"`weights[0]` has shape {W1.shape}; one-dimensional input needs shape (1, m).")
    w = W1.reshape(-1)
    m = w.size
    if W2.ndim not in (1, 2) or W2.shape[0] != m:
        raise ValueError(f"`weights[1]` has shape {W2.shape}; expected ({m}, K) or ({m},).")
    v = W2.reshape(m, -1)
    b_in = biases
    if not hasattr(biases, "shape") and hasattr(biases, "__getitem__") and len(biases) > 0:
        first = biases[0]  # a list of per-layer biases (e.g. MLP.biases): take the hidden one
        if np.ndim(V.as_float_array(first, "biases[0]")) >= 1:
            b_in = first
    b = V.as_float_array(b_in, "biases").reshape(-1)
    if b.size != m:
        raise ValueError(f"`biases` has {b.size} hidden entries; the first layer has {m} units.")
    active = (w != 0) & np.any(v != 0, axis=1)
    return np.unique(-b[active] / w[active])
