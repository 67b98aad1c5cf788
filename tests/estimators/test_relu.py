"""DeepReLUClassifier (Theorem 4.3): API, certificate, the remedy for centred and dependent rows, digits."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import deepdual
from deepdual.data import load_digits_data, one_hot
from deepdual.estimators import DeepReLUClassifier, DependentRowsWarning


def _wide(n=9, d=20, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


def _certified(clf, X, y):
    """The certificate of the fitted network, recomputed by certify() on the kept, transformed rows."""
    rows = clf.support_
    Z = clf.network_input(X[rows])
    np.testing.assert_allclose(Z @ Z.T, np.eye(rows.size), atol=1e-8)  # the kept rows are whitened
    return deepdual.certify(clf.network_, Z, one_hot(np.asarray(y)[rows], clf.classes_).Y, beta=clf.beta)


# ------------------------------------------------------------------------------------------ the theorem
def test_string_labels_fit_training_set_and_expose_solution():
    X = _wide()
    y = np.array(["cat", "dog", "emu"] * 3)
    clf = DeepReLUClassifier(depth=3, beta=1e-3).fit(X, y)
    assert clf.classes_.tolist() == ["cat", "dog", "emu"]
    assert clf.predict(X).tolist() == y.tolist()
    assert clf.score(X, y) == 1.0
    assert clf.n_features_in_ == 20
    assert not clf.intercept_feature_ and clf.support_.tolist() == list(range(9))  # independent rows: no remedy
    sol = clf.solution_
    assert sol.theorem == "Theorem 4.3"
    assert clf.network_ is sol.network
    assert sol.gap is not None and abs(sol.gap) <= 1e-10 * max(1.0, sol.objective)
    # the certificate the user gets is the same certify() applied to the whitened data
    cert = deepdual.certify(clf.network_, sol.whitener.transform(X), one_hot(y).Y, beta=1e-3)
    assert cert.gap <= 1e-10
    assert clf.decision_function(X).shape == (9, 3)


def test_binary_decision_function_sign_matches_classes():
    X = _wide(8, 12)
    y = np.array([3, 7] * 4)
    clf = DeepReLUClassifier(depth=2, beta=1e-2).fit(X, y)
    dec = clf.decision_function(X)
    assert dec.shape == (8,)
    np.testing.assert_array_equal(np.where(dec > 0, 7, 3), clf.predict(X))


def test_not_fitted_error():
    with pytest.raises(NotFittedError):
        DeepReLUClassifier().predict(np.zeros((2, 1)))
    with pytest.raises(NotFittedError):
        DeepReLUClassifier().network_input(np.zeros((2, 1)))


@pytest.mark.parametrize("params, match", [
    ({"depth": 1}, r"`depth` == 1, must be >= 2"),
    ({"beta": -1.0}, r"`beta` == -1.0, must be >= 0"),
    ({"intercept_feature": "yes"}, r"`intercept_feature` == 'yes', must be 'auto', True or False"),
    ({"dependent_rows": "merge"}, r"`dependent_rows` == 'merge', must be one of 'drop', 'raise'"),
    ({"whiten": False, "intercept_feature": True}, r"`intercept_feature`=True needs whiten=True"),
])
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
    assert c.get_params() == {"depth": 4, "beta": 0.1, "whiten": True, "intercept_feature": "auto",
                              "dependent_rows": "drop"}
    grid = GridSearchCV(DeepReLUClassifier(), {"depth": [2, 3], "beta": [1e-3, 1e-1]}, cv=2).fit(X[:20], y[:20])
    assert grid.best_params_["depth"] in (2, 3)


# ------------------------------------------------------------------------------------------ the remedy
def test_centred_rows_get_a_constant_feature_and_every_row():
    X = _wide(12, 20, seed=3)
    Xc = X - X.mean(axis=0)
    assert np.linalg.matrix_rank(Xc) == 11  # centring costs one rank: 1ᵀXc = 0
    y = np.arange(12) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", DependentRowsWarning)  # nothing is dropped, so nothing is said
        clf = DeepReLUClassifier(depth=3, beta=1e-3).fit(Xc, y)
    assert clf.intercept_feature_ and clf.support_.size == 12
    assert clf.network_.in_features == 21 and clf.n_features_in_ == 20
    assert clf.score(Xc, y) == 1.0
    cert = _certified(clf, Xc, y)
    assert cert.gap <= 1e-10 * max(1.0, cert.objective)
    assert clf.solution_.objective == pytest.approx(cert.objective, rel=1e-12)


def test_centred_rows_without_the_remedy_keep_the_old_error():
    Xc = _wide(12, 20, seed=3)
    Xc -= Xc.mean(axis=0)
    with pytest.raises(ValueError, match="needs linearly independent samples.*rank 11 < 12"):
        DeepReLUClassifier(intercept_feature=False, dependent_rows="raise").fit(Xc, np.arange(12) % 3)
    # 'auto' adds the constant even when dropping is refused: that alone restores the rank
    clf = DeepReLUClassifier(dependent_rows="raise").fit(Xc, np.arange(12) % 3)
    assert clf.intercept_feature_ and clf.support_.size == 12


def test_duplicated_rows_are_dropped_with_a_warning_and_the_rest_is_exact():
    X = _wide(8, 20, seed=4)
    Xd = np.vstack([X, X[[1, 5]]])  # rows 8 and 9 repeat rows 1 and 5
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 1, 2])
    with pytest.warns(DependentRowsWarning, match=r"2 of 10 training rows are linearly dependent.*8 rows in "
                                                  r"`support_`.*dependent_rows='raise'"):
        clf = DeepReLUClassifier(depth=3, beta=1e-3).fit(Xd, y)
    assert not clf.intercept_feature_  # a constant cannot make duplicates independent
    kept = set(clf.support_.tolist())
    assert len(kept) == 8 and len(kept & {1, 8}) == 1 and len(kept & {5, 9}) == 1
    ref = DeepReLUClassifier(depth=3, beta=1e-3).fit(Xd[clf.support_], y[clf.support_])  # the kept rows alone
    assert clf.solution_.objective == pytest.approx(ref.solution_.objective, rel=1e-12)
    np.testing.assert_allclose(clf.decision_function(Xd), ref.decision_function(Xd), atol=1e-10)
    assert clf.score(Xd, y) == 1.0  # duplicates of kept rows with the same label come out right too
    assert _certified(clf, Xd, y).gap <= 1e-10


def test_rank_deficient_rows_keep_a_maximal_independent_set_with_every_class():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((14, 6)) @ rng.standard_normal((6, 30))  # 14 rows of rank 6 in 30 dimensions
    y = np.repeat(["a", "b"], 7)
    with pytest.warns(DependentRowsWarning, match=r"the rows span only 7 dimensions, after appending a constant"):
        clf = DeepReLUClassifier(depth=2, beta=1e-3).fit(X, y)
    assert clf.intercept_feature_  # the constant is outside the span of 6 random directions: one more row
    rows = clf.support_
    Xa = np.hstack([X, np.ones((14, 1))])
    assert rows.size == np.linalg.matrix_rank(Xa) == 7
    assert np.linalg.matrix_rank(Xa[rows]) == 7  # independent, and no other row could be added
    assert set(y[rows]) == {"a", "b"} and abs(np.sum(y[rows] == "a") - np.sum(y[rows] == "b")) <= 1
    assert _certified(clf, X, y).gap <= 1e-10


def test_dependent_rows_raise_on_request_and_a_constant_fixes_only_non_affine_dependence():
    X = _wide(4, 10)
    linear = np.vstack([X, X[0] + X[1]])  # [x0 + x1, 1] is not [x0, 1] + [x1, 1]: the constant separates it
    with pytest.raises(ValueError, match="linearly independent samples"):
        DeepReLUClassifier(intercept_feature=False, dependent_rows="raise").fit(linear, [0, 1, 0, 1, 0])
    clf = DeepReLUClassifier(dependent_rows="raise").fit(linear, [0, 1, 0, 1, 0])
    assert clf.intercept_feature_ and clf.support_.size == 5
    affine = np.vstack([X, (X[0] + X[1]) / 2])  # an affine combination stays dependent with the constant
    with pytest.raises(ValueError, match="linearly independent samples"):
        DeepReLUClassifier(dependent_rows="raise").fit(affine, [0, 1, 0, 1, 0])
    with pytest.warns(DependentRowsWarning, match="1 of 5 training rows"):
        assert DeepReLUClassifier().fit(affine, [0, 1, 0, 1, 0]).support_.size == 4


def test_n_much_larger_than_d_keeps_d_plus_one_rows_and_points_to_the_convex_program():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((300, 5))
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(DependentRowsWarning, match=r"294 of 300.*n_samples = 300 > 6 features.*ConvexReLUClassifier"):
        clf = DeepReLUClassifier(depth=2, beta=1e-3).fit(X, y)
    assert clf.support_.size == 6 and clf.intercept_feature_
    assert set(y[clf.support_]) == {0, 1}
    assert _certified(clf, X, y).gap <= 1e-10
    with pytest.raises(ValueError, match=r"needs n_samples <= n_features.*n_samples = 300 > n_features = 5 plus a "
                                         r"constant feature.*ConvexReLUClassifier"):
        DeepReLUClassifier(dependent_rows="raise").fit(X, y)
    with pytest.raises(ValueError, match=r"n_samples = 300 > n_features = 5\. "):
        DeepReLUClassifier(dependent_rows="raise", intercept_feature=False).fit(X, y)


@pytest.mark.parametrize("n, rank, kept, dropped", [(40, 39, 40, 0), (60, 51, 52, 8)])
def test_standard_scaler_pipeline_on_digits_rows(n, rank, kept, dropped):
    """The issue's pipeline: 40 digits rows lose one rank to centring, 60 rows have rank 52 (51 centred)."""
    data = load_digits_data()
    X, y = data.X[:n], np.asarray(data.labels)[:n]
    Xs = StandardScaler().fit_transform(X)
    assert np.linalg.matrix_rank(Xs) == rank
    pipe = make_pipeline(StandardScaler(), DeepReLUClassifier(depth=4, beta=0.1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe.fit(X, y)
    said = [w for w in caught if issubclass(w.category, DependentRowsWarning)]
    assert len(said) == (1 if dropped else 0)
    clf = pipe[-1]
    assert clf.intercept_feature_ and clf.support_.size == kept
    assert pipe.score(X[clf.support_], y[clf.support_]) == 1.0  # exact fit of the kept rows
    cert = _certified(clf, Xs, y)
    assert cert.gap <= 1e-10 * max(1.0, cert.objective)


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
    Xw = clf.network_input(X_tr)
    Y = one_hot(y_tr, clf.classes_).Y
    for seed in (0, 1):
        net = deepdual.ParallelNet(Xw.shape[1], 10, depth=3, branches=4 * sol.network.branches, activation="relu",
                                   seed=seed)
        hist = train(net, Xw, Y, beta=1e-3, optimizer="sgd", lr=0.01, momentum=0.9, epochs=100, progress=False)
        assert sol.objective <= hist.final_objective + 1e-12
        assert sol.objective <= deepdual.objective(net, Xw, Y, beta=1e-3) + 1e-12
