"""Geometry of a central hyperplane arrangement: the cells' interior points (see :mod:`.patterns`).

Exact enumeration works in the row space of ``X`` (rank ``r``), with one hyperplane per distinct
row direction. Each cell of a central arrangement of rank ``r ≥ 2`` is a pointed cone with an extreme
ray, the intersection of ``r − 1`` independent hyperplanes: :func:`cells` visits every such ray and
lists the cells around it (a simple ray has the ``2^{r−1}`` orthants of its hyperplanes; the
hyperplanes through a degenerate ray form an arrangement of rank ``r − 1`` in ``v^⊥``, enumerated
the same way; rank 2 is an angular sweep).
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["cells", "distinct_directions", "row_space", "unique_rows"]

#: |hᵀv| at or below this (unit normals, unit ray) counts as "the hyperplane contains the ray".
_ON = 1e-11
#: ... and above this as clearly off it; values in between make the incidence ambiguous.
_OFF = 1e-8


def unique_rows(B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` of the distinct rows of a boolean matrix (first occurrences, sorted)."""
    packed = np.ascontiguousarray(np.packbits(B, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return first[order], rank[inverse.reshape(-1)]


def row_space(X: np.ndarray) -> np.ndarray:
    """Orthonormal basis ``B`` (d × r) of the row space of ``X`` (SPEC §7 rank rule)."""
    if not np.any(X):
        return np.zeros((X.shape[1], 0))
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    tol = max(X.shape) * np.finfo(float).eps * s[0]
    return Vt[: int(np.sum(s > tol))].T


def distinct_directions(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit normals of the distinct hyperplanes of the nonzero rows of ``Z``.

    Returns ``(H, which, sign)``: ``H`` (m × r) unit rows, and for every row of ``Z`` the index of its
    hyperplane (−1 for a zero row) and the sign with ``z_i ∝ sign · H[which]``.
    """
    n = Z.shape[0]
    norms = np.linalg.norm(Z, axis=1)
    which = np.full(n, -1)
    sign = np.zeros(n)
    reps: list[np.ndarray] = []
    nonzero = np.flatnonzero(norms > 0)
    U = Z[nonzero] / norms[nonzero, None]
    H = np.zeros((0, Z.shape[1]))
    for k, i in enumerate(nonzero):
        if H.shape[0]:
            c = H @ U[k]
            j = int(np.argmax(np.abs(c)))
            if abs(c[j]) >= 1.0 - 1e-13:
                which[i], sign[i] = j, np.sign(c[j])
                continue
        reps.append(U[k])
        H = np.vstack([H, U[k]])
        which[i], sign[i] = H.shape[0] - 1, 1.0
    return H, which, sign


def _orthonormal_complement(v: np.ndarray) -> np.ndarray:
    """Basis (r × (r−1)) of ``v^⊥``."""
    Q, _ = np.linalg.qr(np.column_stack([v, np.eye(v.size)]))
    return Q[:, 1:v.size]


def _rays(H: np.ndarray, state: dict):
    """Every ray (1-D face) of the arrangement: unit ``v`` with ``r − 1`` independent ``hᵀv = 0``.

    Returns ``(R, on)``: rays (k × r) and their incidence (k × m, ``|hᵀv| <= _ON``), one per face.
    """
    m, r = H.shape
    combos = np.array(list(itertools.combinations(range(m), r - 1)), dtype=np.intp).reshape(-1, r - 1)
    A = H[combos]  # (S, r-1, r)
    if r == 3:
        v = np.cross(A[:, 0], A[:, 1])
        good = np.linalg.norm(v, axis=1) > 1e-10
    else:
        _, sv, Vt = np.linalg.svd(A)
        v, good = Vt[:, -1], sv[:, -1] > 1e-10 * np.maximum(sv[:, 0], 1.0)
    v = v[good]
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    rays, keys = [], []
    for lo in range(0, v.shape[0], max(1, 2_000_000 // max(m, 1))):
        chunk = np.vstack([v[lo:lo + 2_000_000 // max(m, 1)], -v[lo:lo + 2_000_000 // max(m, 1)]])
        vals = chunk @ H.T
        mag = np.abs(vals)
        if np.any((mag > _ON) & (mag < _OFF)):
            state["ambiguous"] = True
        key = np.hstack([mag <= _ON, vals > 0])
        first, _ = unique_rows(key)
        rays.append(chunk[first])
        keys.append(key[first])
    R, K = np.vstack(rays), np.vstack(keys)
    first, _ = unique_rows(K)
    return R[first], K[first, :m]


def _lift(H, ray, on, W, state) -> np.ndarray:
    """Points ``ray + εw`` (``w`` rows of ``W``, in ``v^⊥``) that keep every off-ray sign of ``ray``."""
    vals = H @ ray
    off = ~on
    norms = np.linalg.norm(W, axis=1)
    eps = 0.5 * (np.abs(vals[off]).min() if np.any(off) else 1.0) / np.maximum(norms, np.finfo(float).tiny)
    P = ray[None, :] + eps[:, None] * W
    intended = np.where(on[None, :], np.sign(W @ H.T), np.sign(vals)[None, :])
    if np.any(np.sign(P @ H.T) != intended) or np.any(intended == 0):
        state["ambiguous"] = True  # a lifted point left its intended cell: do not claim completeness
    return P


def cells(H: np.ndarray, state: dict) -> np.ndarray:
    """Interior points (k × r) of every cell of the central arrangement with unit normals ``H``.

    ``H`` has rank ``r`` (its rows span ``R^r``) and no two parallel rows. ``state["ambiguous"]`` is
    set when an incidence decision fell between the tolerances ``_ON`` and ``_OFF``.
    """
    m, r = H.shape
    if r == 1:
        return np.array([[1.0], [-1.0]])
    if r == 2:  # angular sweep: the lines' directions cut the circle into 2m arcs
        ang = np.mod(np.arctan2(H[:, 1], H[:, 0]) + np.pi / 2, np.pi)
        cuts = np.sort(np.concatenate([ang, ang + np.pi]))
        nxt = np.append(cuts[1:], cuts[0] + 2 * np.pi)
        mids = (cuts + nxt) / 2
        return np.column_stack([np.cos(mids), np.sin(mids)])
    R, on = _rays(H, state)
    simple = on.sum(axis=1) == r - 1
    out = []
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=r - 1)))  # (2^(r-1), r-1)
    on_s, Rs = on[simple], R[simple]
    idx = np.nonzero(on_s)[1].reshape(-1, r - 1)
    step = max(1, 4_000_000 // (signs.shape[0] * max(m, 1)))
    for lo in range(0, Rs.shape[0], step):  # simple rays: the orthants of r-1 independent hyperplanes
        Hz = H[idx[lo:lo + step]]  # (c, r-1, r); pinv maps into the row space = v^⊥
        W = np.einsum("cij,sj->csi", np.linalg.pinv(Hz), signs)  # (c, 2^(r-1), r)
        vals = Rs[lo:lo + step] @ H.T  # (c, m)
        offmin = np.where(on_s[lo:lo + step], np.inf, np.abs(vals)).min(axis=1)
        offmin = np.where(np.isfinite(offmin), offmin, 1.0)
        eps = 0.5 * offmin[:, None] / np.maximum(np.linalg.norm(W, axis=2), np.finfo(float).tiny)
        P = Rs[lo:lo + step, None, :] + eps[:, :, None] * W
        # off-ray signs are kept since |ε wᵀh| <= offmin/2; on-ray ones are ±ε (H_Z w = ±1) plus |vᵀh| <= _ON
        if np.any(eps <= 4 * _ON) or np.any(offmin < _OFF):
            state["ambiguous"] = True
        out.append(P.reshape(-1, r))
    for ray, inc in zip(R[~simple], on[~simple]):  # degenerate rays: recurse in v^⊥
        Q = _orthonormal_complement(ray)
        Hz = H[inc] @ Q
        Hz /= np.linalg.norm(Hz, axis=1, keepdims=True)
        out.append(_lift(H, ray, inc, cells(Hz, state) @ Q.T, state))
    G = np.vstack(out)
    G /= np.linalg.norm(G, axis=1, keepdims=True)
    # one point per cell: average the unit points found for the same sign vector (stays interior)
    _, inverse = unique_rows(G @ H.T > 0)
    centers = np.column_stack([np.bincount(inverse, weights=G[:, c]) for c in range(r)])
    return centers / np.linalg.norm(centers, axis=1, keepdims=True)
