"""deepdual.cli.sweep: ``deepdual sweep`` prints a JSON summary; a failed run exits 1, a bad config 2."""

from __future__ import annotations

import json

import pytest

from deepdual.sweeps import ResultsStore
from deepdual.sweeps import run as sweep_run


@pytest.mark.timeout(120)
def test_sweep_command_prints_progress_and_summary(tmp_path, run_cli):
    config = tmp_path / "sweep.toml"
    config.write_text('kind = "closed_form"\n[grid]\nbeta = [0.5, 1.0]\nn = [5]\nd = [3]\n')
    code, out, err = run_cli(["sweep", config, "--jobs", "1"])
    assert code == 0, err
    summary = json.loads(out)
    store = tmp_path / "sweep.results.jsonl"  # default: next to the config
    assert summary == {"store": str(store), "total": 2, "ran": 2, "skipped": 0, "failed": 0}
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("[1/2] ") and lines[1].startswith("[2/2] ")
    assert lines[0].endswith("beta=0.5 depth=2 width=4 n=5 seed=0: ok")
    assert len(ResultsStore(store).load()) == 2
    code, out, err = run_cli(["sweep", config, "--jobs", "1", "--out", store])  # resumed: nothing to do
    assert code == 0 and json.loads(out)["skipped"] == 2 and err == ""


def test_failed_run_exits_1(tmp_path, run_cli):
    config = tmp_path / "sweep.toml"
    config.write_text('kind = "closed_form"\n[grid]\ndepth = [3]\nk = [2]\nn = [6]\nd = [3]\n')
    code, out, err = run_cli(["sweep", config, "--jobs", "1", "--out", tmp_path / "s.jsonl"])
    assert code == 1
    reason = ResultsStore(tmp_path / "s.jsonl").load()[0]["result"]["error"]
    assert "Theorem 3.6" in reason
    assert json.loads(out)["failed"] == 1 and err.rstrip().endswith(f": error ({reason})")  # the reason, not only "error"


@pytest.mark.parametrize("toml, argv, match", [
    (None, [], "No sweep config"),
    ("kind = [\n", [], "is not valid TOML"),
    ("[grid]\nbeta = [-1.0]\n", [], "`grid.beta[0]` == -1.0, must be >= 0"),
    ("[grid]\nbeta = [1.0]\n", ["--jobs", "0"], "`n_jobs` == 0, must be >= 1"),
    ("[grid]\nbeta = [1.0]\n", ["--out", "/nonexistent/s.jsonl"], "folder '/nonexistent' does not exist"),
])
def test_bad_sweep_exits_2(tmp_path, toml, argv, match, run_cli, expect_error):
    config = tmp_path / "s.toml"
    if toml is not None:
        config.write_text(toml)
    line = expect_error(run_cli(["sweep", config, *argv]), match)
    assert line.startswith("deepdual sweep: error: ")


def test_unreachable_scheduler_exits_2(tmp_path, run_cli, expect_error, monkeypatch):
    monkeypatch.setattr(sweep_run, "CONNECT_TIMEOUT", "1s")
    config = tmp_path / "s.toml"
    config.write_text("[grid]\nn = [3]\nd = [2]\n")
    expect_error(run_cli(["sweep", config, "--scheduler", "tcp://127.0.0.1:9"]),
                 "`scheduler` == 'tcp://127.0.0.1:9': cannot connect to a Dask scheduler")
    assert ResultsStore(tmp_path / "s.results.jsonl").load() == []
