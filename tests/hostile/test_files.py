"""Hostile files under the library (issue 13, files half): results stores, sweep configs, reproduce
folders and records, the atomic writer, data files.

Every case ends in a clear one-line error naming the file (and the field), or in a correct result;
never a hang, a NaN, a traceback from deep inside, or a changed file that deepdual did not write.
Whenever a call may write, the test snapshots the folder first and checks afterwards that every
file it was not asked to write is byte-identical and that a refused call added nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from _hostile import assert_untouched, snapshot

import deepdual as dd
from deepdual import _io
from deepdual.cli import UsageError
from deepdual.cli import tables as tables_mod
from deepdual.cli.tables import read_table
from deepdual.experiments import get
from deepdual.experiments import runner as runner_mod
from deepdual.experiments._common import claim, record
from deepdual.experiments.runner import check_out_folder, check_record, record_checksum, reproduce
from deepdual.sweeps import ResultsStore, expand_grid, load_config, run_sweep
from deepdual.sweeps import check_record as check_sweep_record
from deepdual.sweeps import run as sweep_run

HEADER = '{"format": "deepdual-sweep-results", "version": 1}\n'
TINY = {"kind": "closed_form", "grid": {"n": [5], "d": [3]}}
TWO = {"kind": "closed_form", "grid": {"n": [5], "d": [3], "seed": [0, 1]}}


# ------------------------------------------------------------------------------------------ helpers
def one_line(exc: BaseException, *needles: str) -> str:
    msg = str(exc)
    assert msg and "\n" not in msg.strip(), msg
    for n in needles:
        assert n in msg, (n, msg)
    return msg


def _store_with(tmp_path, config=TINY) -> Path:
    """A valid store holding every run of ``config``."""
    path = tmp_path / "s.jsonl"
    run_sweep(config, path, n_jobs=1)
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


# ================================================================================ results stores
FOREIGN = {
    "csv": b"name,age\nalice,3\nbob,4\n",
    "csv-no-final-newline": b"name,age\nalice,3\nbob,4",  # the issue: its last line was deleted
    "other-jsonl": b'{"key": "abc", "loss": 0.5}\n{"key": "def", "loss": 0.25}\n',  # another tool's JSON lines
    "json-object": b'{"format": "something-else", "version": 1}\n',
    "newer-store": b'{"format": "deepdual-sweep-results", "version": 99}\n',
    "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "one-word": b"hello",
}


@pytest.mark.parametrize("content", list(FOREIGN.values()), ids=list(FOREIGN))
def test_store_refuses_a_file_that_is_not_ours(tmp_path, content):
    path = tmp_path / "users.csv"
    path.write_bytes(content)
    before = snapshot(tmp_path)
    with pytest.raises(ValueError) as info:
        run_sweep(TINY, path, n_jobs=1)
    one_line(info.value, "users.csv", "not a deepdual results store")
    assert_untouched(before, snapshot(tmp_path))  # not even a lock file


@pytest.mark.parametrize("header, needle", [
    ('{"format": "deepdual-sweep-results", "version": 99}', "it has store version 99; this deepdual reads up to 1"),
    ('{"format": "deepdual-sweep-results", "version": "1"}', "its header has no valid version ('1')"),
    ('{"format": "deepdual-sweep-results"}', "its header has no valid version (None)"),
])
def test_store_header_versions(tmp_path, header, needle):
    path = tmp_path / "s.jsonl"
    path.write_text(header + "\n")
    with pytest.raises(ValueError) as info:
        ResultsStore(path)
    one_line(info.value, needle)


def test_store_replaced_by_a_foreign_file_between_appends(tmp_path):
    """The store re-checks its header under the lock before every append."""
    path = tmp_path / "s.jsonl"
    store = ResultsStore(path)
    assert store.append({"key": "a"})
    path.write_text("name,age\nalice,3\n")
    with pytest.raises(ValueError, match="not a deepdual results store"):
        store.append({"key": "b"})
    assert path.read_text() == "name,age\nalice,3\n"


def test_store_refuses_the_config_itself(tmp_path):
    """``--out`` = the config: even an empty config (valid TOML, all defaults) is never written into."""
    for text in ('kind = "closed_form"\n[grid]\nn = [5]\nd = [3]\n', ""):
        config = tmp_path / "small.toml"
        config.write_text(text)
        before = snapshot(tmp_path)
        with pytest.raises(ValueError) as info:
            run_sweep(config, config, n_jobs=1)
        one_line(info.value, "small.toml", "is the sweep config itself")
        assert_untouched(before, snapshot(tmp_path))


def test_store_refuses_a_link_to_the_config(tmp_path):
    config = tmp_path / "small.toml"
    config.write_text("")
    (tmp_path / "out.jsonl").symlink_to(config)
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match="is the sweep config itself"):
        run_sweep(config, tmp_path / "out.jsonl", n_jobs=1)
    assert_untouched(before, snapshot(tmp_path))


def test_store_refuses_a_folder_a_device_a_fifo_and_a_read_only_store(tmp_path):
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    store = _store_with(tmp_path)
    os.chmod(store, 0o444)
    before = snapshot(tmp_path)
    for path, error, needle in ((tmp_path / "dir", IsADirectoryError, "is a folder"),
                                (tmp_path / "fifo", ValueError, "not a regular file"),  # reading it would block
                                ("/dev/null", ValueError, "not a regular file"),
                                (store, PermissionError, "read-only")):
        with pytest.raises(error) as info:
            run_sweep(TWO, path, n_jobs=1)
        one_line(info.value, needle)
    assert_untouched(before, snapshot(tmp_path))


def test_store_through_a_link(tmp_path):
    """A link to a store of ours is followed (the store grows, the link stays); a link to a foreign file is refused."""
    store = _store_with(tmp_path)
    (tmp_path / "link.jsonl").symlink_to(store)
    res = run_sweep(TWO, tmp_path / "link.jsonl", n_jobs=1)
    assert (res.ran, res.skipped) == (1, 1)
    assert (tmp_path / "link.jsonl").is_symlink() and len(ResultsStore(store).load()) == 2
    (tmp_path / "notes.txt").write_text("my notes\n")
    (tmp_path / "notes.jsonl").symlink_to(tmp_path / "notes.txt")
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match="not a deepdual results store"):
        run_sweep(TINY, tmp_path / "notes.jsonl", n_jobs=1)
    assert_untouched(before, snapshot(tmp_path))


@pytest.mark.parametrize("content", [b"", HEADER.encode()[:17]], ids=["empty-file", "header-cut-by-a-crash"])
def test_store_that_is_empty_or_holds_a_cut_header_is_ours(tmp_path, content):
    path = tmp_path / "s.jsonl"
    path.write_bytes(content)
    res = run_sweep(TINY, path, n_jobs=1)
    assert res.ran == 1 and res.failed == 0
    header, line = _lines(path)
    assert header + "\n" == HEADER and json.loads(line)["status"] == "ok"


def _tamper(line: str, how: str) -> str:
    rec = json.loads(line)
    if how == "status-bogus":
        rec["status"] = "BOGUS"
    elif how == "nan-objective":
        return json.dumps({**rec, "result": {**rec["result"], "closed_form_objective": float("nan")}})
    elif how == "infinity-in-env":
        return line.replace('"cpu_count": ', '"cpu_count": Infinity, "x": ')
    elif how == "params-edited":
        rec["params"]["beta"] = 5.0  # the key no longer is the hash of the parameters
    elif how == "extra-field":
        rec["note"] = "added by hand"
    elif how == "field-removed":
        del rec["result"]
    elif how == "wrong-type":
        rec["result"]["closed_form_objective"] = "0.1"
    elif how == "ranks-bool":
        rec["result"]["ranks"] = [True]
    elif how == "list":
        return json.dumps([rec])
    elif how == "truncated":
        return line[: len(line) // 2]
    elif how == "deeply-nested":
        return '{"key": "' + rec["key"] + '", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    elif how == "not-utf8":
        return line[:10] + "\udcff" + line[10:]
    return json.dumps(rec)


TAMPERS = ["status-bogus", "nan-objective", "infinity-in-env", "params-edited", "extra-field", "field-removed",
           "wrong-type", "ranks-bool", "list", "truncated", "deeply-nested", "not-utf8"]


@pytest.mark.parametrize("how", TAMPERS)
def test_tampered_record_is_recomputed_with_a_warning(tmp_path, how):
    """A record that fails validation is skipped with one warning naming the file, the line and the field;
    its run is executed again and appended; every earlier byte of the store is kept."""
    path = _store_with(tmp_path)
    header, line = _lines(path)
    bad = _tamper(line, how)
    path.write_bytes((header + "\n" + bad + "\n").encode("utf-8", "surrogateescape"))
    kept = path.read_bytes()
    with pytest.warns(RuntimeWarning) as caught:
        res = run_sweep(TINY, path, n_jobs=1)
    messages = {str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)}
    assert len(messages) == 1, messages  # once, not once per read
    (msg,) = messages
    one_line(Exception(msg), str(path), "line 2", "recomputed")
    assert (res.ran, res.skipped, res.failed) == (1, 0, 0)
    assert path.read_bytes().startswith(kept)  # append-only: the damaged line is left, never rewritten
    (rec,) = res.records
    check_sweep_record(rec)  # the record in use is valid
    assert rec["status"] == "ok"


@pytest.mark.parametrize("how, field", [("status-bogus", "'status'"), ("nan-objective", "result.closed_form_objective"),
                                        ("params-edited", "'key'"), ("extra-field", "note"),
                                        ("wrong-type", "result.closed_form_objective"), ("ranks-bool", "result.ranks"),
                                        ("infinity-in-env", "record.env.cpu_count")])
def test_check_record_names_the_field(tmp_path, how, field):
    path = _store_with(tmp_path)
    bad = json.loads(_tamper(_lines(path)[1], how))
    with pytest.raises(ValueError) as info:
        check_sweep_record(bad)
    one_line(info.value, field)


def test_a_run_with_a_nan_result_is_an_error_not_ok(monkeypatch):
    """A run whose numbers overflow is recorded as an error naming the field, never stored as ``ok``."""
    real = sweep_run._compute

    def overflowing(params, timing):
        out = real(params, timing)
        return {**out, "closed_form_objective": float("inf")}

    monkeypatch.setattr(sweep_run, "_compute", overflowing)
    rec = sweep_run.execute_run(expand_grid(TINY)[0])
    assert rec["status"] == "error"
    assert "result.closed_form_objective" in rec["result"]["error"] and "finite" in rec["result"]["error"]
    check_sweep_record(rec)


@pytest.mark.timeout(120)
def test_two_concurrent_sweeps_into_one_store(tmp_path):
    """Two processes, one new store: one header, every run exactly once, every line a valid record."""
    config = tmp_path / "s.toml"
    config.write_text('kind = "closed_form"\nsleep = 0.05\n[grid]\nn = [5]\nd = [3]\nseed = [0, 1, 2, 3, 4, 5]\n')
    store = tmp_path / "s.jsonl"
    code = f"from deepdual.sweeps import run_sweep; run_sweep({str(config)!r}, {str(store)!r}, n_jobs=1)"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(2)]
    errs = [p.communicate(timeout=110)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    header, *lines = _lines(store)
    assert header + "\n" == HEADER
    keys = [json.loads(line)["key"] for line in lines]
    assert sorted(keys) == sorted(r["key"] for r in expand_grid(config))  # each run once
    for line in lines:
        check_sweep_record(json.loads(line))


def test_interrupted_append_leaves_a_store_that_resumes(tmp_path):
    """A kill in the middle of a write leaves a partial line; the next sweep truncates only that."""
    path = _store_with(tmp_path, TWO)
    good = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"key": "0123456789abcdef", "status": "o')
    assert len(ResultsStore(path).load()) == 2
    res = run_sweep(TWO, path, n_jobs=1)
    assert (res.ran, res.skipped) == (0, 2) and path.read_bytes() == good


# ================================================================================ sweep configs
def _config(tmp_path, content: bytes | str, name="s.toml") -> Path:
    p = tmp_path / name
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return p


@pytest.mark.parametrize("content, needle", [
    (b"\xff\xfe\x00k\x00i\x00n\x00d", "is not UTF-8 text"),
    (b"\x00\x01\x02binary", "is not valid TOML"),
    ("a = " + "[" * 50_000, "nests arrays or tables too deeply"),
    ("[grid]\nn = [" + "9" * 400 + "]\n", "`grid.n[0]`"),
    ("[grid]\nn = [10000000]\nd = [1000]\n", "lower grid.n, grid.d or grid.k"),
    ("[grid]\nbeta = [nan]\n", "`grid.beta[0]` == nan"),
    ("[grid]\nbeta = [inf]\n", "`grid.beta[0]` == inf"),
    ("[grid]\ndepth = [1000000]\n", "`grid.depth[0]` == 1000000"),
    ("[grid]\nseed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\nbeta = [" + ", ".join(["0.1"] * 20) + "]\nn = ["
     + ", ".join(str(i) for i in range(1, 1001)) + "]\n", "combinations"),
    ("sleep = 1e300\n", "`sleep` == 1e+300, must be <= 3600"),
    ("beta = 1\nbeta = 2\n", "is not valid TOML"),
    ('kind = "closed_form_vs_sgd"\n[train]\noptimizer = "bogus"\n', "`train.optimizer` == 'bogus'"),
    ('kind = "closed_form_vs_sgd"\n[train]\nlr = nan\n', "`train.lr` == nan"),
    ('kind = "closed_form_vs_sgd"\n[train]\nepochs = 2.5\n', "`train.epochs` must be an integer"),
    ('kind = "closed_form_vs_sgd"\n[train]\noptimizer = "lbfgs"\nbatch_size = 4\n', "full-batch"),
    ('kind = "closed_form_vs_sgd"\n[train]\noptimizer = "adam"\nmomentum = 0.9\n', "`train.momentum` == 0.9"),
    ('name = 3\n', "`name` must be a string"),
    ('kind = "closed_form_vs_sgd"\n[grid]\nwidth = [100000]\ndepth = [4]\n', "lower grid.width or grid.depth"),
    ("[grid]\nbeta = {a = 1}\n", "`grid.beta[0]`"),
], ids=["utf16", "binary", "deeply-nested", "huge-int", "huge-data", "nan-beta", "inf-beta", "huge-depth",
        "huge-grid", "huge-sleep", "duplicate-key", "train-optimizer", "train-lr-nan", "train-epochs-float",
        "train-batch-full-batch", "train-momentum-adam", "name-int", "huge-network", "axis-table"])
def test_hostile_config_is_refused_before_any_run(tmp_path, content, needle):
    config = _config(tmp_path, content)
    before = snapshot(tmp_path)
    with pytest.raises((ValueError, TypeError)) as info:
        run_sweep(config, tmp_path / "s.jsonl", n_jobs=1)
    one_line(info.value, needle)
    assert_untouched(before, snapshot(tmp_path))  # no store, no lock file


def test_config_that_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "fifo.toml")  # reading it would block forever
    (tmp_path / "dir.toml").mkdir()
    for name in ("fifo.toml", "dir.toml"):
        with pytest.raises(ValueError) as info:
            load_config(tmp_path / name)
        one_line(info.value, name, "not a regular file")


def test_config_too_large(tmp_path):
    config = _config(tmp_path, "# " + "x" * (1 << 20) + "\n")
    with pytest.raises(ValueError) as info:
        load_config(config)
    one_line(info.value, "more than the 1048576 a sweep config may have")


@pytest.mark.parametrize("content", ["\ufeffkind = 'closed_form'\r\n[grid]\r\nn = [5]\r\nd = [3]\r\n", ""],
                         ids=["bom-crlf", "empty"])
def test_config_with_a_bom_crlf_or_nothing_works(tmp_path, content):
    cfg = load_config(_config(tmp_path, content))
    assert cfg["kind"] == "closed_form"


# ================================================================================ reproduce folders and records
def _fake_compute(config, progress=None):
    claims = [claim("A", "first", 1e-12, True, "≤ 1e-6"), claim("B", "second", 0.5, True, "≥ 0"),
              claim("C", "third", 2.0, True, "≥ 1")]
    return record("fig2a", "Fake fig2a", "A fast stand-in.", config, claims, {"x": [1.0, 2.0]}, 0.01)


@pytest.fixture
def fake_fig2a(monkeypatch):
    """fig2a computes in a millisecond and its plot is a few bytes (the runner is under test, not the figure)."""
    calls = []

    def compute(config, progress=None):
        calls.append(config)
        return _fake_compute(config)

    monkeypatch.setattr(get("fig2a"), "compute", compute)
    monkeypatch.delattr(get("fig2a"), "units")  # computed as a whole, by the compute above
    monkeypatch.setattr(runner_mod, "_save_plot", lambda mod, rec, path: _io.atomic_write(path, b"\x89PNG fake"))
    return calls


def _run(out, **kw):  # jobs=1: computed in this process, where the fixture's patches apply
    return reproduce(out, size="tiny", only="fig2a", progress=False, **{"jobs": 1, **kw})


def _rewrite(path: Path, edit):
    """Apply ``edit`` to the record at ``path``: it changes the record in place (returns None) or returns
    what to write instead (text, or another JSON value)."""
    rec = json.loads(path.read_text())
    out = edit(rec)
    path.write_text(out if isinstance(out, str) else json.dumps(rec if out is None else out))


RECORD_TAMPERS = {
    "claim-removed": (lambda r: r["claims"].pop() and None, "field 'checksum' does not match"),
    "status-bogus": (lambda r: r["claims"][0].update(status="BOGUS"), "claims[0].status"),
    "claims-missing": (lambda r: r.pop("claims") and None, "has no field(s) 'claims'"),
    "claims-empty": (lambda r: r.update(claims=[]), "'claims' is empty"),
    "empty-list": (lambda r: [], "JSON list"),
    "nan-literal": (lambda r: json.dumps(r).replace('"value": 0.5', '"value": NaN'), "NaN"),
    "huge-number": (lambda r: json.dumps(r).replace('"value": 0.5', '"value": 1e999'), "1e999"),
    "truncated": (lambda r: json.dumps(r)[:100], "not a valid JSON record"),
    "other-tool": (lambda r: {"loss": [0.1, 0.2], "epoch": 3}, "has no field"),
    "extra-field": (lambda r: r.update(injected="x"), "'injected'"),
    "other-experiment": (lambda r: r.update(name="fig1"), "field 'name'"),
    "config-edited": (lambda r: r["config"].update(n=1), "config_hash"),
    "plots-escape": (lambda r: r.update(plots=["../../etc/passwd"]), "'plots'"),
    "value-string": (lambda r: r["claims"][1].update(value="0.5"), "claims[1].value"),
    "no-checksum": (lambda r: r.pop("checksum") and None, "has no field(s) 'checksum'"),
    "deeply-nested": (lambda r: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
}


@pytest.mark.parametrize("how", list(RECORD_TAMPERS))
def test_tampered_reproduce_record_is_recomputed_with_a_warning(tmp_path, fake_fig2a, how):
    """The issue: claims removed or status BOGUS gave exit 0 with fewer PASS and no warning; `[]` crashed
    every rerun with AttributeError. Now each is recomputed, with a warning naming the file and field."""
    out = tmp_path / "rep"
    first = _run(out)
    assert first["summary"]["PASS"] == 3 and len(fake_fig2a) == 1
    path = out / "records" / "fig2a.json"
    edit, field = RECORD_TAMPERS[how]
    _rewrite(path, edit)
    with pytest.warns(RuntimeWarning) as caught:
        again = _run(out)
    (msg,) = [str(w.message) for w in caught]
    one_line(Exception(msg), str(path), field, "recomputing fig2a")
    assert again["ran"] == ["fig2a"] and again["summary"] == first["summary"]  # all 3 PASS again
    check_record(json.loads(path.read_text()), "fig2a")  # the rewritten record is whole
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _run(out)["reused"] == ["fig2a"]  # and now reused silently


def test_record_for_another_configuration_is_recomputed_silently(tmp_path, fake_fig2a):
    out = tmp_path / "rep"
    _run(out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _run(out, seed=1)["ran"] == ["fig2a"]  # a new seed: not damage, no warning


def test_record_checksum_covers_every_field(tmp_path, fake_fig2a):
    _run(tmp_path / "rep")
    rec = json.loads((tmp_path / "rep" / "records" / "fig2a.json").read_text())
    assert rec["checksum"] == record_checksum(rec)
    rec["data"]["x"][0] = 1.5
    with pytest.raises(ValueError, match="'checksum' does not match"):
        check_record(rec, "fig2a")


@pytest.mark.parametrize("name, content", [("index.html", "<html>my page</html>"),
                                           ("results.json", '{"my": "results"}'),
                                           ("fig2a.png", "my picture"),
                                           ("records/fig2a.json", '{"my": "record"}')])
def test_reproduce_refuses_a_folder_with_files_it_did_not_write(tmp_path, fake_fig2a, name, content):
    out = tmp_path / "mine"
    (out / "records").mkdir(parents=True)
    (out / name).write_text(content)
    before = snapshot(tmp_path)
    with pytest.raises(ValueError) as info:
        _run(out)
    one_line(info.value, name, "did not write")
    assert_untouched(before, snapshot(tmp_path))
    assert fake_fig2a == []  # checked before any work


def test_reproduce_refuses_special_files_in_place_of_its_outputs(tmp_path, fake_fig2a):
    out = tmp_path / "rep"
    _run(out)
    os.remove(out / "records" / "fig2a.json")
    (out / "records" / "fig2a.json").mkdir()
    with pytest.raises(ValueError, match="'records/fig2a.json', which is not a regular file"):
        _run(out)
    os.rmdir(out / "records" / "fig2a.json")
    os.mkfifo(out / "index.html.tmp")  # unrelated special file: ignored
    os.remove(out / "index.html")
    os.mkfifo(out / "index.html")
    with pytest.raises(ValueError, match="'index.html', which is not a regular file"):
        _run(out)


def test_reproduce_refuses_a_file_named_records(tmp_path, fake_fig2a):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "records").write_text("my records")
    before = snapshot(tmp_path)
    with pytest.raises(ValueError) as info:
        _run(out)
    one_line(info.value, "holds a file 'records'")
    assert_untouched(before, snapshot(tmp_path))


def test_reproduce_into_a_folder_with_other_files_keeps_them(tmp_path, fake_fig2a):
    out = tmp_path / "project"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / "fig1.png").write_bytes(b"not ours, but not written either (only fig2a runs)")
    before = snapshot(tmp_path)
    res = _run(out)
    assert res["summary"]["PASS"] == 3
    written = {"project/index.html", "project/results.json", "project/fig2a.png", "project/records",
               "project/records/fig2a.json"}
    assert_untouched(before, snapshot(tmp_path), allowed=written)
    assert json.loads((out / "results.json").read_text())["format"] == "deepdual-report"
    assert '<meta name="generator" content="deepdual reproduce">' in (out / "index.html").read_text()
    check_out_folder(str(out), ["fig1", "fig2a"])  # now a report folder of ours


def test_interrupted_reproduce_leaves_no_partial_files(tmp_path, fake_fig2a, monkeypatch):
    out = tmp_path / "rep"
    _run(out)
    before = snapshot(tmp_path)

    def interrupted(config, progress=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(get("fig2a"), "compute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(out, seed=3)  # a new configuration: recomputed, then interrupted
    assert_untouched(before, snapshot(tmp_path))  # the old record and report are intact, no temp files


def test_reproduce_out_is_the_cifar_folder(tmp_path, fake_fig2a):
    cifar = tmp_path / "cifar"
    cifar.mkdir()
    (cifar / "data_batch_1").write_bytes(b"batch")
    before = snapshot(tmp_path)
    with pytest.raises(ValueError) as info:
        _run(cifar, cifar_dir=str(cifar))
    one_line(info.value, "is the CIFAR-10 folder")
    assert_untouched(before, snapshot(tmp_path))


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (2**40, ValueError), (1.5, TypeError), ("0", TypeError)])
def test_reproduce_seed_is_checked_before_any_work(tmp_path, fake_fig2a, seed, error):
    with pytest.raises(error) as info:
        _run(tmp_path / "rep", seed=seed)
    one_line(info.value, "`seed`")
    assert not (tmp_path / "rep").exists()


# ================================================================================ the atomic writer
def test_atomic_write_refuses_folders_specials_and_read_only_files(tmp_path):
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    ro = tmp_path / "ro.txt"
    ro.write_text("precious")
    os.chmod(ro, 0o444)
    before = snapshot(tmp_path)
    for name, error in (("dir", IsADirectoryError), ("fifo", ValueError), ("ro.txt", PermissionError)):
        with pytest.raises(error) as info:
            _io.atomic_write(tmp_path / name, "x")
        one_line(info.value, name)
    assert_untouched(before, snapshot(tmp_path))  # and no temp file left behind


def test_atomic_write_replaces_a_link_not_its_target(tmp_path):
    (tmp_path / "target.txt").write_text("theirs")
    (tmp_path / "link.txt").symlink_to(tmp_path / "target.txt")
    _io.atomic_write(tmp_path / "link.txt", "ours")
    assert (tmp_path / "target.txt").read_text() == "theirs"
    assert not (tmp_path / "link.txt").is_symlink() and (tmp_path / "link.txt").read_text() == "ours"


def test_atomic_write_interrupted_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    path.write_text("old")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(_io.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _io.atomic_write(path, "new")
    assert os.listdir(tmp_path) == ["f.json"] and path.read_text() == "old"


@pytest.mark.parametrize("text, needle", [("NaN", "NaN"), ('{"a": -Infinity}', "-Infinity"), ("[1e999]", "1e999"),
                                          ("[" * 100_000, "nested too deeply"), ('{"a": ', "Expecting value")])
def test_loads_strict(text, needle):
    with pytest.raises(ValueError) as info:
        _io.loads_strict(text)
    one_line(info.value, needle)


def test_check_output_file_on_a_unicode_path_with_spaces(tmp_path):
    folder = tmp_path / "dåta földer ü"
    folder.mkdir()
    path = folder / "résumé 1.json"
    assert _io.check_output_file(path) == str(path)
    _io.atomic_write_json(path, {"ok": "✓"})
    assert json.loads(path.read_text()) == {"ok": "✓"}


# ================================================================================ data files
def _write(tmp_path, name, data: bytes | str) -> str:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def test_csv_with_crlf_bom_and_quoted_commas(tmp_path):
    path = _write(tmp_path, "d.csv", '\ufeffa,"b, c",label\r\n1.5,"2",\'x\'\r\n"3e0",4,"red, dark"\r\n')
    t = read_table(path, "label")
    assert t.feature_names == ["a", "b, c"] and t.target.tolist() == ["'x'", "red, dark"]
    np.testing.assert_array_equal(t.X, [[1.5, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("data, needle", [
    ("a,y\n1,2\x00\n", "holds NUL bytes"),
    ("a,y\n" + '"' + "x" * 200_000 + '",1\n', "malformed CSV"),
    ('a,y\n"1,5",2\n', "non-numeric value '1,5'"),
    ("a,y\n1e400,2\n3,4\n", "'a' hold NaN or infinite"),
    ("a;b;y\n1;2;3\n", "no target column 'y'; the header has: a;b;y"),
    ('a,y\n"unterminated,1\n', "malformed CSV"),
], ids=["nul-byte", "huge-field", "quoted-comma-feature", "overflowing-number", "semicolons", "unterminated-quote"])
def test_hostile_csv(tmp_path, data, needle):
    path = _write(tmp_path, "d.csv", data)
    with pytest.raises(UsageError) as info:
        read_table(path, "y")
    one_line(info.value, needle)


def test_data_path_that_is_a_fifo_or_folder(tmp_path):
    os.mkfifo(tmp_path / "fifo.csv")  # reading it would block forever
    (tmp_path / "dir.csv").mkdir()
    for name in ("fifo.csv", "dir.csv"):
        with pytest.raises(UsageError) as info:
            read_table(tmp_path / name, "y")
        one_line(info.value, name, "not a regular file")


def test_npz_with_an_object_array_is_never_unpickled(tmp_path):
    sentinel = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {sentinel}",))

    path = tmp_path / "evil.npz"
    np.savez(path, X=np.array([Evil(), Evil()], dtype=object), y=np.array([1.0, 2.0]))
    with pytest.raises(UsageError) as info:
        read_table(path, "y")
    one_line(info.value, "evil.npz", "allow_pickle=False")
    assert not sentinel.exists()


def test_npz_member_declaring_more_data_than_it_holds(tmp_path):
    """A header claiming 8 TB would make NumPy allocate it; refused from the header alone."""
    import io

    from numpy.lib import format as npy

    buf = io.BytesIO()
    npy.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    buf.write(b"\0" * 64)
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", buf.getvalue())
    with pytest.raises(UsageError) as info:
        read_table(path, "y")
    one_line(info.value, "bomb.npz", "'X.npy' declares 8000000000000 bytes")


def test_npz_that_decompresses_beyond_memory(tmp_path, monkeypatch):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, X=np.zeros((1000, 10)), y=np.zeros(1000))
    monkeypatch.setattr(tables_mod, "available_memory", lambda: 100_000)  # as if 80 kB were 80 GB
    with pytest.raises(UsageError) as info:
        read_table(path, "y")
    one_line(info.value, "zeros.npz", "more than the memory available")


def test_csv_too_large_for_memory(tmp_path, monkeypatch):
    path = _write(tmp_path, "d.csv", "a,y\n" + "1,2\n" * 1000)
    monkeypatch.setattr(tables_mod, "available_memory", lambda: 10_000)
    with pytest.raises(UsageError) as info:
        read_table(path, "y")
    one_line(info.value, "d.csv", "too large to parse")


def test_npz_with_complex_or_structured_features(tmp_path):
    for name, X in (("complex", np.ones((3, 2)) * 1j), ("structured", np.zeros(3, dtype=[("a", "f8"), ("b", "i4")]))):
        path = tmp_path / f"{name}.npz"
        np.savez(path, X=X, y=np.arange(3.0))
        with pytest.raises(UsageError) as info:
            read_table(path, "y")
        one_line(info.value, f"{name}.npz", "features must be numbers")


def test_model_path_that_is_a_fifo_or_folder(tmp_path):
    """A FIFO would block `torch.load` forever: it is refused by name, like a folder, before any read."""
    fifo = tmp_path / "model.pt"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        with pytest.raises(ValueError, match="is not a regular file") as info:
            dd.load_network(path)
        one_line(info.value, str(path), "not a regular file")
    with pytest.raises(FileNotFoundError, match="No model file"):
        dd.load_network(tmp_path / "missing.pt")
