"""The `deepdual fit` and `deepdual certify` commands, run as a user would (subprocesses).

Each subprocess imports torch (seconds of CPU), so the subprocesses are started together and
awaited together; the remaining behaviour is tested in-process via cli.main.
"""

import contextlib
import io
import os
import subprocess
import sys

import numpy as np
import pytest

from deepdual import cli
from deepdual.export import load_metadata, load_solution

N, D = 40, 30


def _write_csv(path, X, y, names=None, target="colour"):
    names = names or [f"f{j}" for j in range(X.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(names[:2] + [target] + names[2:]) + "\n")  # target column in the middle
        for row, label in zip(X, y):
            cells = [repr(float(v)) for v in row]
            f.write(",".join(cells[:2] + [str(label)] + cells[2:]) + "\n")


def _launch(args, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "deepdual.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _collect(procs):
    out = {}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=600)
        out[name] = (p.returncode, stdout, stderr)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    labels = np.array(["red", "green", "blue", "green"] * (N // 4))
    _write_csv(tmp / "data.csv", X, labels)
    text = (tmp / "data.csv").read_text().splitlines()
    (tmp / "malformed.csv").write_text("\n".join(text[:5] + [text[5] + ",1.0,2.0"] + text[6:]) + "\n")
    bad = text[:3] + ["abc" + text[3][text[3].index(","):]] + text[4:]
    (tmp / "nonnumeric.csv").write_text("\n".join(bad) + "\n")

    # the successful fit runs in-process (its output is checked below); every other command is a
    # subprocess, all started at once
    buf = io.StringIO()
    with contextlib.chdir(tmp), contextlib.redirect_stdout(buf):
        rc = cli.main(["fit", "data.csv", "--target", "colour", "--test-size", "0.25", "--save", "model.pt",
                       "--compare-sgd", "--epochs", "30", "--baseline"])
    results = {"fit": (rc, buf.getvalue(), "")}
    commands = {
        "certify": ["certify", "model.pt", "data.csv", "--target", "colour", "--beta", "0.001"],
        "malformed": ["fit", "malformed.csv", "--target", "colour", "--save", "m1.pt"],
        "missing_target": ["fit", "data.csv", "--target", "label", "--save", "m2.pt"],
        "nonnumeric": ["fit", "nonnumeric.csv", "--target", "colour", "--test-size", "0.25", "--save", "m3.pt"],
        "n_gt_d": ["fit", "data.csv", "--target", "colour", "--test-size", "0.1", "--save", "m4.pt"],
    }
    results.update(_collect({k: _launch(v, tmp) for k, v in commands.items()}))
    return tmp, results


def _one_line_error(result, code, match):
    rc, stdout, stderr = result
    assert rc == code, (rc, stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert match in lines[0], lines[0]
    return lines[0]


def test_fit_prints_scores_objective_certificate_and_time(runs):
    tmp, res = runs
    rc, out, err = res["fit"]
    assert rc == 0, err
    assert "task:      classification (string labels, 3 classes)" in out
    assert "30 train / 10 test rows of 40" in out
    assert "Theorem 4.3" in out
    assert "certificate: lower bound" in out
    for row in ("objective", "lower bound", "gap", "train accuracy", "test accuracy", "time (s)"):
        assert any(line.startswith(row) for line in out.splitlines()), row
    header = next(line for line in out.splitlines() if "closed form" in line)
    assert "SGD (12 br.)" in header and "logistic" in header
    train_row = next(line for line in out.splitlines() if line.startswith("train accuracy"))
    assert train_row.split()[2] == "1"  # closed form fits the training labels
    objective_row = next(line for line in out.splitlines() if line.startswith("objective")).split()
    assert float(objective_row[1]) <= float(objective_row[2])  # closed form <= SGD
    meta = load_metadata(tmp / "model.pt")
    assert meta["classes"] == ["blue", "green", "red"] and len(meta["train_rows"]) == 30
    assert load_solution(tmp / "model.pt").theorem == "Theorem 4.3"


def test_certify_saved_model(runs):
    _, res = runs
    rc, out, err = res["certify"]
    assert rc == 0, err
    assert "30 training rows recorded by `deepdual fit` (of 40)" in out
    gap = float(next(line for line in out.splitlines() if line.startswith("gap:")).split()[1])
    assert abs(gap) <= 1e-9
    assert "relative gap:" in out and "method:      Theorem 4.3 (exact optimum)" in out


def test_malformed_csv(runs):
    tmp, res = runs
    _one_line_error(res["malformed"], 2, "malformed CSV: line 6 has 33 fields but the header has 31")
    assert not (tmp / "m1.pt").exists()


def test_missing_target_column(runs):
    tmp, res = runs
    _one_line_error(res["missing_target"], 2, "no target column 'label'; the header has: f0, f1, colour")
    assert not (tmp / "m2.pt").exists()


def test_non_numeric_feature(runs):
    tmp, res = runs
    _one_line_error(res["nonnumeric"], 2, "feature column 'f0' has the non-numeric value 'abc' on line 4")
    assert not (tmp / "m3.pt").exists()


def test_n_greater_than_d_with_whitening(runs):
    tmp, res = runs
    line = _one_line_error(res["n_gt_d"], 2, "whitening needs at most d = 30 training samples")
    assert "n = 36" in line and "--train-size 30" in line
    assert not (tmp / "m4.pt").exists()
    assert not [p for p in os.listdir(tmp) if p.endswith(".tmp")]


# ------------------------------------------------------------------------------------ in-process
@pytest.mark.parametrize("command", ["fit", "certify"])
def test_help_lists_options_with_defaults(command, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    expected = {"fit": ["--depth DEPTH", "(default: 3)", "--beta BETA", "(default: 0.001)", "--test-size",
                        "(default: 0.2)", "--save", "--compare-sgd", "--train-size", "--task"],
                "certify": ["--target", "--beta", "--rows", "(default: auto)"]}[command]
    for text in expected:
        assert text in out, text


def test_certify_without_certificate_exits_1_with_reason(runs, capsys):
    tmp, _ = runs
    rc = cli.main(["certify", str(tmp / "model.pt"), str(tmp / "data.csv"), "--target", "colour",
                   "--beta", "0.001", "--rows", "all"])
    assert rc == 1
    out = capsys.readouterr().out
    reason = [line for line in out.splitlines() if line.startswith("no certificate:")]
    assert len(reason) == 1 and "X Xᵀ = I" in reason[0] and "n = 40 samples > d = 30" in reason[0]


def test_certify_other_data_file_refused(runs, tmp_path, capsys):
    tmp, _ = runs
    rng = np.random.default_rng(9)
    _write_csv(tmp_path / "other.csv", rng.standard_normal((N, D)), ["red"] * N)
    rc = cli.main(["certify", str(tmp / "model.pt"), str(tmp_path / "other.csv"), "--target", "colour",
                   "--beta", "0.001"])
    assert rc == 2
    assert "not the file the model was fitted on" in capsys.readouterr().err


def test_regression_npz_fit_save_certify(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 10.0 + 0.01 * rng.standard_normal(50)
    np.savez(tmp_path / "reg.npz", X=X, price=y)
    rc = cli.main(["fit", str(tmp_path / "reg.npz"), "--target", "price", "--depth", "2", "--save",
                   str(tmp_path / "reg.pt"), "--baseline"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "task:      regression (numeric target)" in out
    test_r2 = next(line for line in out.splitlines() if line.startswith("test R²")).split()
    assert float(test_r2[2]) > 0.99
    rc = cli.main(["certify", str(tmp_path / "reg.pt"), str(tmp_path / "reg.npz"), "--target", "price",
                   "--beta", "0.001"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "centred with the fitted intercept" in out
    assert "dual feasible scaled residual (Theorem 2.4)" in out
    gap = float(next(line for line in out.splitlines() if line.startswith("gap:")).split()[1])
    assert 0 <= gap <= 1e-6


def test_npz_features_from_other_arrays_and_integer_classes(tmp_path, capsys):
    rng = np.random.default_rng(2)
    np.savez(tmp_path / "cls.npz", a=rng.standard_normal(12), b=rng.standard_normal((12, 20)),
             digit=np.arange(12) % 3)
    rc = cli.main(["fit", str(tmp_path / "cls.npz"), "--target", "digit", "--test-size", "0"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "12 rows, 21 features" in out and "integer target with 3 distinct values" in out
    assert "no test rows" in out


@pytest.mark.parametrize("argv, match", [
    (["--test-size", "1.5"], "--test-size == 1.5, must be in [0, 1)"),
    (["--beta", "-1"], "--beta == -1.0, must be a finite number >= 0"),
    (["--depth", "1"], "--depth == 1, must be >= 2"),
    (["--task", "regression"], "--task regression needs a numeric target"),
])
def test_fit_bad_arguments(runs, argv, match, capsys):
    tmp, _ = runs
    rc = cli.main(["fit", str(tmp / "data.csv"), "--target", "colour", *argv])
    assert rc == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1


def test_missing_files(tmp_path, capsys):
    assert cli.main(["fit", str(tmp_path / "none.csv"), "--target", "y"]) == 2
    assert "No data file" in capsys.readouterr().err
    (tmp_path / "d.csv").write_text("a,y\n1,2\n")
    assert cli.main(["certify", str(tmp_path / "none.pt"), str(tmp_path / "d.csv"), "--target", "y",
                     "--beta", "1"]) == 2
    assert "No model file" in capsys.readouterr().err
