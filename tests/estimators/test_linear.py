"""DeepLinearRegressor (Sections 2-3): intercept, certificate, theorem conditions."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import deepdual
from deepdual.estimators import DeepLinearRegressor


def test_not_fitted_error():
    with pytest.raises(NotFittedError):
        DeepLinearRegressor().predict(np.zeros((2, 1)))


def test_linear_regressor_intercept_and_objective_of_centred_problem():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 5))
    w = rng.standard_normal(5)
    y = X @ w + 3.0 + 0.01 * rng.standard_normal(40)
    reg = DeepLinearRegressor(depth=3, beta=1e-3).fit(X, y)
    assert reg.score(X, y) > 0.999
    assert abs(reg.intercept_ - 3.0) < 0.05
    np.testing.assert_allclose(reg.predict(X), X @ reg.coef_ + reg.intercept_, atol=1e-10)
    Xc, yc = X - X.mean(0), y - y.mean()
    assert reg.solution_.objective == pytest.approx(deepdual.objective(reg.network_, Xc, yc, beta=1e-3), rel=1e-12)
    cert = deepdual.certify(reg.network_, Xc, yc, beta=1e-3)
    assert cert.gap <= 1e-9 * max(1.0, cert.objective)


def test_linear_regressor_multioutput_depth3_condition_in_error():
    rng = np.random.default_rng(3)
    with pytest.raises(ValueError, match="Theorem 3.6 needs XᵀX = I or XXᵀ = I"):
        DeepLinearRegressor(depth=3).fit(rng.standard_normal((12, 4)), rng.standard_normal((12, 3)))
