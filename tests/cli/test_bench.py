"""deepdual.cli.bench: ``deepdual bench`` runs from a source checkout and checks its options first."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_outside_a_source_checkout_exits_2(tmp_path, monkeypatch, run_cli, expect_error):
    monkeypatch.chdir(tmp_path)
    expect_error(run_cli(["bench"]), "`deepdual bench` runs from the root of a deepdual source checkout")


@pytest.fixture
def in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the handler puts the checkout on sys.path: undone after
    monkeypatch.syspath_prepend(str(ROOT))


@pytest.mark.parametrize("argv, match", [
    (["--repeats", "0"], "--repeats == 0, must be >= 1"),
    (["--blas-threads", "0"], "--blas-threads == 0, must be >= 1"),
    (["--only", "nuclear,nope"], "--only names unknown benchmark(s) nope; choose from sgd, limit, nuclear"),
    (["--out", "README.md"], "--out 'README.md' is a file; pass a folder"),
])
def test_bad_options_exit_2(in_checkout, argv, match, run_cli, expect_error):
    expect_error(run_cli(["bench", *argv]), match)


def test_runs_the_benchmarks_of_the_checkout(in_checkout, monkeypatch, run_cli):
    import benchmarks.__main__ as bench_main

    calls = []
    monkeypatch.setattr(bench_main, "run_bench_command", lambda args: calls.append(args) or 1)
    code, _, _ = run_cli(["bench", "--only", "nuclear", "--repeats", "1", "--out", "/tmp/unused"])
    assert code == 1  # whatever the benchmarks return
    assert [(a.only, a.repeats, a.out, a.quick) for a in calls] == [("nuclear", 1, "/tmp/unused", False)]
