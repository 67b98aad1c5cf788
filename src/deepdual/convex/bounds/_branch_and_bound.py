"""Spatial branch and bound over simplicial cones covering the sphere (method ``"bnb"``)."""

from __future__ import annotations

import heapq
import math
import time

import numpy as np

from ..pricing import _nnls, _value
from ._record import EXACT_RTOL
from ._rounding import _EPS, _scale


def _simplex_cones(d: int) -> list[np.ndarray]:
    """``d + 1`` simplicial cones (columns = unit generators) covering ``R^d``: the facets of a
    regular simplex centered at the origin."""
    E = np.eye(d + 1) - 1.0 / (d + 1)
    # orthonormal basis of the hyperplane 1ᵀx = 0 in R^{d+1}
    Q, _ = np.linalg.qr(np.concatenate([np.ones((d + 1, 1)), np.eye(d + 1)[:, :d]], axis=1))
    B = Q[:, 1:d + 1]
    P = B.T @ E  # d x (d+1), columns are the simplex vertices
    P /= np.linalg.norm(P, axis=0)
    return [np.delete(P, k, axis=1) for k in range(d + 1)]


class _Node:
    __slots__ = ("V", "upper")

    def __init__(self, V, upper):
        self.V = V
        self.upper = upper


def _node_bound(r: np.ndarray, X: np.ndarray, V: np.ndarray, scale: float,
                row_tol: np.ndarray, xnorm: np.ndarray) -> tuple[float, float, np.ndarray, bool]:
    """Upper bound of ``|rᵀ(Xu)₊|`` on ``cone(V) ∩ ball``; also a direction, its value and whether
    every row keeps its sign on the cone (then the bound is exact up to rounding)."""
    n, d = X.shape
    T = X @ V  # (n, d)
    on_pos = np.all(T >= -row_tol[:, None], axis=1)
    on_neg = np.all(T <= row_tol[:, None], axis=1)
    stable = bool(np.all(on_pos | on_neg))
    Tp = np.maximum(T, 0.0)
    absT = np.abs(T).sum(axis=1)
    theta_mixed = np.divide(Tp.sum(axis=1), absT, out=np.zeros(n), where=absT > 0)
    theta = np.where(on_pos, 1.0, np.where(on_neg, 0.0, theta_mixed))
    # lower bound on min_{λ in simplex} ‖Vλ‖ (bounds Σλ on the feasible set)
    c = V.sum(axis=1)
    cn = float(np.linalg.norm(c))
    rho = float(np.min((c / cn) @ V)) if cn > 0 else 0.0
    if rho <= 0:
        rho = float(np.linalg.svd(V, compute_uv=False)[-1]) / math.sqrt(d)
    best_up = 0.0
    best_val, best_u = 0.0, np.zeros(d)
    for s in (1.0, -1.0):
        rs = s * r
        b = np.where(rs > 0, rs, 0.0) @ Tp + (np.where(rs < 0, rs, 0.0) * theta) @ T
        if np.all(b <= 0):
            continue
        try:
            gvec = np.linalg.solve(V.T, b)
        except np.linalg.LinAlgError:
            return math.inf, best_val, best_u, False
        lam = _nnls(V, gvec)
        if lam is None:
            return math.inf, best_val, best_u, False
        y = V @ lam
        viol = float(np.max(b - V.T @ y))
        up = float(np.linalg.norm(y)) + (max(viol, 0.0) / rho if rho > 0 else (0.0 if viol <= 0 else math.inf))
        up += 4.0 * (n + d) * _EPS * scale / rho if rho > 0 else 0.0
        # never worse than the triangle bound Σ_{r_i>0} r_i‖x_i‖ (wide cones in high dimension)
        up = min(up, float(np.maximum(rs, 0.0) @ xnorm) * (1 + 4 * (n + d) * _EPS))
        best_up = max(best_up, up)
        yn = float(np.linalg.norm(y))
        if yn > 0:
            u = y / yn
            v = s * _value(r, X, u)
            if v > best_val:
                best_val, best_u = v, u
    return best_up, best_val, best_u, stable


def _bnb(r: np.ndarray, X: np.ndarray, deadline: float, best: float, u_best: np.ndarray):
    """Branch and bound over simplicial cones; returns ``(upper, best, u_best, nodes, finished)``."""
    d = X.shape[1]
    scale = _scale(r, X)
    xnorm = np.linalg.norm(X, axis=1)
    row_tol = 1e-12 * np.maximum(xnorm, np.finfo(float).tiny)
    heap: list[tuple[float, int, _Node]] = []
    closed = 0.0  # largest bound of a node removed from the tree (solved or pruned)
    count = 0

    def push(Vm):
        nonlocal best, u_best, closed, count
        up, val, u, stable = _node_bound(r, X, Vm, scale, row_tol, xnorm)
        count += 1
        if val > best:
            best, u_best = val, u
        if stable or up <= best * (1 + EXACT_RTOL):
            closed = max(closed, up)
            return
        heapq.heappush(heap, (-up, count, _Node(Vm, up)))

    for Vm in _simplex_cones(d):
        push(Vm)
    while heap:
        if time.perf_counter() > deadline:
            break
        _, _, node = heapq.heappop(heap)
        if node.upper <= best * (1 + EXACT_RTOL):
            closed = max(closed, node.upper)
            continue
        Vm = node.V
        Gm = Vm.T @ Vm
        np.fill_diagonal(Gm, np.inf)
        a, b = np.unravel_index(int(np.argmin(Gm)), Gm.shape)
        if Gm[a, b] > 1.0 - 1e-14:  # cone too thin to split: keep its bound
            closed = max(closed, node.upper)
            continue
        ta, tb = X @ Vm[:, a], X @ Vm[:, b]
        cross = ta * tb < 0
        tau = 0.5
        if np.any(cross):
            with np.errstate(divide="ignore", invalid="ignore"):
                t_all = ta / (ta - tb)
            ok = cross & (t_all >= 0.25) & (t_all <= 0.75)
            if np.any(ok):
                weight = np.where(ok, np.abs(r) * np.abs(ta - tb), -1.0)
                tau = float(t_all[int(np.argmax(weight))])
        w = (1.0 - tau) * Vm[:, a] + tau * Vm[:, b]
        w /= np.linalg.norm(w)
        for k in (a, b):
            child = Vm.copy()
            child[:, k] = w
            push(child)
    finished = not heap
    open_max = -heap[0][0] if heap else 0.0
    return max(closed, open_max, best), best, u_best, count, finished

