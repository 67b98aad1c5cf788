"""Whitener: X Xᵀ = I on the fitted rows, the same linear map on test points, clear errors."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from deepdual.whitening import Whitener, is_whitened, whiten_rows


def _gram_oracle(X):
    """(X Xᵀ)^{-1/2} X, the whitened rows computed from the n x n Gram matrix (independent of the SVD)."""
    evals, evecs = np.linalg.eigh(X @ X.T)
    return (evecs / np.sqrt(evals)) @ evecs.T @ X


def _feature_map_oracle(X, tol=1e-10):
    """(XᵀX)^{+1/2} from the d x d Gram matrix: equals V Σ⁻¹ Vᵀ."""
    evals, evecs = np.linalg.eigh(X.T @ X)
    keep = evals > tol * evals.max()
    V = evecs[:, keep]
    return (V / np.sqrt(evals[keep])) @ V.T


def _identity_error(Xw):
    return np.abs(Xw @ Xw.T - np.eye(Xw.shape[0])).max()


@pytest.mark.parametrize("n, d", [(1, 3), (7, 7), (20, 50)])
def test_random_rows_are_whitened(n, d):
    X = np.random.default_rng(n + d).standard_normal((n, d))
    W = Whitener().fit(X)
    Xw = W.transform(X)
    assert Xw.dtype == np.float64 and Xw.shape == (n, d)
    assert _identity_error(Xw) < 1e-10
    assert _identity_error(Whitener().fit_transform(X)) < 1e-12
    np.testing.assert_allclose(Xw, _gram_oracle(X), atol=1e-10)
    assert W.components_.shape == (n, d) and W.singular_values_.shape == (n,)
    assert W.n_features_in_ == d and W.n_samples_fit_ == n


def test_transform_is_the_explicit_linear_map_on_test_points():
    rng = np.random.default_rng(0)
    X, X_test = rng.standard_normal((12, 30)), rng.standard_normal((9, 30))
    W = Whitener().fit(X)
    M = W.matrix_
    assert M.shape == (30, 30)
    np.testing.assert_allclose(M, M.T, atol=1e-12)
    np.testing.assert_allclose(M, _feature_map_oracle(X), atol=1e-10)
    np.testing.assert_allclose(W.transform(X_test), X_test @ M, atol=1e-10)
    # linearity: the map of a combination is the combination of the maps
    a, b = 2.5, -0.75
    np.testing.assert_allclose(
        W.transform(a * X_test[:3] + b * X_test[3:6]),
        a * W.transform(X_test[:3]) + b * W.transform(X_test[3:6]), atol=1e-10,
    )
    # transform on the training rows equals the fitted output
    np.testing.assert_allclose(W.transform(X), Whitener().fit_transform(X), atol=1e-10)
    # directions orthogonal to the training rows are sent to zero
    P = np.eye(30) - np.linalg.pinv(X) @ X
    assert np.abs(W.transform(rng.standard_normal((4, 30)) @ P)).max() < 1e-10


def test_digits_subset_is_whitened():
    from deepdual.data import load_digits_data

    ds = load_digits_data()
    X = ds.X[np.random.default_rng(1).choice(ds.n_samples, 40, replace=False)]
    Xw, W = whiten_rows(X)
    assert _identity_error(Xw) < 1e-10
    assert _identity_error(W.transform(X)) < 1e-10
    assert is_whitened(Xw) and not is_whitened(X)


def test_mnist_60_by_90_is_whitened():
    from deepdual.data import load_mnist_data

    ds = load_mnist_data()
    rng = np.random.default_rng(2)
    rows = rng.choice(ds.n_samples, 60, replace=False)
    cols = rng.choice(np.flatnonzero(ds.X[rows].var(axis=0) > 0), 90, replace=False)
    X = ds.X[np.ix_(rows, cols)]
    W = Whitener().fit(X)
    assert _identity_error(W.transform(X)) < 1e-10
    np.testing.assert_allclose(W.transform(X), _gram_oracle(X), atol=1e-10)


def test_more_samples_than_features_is_refused():
    X = np.random.default_rng(0).standard_normal((10, 4))
    with pytest.raises(ValueError, match=r"n = 10 samples > d = 4 features.*Keep at most 4 samples.*Theorem 4.4"):
        Whitener().fit(X)
    with pytest.raises(ValueError, match="n_samples <= n_features"):
        whiten_rows(X)


def test_rank_deficient_rows_are_refused():
    X = np.random.default_rng(0).standard_normal((4, 8))
    dup = np.vstack([X, X[1]])
    with pytest.raises(ValueError, match=r"has rank 4 < 5 samples.*Remove duplicated or linearly dependent"):
        Whitener().fit(dup)
    dep = np.vstack([X, X[0] - 2 * X[2]])
    with pytest.raises(ValueError, match="rank 4 < 5"):
        Whitener().fit(dep)
    with pytest.raises(ValueError, match="rank 0 < 2"):
        Whitener().fit(np.zeros((2, 3)))


def test_rank_tolerance_is_relative_and_configurable():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 6))
    nearly = np.vstack([X, X[0] + 1e-9 * rng.standard_normal(6)])
    W = Whitener().fit(nearly)  # default tolerance (~1e-15 relative) accepts it
    assert W.condition_number_ > 1e7
    with pytest.raises(ValueError, match="rank 3 < 4"):
        Whitener(rtol=1e-6).fit(nearly)
    with pytest.raises(ValueError, match="rank 3 < 4"):
        Whitener(rtol=1e-6).fit(1e6 * nearly)  # relative: scaling X changes nothing
    with pytest.raises(ValueError, match=r"`rtol` == 2.0, must be in \[0, 1\)"):
        Whitener(rtol=2.0).fit(X)


def test_bad_values_and_feature_mismatch():
    X = np.random.default_rng(0).standard_normal((3, 5))
    bad = X.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        Whitener().fit(bad)
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        Whitener().fit(bad)
    W = Whitener().fit(X)
    with pytest.raises(ValueError, match="NaN or infinite"):
        W.transform(bad)
    with pytest.raises(ValueError, match="`X` has 4 features but this Whitener was fitted with 5"):
        W.transform(np.ones((2, 4)))
    with pytest.raises(ValueError, match="must be 2-D"):
        W.transform(np.ones(5))


def test_not_fitted_error():
    with pytest.raises(NotFittedError):
        Whitener().transform(np.eye(3))
    with pytest.raises(NotFittedError):
        Whitener().matrix_


def test_clone_and_pipeline():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((15, 40)), rng.standard_normal(15)
    W = Whitener(rtol=1e-9).fit(X)
    W2 = clone(W)
    assert W2.get_params() == {"rtol": 1e-9}
    assert not hasattr(W2, "components_")
    with pytest.raises(NotFittedError):
        W2.transform(X)

    pipe = Pipeline([("scale", FunctionTransformer(lambda A: 3.0 * A)), ("whiten", Whitener()),
                     ("ridge", Ridge(alpha=1e-8, fit_intercept=False))])
    pipe.fit(X, y)
    Z = pipe[:-1].transform(X)
    assert _identity_error(Z) < 1e-10
    # whitened rows are orthonormal, so the near-interpolating ridge fit reproduces y
    np.testing.assert_allclose(pipe.predict(X), y, atol=1e-6)
    # same map on new points as a standalone Whitener fitted on the scaled rows
    X_new = rng.standard_normal((5, 40))
    np.testing.assert_allclose(pipe[:-1].transform(X_new), Whitener().fit(3 * X).transform(3 * X_new),
                               atol=1e-10)


def test_whiten_rows_and_is_whitened():
    X = np.random.default_rng(5).standard_normal((6, 10))
    Xw, W = whiten_rows(X)
    assert isinstance(W, Whitener)
    np.testing.assert_allclose(W.transform(X), Xw, atol=1e-10)
    assert is_whitened(Xw)
    assert not is_whitened(1.001 * Xw)
    assert is_whitened(1.001 * Xw, tol=1e-2)
    assert not is_whitened(np.eye(3)[:, :2])  # n > d cannot be whitened
    assert is_whitened(np.eye(3)[:2])
    with pytest.raises(ValueError, match="`tol` == -1.0, must be >= 0"):
        is_whitened(Xw, tol=-1.0)
