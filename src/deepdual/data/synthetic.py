"""Synthetic data of the paper: teacher networks (Section 5), rank-one inputs (Theorem 4.1), 1-D points
(the spline results)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_choice, check_positive_int, check_scalar, check_widths
from .records import Dataset, RankOneDataset, _frozen

__all__ = ["teacher_data", "rank_one_data", "one_dimensional_data"]


def _check_seed(seed) -> int:
    return check_positive_int(seed, "seed", minimum=0)


def _random_mlp(rng, sizes: Sequence[int], activation: str) -> tuple[np.ndarray, ...]:
    """Random weights W_l of shape (sizes[l], sizes[l+1]), N(0, gain/fan_in) entries."""
    gain = 2.0 if activation == "relu" else 1.0
    weights = []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = layer == len(sizes) - 2
        scale = np.sqrt((1.0 if last else gain) / fan_in)
        weights.append(scale * rng.standard_normal((fan_in, fan_out)))
    return tuple(weights)


def _mlp_forward(X: np.ndarray, weights: Sequence[np.ndarray], activation: str) -> np.ndarray:
    H = X
    for layer, W in enumerate(weights):
        H = H @ W
        if layer < len(weights) - 1 and activation == "relu":
            H = np.maximum(H, 0.0)
    return H


def teacher_data(n, d, k, *, depth=2, width=50, activation="linear", noise=0.0, seed=0) -> Dataset:
    r"""Gaussian inputs with targets from a randomly initialized teacher network.

    The paper's synthetic setup (Section 5, Figures 2-3): rows of ``X`` are i.i.d.
    :math:`\mathcal{N}(0, I_d)` (zero mean, identity covariance), and

    .. math::

        Y = \sigma(\cdots\sigma(X W_1)\cdots) W_L + \text{noise}\cdot E,
        \qquad E_{ij} \sim \mathcal{N}(0, 1),

    a plain bias-free MLP :math:`d \to \text{width} \to \dots \to k` with ``depth`` weight
    matrices, :math:`\sigma` the identity (``"linear"``) or ReLU. Teacher weights have
    :math:`\mathcal{N}(0, g/\text{fan\_in})` entries, with gain :math:`g = 2` for hidden ReLU
    layers and 1 otherwise, so the targets are of order one.

    Parameters
    ----------
    n, d, k : int
        Samples, input features, outputs.
    depth : int, default=2
        Number of teacher layers (weight matrices), >= 1.
    width : int or sequence of int, default=50
        Hidden widths (``depth - 1`` of them when a sequence).
    activation : {"linear", "relu"}, default="linear"
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the targets.
    seed : int, default=0

    Returns
    -------
    Dataset
        ``X`` of shape (n, d), ``Y`` of shape (n, k), ``labels=None``;
        ``extras["teacher_weights"]`` holds the teacher's weight matrices.

    References
    ----------
    Ergen & Pilanci (2021), Section 5 (Figures 2 and 3a).
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    k = check_positive_int(k, "k")
    depth = check_positive_int(depth, "depth")
    widths = check_widths(width, "width", depth - 1)
    activation = check_choice(activation, "activation", ("linear", "relu"))
    noise = check_scalar(noise, "noise", min_val=0.0)
    rng = np.random.default_rng(_check_seed(seed))

    X = rng.standard_normal((n, d))
    weights = _random_mlp(rng, [d, *widths, k], activation)
    Y = _mlp_forward(X, weights, activation)
    if noise > 0:
        Y = Y + noise * rng.standard_normal(Y.shape)
    arch = " -> ".join(map(str, [d, *widths, k]))
    desc = (
        f"{n} samples with i.i.d. N(0, I_{d}) inputs; targets from a random {activation} teacher "
        f"network ({arch}, seed {seed})" + (f" plus N(0, {noise:g}^2) noise." if noise > 0 else ".")
    )
    return Dataset(
        X=X, Y=Y, labels=None, name="teacher", description=desc,
        extras=_frozen({"teacher_weights": weights, "activation": activation, "noise": noise}),
    )


def rank_one_data(n, d, k=1, *, targets="random", seed=0) -> RankOneDataset:
    r"""Rank-one inputs :math:`X = c\,a_0^\top` with :math:`c \ge 0` entrywise (Theorem 4.1).

    :math:`c = |g| / \|g\|` with :math:`g \sim \mathcal{N}(0, I_n)` (so :math:`c \ge 0`,
    :math:`\|c\| = 1`), :math:`a_0 \sim \mathcal{N}(0, I_d)`. Targets:

    * ``"random"``: :math:`Y_{ij} \sim \mathcal{N}(0, 1)` i.i.d. (arbitrary targets, as in the theorem);
    * ``"teacher"``: output of a random two-layer ReLU teacher :math:`d \to 50 \to k`.
      (Positive homogeneity makes these rank one as well: :math:`Y = c\,f(a_0)^\top`.)

    Parameters
    ----------
    n, d : int
        Samples and features.
    k : int, default=1
        Outputs.
    targets : {"random", "teacher"}, default="random"
    seed : int, default=0

    Returns
    -------
    RankOneDataset
        ``X`` of shape (n, d), ``Y`` of shape (n, k), and the factors ``c`` (n,), ``a0`` (d,).

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.1, Propositions 4.1-4.2, Figure 3b.
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    k = check_positive_int(k, "k")
    targets = check_choice(targets, "targets", ("random", "teacher"))
    rng = np.random.default_rng(_check_seed(seed))
    g = np.abs(rng.standard_normal(n))
    c = g / np.linalg.norm(g)
    a0 = rng.standard_normal(d)
    X = np.outer(c, a0)
    if targets == "random":
        Y = rng.standard_normal((n, k))
        source = "i.i.d. N(0, 1) targets"
    else:
        weights = _random_mlp(rng, [d, 50, k], "relu")
        Y = _mlp_forward(X, weights, "relu")
        source = f"targets from a random ReLU teacher ({d} -> 50 -> {k})"
    desc = (
        f"{n} rank-one samples X = c a0ᵀ (c = |g|/‖g‖ >= 0, g ~ N(0, I_{n}); a0 ~ N(0, I_{d})), "
        f"{source}, seed {seed}."
    )
    return RankOneDataset(X=X, Y=Y, labels=None, name="rank_one", description=desc, c=c, a0=a0)


def one_dimensional_data(n, *, seed=0, lo=-1.0, hi=1.0) -> Dataset:
    """A few 1-D points for the spline results: sorted distinct ``x`` in [lo, hi], random ``y``.

    ``x`` are ``n`` sorted draws from Uniform(lo, hi), redrawn until consecutive points are at least
    ``(hi - lo) / (10 n)`` apart; ``y`` are i.i.d. Uniform(-1, 1).

    Parameters
    ----------
    n : int
        Number of points, >= 1.
    seed : int, default=0
    lo, hi : float, default=-1, 1
        Interval, ``lo < hi``.

    Returns
    -------
    Dataset
        ``X`` of shape (n, 1) (sorted, distinct), ``Y`` of shape (n, 1).

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.2, Corollaries 4.1-4.2, Figure 1.
    """
    n = check_positive_int(n, "n")
    for name, v in (("lo", lo), ("hi", hi)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"`{name}` == {v!r}, must be a finite real number.")
    lo, hi = float(lo), float(hi)
    if not lo < hi:
        raise ValueError(f"`lo` == {lo} must be < `hi` == {hi}.")
    rng = np.random.default_rng(_check_seed(seed))
    min_gap = (hi - lo) / (10 * n)
    for _ in range(1000):
        x = np.sort(rng.uniform(lo, hi, size=n))
        if n == 1 or np.min(np.diff(x)) >= min_gap:
            break
    else:  # pragma: no cover - probability ~ 0
        x = np.linspace(lo, hi, n)
    y = rng.uniform(-1.0, 1.0, size=n)
    desc = (
        f"{n} sorted 1-D points x ~ Uniform({lo:g}, {hi:g}) (at least {min_gap:.3g} apart) with "
        f"targets y ~ Uniform(-1, 1), seed {seed}."
    )
    return Dataset(X=x.reshape(-1, 1), Y=y.reshape(-1, 1), labels=None, name="one_dimensional",
                   description=desc)
