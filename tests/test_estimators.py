"""scikit-learn estimators: API conventions, theorem conditions, and the digits comparison."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

import deepdual
from deepdual.data import load_digits_data, one_hot
from deepdual.estimators import DeepLinearRegressor, DeepReLUClassifier, SplineReLURegressor

# Checks whose data break a theorem's condition. The estimator then raises a ValueError that states
# the condition; these checks are expected to fail for that reason and no other.
_N_LE_D = ("Theorem 4.3 whitens the rows (X Xᵀ = I), so it needs n_samples <= n_features; this check "
           "fits on more samples than features")
_ONE_FEATURE = "Theorem 4.2 (exact two-layer ReLU spline) is for 1-D inputs; this check uses several features"
_CLASSIFIER_XFAIL = [
    "check_classifier_data_not_an_array", "check_classifiers_classes", "check_classifiers_one_label",
    "check_classifiers_train", "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_fit_returns_self", "check_estimators_nan_inf",
    "check_estimators_overwrite_params", "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_fit2d_predict1d", "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_supervised_y_2d",
]
_SPLINE_XFAIL = [
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object", "check_estimators_dtypes",
    "check_estimators_fit_returns_self", "check_estimators_nan_inf", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_1sample",
    "check_fit2d_predict1d", "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_regressor_data_not_an_array", "check_regressors_int",
    "check_regressors_no_decision_function", "check_regressors_train", "check_supervised_y_2d",
]


def _expected_failed_checks(est):
    if isinstance(est, DeepReLUClassifier):
        return {name: _N_LE_D for name in _CLASSIFIER_XFAIL}
    if isinstance(est, SplineReLURegressor):
        return {name: _ONE_FEATURE for name in _SPLINE_XFAIL}
    if isinstance(est, DeepLinearRegressor) and est.depth > 2:
        return {"check_regressor_multioutput": "Theorem 3.6 (depth > 2, several targets) needs XᵀX = I or "
                                               "XXᵀ = I; the check's X is neither"}
    return {}


@parametrize_with_checks(
    [DeepReLUClassifier(), DeepLinearRegressor(), DeepLinearRegressor(depth=3), SplineReLURegressor()],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------------------------------------ helpers
def _wide(n=9, d=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d))


# ------------------------------------------------------------------------------------------ classifier
def test_classifier_string_labels_fit_training_set_and_expose_solution():
    X = _wide()
    y = np.array(["cat", "dog", "emu"] * 3)
    clf = DeepReLUClassifier(depth=3, beta=1e-3).fit(X, y)
    assert clf.classes_.tolist() == ["cat", "dog", "emu"]
    assert clf.predict(X).tolist() == y.tolist()
    assert clf.score(X, y) == 1.0
    assert clf.n_features_in_ == 20
    sol = clf.solution_
    assert sol.theorem == "Theorem 4.3"
    assert clf.network_ is sol.network
    assert sol.gap is not None and abs(sol.gap) <= 1e-10 * max(1.0, sol.objective)
    # the certificate the user gets is the same certify() applied to the whitened data
    cert = deepdual.certify(clf.network_, sol.whitener.transform(X), one_hot(y).Y, beta=1e-3)
    assert cert.gap <= 1e-10
    assert clf.decision_function(X).shape == (9, 3)


def test_classifier_binary_decision_function_sign_matches_classes():
    X = _wide(8, 12)
    y = np.array([3, 7] * 4)
    clf = DeepReLUClassifier(depth=2, beta=1e-2).fit(X, y)
    dec = clf.decision_function(X)
    assert dec.shape == (8,)
    np.testing.assert_array_equal(np.where(dec > 0, 7, 3), clf.predict(X))


def test_classifier_n_greater_than_d_states_the_condition():
    X = _wide(30, 5)
    with pytest.raises(ValueError, match=r"needs n_samples <= n_features.*n_samples = 30 > n_features = 5"):
        DeepReLUClassifier().fit(X, np.arange(30) % 3)


def test_classifier_dependent_rows_refused():
    X = _wide(4, 10)
    X = np.vstack([X, X[0] + X[1]])
    with pytest.raises(ValueError, match="linearly independent samples"):
        DeepReLUClassifier().fit(X, [0, 1, 0, 1, 0])


@pytest.mark.parametrize("est", [DeepReLUClassifier(), DeepLinearRegressor(), SplineReLURegressor()])
def test_not_fitted_error(est):
    with pytest.raises(NotFittedError):
        est.predict(np.zeros((2, 1)))


@pytest.mark.parametrize("params, match", [({"depth": 1}, r"`depth` == 1, must be >= 2"),
                                           ({"beta": -1.0}, r"`beta` == -1.0, must be >= 0")])
def test_invalid_parameters_named(params, match):
    with pytest.raises(ValueError, match=match):
        DeepReLUClassifier(**params).fit(_wide(), [0, 1, 2] * 3)


def test_clone_pipeline_gridsearch():
    X = _wide(24, 40, seed=1)
    y = np.array(["a", "b", "c"] * 8)
    pipe = make_pipeline(FunctionTransformer(lambda Z: 2 * Z), DeepReLUClassifier())
    pipe.fit(X[:12], y[:12])
    assert pipe.score(X[:12], y[:12]) == 1.0
    c = clone(DeepReLUClassifier(depth=4, beta=0.1))
    assert c.get_params() == {"depth": 4, "beta": 0.1, "whiten": True}
    grid = GridSearchCV(DeepReLUClassifier(), {"depth": [2, 3], "beta": [1e-3, 1e-1]}, cv=2).fit(X[:20], y[:20])
    assert grid.best_params_["depth"] in (2, 3)


# ------------------------------------------------------------------------------------------ regressors
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


# ------------------------------------------------------------------------------------------ digits
def test_digits_objective_not_above_sgd_and_better_than_chance():
    from deepdual.training import train

    data = load_digits_data()
    labels = np.asarray(data.labels)
    X_tr, X_te, y_tr, y_te = train_test_split(data.X, labels, train_size=20, test_size=200, random_state=0,
                                              stratify=labels)
    clf = DeepReLUClassifier(depth=3, beta=1e-3).fit(X_tr, y_tr)
    acc = clf.score(X_te, y_te)
    assert acc > 0.3  # chance is 0.1
    sol = clf.solution_
    Xw = sol.whitener.transform(X_tr)
    Y = one_hot(y_tr, clf.classes_).Y
    for seed in (0, 1):
        net = deepdual.ParallelNet(64, 10, depth=3, branches=4 * sol.network.branches, activation="relu", seed=seed)
        hist = train(net, Xw, Y, beta=1e-3, optimizer="sgd", lr=0.01, momentum=0.9, epochs=100, progress=False)
        assert sol.objective <= hist.final_objective + 1e-12
        assert sol.objective <= deepdual.objective(net, Xw, Y, beta=1e-3) + 1e-12
