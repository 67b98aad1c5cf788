"""Resumable sweeps: the results store, kill -9 and resume, a Dask LocalCluster, determinism."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import deepdual
from deepdual import sweeps
from deepdual.sweeps import ResultsStore, atomic_write_json, deterministic_part, run_sweep

SMALL = {
    "kind": "closed_form",
    "grid": {"beta": [0.1, 1.0], "depth": [2, 3], "n": [8], "d": [4], "k": [1], "seed": [0, 1]},
}


# ------------------------------------------------------------------------------- results store
def test_atomic_write_json_replaces_whole_file(tmp_path):
    path = tmp_path / "record.json"
    atomic_write_json(path, {"a": 1, "x": np.arange(3)})
    assert json.loads(path.read_text()) == {"a": 1, "x": [0, 1, 2]}
    atomic_write_json(path, {"b": 2})
    assert json.loads(path.read_text()) == {"b": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]  # no temp file left behind


def test_atomic_write_json_failure_keeps_old_file(tmp_path):
    path = tmp_path / "record.json"
    atomic_write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_atomic_write_json_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_json(tmp_path / "nope" / "r.json", {})


def test_store_append_load_and_no_duplicates(tmp_path):
    store = ResultsStore(tmp_path / "s.jsonl")
    assert store.load() == [] and store.keys() == set()
    assert store.append({"key": "a", "v": 1.5})
    assert store.append({"key": "b", "v": float("nan")})
    assert not store.append({"key": "a", "v": 99})  # key stored already: not written again
    recs = store.load()
    assert [r["key"] for r in recs] == ["a", "b"] and recs[0]["v"] == 1.5 and np.isnan(recs[1]["v"])
    assert store.keys() == {"a", "b"} and len(store) == 2 and "a" in store
    with pytest.raises(TypeError, match="record"):
        store.append({"no_key": 1})


def test_store_ignores_and_repairs_trailing_partial_line(tmp_path):
    path = tmp_path / "s.jsonl"
    store = ResultsStore(path)
    store.append({"key": "a"})
    store.append({"key": "b"})
    good = path.read_bytes()
    with open(path, "ab") as fh:  # what a process killed in the middle of write() leaves
        fh.write(b'{"key": "c", "result": {"objec')
    assert [r["key"] for r in store.load()] == ["a", "b"]
    assert store.append({"key": "c", "ok": True})
    assert path.read_bytes().startswith(good)
    assert [r["key"] for r in store.load()] == ["a", "b", "c"]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_store_skips_corrupt_interior_line_with_warning(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"key": "a"}\nnot json\n{"key": "b"}\n{"key": "a"}\n')
    with pytest.warns(RuntimeWarning, match="line 2"):
        recs = ResultsStore(path).load()
    assert [r["key"] for r in recs] == ["a", "b"]


def test_store_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ResultsStore(tmp_path / "nope" / "s.jsonl")


# ------------------------------------------------------------------------------- config and keys
def test_grid_keys_are_deterministic_and_unique():
    runs = sweeps.expand_grid(sweeps.load_config(SMALL))
    assert len(runs) == 8
    keys = [r["key"] for r in runs]
    assert len(set(keys)) == 8
    assert keys == [r["key"] for r in sweeps.expand_grid(SMALL)]
    # the sleep option does not change the keys; a parameter does
    assert keys == [r["key"] for r in sweeps.expand_grid({**SMALL, "sleep": 0.5})]
    assert set(keys).isdisjoint(r["key"] for r in sweeps.expand_grid({**SMALL, "noise": 0.1}))


def test_config_from_toml_file(tmp_path):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text('kind = "closed_form"\n[grid]\nbeta = 0.5\nseed = [0, 1, 1]\n')
    runs = sweeps.expand_grid(cfg)
    assert len(runs) == 2  # scalar axis promoted to a list; repeated seeds deduplicated
    assert {r["params"]["beta"] for r in runs} == {0.5}


@pytest.mark.parametrize("config, match", [
    ({"kind": "nope"}, "`kind`"),
    ({"grid": {"betas": [1]}}, "`grid` has unknown"),
    ({"grid": {"beta": [-1.0]}}, r"`grid.beta\[0\]`"),
    ({"grid": {"depth": [1]}}, r"`grid.depth\[0\]`"),
    ({"grid": {"seed": []}}, "`grid.seed` is empty"),
    ({"grid": {"n": ["ten"]}}, r"`grid.n\[0\]`"),
    ({"train": {"epochz": 3}}, "`train` has unknown"),
    ({"typo": 1}, "`config` has unknown"),
    ("/nonexistent/sweep.toml", "No sweep config"),
    (42, "`config` must be"),
])
def test_bad_config_one_line_error(config, match):
    with pytest.raises((ValueError, TypeError, FileNotFoundError), match=match) as info:
        sweeps.load_config(config)
    assert "\n" not in str(info.value)


def test_invalid_toml_is_a_value_error(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("kind = [\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        sweeps.load_config(cfg)


# ------------------------------------------------------------------------------- local sweeps
@pytest.mark.timeout(120)
def test_small_sweep_runs_locally_and_records_environment(tmp_path):
    store = tmp_path / "results.jsonl"
    res = run_sweep(SMALL, store, n_jobs=1)
    assert (res.total, res.ran, res.skipped) == (8, 8, 0)
    assert res.failed == 0
    for rec in res.records:
        assert rec["status"] == "ok"
        r = rec["result"]
        # the closed form is optimal and certified: gap ~ 0, lower bound <= objective
        assert r["certificate"]["lower_bound"] <= r["closed_form_objective"] + 1e-9 * max(1, r["closed_form_objective"])
        assert abs(r["certificate"]["gap"]) <= 1e-7 * max(1.0, r["closed_form_objective"])
        env = rec["env"]
        for name in ("numpy", "scipy", "torch", "deepdual", "hostname", "device", "pid"):
            assert name in env
        assert env["deepdual"] == deepdual.__version__
        assert rec["seed"] == rec["params"]["seed"]
        assert rec["timing"]["started_at"] <= rec["timing"]["finished_at"]
    again = run_sweep(SMALL, store, n_jobs=1)
    assert (again.ran, again.skipped) == (0, 8)
    assert len(ResultsStore(store).load()) == 8


@pytest.mark.timeout(180)
def test_sweep_vs_sgd_is_deterministic_and_parallel(tmp_path):
    config = {"kind": "closed_form_vs_sgd", "train": {"epochs": 5},
              "grid": {"beta": [0.5], "depth": [2], "width": [3], "n": [6], "d": [3], "k": [1, 2],
                       "seed": [0]}}
    a = run_sweep(config, tmp_path / "a.jsonl", n_jobs=1)
    b = run_sweep(config, tmp_path / "b.jsonl", n_jobs=2)  # joblib worker processes
    assert a.failed == 0 and b.failed == 0 and a.total == b.total == 2
    for ra, rb in zip(a.records, b.records):
        # bit-identical apart from timestamps, timings, host and pid
        assert json.dumps(deterministic_part(ra), sort_keys=True) == json.dumps(deterministic_part(rb), sort_keys=True)
        sgd = ra["result"]["sgd"]
        assert sgd["final_objective"] <= sgd["initial_objective"]
        # weak duality: no trained network beats the certified optimum
        assert sgd["final_objective"] >= ra["result"]["certificate"]["lower_bound"] - 1e-9


def test_failed_runs_are_recorded_once(tmp_path):
    # depth-3 vector-output linear networks on Gaussian X have no closed form: recorded as errors
    config = {"kind": "closed_form", "grid": {"depth": [3], "k": [2], "n": [6], "d": [3]}}
    res = run_sweep(config, tmp_path / "s.jsonl", n_jobs=1)
    assert res.failed == 1 and res.records[0]["status"] == "error"
    assert "Theorem 3.6" in res.records[0]["result"]["error"]
    assert run_sweep(config, tmp_path / "s.jsonl", n_jobs=1).ran == 0


def test_run_sweep_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="`n_jobs`"):
        run_sweep(SMALL, tmp_path / "s.jsonl", n_jobs=0)
    with pytest.raises(TypeError, match="`scheduler`"):
        run_sweep(SMALL, tmp_path / "s.jsonl", scheduler=3)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run_sweep(SMALL, tmp_path / "missing" / "s.jsonl")


# ------------------------------------------------------------------------------- kill -9 and resume
def _complete_lines(path) -> list[bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    return raw.split(b"\n")[:-1]


@pytest.mark.timeout(300)
def test_kill_and_resume(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(
        'kind = "closed_form"\nsleep = 0.25\n'
        "[grid]\nbeta = [0.1, 0.3, 1.0]\ndepth = [2, 3]\nn = [6]\nd = [3]\nseed = [0, 1]\n"
    )
    store = tmp_path / "results.jsonl"
    total = 12
    proc = subprocess.Popen(
        [sys.executable, "-m", "deepdual.cli", "sweep", str(config), "--out", str(store), "--jobs", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
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
    killed_pid = {r["env"]["pid"] for r in recs}
    assert killed_pid == {proc.pid}

    res = run_sweep(config, store, n_jobs=1)
    assert (res.total, res.skipped, res.ran, res.failed) == (total, len(before), total - len(before), 0)
    after = _complete_lines(store)
    assert after[: len(before)] == before  # finished lines untouched, byte for byte
    assert len(after) == total
    keys = [json.loads(line)["key"] for line in after]
    assert sorted(keys) == sorted(r["key"] for r in sweeps.expand_grid(config))  # each run exactly once
    # finished runs were not redone: the resumed process executed only the missing ones
    pids = [json.loads(line)["env"]["pid"] for line in after]
    assert pids[: len(before)] == [proc.pid] * len(before)
    assert pids[len(before):] == [os.getpid()] * (total - len(before))


# ------------------------------------------------------------------------------- CLI
@pytest.mark.timeout(180)
def test_sweep_command_prints_summary(tmp_path):
    # bad configs through the CLI (exit 2, one line) are in test_hostile_inputs.py::test_hostile_command
    config = tmp_path / "sweep.toml"
    config.write_text('kind = "closed_form"\n[grid]\nbeta = [0.5]\nn = [5]\nd = [3]\n')
    out = subprocess.run([sys.executable, "-m", "deepdual.cli", "sweep", str(config), "--jobs", "1"],
                         capture_output=True, text=True, timeout=170)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["total"] == 1 and summary["ran"] == 1 and summary["failed"] == 0
    assert summary["store"] == str(tmp_path / "sweep.results.jsonl")
    assert len(ResultsStore(tmp_path / "sweep.results.jsonl").load()) == 1


# ------------------------------------------------------------------------------- Dask
@pytest.mark.timeout(240)
def test_sweep_on_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
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
    for rd, rl in zip(res.records, local.records):
        assert deterministic_part(rd) == deterministic_part(rl)


def test_unreachable_scheduler_is_a_value_error(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweeps, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(ValueError, match="`scheduler`"):
        run_sweep({"kind": "closed_form", "grid": {"n": [3], "d": [2]}}, tmp_path / "s.jsonl",
                  scheduler="tcp://127.0.0.1:9")
