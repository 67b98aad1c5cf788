"""deepdual.cli.certify: ``deepdual certify`` of a saved network; no certificate exits 1, bad input 2."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import deepdual

N, D = 40, 30


def _value(out: str, label: str) -> float:
    return float(next(line for line in out.splitlines() if line.startswith(label)).split()[-1])


@pytest.mark.timeout(120)
def test_certify_saved_model_in_a_real_process(fitted):
    tmp, code, _ = fitted
    assert code == 0
    proc = subprocess.run([sys.executable, "-m", "deepdual.cli", "certify", "model.pt", "data.csv", "--target",
                           "colour", "--beta", "0.001"], cwd=tmp, capture_output=True, text=True, timeout=110)
    out = proc.stdout
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "model:       model.pt (ParallelNet, depth 3, relu" in out and "fitted with beta = 0.001" in out
    assert "30 training rows recorded by `deepdual fit` (of 40)" in out
    assert "one-hot over the model's 3 classes; inputs mapped by the saved whitener" in out
    assert abs(_value(out, "gap:")) <= 1e-9
    assert _value(out, "lower bound:") <= _value(out, "objective:") * (1 + 1e-12)
    assert "relative gap:" in out and "method:      Theorem 4.3 (exact optimum)" in out


def test_certify_without_certificate_exits_1_with_reason(fitted, run_cli):
    tmp, _, _ = fitted
    code, out, err = run_cli(["certify", tmp / "model.pt", tmp / "data.csv", "--target", "colour", "--beta", "0.001",
                              "--rows", "all"])
    assert code == 1 and err == ""
    reason = [line for line in out.splitlines() if line.startswith("no certificate:")]
    assert len(reason) == 1 and "X Xᵀ = I" in reason[0] and "n = 40 samples > d = 30" in reason[0]


def test_certify_notes_another_beta(fitted, run_cli):
    tmp, _, _ = fitted
    code, out, _ = run_cli(["certify", tmp / "model.pt", tmp / "data.csv", "--target", "colour", "--beta", "0.01"])
    assert "note:        certifying for beta = 0.01, not the fitted beta = 0.001" in out
    assert code == 0 and _value(out, "gap:") > 0  # the beta = 0.001 optimum is not optimal for beta = 0.01


def test_certify_other_data_file_refused(fitted, tmp_path, write_csv, run_cli, expect_error):
    tmp, _, _ = fitted
    rng = np.random.default_rng(9)
    other = write_csv(tmp_path / "other.csv", rng.standard_normal((N, D)), ["red"] * N)
    expect_error(run_cli(["certify", tmp / "model.pt", other, "--target", "colour", "--beta", "0.001"]),
                 "is not the file the model was fitted on (content differs)")


def test_certify_other_columns_or_labels_refused(fitted, tmp_path, write_csv, run_cli, expect_error):
    tmp, _, _ = fitted
    rng = np.random.default_rng(9)
    fewer = write_csv(tmp_path / "fewer.csv", rng.standard_normal((N, D - 1)), ["red"] * N)
    expect_error(run_cli(["certify", tmp / "model.pt", fewer, "--target", "colour", "--beta", "0.001"]),
                 "the feature columns differ from those the model was fitted on (30 recorded, 29 in the file)")
    purple = write_csv(tmp_path / "purple.csv", rng.standard_normal((N, D)), ["purple"] * N)
    expect_error(run_cli(["certify", tmp / "model.pt", purple, "--target", "colour", "--beta", "0.001",
                          "--rows", "all"]),
                 "`labels` contains 1 label(s) not in `classes`: 'purple'")


def test_regression_npz_fit_save_certify(tmp_path, run_cli):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 10.0 + 0.01 * rng.standard_normal(50)
    np.savez(tmp_path / "reg.npz", X=X, price=y)
    code, _, err = run_cli(["fit", tmp_path / "reg.npz", "--target", "price", "--depth", "2", "--save",
                            tmp_path / "reg.pt"])
    assert code == 0, err
    code, out, err = run_cli(["certify", tmp_path / "reg.pt", tmp_path / "reg.npz", "--target", "price",
                              "--beta", "0.001"])
    assert code == 0, err
    assert "centred with the fitted intercept" in out
    assert "dual feasible scaled residual (Theorem 2.4)" in out
    assert 0 <= _value(out, "gap:") <= 1e-6


def test_bare_network(tmp_path, write_csv, run_cli, expect_error):
    """A network saved by save_network records no rows, offsets or classes."""
    rng = np.random.default_rng(3)
    net = deepdual.ParallelNet(3, 1, depth=2, branches=2, activation="linear", seed=0)
    deepdual.save_network(net, tmp_path / "net.pt")
    data = write_csv(tmp_path / "d.csv", rng.standard_normal((8, 3)), rng.standard_normal(8).round(3) + 0.5,
                     names=["a", "b", "c"], target="y")
    expect_error(run_cli(["certify", tmp_path / "net.pt", data, "--target", "y", "--beta", "0.1", "--rows", "fit"]),
                 "records no training rows (not saved by `deepdual fit --save`); pass --rows all")
    code, out, err = run_cli(["certify", tmp_path / "net.pt", data, "--target", "y", "--beta", "0.1"])
    assert code == 0 and err == ""
    assert "all 8 rows; target as given" in out and "method:      dual feasible scaled residual (Theorem 2.4)" in out
    assert 0 < _value(out, "lower bound:") < _value(out, "objective:")  # an untrained network: a large gap
    assert _value(out, "gap:") == pytest.approx(_value(out, "objective:") - _value(out, "lower bound:"), rel=1e-5)
    wide = write_csv(tmp_path / "wide.csv", rng.standard_normal((8, 4)), np.arange(8) + 0.5, target="y")
    expect_error(run_cli(["certify", tmp_path / "net.pt", wide, "--target", "y", "--beta", "0.1"]),
                 "has 4 feature columns but the network expects 3")
    labels = write_csv(tmp_path / "labels.csv", rng.standard_normal((8, 3)), ["u", "v"] * 4, target="y")
    expect_error(run_cli(["certify", tmp_path / "net.pt", labels, "--target", "y", "--beta", "0.1"]),
                 "the target gives 2 output column(s) but the network has 1 output(s)")


@pytest.mark.parametrize("model, beta, match", [
    ("none.pt", "1", "No model file"),
    ("garbage.pt", "1", "is not a model saved by deepdual"),
    ("garbage.pt", "-1", "--beta == -1.0, must be a finite number >= 0"),
])
def test_bad_model_file_or_beta(tmp_path, model, beta, match, run_cli, expect_error):
    (tmp_path / "garbage.pt").write_bytes(b"not a model")
    (tmp_path / "d.csv").write_text("a,y\n1,2\n")
    expect_error(run_cli(["certify", tmp_path / model, tmp_path / "d.csv", "--target", "y", "--beta", beta]), match)
