"""Shared data of the command tests: a CSV writer, and one classification fit saved once per worker."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from deepdual import cli

#: Rows and features of the classification data (n > d, so the fit needs a held-out part).
N, D = 40, 30


def _write_csv(path, X, y, names=None, target="colour"):
    """A CSV with the target column in the middle (third column)."""
    names = names or [f"f{j}" for j in range(X.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(names[:2] + [target] + names[2:]) + "\n")
        for row, label in zip(X, y, strict=True):
            cells = [repr(float(v)) for v in row]
            f.write(",".join(cells[:2] + [str(label)] + cells[2:]) + "\n")
    return str(path)


@pytest.fixture
def write_csv():
    return _write_csv


@pytest.fixture
def run_cli(capsys):
    """``run_cli(argv) -> (exit code, stdout, stderr)`` through :func:`deepdual.cli.main`, in this process."""

    def run(argv):
        capsys.readouterr()
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def fitted(tmp_path_factory):
    """``(folder, exit code, stdout)`` of ``deepdual fit data.csv --save model.pt --compare-sgd --baseline``."""
    tmp = tmp_path_factory.mktemp("fitted")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    labels = np.array(["red", "green", "blue", "green"] * (N // 4))
    _write_csv(tmp / "data.csv", X, labels)
    buf = io.StringIO()
    with contextlib.chdir(tmp), contextlib.redirect_stdout(buf):
        code = cli.main(["fit", "data.csv", "--target", "colour", "--test-size", "0.25", "--save", "model.pt",
                         "--compare-sgd", "--epochs", "30", "--baseline"])
    return tmp, code, buf.getvalue()


def one_line_error(result, match: str, code: int = 2) -> str:
    """Check the error contract: exit ``code``, one line on stderr naming ``match``, no traceback."""
    rc, out, err = result
    assert rc == code, (rc, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    assert match in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def expect_error():
    return one_line_error
