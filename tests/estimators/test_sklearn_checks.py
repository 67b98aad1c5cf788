"""scikit-learn's estimator checks on every estimator (each expected failure carries its reason)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from deepdual.estimators import (
    ConvexReLUClassifier,
    ConvexReLURegressor,
    DeepLinearRegressor,
    DeepReLUClassifier,
    SplineReLURegressor,
)

# Checks whose data break a theorem's condition. The estimator then raises a ValueError that states
# the condition; these checks are expected to fail for that reason and no other.
_ONE_FEATURE = "Theorem 4.2 (exact two-layer ReLU spline) is for 1-D inputs; this check uses several features"
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
# The convex estimators at a small deterministic budget: a few sampled patterns, no column generation (the
# time budget is never reached, so refits are identical), a short certificate.
FAST = dict(max_patterns=200, sampled_patterns=5, max_rounds=0, time_budget=60.0, certificate_budget=0.1)


def _expected_failed_checks(est):
    if isinstance(est, SplineReLURegressor):
        return {name: _ONE_FEATURE for name in _SPLINE_XFAIL}
    if isinstance(est, DeepLinearRegressor) and est.depth > 2:
        return {"check_regressor_multioutput": "Theorem 3.6 (depth > 2, several targets) needs XᵀX = I or "
                                               "XXᵀ = I; the check's X is neither"}
    return {}


@parametrize_with_checks(
    [DeepReLUClassifier(), DeepLinearRegressor(), DeepLinearRegressor(depth=3), SplineReLURegressor(),
     ConvexReLURegressor(**FAST), ConvexReLUClassifier(**FAST)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
