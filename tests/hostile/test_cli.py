"""Hostile files and input at the command line (issue 13, CLI half).

Each command either succeeds with a correct result or exits 2 with one line on stderr that says what
is wrong (naming the file and the field); never a traceback, a hang, a NaN printed as a result, or a
file changed that the command was not asked to write. For every command that writes, the test takes
a snapshot of the folder first: files the command did not own stay byte-identical, and a refused run
adds nothing (no partial output, no lock file, no temp file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from _hostile import assert_untouched, snapshot

import deepdual
from deepdual import _io, cli
from deepdual.experiments import get
from deepdual.experiments import runner as runner_mod
from deepdual.experiments._common import claim, record

ROOT = Path(__file__).resolve().parents[2]
HEADER = '{"format": "deepdual-sweep-results", "version": 1}\n'
SWEEP = 'kind = "closed_form"\n[grid]\nn = [5]\nd = [3]\n'


# ------------------------------------------------------------------------------------------ helpers
@pytest.fixture
def run(capsys):
    """``run(argv) -> (exit code, stdout, stderr)`` through :func:`deepdual.cli.main`, in this process."""

    def call(argv):
        capsys.readouterr()
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return call


def refused(result, *needles: str) -> str:
    """Exit 2, one line on stderr, no traceback, naming every needle."""
    code, out, err = result
    assert code == 2, (code, out, err)
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)
    return err


def _regression_csv(path: Path, n=30, scale=1.0, constant=False) -> Path:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(n)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("a,b,c" + (",k" if constant else "") + ",y\n")
        for row, t in zip(X * scale, y * scale, strict=True):
            fh.write(",".join(repr(float(v)) for v in row) + (",5.0" if constant else "") + f",{float(t)!r}\n")
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """``(folder, data.csv, model.pt)``: a regression fitted and saved by ``deepdual fit --save``."""
    tmp = tmp_path_factory.mktemp("model")
    data = _regression_csv(tmp / "data.csv")
    assert cli.main(["fit", str(data), "--target", "y", "--save", str(tmp / "model.pt")]) == 0
    return tmp, data, tmp / "model.pt"


def _tampered(src: Path, dst: Path, edit) -> Path:
    payload = torch.load(src, weights_only=True)
    edit(payload)
    torch.save(payload, dst)
    return dst


def _meta_edit(**changes):
    def edit(payload):
        meta = json.loads(payload["metadata"])
        meta.update(changes)
        payload["metadata"] = json.dumps(meta)
    return edit


def _arch_edit(**changes):
    def edit(payload):
        arch = json.loads(payload["architecture"])
        arch.update(changes)
        payload["architecture"] = json.dumps(arch)
    return edit


def _nan_weight(payload):
    state = dict(payload["state_dict"])
    key = next(iter(state))
    w = state[key].clone()
    w.view(-1)[0] = float("nan")
    state[key] = w
    payload["state_dict"] = state


# ================================================================================ sweep
def _foreign_outs(tmp: Path) -> dict:
    (tmp / "users.csv").write_bytes(b"name,age\nalice,3\nbob,4")  # no final newline: its last line was deleted
    (tmp / "dir").mkdir()
    os.mkfifo(tmp / "fifo")
    (tmp / "ro.jsonl").write_text(HEADER)
    os.chmod(tmp / "ro.jsonl", 0o444)
    (tmp / "link.jsonl").symlink_to(tmp / "users.csv")
    (tmp / "other.jsonl").write_text('{"key": "a", "loss": 1}\n')
    return {"users.csv": "not a deepdual results store", "small.toml": "is the sweep config itself",
            "dir": "is a folder", "fifo": "not a regular file", "ro.jsonl": "read-only",
            "link.jsonl": "not a deepdual results store", "other.jsonl": "not a deepdual results store"}


@pytest.mark.parametrize("target", ["users.csv", "small.toml", "dir", "fifo", "ro.jsonl", "link.jsonl", "other.jsonl"])
def test_sweep_never_writes_into_a_file_that_is_not_a_store(tmp_path, run, target):
    """The issue: `deepdual sweep small.toml --out users.csv` deleted the CSV's last line and appended JSON."""
    (tmp_path / "small.toml").write_text(SWEEP)
    needle = _foreign_outs(tmp_path)[target]
    before = snapshot(tmp_path)
    refused(run(["sweep", tmp_path / "small.toml", "--out", tmp_path / target, "--jobs", "1"]), target, needle)
    assert_untouched(before, snapshot(tmp_path))


def test_sweep_with_an_invalid_train_section_says_why_up_front(tmp_path, run):
    """The issue: an invalid [train] gave '... : error' per run, the reason only in the .jsonl."""
    config = tmp_path / "s.toml"
    config.write_text('kind = "closed_form_vs_sgd"\n[grid]\nn = [5]\nd = [3]\n[train]\noptimizer = "bogus"\n')
    before = snapshot(tmp_path)
    refused(run(["sweep", config, "--jobs", "1"]), "`train.optimizer` == 'bogus', must be one of 'sgd'")
    assert_untouched(before, snapshot(tmp_path))


def test_sweep_prints_the_reason_of_a_failed_run(tmp_path, run):
    config = tmp_path / "s.toml"
    config.write_text('kind = "closed_form"\n[grid]\ndepth = [3]\nk = [2]\nn = [6]\nd = [3]\n')
    code, out, err = run(["sweep", config, "--jobs", "1"])
    assert code == 1 and json.loads(out)["failed"] == 1
    (line,) = err.splitlines()
    assert line.endswith(")") and ": error (NoClosedFormError: " in line and "Theorem 3.6" in line


def test_sweep_resumes_past_a_tampered_record_with_a_one_line_warning(tmp_path, run):
    config = tmp_path / "s.toml"
    config.write_text(SWEEP)
    store = tmp_path / "s.results.jsonl"
    assert run(["sweep", config, "--jobs", "1"])[0] == 0
    header, line = store.read_text().splitlines()
    store.write_text(header + "\n" + line.replace('"status": "ok"', '"status": "BOGUS"') + "\n")
    code, out, err = run(["sweep", config, "--jobs", "1"])
    assert code == 0 and json.loads(out)["ran"] == 1, err
    warning, progress = err.splitlines()
    assert warning.startswith("deepdual sweep: warning: ") and str(store) in warning
    assert "line 2" in warning and "field 'status' is 'BOGUS'" in warning
    assert progress.endswith(": ok")


@pytest.mark.parametrize("content, argv, needle", [
    (b"\x00\xff binary", [], "is not UTF-8 text"),
    ("a = " + "[" * 50_000, [], "nests arrays or tables too deeply"),
    ("[grid]\nn = [100000000000]\n", [], "`grid.n[0]`"),
    ("sleep = 1e300\n", [], "`sleep`"),
    (SWEEP, ["--jobs", "1000000"], "`n_jobs` == 1000000, must be <= 256"),
], ids=["binary", "deeply-nested", "huge-n", "huge-sleep", "huge-jobs"])
def test_sweep_hostile_config_or_option(tmp_path, run, content, argv, needle):
    config = tmp_path / "s.toml"
    config.write_bytes(content.encode() if isinstance(content, str) else content)
    before = snapshot(tmp_path)
    refused(run(["sweep", config, *argv]), needle)
    assert_untouched(before, snapshot(tmp_path))


def test_sweep_config_that_is_a_fifo_or_folder(tmp_path, run):
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "dir.toml").mkdir()
    for name in ("fifo.toml", "dir.toml"):
        refused(run(["sweep", tmp_path / name]), name, "not a regular file")
    assert sorted(os.listdir(tmp_path)) == ["dir.toml", "fifo.toml"]


def test_sweep_on_a_unicode_path_with_spaces(tmp_path, run):
    folder = tmp_path / "my sweeps ü"
    folder.mkdir()
    (folder / "små sweep.toml").write_text(SWEEP)
    code, out, err = run(["sweep", folder / "små sweep.toml", "--jobs", "1"])
    assert code == 0, err
    assert json.loads(out)["store"] == str(folder / "små sweep.results.jsonl")


# ================================================================================ reproduce
@pytest.fixture
def fake_fig2a(monkeypatch):
    """fig2a computes in a millisecond and its plot is a few bytes (the runner is under test, not the figure)."""

    def compute(config, progress=None):
        claims = [claim("A", "first", 1e-12, True, "≤ 1e-6"), claim("B", "second", 0.5, True, "≥ 0"),
                  claim("C", "third", 2.0, True, "≥ 1")]
        return record("fig2a", "Fake fig2a", "A fast stand-in.", config, claims, {"x": [1.0]}, 0.01)

    monkeypatch.setattr(get("fig2a"), "compute", compute)
    monkeypatch.delattr(get("fig2a"), "units")  # computed as a whole, by the compute above
    monkeypatch.setattr(runner_mod, "_save_plot", lambda mod, rec, path: _io.atomic_write(path, b"\x89PNG fake"))


def _reproduce(run, out, *extra):  # --jobs 1: computed in this process, where the fixture's patches apply
    return run(["reproduce", "--out", out, "--only", "fig2a", "--no-progress", "--quick", "--jobs", "1", *extra])


@pytest.mark.parametrize("how, field", [
    ("claim-removed", "field 'checksum' does not match the content"),
    ("status-bogus", "field 'claims[0].status' is 'BOGUS'"),
    ("empty-list", "holds a JSON list, not a record object"),
])
def test_reproduce_recomputes_a_tampered_record_with_a_warning(tmp_path, run, fake_fig2a, how, field):
    """The issue: claims removed / status "BOGUS" gave exit 0 with fewer PASS and no warning; a record
    holding `[]` crashed every rerun with AttributeError."""
    out = tmp_path / "rep"
    code, first, _ = _reproduce(run, out)
    assert code == 0 and "3 PASS, 0 FAIL, 0 SKIPPED" in first
    path = out / "records" / "fig2a.json"
    rec = json.loads(path.read_text())
    if how == "claim-removed":
        rec["claims"].pop()
    elif how == "status-bogus":
        rec["claims"][0]["status"] = "BOGUS"
    else:
        rec = []
    path.write_text(json.dumps(rec))
    code, stdout, err = _reproduce(run, out)
    assert code == 0, err
    warning, done = err.splitlines()  # the warning, then the line of the recomputed experiment
    assert warning.startswith("deepdual reproduce: warning: ") and str(path) in warning and field in warning
    assert done.startswith("deepdual reproduce: fig2a done in ")
    assert "3 PASS, 0 FAIL, 0 SKIPPED" in stdout  # recomputed: nothing lost
    code, stdout, err = _reproduce(run, out)
    assert code == 0 and err == "" and "3 PASS" in stdout  # the rewritten record is reused silently


@pytest.mark.parametrize("name", ["index.html", "results.json", "fig2a.png"])
def test_reproduce_refuses_an_out_folder_with_files_it_did_not_write(tmp_path, run, fake_fig2a, name):
    out = tmp_path / "site"
    out.mkdir()
    (out / name).write_text("the user's own file")
    before = snapshot(tmp_path)
    refused(_reproduce(run, out), "--out", name, "did not write")
    assert_untouched(before, snapshot(tmp_path))


def test_reproduce_out_is_the_cifar_folder(tmp_path, run, fake_fig2a):
    cifar = tmp_path / "cifar-10-batches-py"
    cifar.mkdir()
    (cifar / "data_batch_1").write_bytes(b"pickled batch")
    before = snapshot(tmp_path)
    refused(_reproduce(run, cifar, "--cifar-dir", cifar), "is the --cifar-dir folder")
    assert_untouched(before, snapshot(tmp_path))


@pytest.mark.parametrize("argv, needle", [(["--seed", "-1"], "--seed == -1, must be >= 0"),
                                          (["--seed", str(2**40)], "must be >= 0 and <= 2147483647"),
                                          (["--jobs", "0"], "--jobs == 0, must be >= 1")])
def test_reproduce_bad_seed(tmp_path, run, argv, needle):
    refused(_reproduce(run, tmp_path / "rep", *argv), needle)
    assert not (tmp_path / "rep").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_reproduce_cuda_without_cuda(tmp_path, run):
    refused(_reproduce(run, tmp_path / "rep", "--device", "cuda"), "CUDA is not available")
    assert not (tmp_path / "rep").exists()


def test_reproduce_interrupted_exits_130_and_leaves_no_partial_files(tmp_path, run, fake_fig2a, monkeypatch):
    out = tmp_path / "rep"
    assert _reproduce(run, out)[0] == 0
    before = snapshot(tmp_path)

    def interrupted(config, progress=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(get("fig2a"), "compute", interrupted)
    code, _, err = _reproduce(run, out, "--seed", "3")
    assert code == 130 and err == "deepdual reproduce: interrupted\n"
    assert_untouched(before, snapshot(tmp_path))


# ================================================================================ fit: options
@pytest.mark.timeout(60)
def test_fit_huge_depth_is_refused_at_once(tmp_path):
    """The issue: `deepdual fit ... --depth 1000000` hung; now refused before torch is even imported."""
    data = _regression_csv(tmp_path / "d.csv")
    code = textwrap.dedent(f"""
        import sys, time
        t = time.perf_counter()
        from deepdual.cli import main
        rc = main(["fit", {str(data)!r}, "--target", "y", "--depth", "1000000"])
        print(rc, time.perf_counter() - t, "torch" in sys.modules)
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=50)
    rc, seconds, torch_loaded = res.stdout.split()
    assert rc == "2" and torch_loaded == "False", res
    assert float(seconds) < 1.0, seconds
    assert res.stderr.count("\n") == 1 and "--depth == 1000000, must be <= 10000" in res.stderr


@pytest.mark.parametrize("argv, needle", [
    (["--seed", "-1"], "--seed == -1, must be >= 0"),
    (["--seed", str(2**40)], "must be >= 0 and <= 4294967295"),
    (["--epochs", str(10**9), "--compare-sgd"], "--epochs == 1000000000, must be <= 10000000"),
    (["--lr", "inf", "--compare-sgd"], "--lr == inf, must be a finite number"),
    (["--sgd-branches", str(10**9)], "--sgd-branches == 1000000000"),
    (["--test-size", "nan"], "--test-size == nan"),
    (["--train-size", "0"], "--train-size == 0"),
], ids=["seed-negative", "seed-huge", "epochs-huge", "lr-inf", "sgd-branches-huge", "test-size-nan", "train-size-0"])
def test_fit_bad_options(tmp_path, run, argv, needle):
    """The issue: `fit --seed -1` talked about scikit-learn's random_state."""
    data = _regression_csv(tmp_path / "d.csv")
    err = refused(run(["fit", data, "--target", "y", *argv]), needle)
    assert "random_state" not in err


# ================================================================================ fit: overflow
def _fake_fit(monkeypatch, *, raises=None, objective=None):
    real = deepdual.DeepLinearRegressor.fit

    def fit(self, X, y):
        if raises is not None:
            raise raises
        real(self, X, y)
        object.__setattr__(self.solution_, "objective", objective)
        return self

    monkeypatch.setattr(deepdual.DeepLinearRegressor, "fit", fit)


@pytest.mark.parametrize("scale, inject", [(1e60, "overflow"), (1e60, "inf"), (1e-60, "nan")])
def test_fit_overflow_on_badly_scaled_data_is_exit_2_naming_the_range(tmp_path, run, monkeypatch, scale, inject):
    """The issue: `deepdual fit` printed "objective inf, gap nan" with exit 0."""
    data = _regression_csv(tmp_path / "d.csv", scale=scale)
    if inject == "overflow":
        _fake_fit(monkeypatch, raises=OverflowError(34, "Numerical result out of range"))
    else:
        _fake_fit(monkeypatch, objective=float(inject))
    before = snapshot(tmp_path)
    err = refused(run(["fit", data, "--target", "y", "--save", tmp_path / "m.pt"]), "the features span [",
                  "the target spans [", "rescale the data")
    assert f"{scale:.0e}"[-3:] in err  # the value range is named
    assert_untouched(before, snapshot(tmp_path))  # nothing saved


def test_fit_nan_on_moderate_data_is_a_bug_not_exit_2(tmp_path, run, monkeypatch):
    data = _regression_csv(tmp_path / "d.csv")
    _fake_fit(monkeypatch, objective=float("nan"))
    with pytest.raises(RuntimeError, match="internal error of deepdual"):
        run(["fit", data, "--target", "y"])


def test_fit_data_beyond_float64_range_is_exit_2(tmp_path, run):
    data = _regression_csv(tmp_path / "d.csv", scale=1e200)
    refused(run(["fit", data, "--target", "y"]), "too large for float64")


# ================================================================================ fit: files
def _save_targets(tmp: Path, data: Path, model: Path) -> dict:
    (tmp / "notes.txt").write_text("my notes")
    (tmp / "dir.pt").mkdir()
    os.mkfifo(tmp / "fifo.pt")
    ro = tmp / "ro.pt"
    ro.write_bytes(model.read_bytes())
    os.chmod(ro, 0o444)
    (tmp / "data-link.pt").symlink_to(data)
    return {"data.csv": "is the data file", "data-link.pt": "is the data file", "notes.txt": "is not a model saved",
            "dir.pt": "is a folder", "fifo.pt": "not a regular file", "ro.pt": "read-only"}


@pytest.mark.parametrize("target", ["data.csv", "data-link.pt", "notes.txt", "dir.pt", "fifo.pt", "ro.pt"])
def test_fit_save_never_replaces_a_file_that_is_not_its_model(tmp_path, run, model, target):
    _, _, saved = model
    data = _regression_csv(tmp_path / "data.csv")
    needle = _save_targets(tmp_path, data, saved)[target]
    before = snapshot(tmp_path)
    refused(run(["fit", data, "--target", "y", "--save", tmp_path / target]), "--save", needle)
    assert_untouched(before, snapshot(tmp_path))


def test_fit_save_replaces_its_own_model_and_nothing_else(tmp_path, run, model):
    _, _, saved = model
    data = _regression_csv(tmp_path / "data.csv")
    (tmp_path / "m.pt").write_bytes(saved.read_bytes())
    before = snapshot(tmp_path)
    code, out, err = run(["fit", data, "--target", "y", "--save", tmp_path / "m.pt", "--seed", "1"])
    assert code == 0, err
    assert_untouched(before, snapshot(tmp_path), allowed={"m.pt"})
    assert deepdual.load_metadata(tmp_path / "m.pt")["data_sha256"]


def test_fit_on_a_fifo_does_not_hang(tmp_path, run):
    os.mkfifo(tmp_path / "d.csv")
    refused(run(["fit", tmp_path / "d.csv", "--target", "y"]), "d.csv", "not a regular file")


def test_fit_on_a_unicode_path_with_spaces_and_crlf_bom_quoted_csv(tmp_path, run):
    folder = tmp_path / "dåta földer"
    folder.mkdir()
    rng = np.random.default_rng(1)
    rows = ['\ufeff"feat, one",b,label,c']
    for i in range(12):
        a, b, c = rng.standard_normal(3)
        rows.append(f'"{a:.6f}",{b:.6f},"{["red, dark", "blue"][i % 2]}",{c:.6f}')
    path = folder / "my dåta ü.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("utf-8"))
    code, out, err = run(["fit", path, "--target", "label", "--train-size", "3", "--save", folder / "m odel.pt"])
    assert code == 0, err
    assert "2 classes" in out and (folder / "m odel.pt").is_file()
    assert deepdual.load_metadata(folder / "m odel.pt")["classes"] == ["blue", "red, dark"]


def test_fit_with_an_all_constant_column(tmp_path, run):
    data = _regression_csv(tmp_path / "d.csv", constant=True)
    code, out, err = run(["fit", data, "--target", "y"])
    assert code == 0, err
    objective = float(next(line for line in out.splitlines() if line.startswith("objective")).split()[1])
    assert np.isfinite(objective) and "nan" not in out.lower() and "inf" not in out.split("time")[0].lower()


@pytest.mark.parametrize("content, name, needle", [
    (b"a,y\n1,2\x00\n", "d.csv", "holds NUL bytes"),
    ("a,b,y\n1,2,3\n", "d.csv", "leaves no training rows out of 1"),
    ("a,b,y\n1,2,3\n4,5,6\n", "d.npz", "not a valid NPZ file"),
], ids=["nul-byte", "one-row", "csv-named-npz"])
def test_fit_hostile_data_file(tmp_path, run, content, name, needle):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    refused(run(["fit", path, "--target", "y"]), needle)


def test_fit_npz_with_a_pickle_is_refused_not_unpickled(tmp_path, run):
    sentinel = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {sentinel}",))

    np.savez(tmp_path / "evil.npz", X=np.array([Evil()] * 4, dtype=object), y=np.arange(4.0))
    refused(run(["fit", tmp_path / "evil.npz", "--target", "y"]), "evil.npz", "allow_pickle=False")
    assert not sentinel.exists()


# ================================================================================ certify
TAMPERED_MODELS = {
    "dtype-int8": (_arch_edit(dtype="int8"), "'architecture.dtype' is 'int8'"),  # the issue: printed "error: 'int8'"
    "metadata-not-json": (lambda p: p.update(metadata="{not json"), "'metadata' is not valid JSON"),
    "nan-weight": (_nan_weight, "NaN or infinite"),  # the issue: exit 0
    "train-rows-out-of-range": (_meta_edit(train_rows=[0, 99999]), "'train_rows' names row 99999"),
    "train-rows-strings": (_meta_edit(train_rows=["0"]), "'train_rows' is not a list of row numbers"),
    "beta-string": (_meta_edit(beta="abc"), "'beta' is 'abc'"),
    "beta-nan": (lambda p: p.update(metadata=p["metadata"].replace('"beta": 0.001', '"beta": NaN')), "'beta'"),
    "x-offset-short": (_meta_edit(x_offset=[1.0]), "'x_offset' has 1 entries for 3 features"),
    "y-offset-nan": (lambda p: p.update(metadata=p["metadata"].replace('"y_offset": [', '"y_offset": [NaN, ')),
                     "'y_offset' holds NaN"),
    "y-offset-long": (_meta_edit(y_offset=[0.0, 1.0]), "'y_offset' has 2 entries"),
    "classes-repeated": (_meta_edit(classes=[1, 1]), "'classes' repeats a label"),
    "features-not-list": (_meta_edit(features="a,b,c"), "'features' is not a list"),
    "metadata-list": (lambda p: p.update(metadata="[]"), "'metadata'"),
    "depth-million": (_arch_edit(depth=10**6), "`depth` == 1000000"),  # would build for hours
    "branches-billion": (_arch_edit(branches=10**9), "GiB"),  # would exhaust memory
    "class-injected": (_arch_edit(**{"class": "os.system"}), "'architecture.class' is 'os.system'"),
}


@pytest.mark.parametrize("how", list(TAMPERED_MODELS))
def test_certify_refuses_a_tampered_model_on_one_line(tmp_path, run, model, how):
    _, data, saved = model
    edit, needle = TAMPERED_MODELS[how]
    bad = _tampered(saved, tmp_path / "bad.pt", edit)
    err = refused(run(["certify", bad, data, "--target", "y", "--beta", "0.001"]), "bad.pt", needle)
    assert "Traceback" not in err


@pytest.mark.parametrize("content", [b"", b"a,b,y\n1,2,3\n", b"PK\x03\x04 truncated zip"],
                         ids=["empty", "a-csv", "truncated-zip"])
def test_certify_with_a_model_that_is_not_a_model(tmp_path, run, model, content):
    _, data, _ = model
    (tmp_path / "m.pt").write_bytes(content)
    refused(run(["certify", tmp_path / "m.pt", data, "--target", "y", "--beta", "0.001"]), "m.pt")


def test_certify_with_a_model_that_is_a_fifo(tmp_path, run, model):
    _, data, _ = model
    os.mkfifo(tmp_path / "m.pt")  # reading it would block forever
    refused(run(["certify", tmp_path / "m.pt", data, "--target", "y", "--beta", "0.001"]), "m.pt")


def test_certify_with_a_truncated_model(tmp_path, run, model):
    _, data, saved = model
    raw = saved.read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[: len(raw) // 2])
    refused(run(["certify", tmp_path / "cut.pt", data, "--target", "y", "--beta", "0.001"]), "cut.pt")


def test_certify_the_untampered_model_still_works(run, model):
    _, data, saved = model
    code, out, err = run(["certify", saved, data, "--target", "y", "--beta", "0.001"])
    assert code == 0 and err == ""
    gap = float(next(line for line in out.splitlines() if line.startswith("gap:")).split()[1])
    assert np.isfinite(gap) and abs(gap) < 1e-6


def test_certify_never_prints_a_nan_certificate(run, model, monkeypatch):
    """Should certify() ever return NaN for valid input, the command fails loudly (a bug), never exit 0."""
    _, data, saved = model
    real = deepdual.certify

    def nan_certify(*args, **kwargs):
        cert = real(*args, **kwargs)
        object.__setattr__(cert, "gap", float("nan"))
        return cert

    monkeypatch.setattr(deepdual, "certify", nan_certify)
    with pytest.raises(RuntimeError, match="non-finite gap nan"):
        run(["certify", saved, data, "--target", "y", "--beta", "0.001"])


# ================================================================================ bench
@pytest.fixture
def in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.syspath_prepend(str(ROOT))


@pytest.mark.parametrize("argv, needle", [
    (["--blas-threads", "0"], "--blas-threads == 0, must be >= 1"),  # the issue: a RuntimeError
    (["--blas-threads", "-3"], "--blas-threads == -3, must be >= 1"),
    (["--blas-threads", str(10**9)], "--blas-threads == 1000000000, must be <= "),
    (["--repeats", str(10**9)], "--repeats == 1000000000, must be <= 1000"),
], ids=["blas-0", "blas-negative", "blas-huge", "repeats-huge"])
def test_bench_bad_options(in_checkout, run, argv, needle):
    refused(run(["bench", *argv]), needle)


def test_bench_refuses_a_special_file_in_place_of_its_outputs(in_checkout, run, tmp_path):
    os.mkfifo(tmp_path / "results.md")
    refused(run(["bench", "--out", tmp_path, "--only", "nuclear"]), "'results.md', which is not a regular file")


def test_bench_refuses_an_out_folder_with_files_it_did_not_write(in_checkout, run, tmp_path):
    (tmp_path / "results.json").write_text('{"mine": true}')
    (tmp_path / "results.md").write_text("# my notes")
    before = snapshot(tmp_path)
    refused(run(["bench", "--out", tmp_path, "--only", "nuclear"]), "results.json", "did not write")
    assert_untouched(before, snapshot(tmp_path))
