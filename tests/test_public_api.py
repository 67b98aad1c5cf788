"""The public API: every name of the first release still imports; records share one vocabulary; the
signature changes of the second release keep a deprecation shim."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import deepdual as dd

#: ``deepdual.__all__`` of the first release (commit 203fe61).
FIRST_RELEASE = [
    'Certificate', 'Dataset', 'DeepLinearRegressor', 'DeepReLUClassifier', 'History', 'KinksAtData', 'LayerNorm',
    'LinearSpline', 'MLP', 'NeuralCollapse', 'NeuralCollapseAccumulator', 'NoCertificateError', 'OneHot',
    'PaperBatchNorm', 'ParallelNet', 'RankOneDataset', 'ResultsStore', 'Solution', 'SplineReLURegressor', 'Split',
    'TrainingDivergedError', 'Whitener', 'alignment', 'amplitude_threshold', 'atomic_write_json',
    'batchnorm_closed_form', 'certify', 'certify_spline', 'closed_form', 'feasible_dual', 'is_whitened', 'kinks',
    'kinks_at_data', 'last_hidden_class_means', 'layer_norms', 'layer_ranks', 'linear_dual_objective',
    'linear_spline', 'load_cifar10', 'load_digits_data', 'load_metadata', 'load_mnist_data', 'load_network',
    'load_solution', 'load_whitener', 'neural_collapse', 'nuclear_norm_regression', 'numerical_rank', 'objective',
    'one_dimensional_data', 'one_hot', 'optimal_amplitude', 'penalty', 'project', 'rank_one_data', 'reproduce',
    'ridge_path_solution', 'run_sweep', 'save_network', 'save_solution', 'simplex_etf', 'spline_lasso',
    'sup_distance_to_spline', 'teacher_data', 'to_sequential', 'train', 'two_layer_breakpoints',
    'undersample_whitened', 'whiten_rows', '__version__',
]


@pytest.mark.parametrize("name", FIRST_RELEASE)
def test_first_release_names_still_import(name):
    assert name in dd.__all__
    assert getattr(dd, name) is not None


@pytest.mark.parametrize("name", sorted(set(dd.__all__) - {"__version__"}))
def test_every_public_name_resolves(name):
    obj = getattr(dd, name)
    assert obj is not None and getattr(obj, "__doc__", None), f"{name} has no docstring"


def test_the_function_closed_form_is_not_shadowed_by_a_subpackage():
    import deepdual.theorems.spline  # noqa: F401 - importing a submodule must not replace the function

    assert callable(dd.closed_form) and dd.closed_form.__name__ == "closed_form"


def _problem():
    rng = np.random.default_rng(0)
    return rng.standard_normal((12, 5)), rng.standard_normal((12, 3))


def test_records_share_objective_gap_and_relative_gap():
    X, Y = _problem()
    records = [dd.closed_form(X, Y, beta=0.5, depth=2), dd.nuclear_norm_regression(X, Y, beta=0.5),
               dd.certify(dd.closed_form(X, Y, beta=0.5, depth=2).network, X, Y, beta=0.5),
               dd.spline_lasso(X[:, 0], Y[:, 0], beta=0.1)]
    for rec in records:
        assert rec.gap == pytest.approx(rec.objective - rec.lower_bound, abs=1e-15 * abs(rec.objective))
        assert rec.relative_gap == pytest.approx(rec.gap / abs(rec.objective))
        d = rec.to_dict()
        assert d["objective"] == rec.objective and d["relative_gap"] == rec.relative_gap
    res = dd.ridge_path_solution(X, Y[:, 0], beta=0.5, depth=3)
    assert res.to_dict()["objective"] == res.objective and res.relative_gap is None


def test_beta_is_keyword_only_with_a_deprecation_shim():
    X, Y = _problem()
    y = Y[:, 0]
    new = dd.ridge_path_solution(X, y, beta=0.5, depth=3)
    with pytest.warns(FutureWarning, match=r"passing beta, depth positionally is deprecated"):
        old = dd.ridge_path_solution(X, y, 0.5, 3)
    assert old.objective == new.objective
    with pytest.warns(FutureWarning, match="beta"):
        assert dd.optimal_amplitude(2.0, 0.5, 3) == dd.optimal_amplitude(2.0, beta=0.5, depth=3)
    with pytest.warns(FutureWarning, match="beta"):
        assert dd.amplitude_threshold(0.5, 3) == dd.amplitude_threshold(beta=0.5, depth=3)
    with pytest.warns(FutureWarning, match="beta"):
        assert dd.spline_lasso(X[:, 0], y, 0.1).objective == dd.spline_lasso(X[:, 0], y, beta=0.1).objective
    with pytest.warns(FutureWarning, match="beta"):
        assert dd.nuclear_norm_regression(X, Y, 0.5).objective == dd.nuclear_norm_regression(X, Y, beta=0.5).objective
    with pytest.raises(TypeError, match="multiple values for argument 'beta'"):
        dd.ridge_path_solution(X, y, 0.5, beta=0.5, depth=3)


def test_project_takes_x_first_and_keeps_the_old_order_with_a_warning():
    X, Y = _problem()
    new = dd.project(X, Y, beta=0.5)
    with pytest.warns(FutureWarning, match=r"project\(Y, X, beta\) is deprecated"):
        old = dd.project(Y, X, 0.5)
    np.testing.assert_array_equal(old, new)
    with pytest.raises(ValueError, match="pass X first"):
        dd.project(Y[:, 0], X, beta=0.5)  # the old order with a keyword beta: a clear error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dd.project(X, Y, beta=0.5)  # the new form does not warn
    with pytest.raises(TypeError, match="missing the keyword argument `beta`"):
        dd.project(X, Y)


def test_no_closed_form_is_its_own_error_and_certify_catches_only_it():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((9, 4)), rng.standard_normal((9, 3))
    with pytest.raises(dd.NoClosedFormError, match="Theorem 3.6 needs"):
        dd.closed_form(X, Y, beta=0.5, depth=3)
    assert issubclass(dd.NoClosedFormError, ValueError)  # it is still bad input for the theorem
    net = dd.ParallelNet(4, 3, depth=3, branches=2, seed=0)
    with pytest.raises(dd.NoCertificateError, match="Theorem 3.6 needs"):
        dd.certify(net, X, Y, beta=0.5)
    with pytest.raises(ValueError, match="`beta` == -1"):  # malformed input is not turned into "no certificate"
        dd.certify(net, X, Y, beta=-1.0)


def test_closed_form_forwards_tol_and_max_iter_to_every_iterative_solver(monkeypatch):
    import deepdual.theorems.linear as linear_mod
    import deepdual.theorems.spline.network as spline_net

    seen = {}
    real_lasso, real_nuc = spline_net._lasso, linear_mod.nuclear_norm_regression

    def lasso(x, y, beta, tol, max_iter, *a, **k):
        seen["spline"] = (tol, max_iter)
        return real_lasso(x, y, beta, tol, max_iter, *a, **k)

    def nuc(X, Y, *, beta, tol, **k):
        seen["nuclear"] = (tol, k.get("max_iter"))
        return real_nuc(X, Y, beta=beta, tol=tol, **k)

    monkeypatch.setattr(spline_net, "_lasso", lasso)
    monkeypatch.setattr(linear_mod, "nuclear_norm_regression", nuc)
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, 12)
    dd.closed_form(x.reshape(-1, 1), np.sin(3 * x), beta=1e-2, depth=2, activation="relu", bias=True,
                   tol=1e-7, max_iter=77)
    X, Y = rng.standard_normal((12, 4)), rng.standard_normal((12, 3))
    dd.closed_form(X, Y, beta=0.5, depth=2, tol=1e-7, max_iter=5000)
    assert seen == {"spline": (1e-7, 77), "nuclear": (1e-7, 5000)}
    with pytest.raises(ValueError, match="`max_iter` == 0, must be >= 1"):
        dd.closed_form(X, Y, beta=0.5, depth=2, max_iter=0)
    with pytest.raises(ValueError, match="`tol` == 0.0, must be > 0"):
        dd.closed_form(X, Y, beta=0.5, depth=2, tol=0.0)
