"""Activation patterns of a two-layer ReLU network: the cells of a hyperplane arrangement (SPEC §6).

An activation pattern of data ``X`` (rows ``x_i``) is the diagonal ``D = diag(1[Xg ≥ 0])`` for some
``g ∈ R^d``. The convex program of a two-layer ReLU network has one pair of variables per pattern,
constrained to the pattern's cone

.. math::

    K_D = \\{u : (2D - I) X u \\ge 0\\},\\qquad D X u = (Xu)_+ \\text{ on } K_D .

The patterns of the open cells of the arrangement ``{g : x_iᵀg = 0}`` suffice: every ``u`` lies in
the closure of a cell, whose cone contains it, so a pattern seen only on a lower-dimensional face
adds nothing to the program. A set is *complete* when it holds every nonzero cell pattern; then the
program is exact (its optimum is the optimum of the network).

Exact enumeration works in the row space of ``X`` (rank ``r``), with one hyperplane per distinct
row direction (duplicates and positive or negative multiples share one; zero rows have none). Each
cell of a central arrangement of rank ``r ≥ 2`` is a pointed cone, so it has an extreme ray, and an
extreme ray is the intersection of ``r − 1`` independent hyperplanes. The enumeration visits every
such ray ``v`` and lists the cells around it: the hyperplanes through ``v`` form an arrangement of
rank ``r − 1`` in ``v^⊥`` (enumerated the same way; rank 2 is an angular sweep, a simple ray has
the ``2^{r−1}`` orthants), and a cell around ``v`` has the interior point ``v + εw``. This is
complete for points in any position: duplicates, collinear points and zero rows included.

References
----------
Pilanci, M. and Ergen, T. (2020). Neural networks are convex regularizers. ICML 2020 (the convex
program over all activation patterns; the count ``2 Σ_{k<r} C(n−1, k)``).
Ergen, T. and Pilanci, M. (2021). Revealing the structure of deep neural networks via convex
duality. ICML 2021, eq. (4) with L = 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _validation as V
from ._arrangement import cells, distinct_directions, row_space, unique_rows

__all__ = ["PatternSet", "arrangement_bound", "enumerate_patterns", "sample_patterns", "network_patterns",
           "merge_patterns", "interior_generator"]

@dataclass(frozen=True)
class PatternSet:
    """A set of activation patterns of ``X`` with one generator per pattern.

    Attributes
    ----------
    masks : ndarray of bool, shape (n_samples, n_patterns)
        Column ``i`` is the diagonal of ``D_i``. No duplicate columns, no all-zero column.
    generators : ndarray of shape (n_features, n_patterns)
        A ``g`` with ``masks[:, i] == (X @ g >= 0)``; interior to the cell (``x_jᵀg ≠ 0`` for every
        nonzero row) whenever the construction allows.
    complete : bool
        True when every nonzero cell pattern of the arrangement is present (the program is exact).
    source : str
        How the set was made: ``"enumerated"``, ``"sampled"``, ``"network"``, ``"priced"``, or
        several joined by ``"+"``.
    """

    masks: np.ndarray
    generators: np.ndarray
    complete: bool
    source: str

    @property
    def n_patterns(self) -> int:
        return int(self.masks.shape[1])

    @property
    def n_samples(self) -> int:
        return int(self.masks.shape[0])

    def __len__(self) -> int:
        return self.n_patterns


def arrangement_bound(n_samples: int, rank: int) -> int:
    """Largest number of cells of a central arrangement of ``n_samples`` hyperplanes of rank ``rank``.

    .. math::

        P \\le 2 \\sum_{k=0}^{r-1} \\binom{n-1}{k},

    with equality for points in general position (exact Python integers). Rank 0 (``X = 0``) has
    the single cell ``R^d``.

    Parameters
    ----------
    n_samples : int
        Number of hyperplanes (rows of ``X``; count distinct row directions for a tighter bound).
    rank : int
        Rank of ``X``.

    References
    ----------
    Pilanci & Ergen (2020), Section 2; Cover (1965).
    """
    n = V.check_positive_int(n_samples, "n_samples")
    r = V.check_positive_int(rank, "rank", minimum=0)
    if r == 0:
        return 1
    return 2 * sum(math.comb(n - 1, k) for k in range(min(r, n)))


def _finish(X: np.ndarray, G: np.ndarray, *, complete: bool, source: str) -> PatternSet:
    """Masks of the generators ``G`` (d × k): deduplicated, all-zero pattern dropped."""
    if G.shape[1] == 0:
        return PatternSet(np.zeros((X.shape[0], 0), bool), G, complete, source)
    masks = X @ G >= 0
    first, _ = unique_rows(masks.T)
    masks, G = masks[:, first], G[:, first]
    keep = masks.any(axis=0)
    return PatternSet(np.ascontiguousarray(masks[:, keep]), np.ascontiguousarray(G[:, keep]), complete, source)


def distinct_hyperplanes(X: np.ndarray) -> tuple[int, int]:
    """``(m, r)``: number of distinct nonzero row directions of ``X`` and its rank (validated ``X``)."""
    B = row_space(X)
    H, _, _ = distinct_directions(X @ B)
    return H.shape[0], B.shape[1]


def enumerate_patterns(X, *, max_patterns: int = 100_000) -> PatternSet:
    """Every activation pattern of ``X`` (exact enumeration of the hyperplane arrangement).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data (append a column of ones for a bias). Duplicate, collinear and zero rows are allowed.
    max_patterns : int, default 100_000
        Refuse (before any work) when :func:`arrangement_bound` of the distinct row directions and
        the rank exceeds this.

    Returns
    -------
    PatternSet
        ``complete=True`` unless an incidence decision was numerically ambiguous (points within
        ~1e-8 of degenerate position) or a generator's signs could not be confirmed on ``X``.

    References
    ----------
    Pilanci & Ergen (2020); SPEC §6.
    """
    Xa = V.check_array(X, "X")
    limit = V.check_positive_int(max_patterns, "max_patterns")
    B = row_space(Xa)
    r = B.shape[1]
    Z = Xa @ B
    H, which, sign = distinct_directions(Z)
    m = H.shape[0]
    count = arrangement_bound(max(m, 1), r)
    if count > limit:
        raise ValueError(f"`X` has {m} distinct row directions of rank {r}: up to {count:,} activation patterns, "
                         f"more than `max_patterns` == {limit:,}; raise max_patterns or sample patterns.")
    if r == 0:
        return _finish(Xa, np.eye(Xa.shape[1])[:, :1], complete=True, source="enumerated")
    state = {"ambiguous": False}
    W = cells(H, state)  # (k, r)
    G = B @ W.T  # (d, k)
    # every nonzero row must see its intended strict sign on X itself
    rows = which >= 0
    intended = sign[rows, None] * np.sign(H[which[rows]] @ W.T)
    got = np.sign(Xa[rows] @ G)
    ok = not state["ambiguous"] and np.all(intended == got) and np.all(got != 0)
    return _finish(Xa, G, complete=bool(ok), source="enumerated")


def sample_patterns(X, n_patterns: int, *, seed: int | None = 0) -> PatternSet:
    """Patterns of Gaussian directions ``g ~ N(0, I)`` (distinct, nonzero; at most ``n_patterns``).

    Draws again (up to 20 rounds) while fewer than ``n_patterns`` distinct patterns were found.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_patterns : int
    seed : int or None

    Returns
    -------
    PatternSet
        ``complete=False``: the program on sampled patterns is a restriction (its optimum is an upper
        bound on ``P*`` attained by a real network).
    """
    Xa = V.check_array(X, "X")
    k = V.check_positive_int(n_patterns, "n_patterns")
    rng = np.random.default_rng(seed)
    d = Xa.shape[1]
    G = np.zeros((d, 0))
    for _ in range(20):
        G = np.hstack([G, rng.standard_normal((d, max(k - G.shape[1], 1) * 2))])
        G = _finish(Xa, G, complete=False, source="sampled").generators
        if G.shape[1] >= k:
            break
    return _finish(Xa, G[:, :k], complete=False, source="sampled")


def interior_generator(X: np.ndarray, g: np.ndarray, rng: np.random.Generator | None = None,
                       side: np.ndarray | None = None) -> np.ndarray:
    """A point of an open cell whose closure contains ``g`` (``g`` itself when already interior).

    Rows with ``x_iᵀg = 0`` take the side of a small perturbation ``εh``, so ``g`` stays in the new
    pattern's cone: the neuron ``g`` is representable with the returned pattern. ``h`` is random, or,
    with ``side`` (one number per row), the least-norm ``h`` with ``x_iᵀh = sign(side_i)`` on those rows
    (row ``i`` then active iff ``side_i > 0``; a random ``h`` where that system cannot be met).
    """
    vals = X @ g
    nonzero_rows = np.any(X != 0, axis=1)
    tight = nonzero_rows & (np.abs(vals) <= 1e-12 * max(np.abs(vals).max(), 1e-300))
    if not np.any(tight):
        return g
    rng = rng if rng is not None else np.random.default_rng(0)
    h = None
    if side is not None:
        want = np.where(np.asarray(side)[tight] > 0, 1.0, -1.0)
        h = np.linalg.lstsq(X[tight], want, rcond=None)[0]
        if np.any(np.sign(X[tight] @ h) != want):
            h = None
    if h is None:
        h = rng.standard_normal(g.shape)
    hv = X @ h
    loose = nonzero_rows & ~tight
    big = np.abs(hv[nonzero_rows]).max()
    eps = 0.5 * (np.abs(vals[loose]).min() if np.any(loose) else 1.0) / max(big, 1e-300)
    return g + eps * h


def network_patterns(network, X) -> PatternSet:
    """Patterns of the first-layer neurons of a two-layer ReLU network on ``X``.

    Parameters
    ----------
    network : ParallelNet, MLP or torch.nn.Sequential
        A two-layer network (``Linear, ReLU, Linear``). With first-layer biases the patterns are
        those of ``[X, 1]`` (generators have ``n_features + 1`` rows, the bias last).
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    PatternSet
        Each neuron's pattern ``1[X u + b ≥ 0]``; a neuron with points exactly on its kink is moved
        into an adjacent open cell whose cone still contains it (:func:`interior_generator`).
    """
    Xa = V.check_array(X, "X")
    U, b = first_layer(network)
    if U.shape[0] != Xa.shape[1]:
        raise ValueError(f"`X` has {Xa.shape[1]} features but the network expects {U.shape[0]}.")
    if b is not None:
        Xa = np.hstack([Xa, np.ones((Xa.shape[0], 1))])
        U = np.vstack([U, b[None, :]])
    rng = np.random.default_rng(0)
    G = np.column_stack([interior_generator(Xa, U[:, j], rng) for j in range(U.shape[1])]) if U.shape[1] \
        else np.zeros((Xa.shape[1], 0))
    return _finish(Xa, G, complete=False, source="network")


def first_layer(network) -> tuple[np.ndarray, np.ndarray | None]:
    """``(U, b)``: first-layer weights (d × m) and biases (m,) or None of a two-layer ReLU network."""
    import torch
    from torch import nn

    if isinstance(network, nn.Sequential):
        layers = [mod for mod in network if isinstance(mod, nn.Linear)]
        acts = [mod for mod in network if isinstance(mod, nn.ReLU)]
        if len(layers) != 2 or len(acts) != 1:
            raise TypeError("`network` must be a two-layer ReLU network (Linear, ReLU, Linear).")
        W = layers[0].weight.detach().cpu().double().numpy().T
        b = None if layers[0].bias is None else layers[0].bias.detach().cpu().double().numpy()
        return W, b
    if not hasattr(network, "weights") or getattr(network, "depth", None) != 2 \
            or getattr(network, "activation", None) != "relu" or getattr(network, "bn", None) is not None:
        raise TypeError(f"`network` must be a two-layer ReLU ParallelNet, MLP or nn.Sequential without "
                        f"batch normalization, got {type(network).__name__}.")
    with torch.no_grad():
        W0 = network.weights[0].detach().cpu().double()
        if W0.ndim == 3:  # ParallelNet: (m, d, 1)
            U = W0[:, :, 0].T.numpy()
            b = network.biases[0].detach().cpu().double().reshape(-1).numpy() if network.bias else None
        else:
            U = W0.numpy()
            b = network.biases[0].detach().cpu().double().numpy() if network.bias else None
    return np.array(U), (None if b is None else np.array(b))


def merge_patterns(*sets: PatternSet) -> PatternSet:
    """Union of pattern sets (first occurrence kept); complete when any of them is complete."""
    if not sets:
        raise ValueError("`merge_patterns` needs at least one PatternSet.")
    for i, s in enumerate(sets):
        if not isinstance(s, PatternSet):
            raise TypeError(f"argument {i} of merge_patterns is {type(s).__name__}, not a PatternSet.")
    n, d = sets[0].masks.shape[0], sets[0].generators.shape[0]
    for i, s in enumerate(sets[1:], 1):
        if s.masks.shape[0] != n or s.generators.shape[0] != d:
            raise ValueError(f"PatternSet {i} is for {s.masks.shape[0]} samples and {s.generators.shape[0]} "
                             f"features; the first is for {n} and {d}.")
    masks = np.hstack([s.masks for s in sets])
    G = np.hstack([s.generators for s in sets])
    first, _ = unique_rows(masks.T)
    sources = []
    for s in sets:
        for part in s.source.split("+"):
            if part and part not in sources:
                sources.append(part)
    return PatternSet(np.ascontiguousarray(masks[:, first]), np.ascontiguousarray(G[:, first]),
                      any(s.complete for s in sets), "+".join(sources))
