# Over 400 lines on purpose: one idea — NC1–NC4, the function and its accumulator built from shared pieces.
"""Neural collapse (NC1–NC4) of last-hidden-layer features, and the simplex ETF it collapses to.

:func:`neural_collapse` (one shot) and :class:`NeuralCollapseAccumulator` (``update`` / ``compute``
over batches, in the manner of torchmetrics) are built from the same private pieces — per-class
sufficient statistics and their exact merge (:mod:`._class_stats`), and one function turning them into
a :class:`NeuralCollapse` record — so streaming and one-shot results agree to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validation as V
from ._class_stats import _batch_stats, _ClassStats, _merge_stats

__all__ = ["NeuralCollapse", "neural_collapse", "NeuralCollapseAccumulator", "simplex_etf"]

_EPS = np.finfo(np.float64).eps


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


def _undefined(message: str, strict: bool) -> None:
    if strict:
        raise ValueError(message)


def _collapse_from_stats(stats: _ClassStats, W: np.ndarray | None, nc4: float | None, *,
                         strict: bool = True) -> NeuralCollapse:
    """Every NC statistic from the sufficient statistics (shared by the function and accumulator).

    The statistics are scale-free, so they are computed from means and scatter divided by the largest
    centered mean (no overflow or underflow at any scale). When they are undefined (every class mean
    equal to rounding, a centered mean of zero, a zero classifier) ``strict`` raises a ``ValueError``
    naming ``H``; otherwise (records taken during training) the undefined values are NaN.
    """
    K, p = stats.means.shape
    n = float(stats.counts.sum())
    M = stats.means - stats.means.mean(axis=0)  # centered class means M̃, (K, p)
    nan = float("nan")
    spread = float(np.sqrt(np.max(np.diag(stats.scatter)) / n)) if p else 0.0
    data_scale = max(float(np.max(np.abs(stats.means))), spread)
    top = float(np.max(np.abs(M)))
    if top <= 64 * _EPS * data_scale:
        _undefined("every class mean of `H` is the same (to rounding): the between-class scatter is 0, so NC1–NC3 "
                   "are undefined; pass features that separate the classes.", strict)
        return NeuralCollapse(nan, nan, nan, nan, nan, None if W is None else nan, nc4, K, int(n))
    M = M / top
    Sigma_W = stats.scatter / n / top / top

    # NC1: Σ_B = M̃ᵀM̃/K; its eigenpairs are (s_j²/K, v_j) from the SVD M̃ = U S Vᵀ.
    _, s, Vt = np.linalg.svd(M, full_matrices=False)
    r = _etf_rank_cut(s, K, p)
    Vr = Vt[:r]
    lam = s[:r] ** 2 / K
    quad = np.einsum("ij,jk,ik->i", Vr, Sigma_W, Vr)  # v_jᵀ Σ_W v_j
    nc1 = float(np.sum(quad / lam) / K)

    # NC2
    norms = np.linalg.norm(M, axis=1)
    at_centre = norms <= 64 * _EPS  # M is scaled to max |entry| = 1: zero to rounding
    if np.any(at_centre):
        _undefined(f"the mean of class {int(np.flatnonzero(at_centre)[0])} in `H` equals the mean of the class "
                   "means: its cosines with the other classes (NC2) are undefined; pass features that separate "
                   "the classes.", strict)
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
        top_w = float(np.max(np.abs(W)))
        if top_w == 0:
            _undefined("`classifier` is all zeros: NC3 compares its direction with the class means and is "
                       "undefined; pass the trained last layer.", strict)
            nc3 = nan
        else:
            Wu = W / top_w
            nc3 = float(np.sum((Wu / np.linalg.norm(Wu) - M / np.linalg.norm(M)) ** 2))
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

    The statistics do not depend on the scale of ``H`` and are computed at any finite scale. If all
    class means coincide (to rounding), a centered class mean is zero or the classifier is zero, the
    statistic is undefined and a ``ValueError`` says which.
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
    Hm = V.check_array(H, "H", value_range=False)  # the statistics are scale-free: any finite scale works
    return collapse_statistics(Hm, labels, classifier=classifier, predictions=predictions, num_classes=num_classes)


def collapse_statistics(Hm: np.ndarray, labels, *, classifier=None, predictions=None, num_classes=None,
                        strict: bool = True) -> NeuralCollapse:
    """:func:`neural_collapse` of a validated float64 ``Hm``; with ``strict=False`` undefined values are NaN
    (what :func:`deepdual.training.train` records while the features may still coincide)."""
    top = float(np.max(np.abs(Hm))) if Hm.size else 0.0
    if top > 0:
        Hm = Hm / top  # NC1–NC4 do not depend on the scale of H
    y = V.check_class_labels(labels, "labels", n_rows=Hm.shape[0], rows_name="H")
    classes, idx, K = _classes_and_index(y, num_classes)
    stats = _batch_stats(Hm, idx, K)
    _require_all_classes(stats.counts, classes)
    W = None if classifier is None else _classifier_rows(classifier, K, Hm.shape[1])
    nc4 = None
    if predictions is not None:
        pred = V.check_class_labels(predictions, "predictions", n_rows=Hm.shape[0], rows_name="H")
        nc4 = float(np.mean(pred != classes[_nearest_mean(Hm, stats.means)]))
    return _collapse_from_stats(stats, W, nc4, strict=strict)


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
    V.check_seed(seed)
    V.check_memory(K * K + dim * K + (dim * dim if seed is not None else 0), 8, copies=3,
                   what=f"simplex_etf(K={K}, dim={dim})", fix="pass a smaller `K` or `dim`")
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
