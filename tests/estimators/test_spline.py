"""SplineReLURegressor (Theorem 4.2, Corollary 4.1): exact linear splines on 1-D inputs."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from deepdual.estimators import SplineReLURegressor


def test_not_fitted_error():
    with pytest.raises(NotFittedError):
        SplineReLURegressor().predict(np.zeros((2, 1)))


def test_spline_regressor_interpolates_and_is_certified():
    x = np.linspace(-1, 1, 15).reshape(-1, 1)
    y = np.sin(3 * x[:, 0])
    reg = SplineReLURegressor(beta=1e-6).fit(x, y)
    assert reg.score(x, y) > 0.999
    sol = reg.solution_
    assert sol.gap is not None and sol.gap <= 1e-8 * max(1.0, sol.objective)
    # between data points the model is linear (kinks only at data points)
    mid = (x[:-1] + x[1:]) / 2
    np.testing.assert_allclose(reg.predict(mid), (reg.predict(x[:-1]) + reg.predict(x[1:])) / 2, atol=1e-9)


def test_spline_regressor_states_one_feature_condition():
    with pytest.raises(ValueError, match="needs exactly 1 feature.*1-D inputs; got X with 2 features"):
        SplineReLURegressor().fit(np.zeros((5, 2)), np.arange(5.0))
