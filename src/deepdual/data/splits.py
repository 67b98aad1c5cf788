"""The whitened, undersampled classification split of Figure 4 (Theorem 4.3)."""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_choice, check_positive_int
from ..whitening import Whitener
from .labels import _check_labels, one_hot
from .records import Split

__all__ = ["undersample_whitened"]


def _principal_directions(Xc: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``d`` right singular vectors (rows, sign fixed so the largest entry is > 0) and all
    singular values of the centered matrix ``Xc``; via the D x D Gram matrix when that is smaller."""
    N, D = Xc.shape
    if N > D:
        evals, evecs = np.linalg.eigh(Xc.T @ Xc)
        order = np.argsort(evals)[::-1]
        s = np.sqrt(np.clip(evals[order], 0.0, None))
        Vt = evecs[:, order].T
    else:
        _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    comps = Vt[:d].copy()
    signs = np.sign(comps[np.arange(comps.shape[0]), np.argmax(np.abs(comps), axis=1)])
    comps *= np.where(signs == 0, 1.0, signs)[:, None]
    return comps, s


def undersample_whitened(X, labels, *, n, d, test_size, seed=0, classes=None,
                         feature_method="random") -> Split:
    r"""Balanced undersampled training set with d features, rows whitened; test set mapped alike.

    The setting of Theorem 4.3 and Figure 4 (n = 60 samples, d = 90 features, K = 10 classes):

    1. **Samples.** Eligible samples are those whose label is in ``classes`` (default: all labels,
       sorted). With K classes, ``n / K`` training samples per class are drawn uniformly at random
       without replacement (``n`` must be a multiple of K and each class must have that many).
       The ``test_size`` test samples are then drawn uniformly at random without replacement from the
       remaining eligible samples, so train and test are disjoint.
    2. **Features.**

       * ``"random"``: ``d`` columns drawn uniformly at random without replacement among the
         columns with nonzero variance over the ``n`` training samples (constant pixels such as image
         borders carry nothing), kept in increasing column order.
       * ``"pca"``: the *pool* is every eligible sample outside the test set (it contains the
         training samples). With :math:`\mu` the pool mean and :math:`P_d \in \mathbb{R}^{d \times D}`
         its top ``d`` principal directions (right singular vectors of the centered pool), a point
         :math:`x` becomes :math:`P_d (x - \mu)`.

       The training samples, the test samples and the random features are drawn from three
       independent streams spawned from ``seed``, so changing ``test_size`` changes neither the
       training samples nor the features.

    3. **Whitening.** A :class:`~deepdual.whitening.Whitener` is fitted on the ``n`` training rows
       of those features (:math:`x \mapsto x V \Sigma^{-1} V^\top`, so
       :math:`X_{\text{train}} X_{\text{train}}^\top = I_n`) and applied to the test rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    n : int
        Training samples (a multiple of the number of classes, ``n <= d``).
    d : int
        Features kept.
    test_size : int
        Test samples (>= 0).
    seed : int, default=0
    classes : array-like, optional
        Classes to use, in the column order of the one-hot labels. Default: all, sorted.
    feature_method : {"random", "pca"}, default="random"

    Returns
    -------
    Split

    Raises
    ------
    ValueError
        ``n > d``, ``n`` not a multiple of K, a class with fewer than ``n / K`` samples, too few samples
        left for the test set, too few usable features, or rank-deficient training rows.

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.3, Remark 4.1 and Figure 4.
    """
    X = check_array(X, "X")
    labels = _check_labels(labels, "labels")
    if labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"`X` has {X.shape[0]} rows but `labels` has {labels.shape[0]}; pass one label per sample."
        )
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    test_size = check_positive_int(test_size, "test_size", minimum=0)
    seed = check_positive_int(seed, "seed", minimum=0)
    feature_method = check_choice(feature_method, "feature_method", ("random", "pca"))
    N, D = X.shape
    if d > D:
        raise ValueError(f"`d` == {d}, but `X` has only {D} features.")
    if n > d:
        raise ValueError(
            f"`n` == {n} > `d` == {d}: whitened rows (X Xᵀ = I) need n <= d. Use at most {d} "
            "training samples or more features."
        )
    if classes is None:
        classes_arr = np.unique(labels)
    else:
        classes_arr = one_hot(np.asarray(classes), classes).classes  # validates distinctness
    K = classes_arr.size
    if n % K:
        raise ValueError(
            f"`n` == {n} is not a multiple of the {K} classes; balanced classes need n = K * m "
            f"(e.g. n = {K * max(1, n // K)})."
        )
    per_class = n // K
    # independent streams: the training rows and features do not depend on test_size
    rng_train, rng_test, rng_feat = map(np.random.default_rng, np.random.SeedSequence(seed).spawn(3))

    train_parts = []
    eligible_mask = np.zeros(N, dtype=bool)
    for cls in classes_arr.tolist():
        idx = np.flatnonzero(labels == cls)
        if idx.size < per_class:
            raise ValueError(
                f"class {cls!r} has {idx.size} sample(s) but {per_class} per class are needed for "
                f"n = {n} balanced over {K} classes; lower `n`."
            )
        eligible_mask[idx] = True
        train_parts.append(rng_train.choice(idx, size=per_class, replace=False))
    train_idx = np.concatenate(train_parts)
    remaining_mask = eligible_mask.copy()
    remaining_mask[train_idx] = False
    remaining = np.flatnonzero(remaining_mask)
    if test_size > remaining.size:
        raise ValueError(
            f"`test_size` == {test_size}, but only {remaining.size} eligible samples remain after "
            f"taking {n} for training; lower `test_size`."
        )
    test_idx = np.sort(rng_test.choice(remaining, size=test_size, replace=False))

    Xtr_raw = X[train_idx]
    feature_indices = pca_components = pca_mean = None
    if feature_method == "random":
        usable = np.flatnonzero(np.var(Xtr_raw, axis=0) > 0)
        if usable.size < d:
            raise ValueError(
                f"only {usable.size} features vary over the {n} training samples, fewer than `d` == "
                f"{d}; lower `d` or use feature_method='pca'."
            )
        feature_indices = np.sort(rng_feat.choice(usable, size=d, replace=False))
        Xtr_feat = Xtr_raw[:, feature_indices]
        Xte_feat = X[test_idx][:, feature_indices]
        how_features = (
            f"{d} features = a uniformly random subset of the {usable.size} input columns (of {D}) "
            f"with nonzero variance over the {n} training samples"
        )
    else:
        pool_mask = eligible_mask.copy()
        pool_mask[test_idx] = False
        pool = X[pool_mask]
        if pool.shape[0] < d:
            raise ValueError(
                f"the PCA pool has {pool.shape[0]} samples, fewer than `d` == {d} principal directions."
            )
        pca_mean = pool.mean(axis=0)
        pca_components, s = _principal_directions(pool - pca_mean, d)
        if s[d - 1] <= np.sqrt(max(pool.shape) * np.finfo(np.float64).eps) * s[0]:
            raise ValueError(
                f"the PCA pool spans fewer than `d` == {d} directions; lower `d`."
            )
        Xtr_feat = (Xtr_raw - pca_mean) @ pca_components.T
        Xte_feat = (X[test_idx] - pca_mean) @ pca_components.T
        how_features = (
            f"{d} features = projections on the top {d} principal directions of the {pool.shape[0]} "
            f"eligible samples outside the test set (centered at their mean)"
        )

    whitener = Whitener()
    X_train = whitener.fit_transform(Xtr_feat)
    X_test = whitener.transform(Xte_feat) if test_size else np.zeros((0, d))
    y_train, y_test = labels[train_idx], labels[test_idx]
    Y_train = one_hot(y_train, classes_arr).Y
    Y_test = one_hot(y_test, classes_arr).Y if test_size else np.zeros((0, K))
    class_list = ", ".join(map(str, classes_arr.tolist()))
    description = (
        f"{n} training samples ({per_class} per class for the {K} classes {class_list}) drawn "
        f"uniformly at random without replacement (seed {seed}) from {int(eligible_mask.sum())} "
        f"samples; {test_size} disjoint test samples drawn uniformly at random from the remaining "
        f"{remaining.size}; {how_features}; training rows whitened (x -> x V Σ⁻¹ Vᵀ from the thin SVD "
        f"of the {n} x {d} training matrix, so X Xᵀ = I_{n}) and the same map applied to the test samples."
    )
    return Split(
        X_train=X_train, Y_train=Y_train, y_train=y_train, X_test=X_test, Y_test=Y_test,
        y_test=y_test, classes=classes_arr, train_indices=train_idx, test_indices=test_idx,
        feature_method=feature_method, feature_indices=feature_indices,
        pca_components=pca_components, pca_mean=pca_mean, whitener=whitener,
        n_features_in=D, description=description,
    )
