"""``deepdual fit --model``: the two-layer convex program where the theorems do not apply, with its
certified gap printed and checked against the saved network; option errors exit 2."""

from __future__ import annotations

import numpy as np
import pytest

import deepdual
from deepdual.export import load_metadata, load_solution

BUDGETS = ["--time-budget", "20", "--certificate-budget", "2"]


def _row(out: str, label: str) -> list[str]:
    return next(line for line in out.splitlines() if line.startswith(label)).split()


def _line(out: str, start: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(start))


@pytest.fixture
def xor_csv(tmp_path, write_csv):
    """60 rows, 2 features, labels by quadrant: n ≫ d, so Theorem 4.3 cannot take it."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 2))
    labels = np.where(X[:, 0] * X[:, 1] > 0, "same", "diff")
    return write_csv(tmp_path / "xor.csv", X, labels), X, labels


def test_classification_n_greater_than_d_with_the_convex_program(xor_csv, tmp_path, run_cli):
    data, X, labels = xor_csv
    code, out, err = run_cli(["fit", data, "--target", "colour", "--model", "convex", "--beta", "0.1",
                              "--test-size", "0.25", "--save", tmp_path / "m.pt", *BUDGETS])
    assert code == 0, err
    assert "model:     two-layer ReLU network" in out and "hidden biases regularized" in out
    assert "every activation pattern (exact program)" in out  # 2 features + bias: the arrangement is enumerated
    cert = _line(out, "certificate:")
    assert "the gap bounds P(θ) − P* over two-layer ReLU networks of any width" in cert
    header = next(line for line in out.splitlines() if line.startswith(" ") and "convex program" in line)
    assert header.split() == ["convex", "program"]
    objective, lower, gap = (float(_row(out, k)[-1]) for k in ("objective", "lower bound", "gap"))
    assert 0 <= lower <= objective and gap == pytest.approx(objective - lower, abs=1e-5 * objective)
    assert gap <= 1e-6 * objective  # two classes: one ±1 program on every pattern, certified optimal
    assert float(_row(out, "train accuracy")[-1]) > 0.9
    # the saved network and its metadata reproduce the printed objective on the training rows
    meta = load_metadata(tmp_path / "m.pt")
    assert meta["model"] == "convex" and meta["x_offset"] is None and meta["classes"] == ["diff", "same"]
    assert meta["target_encoding"] == "sign"  # one output: −1 for classes[0], +1 for classes[1]
    sol = load_solution(tmp_path / "m.pt")
    rows = np.asarray(meta["train_rows"])
    Y = np.where(labels[rows] == "same", 1.0, -1.0)[:, None]  # two classes: ±1, "same" = classes_[1]
    assert deepdual.objective(sol.network, X[rows], Y, beta=0.1) == pytest.approx(objective, rel=1e-6)


def test_auto_uses_the_convex_program_only_where_the_theorem_fails(xor_csv, run_cli):
    data, _, _ = xor_csv
    code, out, err = run_cli(["fit", data, "--target", "colour", "--model", "auto", "--beta", "0.1", *BUDGETS])
    assert code == 0, err
    assert "--model auto: 48 training rows > 2 features, Theorem 4.3 needs n <= d" in out
    code, out, err = run_cli(["fit", data, "--target", "colour", "--model", "auto", "--train-size", "2",
                              "--test-size", "0.5"])
    assert code == 0, err
    assert "Theorem 4.3" in _line(out, "model:") and "closed form" in out


def test_regression_centres_the_target_and_compares_sgd(tmp_path, run_cli):
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (50, 1))
    np.savez(tmp_path / "reg.npz", X=X, price=np.abs(X[:, 0]) + 10.0)
    code, out, err = run_cli(["fit", tmp_path / "reg.npz", "--target", "price", "--model", "convex", "--beta",
                              "0.01", "--compare-sgd", "--epochs", "50", "--lr", "1e-3", *BUDGETS])
    assert code == 0, err
    assert "output offset = mean target 1" in out  # ≈ 11
    assert float(_row(out, "test R²")[2]) > 0.95
    header = next(line for line in out.splitlines() if line.startswith(" ") and "convex program" in line)
    assert "SGD" in header
    objective, sgd_objective = float(_row(out, "objective")[1]), float(_row(out, "objective")[2])
    lower = float(_row(out, "lower bound")[2])
    assert lower == float(_row(out, "lower bound")[3])  # the program's bound on P* is the SGD net's bound too
    assert sgd_objective >= lower and objective <= sgd_objective


@pytest.mark.parametrize("argv, match", [
    (["--model", "convex", "--depth", "3"], "--model convex fits a two-layer network; --depth == 3"),
    (["--model", "convex", "--beta", "0"], "--model convex needs --beta > 0"),
    (["--model", "convex", "--time-budget", "0"], "--time-budget == 0.0, must be a finite number > 0"),
    (["--model", "auto", "--certificate-budget", "nan"], "--certificate-budget == nan, must be a finite number > 0"),
    (["--model", "auto", "--depth", "3"], "--model auto chose the two-layer convex program (48 training rows > 2"),
])
def test_bad_model_options_exit_2(xor_csv, run_cli, expect_error, argv, match):
    data, _, _ = xor_csv
    expect_error(run_cli(["fit", data, "--target", "colour", *argv]), match)


def test_closed_form_error_names_the_convex_program(xor_csv, run_cli, expect_error):
    data, _, _ = xor_csv
    line = expect_error(run_cli(["fit", data, "--target", "colour"]), "whitening needs at most d = 2")
    assert "or --model convex" in line


def test_certify_reads_the_sign_encoding_of_a_two_class_convex_model(xor_csv, tmp_path, run_cli):
    """`deepdual certify` of a saved two-class convex model used to fail ("2 output columns but the network
    has 1"): the saved `target_encoding` 'sign' maps the labels to one ±1 column, as `fit` did."""
    data, X, labels = xor_csv
    code, out, err = run_cli(["fit", data, "--target", "colour", "--model", "convex", "--beta", "0.1",
                              "--save", tmp_path / "m.pt", *BUDGETS])
    assert code == 0, err
    fit_objective = float(_row(out, "objective")[-1])
    code, out, err = run_cli(["certify", tmp_path / "m.pt", data, "--target", "colour", "--beta", "0.1",
                              "--time-budget", "5"])
    assert code == 0, err
    assert "target ±1 for the model's classes 'diff' / 'same'" in out
    objective = float(_line(out, "objective:").split()[-1])
    lower = float(_line(out, "lower bound:").split()[-1])
    assert objective == pytest.approx(fit_objective, rel=1e-6)
    assert 0 <= lower <= objective and "(time budget 5 s)" in _line(out, "seconds:")
