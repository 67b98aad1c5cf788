"""ConvexReLURegressor / ConvexReLUClassifier: what the attributes mean, checked against independent
evaluations, identities of the two-layer problem (duplicated rows, duplicated columns), training from
several seeds, and ordinary data (centred, rank-deficient, duplicated, n ≫ d)."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import deepdual
from deepdual.estimators import ConvexReLUClassifier, ConvexReLURegressor

EXACT = dict(patterns="enumerate", max_patterns=5000)


def _penalty_parts(net):
    """First-layer weights ``(m, d)``, hidden biases ``(m,)`` and output weights ``(m, K)`` of a two-layer net."""
    W1 = net.weights[0].detach().numpy()[:, :, 0]  # (m, d)
    b = net.biases[0].detach().numpy()[:, 0, 0]  # (m,)
    A = net.weights[1].detach().numpy()[:, 0, :]  # (m, K)
    return W1, b, A


def _objective_by_hand(net, X, Y, beta):
    """P(θ) = ½‖Σ_j (Xu_j + b_j)₊ a_jᵀ − Y‖² + β/2 Σ_j (‖u_j‖² + b_j² + ‖a_j‖²), written out in NumPy."""
    W1, b, A = _penalty_parts(net)
    F = np.maximum(X @ W1.T + b, 0.0) @ A
    return 0.5 * np.sum((F - Y) ** 2) + 0.5 * beta * (np.sum(W1**2) + np.sum(b**2) + np.sum(A**2)), F


def _moons(n=24, seed=0):
    from sklearn.datasets import make_moons

    return make_moons(n, noise=0.15, random_state=seed)


# ------------------------------------------------------------------------------------------ regressor
def test_regressor_attributes_mean_what_they_say():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (30, 1))
    y = np.abs(X[:, 0]) + 5.0 + 0.05 * rng.standard_normal(30)
    reg = ConvexReLURegressor(beta=1e-2, **EXACT).fit(X, y)
    assert reg.complete_ and reg.n_patterns_ > 0 and reg.n_neurons_ >= 1
    assert reg.y_mean_ == pytest.approx([y.mean()])
    P, F = _objective_by_hand(reg.network_, X, (y - y.mean())[:, None], 1e-2)
    assert reg.objective_ == pytest.approx(P, rel=1e-12)  # the objective of the centred targets
    np.testing.assert_allclose(reg.predict(X), F[:, 0] + y.mean(), atol=1e-12)
    assert reg.lower_bound_ <= reg.objective_ and reg.gap_ == reg.objective_ - reg.lower_bound_
    assert reg.gap_ <= 1e-8 * reg.objective_  # every pattern enumerated: certified optimal
    cert = reg.certificate_
    assert (cert.objective, cert.lower_bound, cert.gap) == (reg.objective_, reg.lower_bound_, reg.gap_)
    assert not cert.exact and "dual bound" in cert.method
    assert reg.score(X, y) > 0.97
    assert reg.network_.penalize_bias and float(reg.network_.out_bias.detach().abs().sum()) == 0.0


def test_regressor_no_intercept_and_several_targets():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 1))
    Y = np.column_stack([np.maximum(X[:, 0], 0), np.maximum(-X[:, 0], 0)])
    reg = ConvexReLURegressor(beta=1e-2, fit_intercept=False, **EXACT).fit(X, Y)
    assert reg.y_mean_.tolist() == [0.0, 0.0] and reg.predict(X).shape == (20, 2)
    P, F = _objective_by_hand(reg.network_, X, Y, 1e-2)
    assert reg.objective_ == pytest.approx(P, rel=1e-12)
    np.testing.assert_allclose(reg.predict(X), F, atol=1e-12)
    assert reg.lower_bound_ <= reg.objective_ and reg.score(X, Y) > 0.95


def test_duplicated_rows_are_the_problem_at_half_beta():
    """P*_β([X; X], [y; y]) = 2 P*_{β/2}(X, y): ½·2‖f − y‖² + β/2‖θ‖² = 2(½‖f − y‖² + (β/2)/2 ‖θ‖²)."""
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (12, 1))
    y = np.sin(3 * X[:, 0])
    dup = ConvexReLURegressor(beta=2e-2, **EXACT).fit(np.vstack([X, X]), np.concatenate([y, y]))
    one = ConvexReLURegressor(beta=1e-2, **EXACT).fit(X, y)
    assert dup.complete_ and one.complete_
    tol = dup.gap_ + 2 * one.gap_ + 1e-9 * dup.objective_
    assert dup.objective_ == pytest.approx(2 * one.objective_, abs=tol)


def test_rank_deficient_columns_are_the_scaled_problem():
    """Columns [x, x] give (xa + xb)₊ with ‖(a, b)‖ least for a = b: the problem of the one column √2·x."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (14, 1))
    y = np.abs(x[:, 0]) - 0.3
    twice = ConvexReLURegressor(beta=1e-2, **EXACT).fit(np.hstack([x, x]), y)
    scaled = ConvexReLURegressor(beta=1e-2, **EXACT).fit(np.sqrt(2) * x, y)
    assert np.linalg.matrix_rank(np.hstack([x, x])) == 1
    assert twice.objective_ == pytest.approx(scaled.objective_, abs=twice.gap_ + scaled.gap_ + 1e-10)
    np.testing.assert_allclose(twice.predict(np.hstack([x, x])), scaled.predict(np.sqrt(2) * x), atol=1e-5)


def test_n_much_larger_than_d_is_certified():
    rng = np.random.default_rng(4)
    X = rng.uniform(-3, 3, (200, 1))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(200)
    reg = ConvexReLURegressor(beta=0.1).fit(X, y)  # "auto": 2 columns with the bias, 400 cells, enumerated
    assert reg.complete_ and reg.n_patterns_ == 2 * 200 - 1
    assert reg.gap_ <= 1e-8 * reg.objective_
    assert reg.score(X, y) > 0.9


def test_centred_data_in_a_pipeline():
    X, labels = _moons(30, seed=1)
    y = labels * 2.0 - 1.0
    pipe = make_pipeline(StandardScaler(), ConvexReLURegressor(beta=0.05, **EXACT)).fit(X, y)
    reg = pipe[-1]
    assert reg.complete_ and reg.gap_ <= 1e-8 * reg.objective_
    assert np.mean(np.sign(pipe.predict(X)) == y) == 1.0


@pytest.mark.oracle
def test_no_trained_network_goes_below_the_certified_bound():
    """Adam from 3 seeds on the same model (penalized hidden biases, no output bias), written here."""
    X, labels = _moons(16, seed=2)
    y = labels * 2.0 - 1.0
    beta = 0.1
    reg = ConvexReLURegressor(beta=beta, fit_intercept=False, **EXACT).fit(X, y)
    assert reg.complete_
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    best = np.inf
    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        U = torch.randn(2, 30, generator=g, dtype=torch.float64, requires_grad=True)
        b = torch.randn(30, generator=g, dtype=torch.float64, requires_grad=True)
        a = (torch.randn(30, generator=g, dtype=torch.float64) / 30**0.5).requires_grad_(True)
        opt = torch.optim.Adam([U, b, a], lr=1e-2)
        for _ in range(800):
            opt.zero_grad()
            loss = 0.5 * ((torch.relu(Xt @ U + b) @ a - yt) ** 2).sum() + 0.5 * beta * (
                (U**2).sum() + (b**2).sum() + (a**2).sum())
            loss.backward()
            opt.step()
        best = min(best, float(loss.detach()))
        assert float(loss.detach()) >= reg.lower_bound_ - 1e-9
    assert best <= reg.objective_ * 1.05  # training gets near the certified optimum, not below it


# ------------------------------------------------------------------------------------------ classifier
def test_binary_classifier_fits_plus_minus_one_exactly_and_has_no_predict_proba():
    X, labels = _moons(20, seed=3)
    y = np.where(labels == 1, "upper", "lower")
    clf = ConvexReLUClassifier(beta=0.05, **EXACT).fit(X, y)
    assert clf.classes_.tolist() == ["lower", "upper"]
    t = np.where(y == "upper", 1.0, -1.0)[:, None]  # one output: −1 for classes_[0], +1 for classes_[1]
    np.testing.assert_array_equal(clf.target_matrix(y), t)
    P, F = _objective_by_hand(clf.network_, X, t, 0.05)
    assert clf.objective_ == pytest.approx(P, rel=1e-12)
    np.testing.assert_allclose(clf.decision_function(X), F[:, 0], atol=1e-12)
    assert clf.predict(X).tolist() == np.where(F[:, 0] > 0, "upper", "lower").tolist()
    assert clf.complete_ and clf.gap_ <= 1e-8 * clf.objective_  # one scalar program, every pattern: exact
    assert clf.score(X, y) == 1.0
    assert not hasattr(clf, "predict_proba")


def test_three_classes_one_hot_one_program_per_class_on_digits_rows():
    data = deepdual.load_digits_data()
    labels = np.asarray(data.labels)
    keep = np.flatnonzero(np.isin(labels, [0, 1, 7]))[:45]
    X = StandardScaler().fit_transform(data.X[keep])  # centred, rank-deficient (constant pixels)
    y = labels[keep]
    clf = ConvexReLUClassifier(beta=1.0, sampled_patterns=20, max_rounds=0, certificate_budget=0.5).fit(X, y)
    Y = (y[:, None] == clf.classes_[None, :]).astype(float)  # one-hot, one column per class
    np.testing.assert_array_equal(clf.target_matrix(y), Y)
    P, F = _objective_by_hand(clf.network_, X, Y, 1.0)
    assert clf.objective_ == pytest.approx(P, rel=1e-12)
    np.testing.assert_allclose(clf.decision_function(X), F, atol=1e-12)
    assert clf.predict(X).tolist() == clf.classes_[np.argmax(F, axis=1)].tolist()
    _, _, A = _penalty_parts(clf.network_)
    assert np.all(np.count_nonzero(A, axis=1) <= 1)  # each neuron feeds one class output
    assert not clf.complete_ and clf.lower_bound_ <= clf.objective_ and clf.gap_ >= 0
    assert clf.objective_ < 0.5 * 45  # below the zero network's ½‖Y‖²
    assert clf.score(X, y) > 0.9


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("params, match", [
    ({"beta": 0.0}, r"`beta` == 0.0, must be > 0"),
    ({"patterns": "all"}, r"`patterns` == 'all', must be one of 'auto', 'enumerate', 'sample'"),
    ({"time_budget": -1.0}, r"`time_budget` == -1.0, must be > 0"),
    ({"sampled_patterns": 0}, r"`sampled_patterns` == 0, must be >= 1"),
    ({"bias": "yes"}, r"`bias` must be True or False"),
    ({"random_state": -3}, r"`random_state` == -3, must be >= 0"),
])
def test_bad_parameters_are_named(params, match):
    X, y = _moons(10)
    with pytest.raises((ValueError, TypeError), match=match):
        ConvexReLURegressor(**params).fit(X, y.astype(float))


def test_continuous_targets_refused_by_the_classifier_and_unfitted_models():
    X, _ = _moons(10)
    with pytest.raises(ValueError, match=r"Unknown label type: 'continuous'.*ConvexReLURegressor"):
        ConvexReLUClassifier().fit(X, np.linspace(0, 1, 10))
    for est in (ConvexReLUClassifier(), ConvexReLURegressor()):
        with pytest.raises(NotFittedError):
            est.predict(X)


def test_sequential_export_keeps_the_function_but_not_the_bias_penalty():
    """The network as a plain torch Sequential computes the same outputs; read back, its biases are
    unregularized (deepdual's convention for Sequential), so its P(θ) is lower by β/2·Σb²."""
    X, labels = _moons(12, seed=4)
    y = labels * 2.0 - 1.0
    reg = ConvexReLURegressor(beta=0.1, fit_intercept=False, **EXACT).fit(X, y)
    seq = reg.network_.to_sequential()
    assert isinstance(seq, torch.nn.Sequential)
    with torch.no_grad():
        out = seq(torch.as_tensor(X)).numpy()[:, 0]
    np.testing.assert_allclose(out, reg.predict(X), atol=1e-12)
    _, b, _ = _penalty_parts(reg.network_)
    back = deepdual.objective(deepdual.from_sequential(seq), X, y, beta=0.1)
    assert back == pytest.approx(reg.objective_ - 0.05 * np.sum(b**2), rel=1e-10)


def test_certify_accepts_the_exported_sequential_and_agrees():
    """End to end from the estimator side: without biases the Sequential export is the same problem, and
    deepdual.certify (which reads plain Sequentials) certifies it as tightly as the estimator did."""
    X, labels = _moons(12, seed=4)
    y = labels * 2.0 - 1.0
    reg = ConvexReLURegressor(beta=0.1, bias=False, fit_intercept=False, **EXACT).fit(X, y)
    assert reg.complete_ and reg.gap_ <= 1e-9
    cert = deepdual.certify(reg.network_.to_sequential(), X, y, beta=0.1)
    assert cert.objective == pytest.approx(reg.objective_, rel=1e-12)
    assert cert.lower_bound <= reg.objective_ + 1e-12 and cert.gap <= 1e-8
    assert abs(cert.lower_bound - reg.lower_bound_) <= cert.gap + reg.gap_  # both bound the same P*
