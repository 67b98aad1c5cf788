"""Tests of deepdual.training.train: it minimises P(θ) of eq. (2) and reaches the convex optimum.

Oracles: the two-layer linear problem (2) equals min_W ½‖XW − Y‖² + β‖W‖_* (SPEC §2), solved here
by a plain proximal-gradient loop certified by its duality gap, cross-checked with CVXPY and, when
available, with deepdual's closed form. Cross-entropy uses CVXPY and an entropy dual certificate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deepdual import MLP, ParallelNet, objective
from deepdual.theorems import closed_form
from deepdual.training import TrainingDivergedError, train

N, D, K, M = 20, 5, 3, 8
BETA = 3.0  # between σ₃ and σ₂ of XᵀY: the optimum has rank 2 < K (a genuine nuclear-norm kink)


# ------------------------------------------------------------------------------------------ oracles
def _nuclear_oracle(X, Y, beta, tol=1e-13):
    """Certified min ½‖XW − Y‖² + β‖W‖_*: proximal gradient (SVT prox) until P − D <= tol·P.

    Returns (upper, lower) with lower <= P* <= upper; the lower bound is the dual objective of the
    scaled residual Λ = R·min(1, β/σ_max(XᵀR)).
    """
    step = 1.0 / np.linalg.norm(X, 2) ** 2
    W = np.zeros((X.shape[1], Y.shape[1]))
    for _ in range(100_000):
        U, s, Vt = np.linalg.svd(W - step * X.T @ (X @ W - Y), full_matrices=False)
        W = (U * np.maximum(s - step * beta, 0.0)) @ Vt
        R = Y - X @ W
        upper = 0.5 * np.sum(R**2) + beta * np.linalg.svd(W, compute_uv=False).sum()
        lower = _linear_dual_bound(X, Y, R, beta)
        if upper - lower <= tol * upper:
            return upper, lower
    raise AssertionError("oracle did not converge")


def _linear_dual_bound(X, Y, R, beta):
    """D(Λ) = −½‖Λ − Y‖² + ½‖Y‖² at the feasible scaling of the residual R (SPEC §2)."""
    lam = R * min(1.0, beta / np.linalg.norm(X.T @ R, 2))
    return -0.5 * np.sum((lam - Y) ** 2) + 0.5 * np.sum(Y**2)


def _entropy_dual_bound(X, Y, out, beta):
    """Lower bound for min_W CE(XW, Y) + β‖W‖_* from any logits ``out``.

    Λ = c·(Y − softmax(out)) with c = min(1, β/σ_max(XᵀΛ)) is dual feasible and
    D(Λ) = −Σ_i ℓ*(−λ_i) = Σ_i H((1 − c) y_i + c p_i), the entropy of the mixed rows.
    """
    P = np.exp(out - out.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    lam = Y - P
    c = min(1.0, beta / np.linalg.norm(X.T @ lam, 2))
    Q = (1 - c) * Y + c * P
    return float(-np.sum(np.where(Q > 0, Q * np.log(np.where(Q > 0, Q, 1.0)), 0.0)))


@pytest.fixture(scope="module")
def problem(regression):
    X, Y = regression
    assert X.shape == (N, D) and Y.shape == (N, K)
    upper, lower = _nuclear_oracle(X, Y, BETA)
    return X, Y, upper, lower


def _assert_at_optimum(hist, upper, lower, rel):
    """Reached P* within ``rel`` and never below it (beyond 1e-9 relative)."""
    final = hist.final_objective
    assert final <= upper * (1 + rel), (final - upper) / upper
    assert final >= lower * (1 - 1e-9), (final - lower) / lower
    assert hist.objective.min() >= lower * (1 - 1e-9)


# ------------------------------------------------------------------------------------------ optimum
def test_oracle_is_certified_and_matches_the_closed_form(problem):
    X, Y, upper, lower = problem
    assert lower <= upper and upper - lower <= 1e-12 * upper
    assert closed_form(X, Y, beta=BETA, depth=2).objective == pytest.approx(upper, rel=1e-9)


def test_oracle_matches_cvxpy(problem):
    cp = pytest.importorskip("cvxpy")
    X, Y, upper, _ = problem
    W = cp.Variable((D, K))
    cvx = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(X @ W - Y) + BETA * cp.normNuc(W)))
    cvx.solve(solver=cp.CLARABEL)
    assert cvx.value == pytest.approx(upper, rel=1e-6)
    assert np.linalg.matrix_rank(W.value, tol=1e-6) == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lbfgs_reaches_the_global_optimum(problem, seed):
    X, Y, upper, lower = problem
    net = ParallelNet(D, K, branches=M, seed=seed)
    hist = train(net, X, Y, beta=BETA, optimizer="lbfgs", lr=1.0, epochs=10)
    _assert_at_optimum(hist, upper, lower, rel=1e-8)
    # the trained network certifies itself: its scaled residual is dual-feasible
    out = net(torch.as_tensor(X)).detach().numpy()
    bound = _linear_dual_bound(X, Y, Y - out, BETA)
    assert bound <= hist.final_objective
    assert hist.final_objective - bound <= 1e-6 * hist.final_objective


def test_gradient_descent_reaches_the_global_optimum(problem):
    X, Y, upper, lower = problem
    net = ParallelNet(D, K, branches=M, seed=1)
    hist = train(net, X, Y, beta=BETA, optimizer="gd", lr=0.01, epochs=1000)
    _assert_at_optimum(hist, upper, lower, rel=1e-6)
    # gradient descent with a small step decreases P monotonically
    assert np.all(np.diff(hist.objective) <= 1e-12 * upper)


def test_minibatch_sgd_with_momentum_gets_within_1e_3(problem):
    X, Y, upper, lower = problem
    net = ParallelNet(D, K, branches=M, seed=2)
    hist = train(net, X, Y, beta=BETA, optimizer="sgd", lr=2e-3, momentum=0.9, batch_size=5,
                 lr_schedule="cosine", epochs=100)
    _assert_at_optimum(hist, upper, lower, rel=1e-3)
    assert hist.final_objective < 0.5 * hist.initial_objective


def test_cross_entropy_reaches_the_convex_optimum(classes):
    cp = pytest.importorskip("cvxpy")
    X, Y, _ = classes
    beta = 2.0
    W = cp.Variable((X.shape[1], 3))
    Z = X @ W
    ce = cp.sum(cp.log_sum_exp(Z, axis=1)) - cp.sum(cp.multiply(Y, Z))
    cvx = cp.Problem(cp.Minimize(ce + beta * cp.normNuc(W)))
    cvx.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12, tol_ktratio=1e-10)
    lower_cvx = _entropy_dual_bound(X, Y, X @ W.value, beta)
    assert cvx.value - lower_cvx <= 1e-9 * cvx.value  # the oracle is certified

    net = ParallelNet(4, 3, branches=6, seed=0)
    hist = train(net, X, Y, beta=beta, loss="cross_entropy", optimizer="lbfgs", lr=1.0, epochs=30)
    out = net(torch.as_tensor(X)).detach().numpy()
    own_bound = _entropy_dual_bound(X, Y, out, beta)
    assert own_bound <= hist.final_objective <= own_bound * (1 + 1e-7)
    assert hist.final_objective >= lower_cvx * (1 - 1e-9)
    assert hist.final_objective == pytest.approx(cvx.value, rel=1e-6)
    assert hist.final_objective == pytest.approx(
        objective(net, X, Y, beta=beta, loss="cross_entropy"), rel=1e-12)


# ------------------------------------------------------------------------------------------ the objective
def test_penalty_is_in_the_loss_not_weight_decay(problem):
    X, Y, _, _ = problem
    net = ParallelNet(D, K, branches=M, seed=0)
    train(net, X, Y, beta=BETA, optimizer="gd", lr=0.01, epochs=1)
    opt_state = [p.detach().clone() for p in net.parameters()]
    # one manual gradient step on P from the same start gives the same weights
    ref = ParallelNet(D, K, branches=M, seed=0)
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)
    value = 0.5 * ((ref(Xt) - Yt) ** 2).sum() + 0.5 * BETA * ref.penalty()
    value.backward()
    with torch.no_grad():
        for p, q in zip(ref.parameters(), opt_state, strict=True):
            torch.testing.assert_close(p - 0.01 * p.grad, q, rtol=0, atol=1e-14)


def test_deterministic_given_seed(classes):
    X, Y, _ = classes
    runs = []
    for seed in (7, 7, 8):
        net = MLP([4, 10, 3], activation="relu", bias=True, seed=0)
        hist = train(net, X, Y, beta=0.05, optimizer="sgd", lr=5e-3, momentum=0.9, batch_size=7,
                     epochs=15, seed=seed, record="weights", record_every=5)
        runs.append((hist, net.layer_matrices()))
    (h1, w1), (h2, w2), (h3, _) = runs
    for field in ("objective", "loss", "penalty"):
        assert np.array_equal(getattr(h1, field), getattr(h2, field))
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2, strict=True))
    assert all(np.array_equal(a, b) for r1, r2 in zip(h1.records["weights"], h2.records["weights"], strict=True)
               for a, b in zip(r1, r2, strict=True))
    assert not np.array_equal(h1.objective, h3.objective)  # the seed drives the shuffling


def test_minibatch_sgd_decreases_the_objective(classes):
    X, Y, _ = classes
    net = MLP([4, 16, 3], activation="relu", seed=3)
    hist = train(net, X, Y, beta=0.01, optimizer="sgd", lr=2e-3, momentum=0.5, batch_size=8, epochs=40)
    assert hist.final_objective < 0.5 * hist.initial_objective
    assert hist.objective[-5:].mean() < hist.objective[:5].mean()


# ------------------------------------------------------------------------------------------ stopping
@pytest.mark.parametrize("optimizer", ["gd", "lbfgs"])
def test_callback_returning_true_stops_early(problem, optimizer):
    X, Y, _, _ = problem
    seen = []

    def stop_at_4(epoch, network, history):
        seen.append((epoch, len(history["objective"])))
        return epoch == 4

    net = ParallelNet(D, K, branches=M, seed=0)
    hist = train(net, X, Y, beta=BETA, optimizer=optimizer, lr=0.01 if optimizer == "gd" else 1.0,
                 epochs=50, callback=stop_at_4, record="ranks", record_every=3)
    assert seen == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert hist.epochs_run == 4 and hist.stopped_early and hist.objective.shape == (4,)
    assert hist.record_epochs == [0, 3, 4]
    assert hist.final_objective == pytest.approx(objective(net, X, Y, beta=BETA), rel=1e-13)


def test_tol_stops_when_converged(problem):
    X, Y, upper, lower = problem
    net = ParallelNet(D, K, branches=M, seed=0)
    hist = train(net, X, Y, beta=BETA, optimizer="lbfgs", lr=1.0, epochs=500, tol=1e-12)
    assert hist.stopped_early and hist.epochs_run < 100
    _assert_at_optimum(hist, upper, lower, rel=1e-8)


def test_lr_schedules(problem):
    X, Y, _, _ = problem
    frozen = train(ParallelNet(D, K, branches=M, seed=0), X, Y, beta=BETA, optimizer="gd", lr=0.01,
                   epochs=6, lr_schedule=lambda e: 1.0 if e < 2 else 0.0)
    assert frozen.objective[1] < frozen.objective[0]
    assert np.all(frozen.objective[2:] == frozen.objective[1])  # multiplier 0 from epoch index 2 on
    formulas = {"cosine": lambda e: 0.5 * (1.0 + math.cos(math.pi * e / 8)), "step": lambda e: 0.5 ** (e // 2)}
    for schedule, formula in formulas.items():
        hist = train(ParallelNet(D, K, branches=M, seed=0), X, Y, beta=BETA, optimizer="sgd", lr=0.01,
                     epochs=8, lr_schedule=schedule)
        assert hist.final_objective < hist.initial_objective
        # the named schedule is the documented multiplier of lr: the same run as the formula written out
        same = train(ParallelNet(D, K, branches=M, seed=0), X, Y, beta=BETA, optimizer="sgd", lr=0.01,
                     epochs=8, lr_schedule=formula)
        assert np.array_equal(hist.objective, same.objective)
        assert hist.settings["lr_schedule"] == schedule and same.settings["lr_schedule"] == "<lambda>"


# ------------------------------------------------------------------------------------------ variants
@pytest.mark.parametrize("kind", ["mlp", "parallel"])
def test_lbfgs_with_batchnorm(classes, kind):
    X, Y, _ = classes
    if kind == "mlp":
        net = MLP([4, 8, 3], activation="relu", bias=True, batchnorm=True, seed=0)
    else:
        net = ParallelNet(4, 3, depth=3, branches=4, hidden=3, activation="relu", batchnorm=True, seed=0)
    hist = train(net, X, Y, beta=0.05, optimizer="lbfgs", lr=1.0, epochs=6)
    assert np.all(np.isfinite(hist.objective))
    assert hist.final_objective < 0.5 * hist.initial_objective
    assert hist.final_objective == pytest.approx(objective(net, X, Y, beta=0.05), rel=1e-12)
    # the stored batch statistics are those of the full training set
    Xt = torch.as_tensor(X)
    with torch.no_grad():
        train_mode = net(Xt)
        net.eval()
        torch.testing.assert_close(net(Xt), train_mode, rtol=1e-10, atol=1e-10)


def test_float32_network_keeps_its_dtype_and_history_is_float64(problem):
    X, Y, _, _ = problem
    net = ParallelNet(D, K, branches=M, seed=0, dtype=torch.float32, batchnorm=True, activation="relu")
    net.eval()
    hist = train(net, X, Y, beta=BETA, optimizer="sgd", lr=1e-2, momentum=0.5, epochs=20, batch_size=6)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert hist.objective.dtype == np.float64 and not net.training  # mode restored
    net64 = ParallelNet(D, K, branches=M, batchnorm=True, activation="relu")
    net64.load_state_dict(net.state_dict())
    assert hist.final_objective == pytest.approx(objective(net64.train(), X, Y, beta=BETA), rel=1e-13)


@pytest.mark.parametrize("optimizer", ["gd", "sgd", "adam"])
def test_float32_network_trains_full_batch(problem, optimizer):
    # Regression: full-batch first-order steps on a float32 network crashed (split(None)).
    X, Y, _, _ = problem
    net = ParallelNet(D, K, branches=M, seed=0, dtype=torch.float32)
    hist = train(net, X, Y, beta=BETA, optimizer=optimizer, lr=1e-2, epochs=5)
    assert hist.epochs_run == 5 and hist.final_objective < hist.initial_objective
    assert all(p.dtype == torch.float32 for p in net.parameters())
    net64 = ParallelNet(D, K, branches=M)
    net64.load_state_dict(net.state_dict())
    assert hist.final_objective == pytest.approx(objective(net64, X, Y, beta=BETA), rel=1e-13)


def test_accepts_tensors_and_explicit_cpu(problem):
    X, Y, _, _ = problem
    net = ParallelNet(D, K, branches=M, seed=0)
    hist = train(net, torch.as_tensor(X), torch.as_tensor(Y), beta=BETA, device="cpu",
                 optimizer="gd", lr=0.01, epochs=3)
    ref = train(ParallelNet(D, K, branches=M, seed=0), X, Y, beta=BETA, optimizer="gd", lr=0.01, epochs=3)
    assert np.array_equal(hist.objective, ref.objective)
    assert hist.settings["device"] == "cpu"


def test_no_progress_bar_unless_asked(problem, capsys):
    X, Y, _, _ = problem
    train(ParallelNet(D, K, branches=M, seed=0), X, Y, beta=BETA, epochs=300, optimizer="gd", lr=0.01)
    assert capsys.readouterr().err == ""
    train(ParallelNet(D, K, branches=M, seed=0), X, Y, beta=BETA, epochs=3, progress=True)
    assert "train" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("optimizer, kwargs", [
    ("gd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"batch_size": 5}),
])
def test_divergence_raises_and_restores_finite_parameters(problem, optimizer, kwargs):
    X, Y, _, _ = problem
    net = ParallelNet(D, K, branches=M, seed=0)
    match = r"diverged at epoch \d+.*lr=1000\. Lower `lr` \(e\.g\. lr=100\)"
    with pytest.raises(TrainingDivergedError, match=match) as info:
        train(net, X, Y, beta=BETA, optimizer=optimizer, lr=1e3, epochs=500, **kwargs)
    assert isinstance(info.value, ValueError) and info.value.epoch >= 1
    assert all(torch.isfinite(p).all() for p in net.parameters())
    assert math.isfinite(objective(net, X, Y, beta=BETA))


def test_divergence_at_initialization_restores_nothing(problem):
    X, Y, _, _ = problem
    net = ParallelNet(D, K, branches=M, seed=0)
    before = [p.detach().clone() for p in net.parameters()]
    match = r"diverged at initialization: the objective P\(θ\) became inf with lr=0.5"
    with pytest.raises(TrainingDivergedError, match=match) as info:
        train(net, X, Y, beta=1e308, lr=0.5, epochs=3)
    assert info.value.epoch == 0 and info.value.lr == 0.5 and "restored" not in str(info.value)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True)) and net.training


def _bad(problem_data, **overrides):
    X, Y = problem_data
    args = {"X": X, "Y": Y, "beta": BETA}
    args.update(overrides)
    return args


@pytest.mark.parametrize("overrides, exc, match", [
    ({"X": "nan"}, ValueError, r"`X` contains 1 NaN"),
    ({"Y": "nan"}, ValueError, r"`Y` contains 1 NaN"),
    ({"Y": "short"}, ValueError, r"`X` has 20 rows but `Y` has 19"),
    ({"X": "wide"}, ValueError, r"`X` has 6 features but the network expects 5"),
    ({"Y": "cols"}, ValueError, r"`Y` has 2 columns but the network has 3 outputs"),
    ({"beta": -1.0}, ValueError, r"`beta` == -1.0, must be >= 0"),
    ({"lr": 0.0}, ValueError, r"`lr` == 0.0, must be > 0"),
    ({"lr": -1e-3}, ValueError, r"`lr` == -0.001, must be > 0"),
    ({"optimizer": "rmsprop"}, ValueError, r"`optimizer` == 'rmsprop', must be one of"),
    ({"optimizer": "gd", "batch_size": 4}, ValueError, r"optimizer='gd' is full-batch; `batch_size` must be None"),
    ({"optimizer": "lbfgs", "batch_size": 4}, ValueError, r"optimizer='lbfgs' is full-batch"),
    ({"optimizer": "adam", "momentum": 0.9}, ValueError, r"`momentum` == 0.9 is only used by optimizer='sgd'"),
    ({"momentum": 1.0}, ValueError, r"`momentum` == 1.0, must be < 1"),
    ({"epochs": 0}, ValueError, r"`epochs` == 0, must be >= 1"),
    ({"epochs": 2.5}, TypeError, r"`epochs` must be an integer"),
    ({"batch_size": 0}, ValueError, r"`batch_size` == 0, must be >= 1"),
    ({"record": "rank"}, ValueError, r"`record` == 'rank', must be one of"),
    ({"record": ["ranks", "ranks"]}, ValueError, r"`record` asks for 'ranks' twice"),
    ({"record": [3]}, TypeError, r"`record` entries must be names or callables"),
    ({"record_every": 0}, ValueError, r"`record_every` == 0, must be >= 1"),
    ({"lr_schedule": "linear"}, ValueError, r"`lr_schedule` == 'linear', must be one of"),
    ({"loss": "hinge"}, ValueError, r"`loss` == 'hinge', must be one of"),
    ({"loss": "cross_entropy"}, ValueError, r"loss='cross_entropy' needs target rows `Y` that are probability"),
    ({"tol": 0.0}, ValueError, r"`tol` == 0.0, must be > 0"),
    ({"callback": 3}, TypeError, r"`callback` must be callable"),
    ({"seed": -1}, ValueError, r"`seed` == -1, must be >= 0"),
    ({"device": "tpu9"}, ValueError, r"`device` == 'tpu9' is not a torch device"),
])
def test_bad_arguments_raise_clear_errors(problem, overrides, exc, match):
    X, Y, _, _ = problem
    X, Y = X.copy(), Y.copy()
    X[3, 1] = np.nan if overrides.get("X") == "nan" else X[3, 1]
    Y[0, 0] = np.nan if overrides.get("Y") == "nan" else Y[0, 0]
    special = {"nan": None, "wide": np.hstack([X, X[:, :1]]), "short": Y[:-1], "cols": Y[:, :2]}
    overrides = dict(overrides)
    for key, default in (("X", X), ("Y", Y)):
        value = overrides.get(key)
        if isinstance(value, str):
            overrides[key] = default if special[value] is None else special[value]
    args = _bad((X, Y), **overrides)
    net = ParallelNet(D, K, branches=M, seed=0)
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(exc, match=match):
        train(net, args.pop("X"), args.pop("Y"), epochs=args.pop("epochs", 2), **args)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))  # untouched


def test_not_a_network_raises():
    with pytest.raises(TypeError, match=r"`network` must be a deepdual ParallelNet or MLP, got Linear"):
        train(torch.nn.Linear(3, 1), np.ones((4, 3)), np.ones(4), beta=0.1)


def test_batchnorm_needs_batches_of_two(classes):
    X, Y, _ = classes
    net = MLP([4, 8, 3], batchnorm=True, seed=0)
    with pytest.raises(ValueError, match=r"`batch_size` == 1: batch normalization needs batches of >= 2"):
        train(net, X, Y, beta=0.1, batch_size=1)
    # 30 = 29 + 1: the trailing single sample joins the previous batch, never normalized alone
    hist = train(net, X, Y, beta=0.1, batch_size=29, lr=1e-3, epochs=3)
    assert np.all(np.isfinite(hist.objective))


def test_cuda_requested_without_cuda(problem, monkeypatch):
    X, Y, _, _ = problem
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device='cuda' requested but CUDA is not available"):
        train(ParallelNet(D, K, branches=M), X, Y, beta=BETA, device="cuda")
    with pytest.raises(ValueError, match=r"device='cuda:0' requested but CUDA is not available"):
        train(ParallelNet(D, K, branches=M), X, Y, beta=BETA, device=torch.device("cuda:0"))


def test_data_on_another_device_raises(problem):
    X, Y, _, _ = problem
    Xm = torch.empty(N, D, dtype=torch.float64, device="meta")
    net = ParallelNet(D, K, branches=M)
    with pytest.raises(ValueError, match=r"`X` is on device 'meta' but training runs on 'cpu' \(the network's devic"):
        train(net, Xm, Y, beta=BETA)
    with pytest.raises(ValueError, match=r"`Y` is on device 'meta' but training runs on 'cpu' \(`device`\)"):
        train(net, X, torch.empty(N, K, device="meta"), beta=BETA, device="cpu")


def test_lr_schedule_must_return_a_nonnegative_number(problem):
    X, Y, _, _ = problem
    with pytest.raises(ValueError, match=r"`lr_schedule` returned -0.5 for epoch index 0; it must return"):
        train(ParallelNet(D, K, branches=M), X, Y, beta=BETA, lr_schedule=lambda e: -0.5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_matches_cpu(problem):  # pragma: no cover - runs where a GPU exists
    X, Y, upper, lower = problem
    cpu = train(ParallelNet(D, K, branches=M, seed=0), X, Y, beta=BETA, optimizer="lbfgs", lr=1.0, epochs=10)
    net = ParallelNet(D, K, branches=M, seed=0)
    gpu = train(net, X, Y, beta=BETA, optimizer="lbfgs", lr=1.0, epochs=10, device="cuda")
    assert next(net.parameters()).is_cuda and gpu.settings["device"].startswith("cuda")
    _assert_at_optimum(gpu, upper, lower, rel=1e-8)
    assert gpu.final_objective == pytest.approx(cpu.final_objective, rel=1e-10)
    with pytest.raises(ValueError, match=r"`X` is on device 'cpu' but training runs on 'cuda"):
        train(net, torch.as_tensor(X), Y, beta=BETA)


def test_training_leaves_the_global_rng_alone(problem):
    X, Y, _, _ = problem
    torch.manual_seed(123)
    expected = torch.randn(3)
    net = ParallelNet(D, K, branches=M, seed=0)
    torch.manual_seed(123)
    train(net, X, Y, beta=BETA, batch_size=5, epochs=3, record=["ranks", "weights"])
    assert torch.equal(torch.randn(3), expected)
