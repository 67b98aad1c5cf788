"""Exact values on pattern cones: the certified cone maximum (:func:`cone_value`) and the enumeration
of a pattern set, largest ``‖g_D‖`` first (method ``"enumerate"``)."""

from __future__ import annotations

import time

import numpy as np

from ... import _validation as V
from ..pricing import _cone_projection, _value
from ._rounding import _EPS, _scale


def _cone_max(g: np.ndarray, A: np.ndarray, g_err: float = 0.0) -> tuple[float, float, np.ndarray]:
    """``(upper, value, u)`` for ``max_{u ∈ K, ‖u‖ ≤ 1} gᵀu``, ``K = {Au ≥ 0}``.

    ``value = ‖g + Aᵀμ‖`` with the NNLS multipliers ``μ >= 0``: for any ``μ >= 0`` and
    ``u ∈ K ∩ ball``, ``gᵀu ≤ (g + Aᵀμ)ᵀu ≤ ‖g + Aᵀμ‖`` (weak duality), and at the NNLS optimum it
    equals ``‖Π_K(g)‖``, the maximum. ``upper`` adds the rounding of ``g + Aᵀμ``
    (``(n + 2)·eps·(‖|A|ᵀμ‖ + ‖g‖)``) and the error ``g_err`` of ``g`` itself;
    ``u = Π_K(g)/‖Π_K(g)‖`` (zeros when the projection is at rounding level).
    """
    p, mu = _cone_projection(g, A)
    val = float(np.linalg.norm(p))
    err = (A.shape[0] + 2) * _EPS * (float(np.linalg.norm(np.abs(A).T @ mu)) + float(np.linalg.norm(g)))
    # a projection at rounding level is 0: its direction would be noise
    u = p / val if val > err else np.zeros_like(g)
    return val + err + g_err, val, u


def _check_mask(mask, n: int) -> np.ndarray:
    m = V.tensor_to_numpy(mask, "mask")
    if m.ndim != 1 or m.shape[0] != n:
        raise ValueError(f"`mask` must have shape ({n},) (one entry per row of `X`), got shape {m.shape}.")
    if m.dtype.kind != "b":
        if not np.all((m == 0) | (m == 1)):
            raise ValueError("`mask` must be boolean (or 0/1): the activation pattern diag(1[Xu >= 0]).")
        m = m.astype(bool)
    return m


def cone_value(g, X, mask) -> tuple[float, np.ndarray]:
    """Maximum of ``gᵀu`` over the pattern cone ``K_D`` intersected with the unit ball.

    .. math::

        \\max_{u \\in K_D,\\ \\|u\\|_2 \\le 1} g^T u = \\|\\Pi_{K_D}(g)\\|_2, \\qquad
        K_D = \\{u : (2D - I) X u \\ge 0\\},\\ D = \\mathrm{diag}(\\mathtt{mask}),

    computed from the non-negative least-squares problem ``min_{μ≥0} ‖g + Aᵀμ‖`` with
    ``A = (2D − I)X`` (Moreau decomposition: ``Π_{K_D}(g) = g + Aᵀμ*``). The returned value is
    ``‖g + Aᵀμ*‖``, which bounds the maximum from above for any ``μ ≥ 0`` (weak duality) and
    equals it at the NNLS optimum.

    Parameters
    ----------
    g : array-like of shape (n_features,)
        Linear objective (``g = XᵀDr`` gives ``rᵀ(Xu)₊`` on the cone).
    X : array-like of shape (n_samples, n_features)
    mask : array-like of bool, shape (n_samples,)
        The activation pattern ``D``.

    Returns
    -------
    value : float
    u : ndarray of shape (n_features,)
        The maximizer ``Π_{K_D}(g)/‖Π_{K_D}(g)‖`` (zeros when the value is 0, e.g. an empty cone
        interior or ``g`` in the polar cone).

    References
    ----------
    Pilanci & Ergen (ICML 2020); SPEC §6.
    """
    Xa = V.check_array(X, "X")
    ga = V.as_float_array(g, "g")
    if ga.ndim != 1 or ga.shape[0] != Xa.shape[1]:
        raise ValueError(f"`g` must have shape ({Xa.shape[1]},) (one entry per column of `X`), got shape {ga.shape}.")
    m = _check_mask(mask, Xa.shape[0])
    A = np.where(m[:, None], Xa, -Xa)
    _, value, u = _cone_max(ga, A)
    return value, u



def _enumerate(r: np.ndarray, X: np.ndarray, M: np.ndarray, deadline: float):
    """Cone values over the patterns ``M`` (n, P), largest ``‖g_D‖`` first, pruned by ``‖g_D‖``.

    Returns ``(upper, best, u_best, n_solved, finished)``: ``upper`` bounds the maximum over these
    patterns (a proven bound on ``c(r)`` only when the set is complete), ``best`` is attained at
    ``u_best``. ``‖g_D‖`` bounds both cone values of ``D``; ``g_err`` bounds its rounding.
    """
    n, d = X.shape
    G = X.T @ (M * r[:, None]) if M.shape[1] else np.zeros((d, 0))
    norms = np.linalg.norm(G, axis=0)
    g_err = (n + 2) * _EPS * _scale(r, X)
    order = np.argsort(-norms)
    upper = 0.0
    best, u_best = 0.0, np.zeros(d)
    solved = 0
    for j in order:
        if norms[j] + g_err <= upper:
            return upper, best, u_best, solved, True
        if time.perf_counter() > deadline:
            return max(upper, float(norms[j]) + g_err), best, u_best, solved, False
        A = np.where(M[:, j, None], X, -X)
        for s in (1.0, -1.0):
            up, val, u = _cone_max(s * G[:, j], A, g_err)
            upper = max(upper, up)
            if val > 0:
                v = abs(_value(r, X, u))
                if v > best:
                    best, u_best = v, u
        solved += 1
    return upper, best, u_best, solved, True

