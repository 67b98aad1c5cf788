"""deepdual.cli.fit: ``deepdual fit`` prints scores, objective, certificate and time; bad input exits 2."""

from __future__ import annotations

import os

import numpy as np
import pytest

from deepdual.export import load_metadata, load_solution

N, D = 40, 30


def _row(out: str, label: str) -> list[str]:
    return next(line for line in out.splitlines() if line.startswith(label)).split()


def test_fit_prints_scores_objective_certificate_and_time(fitted):
    tmp, code, out = fitted
    assert code == 0, out
    assert "task:      classification (string labels, 3 classes)" in out
    assert "30 train / 10 test rows of 40 (stratified, seed 0)" in out
    assert "Theorem 4.3" in out and "whitened inputs" in out
    assert "certificate: lower bound" in out
    header = next(line for line in out.splitlines() if "closed form" in line)
    assert "SGD (12 br.)" in header and "logistic" in header
    assert _row(out, "train accuracy")[2] == "1"  # closed form fits the training labels
    objective = _row(out, "objective")
    assert float(objective[1]) <= float(objective[2])  # closed form <= SGD
    gap = _row(out, "gap")
    assert abs(float(gap[1])) <= 1e-9 * max(1.0, float(objective[1]))
    assert all(float(t) >= 0 for t in _row(out, "time (s)")[2:])
    assert f"saved:     {'model.pt'}" in out
    meta = load_metadata(tmp / "model.pt")
    assert meta["classes"] == ["blue", "green", "red"] and len(meta["train_rows"]) == 30
    assert meta["command"] == "deepdual fit" and meta["features"] == [f"f{j}" for j in range(D)]
    assert load_solution(tmp / "model.pt").theorem == "Theorem 4.3"


@pytest.fixture
def bad_files(tmp_path, write_csv):
    rng = np.random.default_rng(0)
    data = write_csv(tmp_path / "data.csv", rng.standard_normal((N, D)), ["red", "green", "blue", "green"] * (N // 4))
    text = (tmp_path / "data.csv").read_text().splitlines()
    (tmp_path / "malformed.csv").write_text("\n".join(text[:5] + [text[5] + ",1.0,2.0"] + text[6:]) + "\n")
    bad = text[:3] + ["abc" + text[3][text[3].index(","):]] + text[4:]
    (tmp_path / "nonnumeric.csv").write_text("\n".join(bad) + "\n")
    return tmp_path, data


@pytest.mark.parametrize("argv, match", [
    (["malformed.csv", "--target", "colour"], "malformed CSV: line 6 has 33 fields but the header has 31"),
    (["data.csv", "--target", "label"], "no target column 'label'; the header has: f0, f1, colour"),
    (["nonnumeric.csv", "--target", "colour", "--test-size", "0.25"],
     "feature column 'f0' has the non-numeric value 'abc' on line 4"),
    (["data.csv", "--target", "colour", "--test-size", "0.1"], "whitening needs at most d = 30 training samples"),
    (["none.csv", "--target", "colour"], "No data file 'none.csv'"),
])
def test_bad_data_file_exits_2_and_saves_nothing(bad_files, argv, match, run_cli, expect_error, monkeypatch):
    tmp, _ = bad_files
    monkeypatch.chdir(tmp)
    line = expect_error(run_cli(["fit", *argv, "--save", "m.pt"]), match)
    assert line.startswith("deepdual fit: error: ")
    assert not (tmp / "m.pt").exists()
    assert not [p for p in os.listdir(tmp) if p.startswith(".")]  # no temp file either


def test_n_greater_than_d_says_how_to_fix(bad_files, run_cli, expect_error):
    _, data = bad_files
    line = expect_error(run_cli(["fit", data, "--target", "colour", "--test-size", "0.1"]), "whitening needs")
    assert "n = 36" in line and "--train-size 30" in line and "--test-size 0.250 or more" in line


@pytest.mark.parametrize("argv, match", [
    (["--test-size", "1.5"], "--test-size == 1.5, must be in [0, 1)"),
    (["--beta", "-1"], "--beta == -1.0, must be a finite number >= 0"),
    (["--beta", "nan"], "--beta == nan, must be a finite number >= 0"),
    (["--depth", "1"], "--depth == 1, must be >= 2"),
    (["--train-size", "0"], "--train-size == 0, must be >= 1"),
    (["--compare-sgd", "--epochs", "0"], "--compare-sgd needs --epochs >= 1 and --lr > 0"),
    (["--compare-sgd", "--lr", "0"], "--compare-sgd needs --epochs >= 1 and --lr > 0"),
    (["--sgd-branches", "0"], "--sgd-branches == 0, must be >= 1"),
    (["--save", "/nonexistent/folder/m.pt"], "--save '/nonexistent/folder/m.pt': folder '/nonexistent/folder' does"),
    (["--save", "/tmp"], "--save '/tmp' is a folder; pass a file name such as model.pt"),
    (["--task", "regression"], "--task regression needs a numeric target; this target holds strings"),
])
def test_fit_bad_arguments(bad_files, argv, match, run_cli, expect_error):
    _, data = bad_files
    expect_error(run_cli(["fit", data, "--target", "colour", *argv]), match)


def test_data_the_estimator_rejects_exit_2(tmp_path, write_csv, run_cli, expect_error):
    X = np.random.default_rng(0).standard_normal((4, 6))
    X[1] = X[0]  # duplicated rows: the whitening of Theorem 4.3 needs independent rows
    data = write_csv(tmp_path / "dup.csv", X, [0, 1, 0, 1])
    expect_error(run_cli(["fit", data, "--target", "colour", "--test-size", "0"]),
                 "Whitening the rows (X Xᵀ = I) needs linearly independent samples")


def test_npz_features_from_other_arrays_and_integer_classes(tmp_path, run_cli):
    rng = np.random.default_rng(2)
    np.savez(tmp_path / "cls.npz", a=rng.standard_normal(12), b=rng.standard_normal((12, 20)),
             digit=np.arange(12) % 3)
    code, out, err = run_cli(["fit", tmp_path / "cls.npz", "--target", "digit", "--test-size", "0"])
    assert code == 0, err
    assert "12 rows, 21 features" in out and "integer target with 3 distinct values <= 20" in out
    assert "no test rows" in out
    assert _row(out, "train accuracy")[2] == "1" and _row(out, "test accuracy")[2] == "-"


def test_regression_with_intercept_and_ridge_baseline(tmp_path, run_cli):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 10.0 + 0.01 * rng.standard_normal(50)
    np.savez(tmp_path / "reg.npz", X=X, price=y)
    code, out, err = run_cli(["fit", tmp_path / "reg.npz", "--target", "price", "--depth", "2", "--baseline"])
    assert code == 0, err
    assert "task:      regression (numeric target)" in out
    assert "40 train / 10 test rows of 50 (random, seed 0)" in out
    header = next(line for line in out.splitlines() if "closed form" in line)
    assert "ridge" in header
    test_r2 = _row(out, "test R²")
    assert float(test_r2[2]) > 0.99 and float(test_r2[3]) > 0.99


def test_diverging_sgd_is_reported_not_raised(tmp_path, run_cli):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4))
    np.savez(tmp_path / "reg.npz", X=X, price=X @ np.array([1.0, -2.0, 0.5, 0.0]) + 10.0)
    code, out, err = run_cli(["fit", tmp_path / "reg.npz", "--target", "price", "--depth", "2", "--compare-sgd",
                              "--lr", "1e3", "--epochs", "50"])
    assert code == 0, err
    assert _row(out, "objective")[2] == "diverged"
    assert _row(out, "gap")[2] == "-"  # no certificate of a diverged network
