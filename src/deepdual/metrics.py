"""Structure metrics of networks: numerical rank, norms, alignment, neural collapse, spline kinks.

All metrics are computed in float64 NumPy, whatever the dtype of their input: NumPy arrays and
torch tensors (any device, any float dtype) are converted with ``.detach().cpu().numpy()`` and
cast to float64 *before* any statistic is formed.

Every metric is a pure function. Neural collapse, whose data can arrive in batches, also has an
accumulator (:class:`NeuralCollapseAccumulator`, ``update`` / ``compute`` in the manner of
torchmetrics) built from the same private pieces, so streaming and one-shot results agree to
rounding.

Weight conventions follow :mod:`deepdual.networks`: a layer matrix ``W_l`` has shape
``(fan_in, fan_out)`` and the network computes ``A_l = g(A_{l-1} W_l)``. A *network* is any object
with a method ``layer_matrices()`` returning that list (:class:`deepdual.MLP`,
:class:`deepdual.ParallelNet`); a plain list of 2-D matrices works too.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from . import _validation as V

__all__ = [
    "numerical_rank",
    "layer_ranks",
    "LayerNorm",
    "layer_norms",
    "alignment",
    "NeuralCollapse",
    "neural_collapse",
    "NeuralCollapseAccumulator",
    "simplex_etf",
    "LinearSpline",
    "linear_spline",
    "sup_distance_to_spline",
    "kinks",
    "KinksAtData",
    "kinks_at_data",
    "two_layer_breakpoints",
]

#: Default relative tolerance of :func:`numerical_rank`.
RANK_RTOL = 1e-6

_EPS = np.finfo(np.float64).eps


# ====================================================================== ranks, norms, alignment


def numerical_rank(A, rtol: float = RANK_RTOL) -> int:
    """Number of singular values of ``A`` above ``rtol · σ_max(A)`` (0 for a zero matrix).

    Parameters
    ----------
    A : array-like or torch.Tensor of shape (p, q)
        A 1-D input is read as a single row.
    rtol : float, default 1e-6
        Relative tolerance. Singular values ``σ_i <= rtol · σ_1`` count as zero.

    Returns
    -------
    int

    Notes
    -----
    .. math::

        \\operatorname{rank}_{\\mathrm{rtol}}(A) = \\#\\{i : \\sigma_i(A) > \\mathrm{rtol}\\,\\sigma_1(A)\\}.

    The default 1e-6 sits far above float64 rounding (about 1e-16 relative) and below the
    singular-value gaps that the paper's low-rank claims produce (Proposition 3.1, Theorem 4.1).
    """
    rtol = _check_nonnegative(rtol, "rtol")
    M = V.as_float_array(A, "A")
    if M.size == 0:
        return 0
    s = np.linalg.svd(np.atleast_2d(M), compute_uv=False)
    if s[0] == 0.0:
        return 0
    return int(np.count_nonzero(s > rtol * s[0]))


def _layer_list(network_or_matrices, name: str = "network_or_matrices") -> list[np.ndarray]:
    """The layer matrices of a network (``layer_matrices()``) or of a list, as float64 2-D arrays."""
    if hasattr(network_or_matrices, "layer_matrices"):
        mats = list(network_or_matrices.layer_matrices())
    elif isinstance(network_or_matrices, (str, bytes)) or not hasattr(network_or_matrices, "__iter__"):
        raise TypeError(
            f"`{name}` must be a network with a layer_matrices() method or a list of 2-D matrices, "
            f"got {type(network_or_matrices).__name__}."
        )
    else:
        mats = list(network_or_matrices)
        if isinstance(network_or_matrices, np.ndarray) and network_or_matrices.ndim == 2:
            raise TypeError(f"`{name}` is a single matrix; pass a list of layer matrices, e.g. [W].")
    out = []
    for i, W in enumerate(mats):
        arr = V.as_float_array(W, f"{name}[{i}]")
        if arr.ndim != 2:
            raise ValueError(f"`{name}[{i}]` must be a 2-D matrix (fan_in, fan_out), got shape {arr.shape}.")
        out.append(arr)
    return out


def layer_ranks(network_or_matrices, rtol: float = RANK_RTOL) -> list[int]:
    """Numerical rank of every layer matrix (see :func:`numerical_rank`).

    Parameters
    ----------
    network_or_matrices : network or list of array-like of shape (fan_in, fan_out)
        An object with ``layer_matrices()`` (:class:`deepdual.MLP`, :class:`deepdual.ParallelNet`,
        whose block-diagonal export is used) or a list of matrices.
    rtol : float, default 1e-6

    Returns
    -------
    list of int, one per layer.

    References
    ----------
    Ergen & Pilanci (2021), Proposition 3.1 and Theorem 4.1: optimal layers are rank one per branch.
    """
    return [numerical_rank(W, rtol) for W in _layer_list(network_or_matrices)]


@dataclass(frozen=True)
class LayerNorm:
    """Norms of one layer matrix.

    Attributes
    ----------
    operator : float
        Largest singular value ``‖W‖₂``.
    frobenius : float
        ``‖W‖_F``. ``frobenius == operator`` exactly when ``W`` has rank at most one.
    """

    operator: float
    frobenius: float


def layer_norms(network_or_matrices) -> list[LayerNorm]:
    """Operator and Frobenius norm of every layer matrix.

    Parameters
    ----------
    network_or_matrices : network or list of array-like of shape (fan_in, fan_out)

    Returns
    -------
    list of LayerNorm, one per layer.

    Notes
    -----
    .. math::

        \\|W\\|_2 = \\sigma_1(W) \\le \\|W\\|_F = \\big(\\textstyle\\sum_i \\sigma_i(W)^2\\big)^{1/2},

    with equality iff ``rank W <= 1``.

    References
    ----------
    Ergen & Pilanci (2021), Proposition 3.1 (``‖W_l‖_F = ‖W_l‖_2`` at the optimum) and Figure 3a.
    """
    out = []
    for W in _layer_list(network_or_matrices):
        if W.size == 0:
            out.append(LayerNorm(0.0, 0.0))
            continue
        s = np.linalg.svd(W, compute_uv=False)
        out.append(LayerNorm(operator=float(s[0]), frobenius=float(np.sqrt(np.sum(s**2)))))
    return out


def alignment(network_or_matrices, k: int = 1) -> list[float]:
    """Alignment of the top-``k`` singular subspaces of consecutive layers.

    For layers ``W_l`` of shape ``(fan_in, fan_out)`` and ``W_{l+1}`` of shape
    ``(fan_out, fan_out')`` (the network computes ``X @ W_l``), the signal leaves ``W_l`` along its
    right singular vectors (in :math:`\\mathbb{R}^{fan\\_out}`) and enters ``W_{l+1}`` along its left
    singular vectors (the same space). With :math:`V_k` the top-``k`` right singular vectors of
    ``W_l`` and :math:`U_k` the top-``k`` left singular vectors of ``W_{l+1}``:

    .. math::

        a_l = \\frac1k \\|V_k^T U_k\\|_F^2 = \\frac1k \\sum_{i=1}^k \\cos^2\\theta_i ,

    the mean squared cosine of the principal angles :math:`\\theta_i` between the two subspaces.
    ``a_l`` lies in [0, 1]: 1 means the subspaces coincide (perfect alignment), 0 that they are
    orthogonal.

    Parameters
    ----------
    network_or_matrices : network or list of array-like of shape (fan_in, fan_out)
        At least one matrix; consecutive shapes must chain (``W_l.shape[1] == W_{l+1}.shape[0]``).
    k : int, default 1
        Subspace dimension, ``1 <= k <= min`` of all matrix dimensions.

    Returns
    -------
    list of float
        ``L - 1`` values, ``a_1, ..., a_{L-1}`` (empty for a single layer).

    Notes
    -----
    When the ``k``-th and ``(k+1)``-th singular values of a layer are equal the top-``k``
    subspace is not unique and the value depends on the SVD's choice; use ``k`` at a gap.

    References
    ----------
    Ergen & Pilanci (2021), Theorems 3.1 and 3.3: at the optimum each layer is
    ``t·ρ_{l-1}ρ_lᵀ``, so consecutive layers are aligned (``a_l = 1`` with ``k = 1``).
    """
    k = V.check_positive_int(k, "k")
    mats = _layer_list(network_or_matrices)
    for i, (A, B) in enumerate(zip(mats[:-1], mats[1:])):
        if A.shape[1] != B.shape[0]:
            raise ValueError(
                f"layer {i} has shape {A.shape} but layer {i + 1} has shape {B.shape}; "
                "consecutive layers must chain (fan_out of one = fan_in of the next)."
            )
    if len(mats) < 2:
        return []
    kmax = min(min(W.shape) for W in mats)
    if k > kmax:
        raise ValueError(f"`k` == {k}, must be <= {kmax} (the smallest layer dimension).")
    out = []
    for A, B in zip(mats[:-1], mats[1:]):
        _, _, At = np.linalg.svd(A, full_matrices=False)
        Ub, _, _ = np.linalg.svd(B, full_matrices=False)
        C = At[:k] @ Ub[:, :k]
        out.append(float(min(1.0, np.sum(C**2) / k)))
    return out


# ====================================================================== neural collapse


@dataclass(frozen=True)
class NeuralCollapse:
    """Neural-collapse statistics of last-hidden-layer features (Papyan, Han & Donoho, 2020).

    All values are 0 for features whose class means form a simplex ETF with no within-class
    variation and a classifier equal to the centered means (Ergen & Pilanci, Corollary 4.3).

    Attributes
    ----------
    nc1 : float
        Within-class variability relative to between-class, ``Tr(Σ_W Σ_B⁺)/K``.
    nc2_norm_cv : float
        Coefficient of variation (std / mean, population std) of the norms ``‖μ_k − μ_G‖``.
    nc2_cos_std : float
        Standard deviation of the pairwise cosines ``cos(μ_k − μ_G, μ_l − μ_G)``, ``k < l``
        (0 for ``K = 2``, which has a single pair).
    nc2_cos_mean_dev : float
        Mean over pairs ``k < l`` of ``|cos + 1/(K−1)|`` (the ETF has all cosines ``−1/(K−1)``).
    nc2_etf_distance : float
        ``‖G/‖G‖_F − G_ETF/‖G_ETF‖_F‖_F`` for the Gram matrix ``G`` of centered class means and
        ``G_ETF = I − 11ᵀ/K``.
    nc3 : float or None
        ``‖W/‖W‖_F − M̃/‖M̃‖_F‖²_F`` (classifier rows vs centered class means); ``None`` when no
        classifier was given.
    nc4 : float or None
        Fraction of samples whose prediction differs from the nearest-class-mean decision;
        ``None`` when no predictions were given.
    num_classes : int
        ``K``.
    n_samples : int
    """

    nc1: float
    nc2_norm_cv: float
    nc2_cos_std: float
    nc2_cos_mean_dev: float
    nc2_etf_distance: float
    nc3: float | None
    nc4: float | None
    num_classes: int
    n_samples: int


@dataclass(frozen=True, eq=False)
class _ClassStats:
    """Sufficient statistics: counts (K,), class means (K, p), pooled within-class scatter (p, p)."""

    counts: np.ndarray
    means: np.ndarray
    scatter: np.ndarray


def _batch_stats(H: np.ndarray, idx: np.ndarray, K: int) -> _ClassStats:
    """Statistics of one batch; ``idx`` holds class indices in ``[0, K)``."""
    n = idx.size
    counts = np.bincount(idx, minlength=K).astype(np.float64)
    onehot = sparse.csr_matrix((np.ones(n), (idx, np.arange(n))), shape=(K, n))
    sums = np.asarray(onehot @ H)
    means = np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)
    C = H - means[idx]
    return _ClassStats(counts, means, C.T @ C)


def _merge_stats(a: _ClassStats, b: _ClassStats) -> _ClassStats:
    """Exact merge of two sets of statistics (Chan et al.'s pairwise update, per class)."""
    n = a.counts + b.counts
    frac_b = np.divide(b.counts, n, out=np.zeros_like(n), where=n > 0)
    delta = b.means - a.means
    means = a.means + frac_b[:, None] * delta
    w = a.counts * frac_b  # n_a n_b / (n_a + n_b), 0 when either side is empty
    scatter = a.scatter + b.scatter + (delta * w[:, None]).T @ delta
    return _ClassStats(n, means, scatter)


def _classifier_rows(classifier, K: int, p: int) -> np.ndarray:
    """Classifier as rows ``W`` of shape (K, p); (p, K) network layout read first."""
    if hasattr(classifier, "layer_matrices"):
        classifier = classifier.layer_matrices()[-1]
    W = V.as_float_array(classifier, "classifier")
    if W.ndim == 2 and W.shape == (p, K):
        return W.T
    if W.ndim == 2 and W.shape == (K, p):
        return W
    raise ValueError(
        f"`classifier` has shape {W.shape}; expected ({p}, {K}) (network last layer, n_features × K) "
        f"or ({K}, {p}) (one row per class)."
    )


def _nearest_mean(H: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Index of the nearest class mean for every row of ``H``."""
    d2 = np.sum(means**2, axis=1)[None, :] - 2.0 * H @ means.T
    return np.argmin(d2, axis=1)


def _etf_rank_cut(s: np.ndarray, K: int, p: int) -> int:
    """How many of the top ``K − 1`` singular values of ``M̃`` are numerically nonzero."""
    r = min(K - 1, s.size)
    if r == 0 or s[0] == 0.0:
        return 0
    tol = max(K, p) * _EPS * s[0]
    return int(np.count_nonzero(s[:r] > tol))


def _collapse_from_stats(stats: _ClassStats, W: np.ndarray | None, nc4: float | None) -> NeuralCollapse:
    """Every NC statistic from the sufficient statistics (shared by the function and accumulator)."""
    K, p = stats.means.shape
    n = float(stats.counts.sum())
    M = stats.means - stats.means.mean(axis=0)  # centered class means M̃, (K, p)
    Sigma_W = stats.scatter / n
    nan = float("nan")
    if not np.any(M):
        return NeuralCollapse(nan, nan, nan, nan, nan, None if W is None else nan, nc4, K, int(n))

    # NC1: Σ_B = M̃ᵀM̃/K; its eigenpairs are (s_j²/K, v_j) from the SVD M̃ = U S Vᵀ.
    _, s, Vt = np.linalg.svd(M, full_matrices=False)
    r = _etf_rank_cut(s, K, p)
    Vr = Vt[:r]
    lam = s[:r] ** 2 / K
    quad = np.einsum("ij,jk,ik->i", Vr, Sigma_W, Vr)  # v_jᵀ Σ_W v_j
    nc1 = float(np.sum(quad / lam) / K)

    # NC2
    norms = np.linalg.norm(M, axis=1)
    nc2_norm_cv = float(np.std(norms) / np.mean(norms))
    with np.errstate(invalid="ignore", divide="ignore"):
        Mn = M / norms[:, None]
    iu = np.triu_indices(K, k=1)
    cos = (Mn @ Mn.T)[iu]
    nc2_cos_std = float(np.std(cos))
    nc2_cos_mean_dev = float(np.mean(np.abs(cos + 1.0 / (K - 1))))
    G = M @ M.T
    G_etf = np.eye(K) - np.full((K, K), 1.0 / K)
    nc2_etf = float(np.linalg.norm(G / np.linalg.norm(G) - G_etf / np.linalg.norm(G_etf)))

    # NC3
    nc3 = None
    if W is not None:
        wn = np.linalg.norm(W)
        nc3 = nan if wn == 0 else float(np.sum((W / wn - M / np.linalg.norm(M)) ** 2))
    return NeuralCollapse(nc1, nc2_norm_cv, nc2_cos_std, nc2_cos_mean_dev, nc2_etf, nc3, nc4, K, int(n))


def _require_all_classes(counts: np.ndarray, classes) -> None:
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(
            f"class(es) {[int(classes[i]) for i in empty[:10]]} have no samples; neural-collapse "
            "statistics need every class present. Pass num_classes equal to the classes in the data."
        )


_NC_NOTES = """
    Conventions (Papyan, Han & Donoho, 2020), with :math:`\\mu_k` the mean of class ``k`` over its
    :math:`n_k` samples, :math:`\\mu_G = \\frac1K\\sum_k \\mu_k` the mean of the class means (not
    the sample mean: the two differ for unbalanced classes, and this choice keeps an exact ETF at
    zero whatever the class sizes), and :math:`\\tilde M` the ``(K, n_features)`` matrix of centered
    means :math:`\\mu_k - \\mu_G`:

    .. math::

        \\Sigma_W = \\frac1n \\sum_{i=1}^n (h_i - \\mu_{y_i})(h_i - \\mu_{y_i})^T ,\\qquad
        \\Sigma_B = \\frac1K \\sum_{k=1}^K (\\mu_k - \\mu_G)(\\mu_k - \\mu_G)^T ,

        \\mathrm{NC1} = \\tfrac1K \\operatorname{Tr}(\\Sigma_W \\Sigma_B^+),\\qquad
        \\mathrm{NC3} = \\Big\\| \\frac{W}{\\|W\\|_F} - \\frac{\\tilde M}{\\|\\tilde M\\|_F} \\Big\\|_F^2 .

    :math:`\\Sigma_W` weights every *sample* equally, so large classes weigh more in it;
    :math:`\\Sigma_B` weights every *class* equally. :math:`\\Sigma_B^+` is the pseudo-inverse on the
    top ``K − 1`` eigenpairs of :math:`\\Sigma_B` (its rank is at most ``K − 1``), computed from the
    SVD of :math:`\\tilde M` in float64; eigenvalues below ``max(K, p)·eps·λ_max`` (class means
    that span fewer than ``K − 1`` dimensions) are left out rather than inverted. All inputs are
    cast to float64 first, so float32 features give the float64 result of their values.

    If all class means coincide the NC1–NC3 values are NaN; a cosine involving a zero centered
    mean is NaN as well.
"""


def _classes_and_index(labels: np.ndarray, num_classes):
    """``(classes, idx, K)``: class values, their indices ``[0, K)`` per sample, and ``K``."""
    if num_classes is None:
        classes, idx = np.unique(labels, return_inverse=True)
        K = classes.size
        if K < 2:
            raise ValueError(
                f"`labels` hold {K} distinct class(es); neural collapse needs K >= 2 classes."
            )
        return classes, idx.reshape(-1), K
    K = V.check_positive_int(num_classes, "num_classes", minimum=2)
    if labels.size and (labels.min() < 0 or labels.max() >= K):
        raise ValueError(
            f"`labels` must lie in [0, {K}) for num_classes == {K}; got range "
            f"[{labels.min()}, {labels.max()}]."
        )
    return np.arange(K), labels, K


def neural_collapse(H, labels, *, classifier=None, predictions=None,
                    num_classes: int | None = None) -> NeuralCollapse:
    """Neural-collapse statistics NC1–NC4 of last-hidden-layer features.

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Last-hidden-layer activations (any float dtype; computed in float64).
    labels : array-like of int of shape (n_samples,)
        Class of every sample. Without ``num_classes`` the classes are the distinct values present,
        in sorted order (``K`` of them); with it, labels must lie in ``[0, num_classes)`` and every
        class must occur.
    classifier : array-like of shape (n_features, K) or (K, n_features), optional
        Last-layer weights, for NC3. The network layout ``(n_features, K)`` (``H @ W``, as
        :meth:`deepdual.MLP.layer_matrices` returns it) is tried first, so a square matrix is read
        that way; pass ``W.T`` for a square matrix of rows. A network with ``layer_matrices()`` is
        accepted and its last layer used. Row ``k`` belongs to the ``k``-th class in sorted order.
    predictions : array-like of int of shape (n_samples,), optional
        The network's predicted classes (same label values as ``labels``), for NC4.
    num_classes : int, optional
        ``K``; default the number of distinct labels.

    Returns
    -------
    NeuralCollapse

    Notes
    -----{notes}
    NC4 compares ``predictions`` with :math:`\\arg\\min_k \\|h_i - \\mu_k\\|`.

    References
    ----------
    Papyan, Han & Donoho (2020), "Prevalence of neural collapse during the terminal phase of deep
    learning training", PNAS 117(40) — definitions of NC1–NC4.
    Ergen & Pilanci (2021), Corollary 4.3 and Definition 2 — the optimal network's last-hidden
    activations form a simplex ETF.
    """
    Hm = V.check_array(H, "H")
    y = V.check_class_labels(labels, "labels", n_rows=Hm.shape[0], rows_name="H")
    classes, idx, K = _classes_and_index(y, num_classes)
    stats = _batch_stats(Hm, idx, K)
    _require_all_classes(stats.counts, classes)
    W = None if classifier is None else _classifier_rows(classifier, K, Hm.shape[1])
    nc4 = None
    if predictions is not None:
        pred = V.check_class_labels(predictions, "predictions", n_rows=Hm.shape[0], rows_name="H")
        nc4 = float(np.mean(pred != classes[_nearest_mean(Hm, stats.means)]))
    return _collapse_from_stats(stats, W, nc4)


neural_collapse.__doc__ = neural_collapse.__doc__.replace("{notes}", _NC_NOTES)


class NeuralCollapseAccumulator:
    """Streaming neural-collapse statistics over batches; ``compute()`` equals :func:`neural_collapse`.

    Keeps, in float64, the class counts, the class means and the pooled within-class scatter
    :math:`\\sum_i (h_i - \\mu_{y_i})(h_i - \\mu_{y_i})^T`, merged batch by batch with the exact
    pairwise update of Chan, Golub & LeVeque (no subtraction of large raw second moments, so no
    cancellation). Memory is ``O(K·p + p²)``.

    NC4 needs the final class means before any sample can be compared with its nearest mean, so
    when ``predictions`` are passed to :meth:`update` the batch's feature rows and predictions are
    **kept** (memory ``O(n·p)``) and compared at :meth:`compute`. Pass predictions for every batch
    or for none (mixing raises); without them ``nc4`` is ``None`` and nothing per-sample is stored.

    Parameters
    ----------
    num_classes : int
        ``K >= 2``; labels are class indices in ``[0, K)``, and every class must occur before
        :meth:`compute`.
    num_features : int
        ``p``, the number of columns of every batch.

    Notes
    -----
    Same conventions as :func:`neural_collapse` (Papyan et al., 2020; Ergen & Pilanci, Cor 4.3).

    Examples
    --------
    >>> acc = NeuralCollapseAccumulator(num_classes=3, num_features=8)
    >>> for H, y in batches:            # doctest: +SKIP
    ...     acc.update(H, y)
    >>> acc.compute(classifier=W).nc1   # doctest: +SKIP
    """

    def __init__(self, num_classes: int, num_features: int):
        self.num_classes = V.check_positive_int(num_classes, "num_classes", minimum=2)
        self.num_features = V.check_positive_int(num_features, "num_features")
        self.reset()

    def reset(self) -> None:
        """Forget all data."""
        K, p = self.num_classes, self.num_features
        self._stats = _ClassStats(np.zeros(K), np.zeros((K, p)), np.zeros((p, p)))
        self._rows: list[np.ndarray] = []
        self._preds: list[np.ndarray] = []
        self._with_predictions: bool | None = None

    @property
    def n_samples(self) -> int:
        """Number of samples seen so far."""
        return int(self._stats.counts.sum())

    def update(self, H, labels, predictions=None) -> None:
        """Add a batch.

        Parameters
        ----------
        H : array-like or torch.Tensor of shape (n_batch, num_features)
        labels : array-like of int of shape (n_batch,), values in ``[0, num_classes)``
        predictions : array-like of int of shape (n_batch,), optional
            For NC4; give them for every batch or for none.
        """
        Hm = V.check_array(H, "H")
        if Hm.shape[1] != self.num_features:
            raise ValueError(
                f"`H` has {Hm.shape[1]} columns; this accumulator was built with num_features == "
                f"{self.num_features}."
            )
        y = V.check_class_labels(labels, "labels", n_rows=Hm.shape[0], rows_name="H")
        _, idx, K = _classes_and_index(y, self.num_classes)
        has_pred = predictions is not None
        if self._with_predictions is not None and has_pred != self._with_predictions:
            raise ValueError(
                "`predictions` were given for some batches and not for others; pass them for every "
                "batch (NC4) or for none."
            )
        if has_pred:
            pred = V.check_class_labels(predictions, "predictions", n_rows=Hm.shape[0], rows_name="H")
        self._stats = _merge_stats(self._stats, _batch_stats(Hm, idx, K))
        self._with_predictions = has_pred
        if has_pred:
            self._rows.append(Hm)
            self._preds.append(pred)

    def compute(self, classifier=None) -> NeuralCollapse:
        """The statistics of all batches so far (see :func:`neural_collapse`).

        Parameters
        ----------
        classifier : array-like of shape (num_features, K) or (K, num_features), optional
            For NC3, read as in :func:`neural_collapse`.
        """
        if self.n_samples == 0:
            raise ValueError("no data: call update(H, labels) before compute().")
        _require_all_classes(self._stats.counts, np.arange(self.num_classes))
        W = None if classifier is None else _classifier_rows(classifier, self.num_classes, self.num_features)
        nc4 = None
        if self._with_predictions:
            Hm = np.concatenate(self._rows)
            pred = np.concatenate(self._preds)
            nc4 = float(np.mean(pred != _nearest_mean(Hm, self._stats.means)))
        return _collapse_from_stats(self._stats, W, nc4)


def simplex_etf(K: int, dim: int | None = None, *, seed: int | None = None) -> np.ndarray:
    """The standard simplex equiangular tight frame, as columns.

    Parameters
    ----------
    K : int
        Number of vertices, ``K >= 2``.
    dim : int, optional
        Ambient dimension, ``dim >= K − 1``; default ``K``. For ``dim = K − 1`` the frame is
        expressed in an orthonormal basis of the hyperplane :math:`1^\\perp`; for ``dim > K`` it
        is padded with zero rows.
    seed : int, optional
        If given, the frame is rotated by a random orthogonal matrix of size ``dim`` drawn with
        this seed (the result is still a simplex ETF).

    Returns
    -------
    ndarray of shape (dim, K)
        Column ``k`` is the vertex of class ``k``; all columns have unit norm and pairwise inner
        products ``−1/(K−1)``.

    Notes
    -----
    .. math::

        M = \\sqrt{\\tfrac{K}{K-1}}\\Big(I_K - \\tfrac1K 1_K 1_K^T\\Big),\\qquad
        M^T M = \\tfrac{K}{K-1}\\Big(I_K - \\tfrac1K 1_K 1_K^T\\Big).

    References
    ----------
    Ergen & Pilanci (2021), Definition 2 and Corollary 4.3.
    """
    K = V.check_positive_int(K, "K", minimum=2)
    dim = K if dim is None else V.check_positive_int(dim, "dim", minimum=K - 1)
    M = np.sqrt(K / (K - 1)) * (np.eye(K) - np.full((K, K), 1.0 / K))
    if dim == K - 1:
        Q, _ = np.linalg.qr((np.eye(K) - np.full((K, K), 1.0 / K))[:, : K - 1])  # basis of 1^⊥
        M = Q.T @ M
    elif dim > K:
        M = np.vstack([M, np.zeros((dim - K, K))])
    if seed is not None:
        R, T = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
        M = (R * np.sign(np.diag(T))) @ M
    return M


# ====================================================================== functions of one variable


def _check_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {type(value).__name__}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"`{name}` == {value}, must be finite.")
    return value


def _check_nonnegative(value, name: str) -> float:
    value = _check_real(value, name)
    if value < 0:
        raise ValueError(f"`{name}` == {value}, must be >= 0.")
    return value


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
    lo, hi = _check_real(lo, "lo"), _check_real(hi, "hi")
    if not lo < hi:
        raise ValueError(f"need `lo` < `hi`, got lo == {lo}, hi == {hi}.")
    grid = V.check_positive_int(grid, "grid", minimum=7)
    tol = _check_nonnegative(tol, "tol")
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
    for a, b in zip(starts, ends):
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
    tol = _check_nonnegative(tol, "tol")
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
