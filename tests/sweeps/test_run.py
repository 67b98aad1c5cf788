"""deepdual.sweeps.run: one run, local and Dask executors, run_sweep, kill -9 and resume, determinism."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import distributed
import pytest

import deepdual
from deepdual.sweeps import ResultsStore, deterministic_part, execute_run, expand_grid, run_sweep
from deepdual.sweeps import run as sweep_run

SMALL = {
    "kind": "closed_form",
    "grid": {"beta": [0.1, 1.0], "depth": [2, 3], "n": [8], "d": [4], "k": [1], "seed": [0, 1]},
}


# ------------------------------------------------------------------------------- one run
def test_execute_run_record():
    run = expand_grid({"kind": "closed_form", "grid": {"n": [6], "d": [3]}})[0]
    rec = execute_run(run)
    assert set(rec) == {"key", "params", "seed", "status", "result", "env", "timing"}
    assert rec["key"] == run["key"] and rec["params"] == run["params"] and rec["status"] == "ok"
    r = rec["result"]
    assert r["theorem"] and r["ranks"] and r["closed_form_objective"] > 0
    assert r["certificate"]["lower_bound"] <= r["closed_form_objective"] * (1 + 1e-9)
    env = rec["env"]
    assert env["packages"]["deepdual"] == deepdual.__version__
    assert {"numpy", "scipy", "torch"} <= set(env["packages"])
    assert (env["device"], env["torch_threads"], env["pid"]) == ("cpu", 1, os.getpid())
    assert rec["timing"]["started_at"] <= rec["timing"]["finished_at"] and rec["timing"]["seconds"] >= 0
    assert set(deterministic_part(rec)) == {"key", "params", "seed", "status", "result"}


def test_a_run_that_raises_is_recorded_not_raised():
    run = expand_grid({"activation": "relu", "grid": {"n": [5], "d": [3]}})[0]  # whitened_classes needs n <= d
    rec = execute_run(run)
    assert rec["status"] == "error"
    assert rec["result"] == {"error": "ValueError: data='whitened_classes' needs n <= d (whitened rows); got n = 5, "
                                      "d = 3."}


# ------------------------------------------------------------------------------- local sweeps
@pytest.mark.timeout(120)
def test_small_sweep_runs_locally_and_records_environment(tmp_path):
    store = tmp_path / "results.jsonl"
    seen = []
    res = run_sweep(SMALL, store, n_jobs=1, progress=lambda rec, done, todo: seen.append((rec["key"], done, todo)))
    assert (res.total, res.ran, res.skipped, res.failed) == (8, 8, 0, 0)
    assert res.summary() == {"store": str(store), "total": 8, "ran": 8, "skipped": 0, "failed": 0}
    assert [s[1:] for s in seen] == [(i, 8) for i in range(1, 9)]
    assert [r["key"] for r in res.records] == [r["key"] for r in expand_grid(SMALL)]  # grid order
    for rec in res.records:
        assert rec["status"] == "ok"
        r = rec["result"]
        # the closed form is optimal and certified: gap ~ 0, lower bound <= objective
        assert r["certificate"]["lower_bound"] <= r["closed_form_objective"] + 1e-9 * max(1, r["closed_form_objective"])
        assert abs(r["certificate"]["gap"]) <= 1e-7 * max(1.0, r["closed_form_objective"])
        assert rec["env"]["packages"]["deepdual"] == deepdual.__version__
        assert rec["seed"] == rec["params"]["seed"]
    again = run_sweep(SMALL, store, n_jobs=1)
    assert (again.ran, again.skipped) == (0, 8)
    assert [deterministic_part(r) for r in again.records] == [deterministic_part(r) for r in res.records]
    assert len(ResultsStore(store).load()) == 8


@pytest.mark.timeout(180)
def test_sweep_vs_sgd_is_deterministic_and_parallel(tmp_path):
    config = {"kind": "closed_form_vs_sgd", "train": {"epochs": 5},
              "grid": {"beta": [0.5], "depth": [2], "width": [3], "n": [6], "d": [3], "k": [1, 2],
                       "seed": [0]}}
    a = run_sweep(config, tmp_path / "a.jsonl", n_jobs=1)
    b = run_sweep(config, tmp_path / "b.jsonl", n_jobs=2)  # joblib worker processes
    assert a.failed == 0 and b.failed == 0 and a.total == b.total == 2
    assert {r["env"]["pid"] for r in b.records}.isdisjoint({os.getpid()})
    for ra, rb in zip(a.records, b.records, strict=True):
        # bit-identical apart from timestamps, timings, host and pid
        assert json.dumps(deterministic_part(ra), sort_keys=True) == json.dumps(deterministic_part(rb), sort_keys=True)
        sgd = ra["result"]["sgd"]
        assert sgd["epochs_run"] == 5
        assert sgd["final_objective"] <= sgd["initial_objective"]
        # weak duality: no trained network beats the certified optimum
        assert sgd["final_objective"] >= ra["result"]["certificate"]["lower_bound"] - 1e-9
        assert sgd["gap_to_closed_form"] >= -1e-9
        assert sgd["certificate_gap"] >= -1e-9  # the trained two-layer linear net has a certificate


def test_failed_runs_are_recorded_once(tmp_path):
    # depth-3 vector-output linear networks on Gaussian X have no closed form: recorded as errors
    config = {"kind": "closed_form", "grid": {"depth": [3], "k": [2], "n": [6], "d": [3]}}
    res = run_sweep(config, tmp_path / "s.jsonl", n_jobs=1)
    assert res.failed == 1 and res.records[0]["status"] == "error"
    assert "Theorem 3.6" in res.records[0]["result"]["error"]
    again = run_sweep(config, tmp_path / "s.jsonl", n_jobs=1)
    assert (again.ran, again.skipped, again.failed) == (0, 1, 1)


def test_run_sweep_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="`n_jobs` == 0, must be >= 1"):
        run_sweep(SMALL, tmp_path / "s.jsonl", n_jobs=0)
    with pytest.raises(TypeError, match="`scheduler` must be an address string or a distributed.Client"):
        run_sweep(SMALL, tmp_path / "s.jsonl", scheduler=3)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run_sweep(SMALL, tmp_path / "missing" / "s.jsonl")
    with pytest.raises(ValueError, match="`kind`"):
        run_sweep({"kind": "nope"}, tmp_path / "s.jsonl")
    assert not (tmp_path / "s.jsonl").exists()  # nothing ran


# ------------------------------------------------------------------------------- kill -9 and resume
def _complete_lines(path) -> list[bytes]:
    """The complete record lines of a store (after its header line)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    return raw.split(b"\n")[1:-1]


@pytest.mark.timeout(300)
def test_kill_and_resume(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(
        'kind = "closed_form"\nsleep = 0.25\n'
        "[grid]\nbeta = [0.1, 0.3, 1.0]\ndepth = [2, 3]\nn = [6]\nd = [3]\nseed = [0, 1]\n"
    )
    store = tmp_path / "results.jsonl"
    total = 12
    code = textwrap.dedent(f"""
        from deepdual.sweeps import run_sweep
        run_sweep({str(config)!r}, {str(store)!r}, n_jobs=1)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while len(_complete_lines(store)) < 3:
            assert proc.poll() is None, f"sweep exited early: {proc.communicate()}"
            assert time.monotonic() < deadline, "sweep stored no runs in time"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # kill -9 the sweep (and anything it started)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = _complete_lines(store)
    assert 3 <= len(before) < total, "the sweep should have been killed part way"
    with open(store, "ab") as fh:  # and as if the kill had hit a write: a partial trailing line
        fh.write(b'{"key": "0123456789abcdef", "status": "o')

    # the store is not corrupted: every complete line is a valid record, keys unique
    recs = ResultsStore(store).load()
    assert len(recs) == len(before)
    assert len({r["key"] for r in recs}) == len(recs)
    assert {r["env"]["pid"] for r in recs} == {proc.pid}

    res = run_sweep(config, store, n_jobs=1)
    assert (res.total, res.skipped, res.ran, res.failed) == (total, len(before), total - len(before), 0)
    after = _complete_lines(store)
    assert after[: len(before)] == before  # finished lines untouched, byte for byte
    assert len(after) == total
    keys = [json.loads(line)["key"] for line in after]
    assert sorted(keys) == sorted(r["key"] for r in expand_grid(config))  # each run exactly once
    # finished runs were not redone: the resumed process executed only the missing ones
    pids = [json.loads(line)["env"]["pid"] for line in after]
    assert pids[: len(before)] == [proc.pid] * len(before)
    assert pids[len(before):] == [os.getpid()] * (total - len(before))


# ------------------------------------------------------------------------------- Dask
@pytest.mark.timeout(240)
def test_sweep_on_dask_local_cluster(tmp_path):
    config = {"kind": "closed_form",
              "grid": {"beta": [0.1, 1.0], "depth": [2, 3], "n": [6], "d": [3], "seed": [0]}}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster:
        res = run_sweep(config, tmp_path / "dask.jsonl", scheduler=cluster.scheduler_address)
        assert (res.total, res.ran, res.failed) == (4, 4, 0)
        assert {r["env"]["pid"] for r in res.records}.isdisjoint({os.getpid()})  # ran on the workers
        again = run_sweep(config, tmp_path / "dask.jsonl", scheduler=cluster.scheduler_address)
        assert (again.ran, again.skipped) == (0, 4)
    local = run_sweep(config, tmp_path / "local.jsonl", n_jobs=1)
    for rd, rl in zip(res.records, local.records, strict=True):
        assert deterministic_part(rd) == deterministic_part(rl)


def test_unreachable_scheduler_is_a_value_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_run, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(ValueError, match=r"`scheduler` == 'tcp://127.0.0.1:9': cannot connect to a Dask scheduler"):
        run_sweep({"kind": "closed_form", "grid": {"n": [3], "d": [2]}}, tmp_path / "s.jsonl",
                  scheduler="tcp://127.0.0.1:9")
    assert ResultsStore(tmp_path / "s.jsonl").load() == []
