"""Every experiment at its tiny size (compute + plot) and the reproduce runner end to end.

A record is checked for content, not only for existence: every claim row has an id, a numeric
measured value and a threshold; its status is PASS, FAIL or SKIPPED, agrees with the value wherever
the threshold is a plain comparison, and only claims about training length may FAIL at the tiny
size. Plots must decode as non-blank images.
"""

from __future__ import annotations

import json
import math
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepdual.experiments import EXPERIMENTS, get  # noqa: E402
from deepdual.experiments._common import config_hash  # noqa: E402
from deepdual.experiments.runner import experiment_config, parse_only, reproduce  # noqa: E402

STATUSES = {"PASS", "FAIL", "SKIPPED"}
CLAIM_FIELDS = {"id", "claim", "value", "measured", "threshold", "status", "reason"}
#: Claims about what training reaches (not theorems) that the tiny configurations train too briefly to meet.
MAY_FAIL_AT_TINY = {("fig1", "Cor 4.2 / Fig 1"), ("fig2b", "Fig 2b / §1"), ("neural_collapse", "Cor 4.3 (training)")}
#: Fields of a record that depend on the machine's speed, not on the computation.
TIMING_FIELDS = {"seconds", "checksum"}
#: A threshold that is a plain comparison of the claim's value: "... ≤ 1e-6", "min ... ≥ −1e-9".
_COMPARISON = re.compile(r"^(?:.*\s)?(≤|≥)\s*(−?\d+(?:\.\d+)?(?:e[−-]?\d+)?)$")


def _verdict(claim: dict) -> bool | None:
    """Whether the value meets a plain-comparison threshold; None for any other threshold."""
    threshold, value = claim["threshold"], claim["value"]
    if threshold in ("= 0", "0 mismatches"):
        return value == 0
    match = _COMPARISON.match(threshold)
    if match is None or " and " in threshold:
        return None
    bound = float(match.group(2).replace("−", "-"))
    return value <= bound if match.group(1) == "≤" else value >= bound


def _check_record(rec: dict, name: str) -> int:
    """Check one tiny-size record; return how many claims had a verdict checked against their value."""
    assert rec["name"] == name and rec["title"] and rec["description"]
    assert rec["config_hash"] == config_hash(name, rec["config"])
    assert isinstance(rec["data"], dict) and rec["data"]
    assert math.isfinite(rec["seconds"]) and rec["seconds"] >= 0
    assert "error" not in rec
    assert json.loads(json.dumps(rec, allow_nan=False)) == rec  # strict JSON: no NaN, no tuples
    assert rec["claims"], f"{name} has no claims"
    checked = 0
    for c in rec["claims"]:
        assert set(c) == CLAIM_FIELDS, c
        assert c["id"] and c["claim"] and c["status"] in STATUSES, c
        if c["status"] == "SKIPPED":
            assert c["value"] is None and c["reason"], c
        else:
            value = c["value"]
            assert isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value), c
            assert c["measured"] and c["threshold"], c
            assert (c["reason"] == "") == (c["status"] == "PASS"), c
            verdict = _verdict(c)
            if verdict is not None:
                assert verdict == (c["status"] == "PASS"), f"status disagrees with value and threshold: {c}"
                checked += 1
        assert c["status"] != "FAIL" or (name, c["id"]) in MAY_FAIL_AT_TINY, f"{name}: {c}"
    return checked


def _check_png(path) -> None:
    img = matplotlib.image.imread(path)  # decodes the PNG; raises on a broken file
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100 and img.shape[2] in (3, 4), img.shape
    ink = np.any(img[..., :3] < 0.5, axis=2)  # dark pixels: axes, lines, text
    assert 0.005 < ink.mean() < 0.5, f"{path}: {ink.mean():.3%} dark pixels"


def test_verdict_parser():
    def row(threshold, value):
        return {"threshold": threshold, "value": value}

    assert _verdict(row("max kink distance ≤ 1e-6", 1e-7)) is True
    assert _verdict(row("min (P_train − P*)/P* ≥ −1e-9", -1e-8)) is False
    assert _verdict(row("min over L of (Theory − mean SGD) ≥ −0.02", 0.0)) is True
    assert _verdict(row("0 mismatches", 1)) is False
    assert _verdict(row("gap ≤ 1e-8·max(1, P)", 0.0)) is None
    assert _verdict(row("a ≥ −1e-9 and gap ≤ 1e-8", 0.0)) is None
    assert _verdict(row("all layer ranks = 2", 0)) is None


def test_every_experiment_module_has_the_same_interface():
    for name in EXPERIMENTS:
        mod = get(name)
        assert getattr(mod, f"compute_{name}") is mod.compute and getattr(mod, f"plot_{name}") is mod.plot
        assert set(mod.CONFIGS) == {"tiny", "quick", "full"}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fig2a", "fig3a", "fig4", "neural_collapse"])
def test_experiment_tiny_compute_and_plot(name, tmp_path):
    mod = get(name)
    cfg = experiment_config(name, "tiny")
    rec = mod.compute(cfg)
    _check_record(rec, name)
    assert rec["config"] == json.loads(json.dumps(cfg))
    fig = mod.plot(rec)
    fig.savefig(tmp_path / f"{name}.png")
    _check_png(tmp_path / f"{name}.png")


def test_fig4_without_cifar_is_explicitly_skipped():
    rec = get("fig4").compute(experiment_config("fig4", "tiny") | {"datasets": ["cifar10"]})
    assert [c["status"] for c in rec["claims"]] == ["SKIPPED"]
    assert rec["claims"][0]["reason"] == "SKIPPED (no --cifar-dir)"
    _check_record(rec, "fig4")


def test_unknown_only_names_raise():
    with pytest.raises(ValueError, match="unknown experiment name.* 'nope' in --only; valid names: fig1, fig2a"):
        parse_only("fig1,nope")
    with pytest.raises(ValueError, match=r"\(none given\)"):
        parse_only(" , ")
    assert parse_only("fig4, fig1") == ["fig1", "fig4"]
    assert parse_only(None) == list(EXPERIMENTS)


def test_reproduce_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="`size` == 'huge', must be 'tiny', 'quick' or 'full'"):
        reproduce(tmp_path / "rep", size="huge")
    with pytest.raises(FileNotFoundError, match="--cifar-dir '.*none' is not a folder"):
        reproduce(tmp_path / "rep", size="tiny", cifar_dir=str(tmp_path / "none"))
    assert not (tmp_path / "rep").exists()


@pytest.mark.slow
def test_reproduce_end_to_end_resume_and_failure(tmp_path, monkeypatch, capsys):
    out = tmp_path / "rep"
    res = reproduce(out, size="tiny", progress=False)
    assert set(res["experiments"]) == set(EXPERIMENTS)
    checked = 0
    for name in EXPERIMENTS:
        rec = res["experiments"][name]
        checked += _check_record(rec, name)
        assert json.loads((out / "records" / f"{name}.json").read_text()) == rec
        assert rec["plots"] == [f"{name}.png"]
        _check_png(out / f"{name}.png")
        plotted = json.loads((out / f"{name}.plot.json").read_text())
        assert plotted["format"] == "deepdual-plot-data" and any(ax["lines"] for ax in plotted["axes"]), name
    assert checked >= 15  # the status of most claims was checked against the number, not only its form
    statuses = [c["status"] for c in res["claims"]]
    assert res["summary"] == {s: statuses.count(s) for s in STATUSES}
    assert len(res["claims"]) == sum(len(r["claims"]) for r in res["experiments"].values())
    assert json.loads((out / "results.json").read_text()) == res
    assert {"packages", "platform", "pid"} <= set(res["environment"])
    assert (res["size"], res["seed"], res["ran"], res["reused"]) == ("tiny", 0, list(EXPERIMENTS), [])
    html = (out / "index.html").read_text()
    assert "claims-table" in html and html.count("<tr class='claim'") == len(res["claims"])
    assert all(f"<img src='{name}.png'" in html for name in EXPERIMENTS)
    assert html.count("class='plot-data'") == len(EXPERIMENTS)
    assert f"{res['summary']['PASS']} PASS, {res['summary']['FAIL']} FAIL" in html
    assert sorted(os.listdir(out / "records")) == sorted(f"{n}.json" for n in EXPERIMENTS)  # no temp files
    # one line per finished experiment on stderr, also without a terminal
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("deepdual reproduce: ")]
    assert len(lines) == len(EXPERIMENTS)
    for name in EXPERIMENTS:
        rec = res["experiments"][name]
        counts = [c["status"] for c in rec["claims"]]
        head = (f"deepdual reproduce: {name} done in {rec['seconds']:.1f} s ({counts.count('PASS')} PASS, "
                f"{counts.count('FAIL')} FAIL, {counts.count('SKIPPED')} SKIPPED); ")
        assert any(ln.startswith(head) and ln.endswith(" s since start") for ln in lines), (head, lines)

    # Second run: everything reused.
    res2 = reproduce(out, size="tiny", progress=False, verbose=False)
    assert res2["reused"] == list(EXPERIMENTS) and res2["ran"] == []
    assert res2["experiments"] == res["experiments"]
    assert capsys.readouterr().err == ""

    # Interrupted run: a deleted record is recomputed, the others kept.
    os.remove(out / "records" / "fig2a.json")
    res3 = reproduce(out, size="tiny", progress=False)
    assert res3["ran"] == ["fig2a"]

    # A failing experiment becomes a FAIL row with the error, and is retried next time: a whole-experiment
    # module (fig3a) and a unit of a split one (table1), computed in this process (jobs=1) to see the patch.
    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash")

    for name, attr in (("fig3a", "compute"), ("table1", "run_unit")):
        os.remove(out / "records" / f"{name}.json")
        monkeypatch.setattr(get(name), attr, boom)
    res4 = reproduce(out, size="tiny", only="fig3a,table1", progress=False, jobs=1)
    for name in ("fig3a", "table1"):
        (row,) = res4["experiments"][name]["claims"]
        assert (row["status"], row["reason"], row["measured"]) == ("FAIL", "RuntimeError: simulated crash", "error")
        assert res4["experiments"][name]["error"] == "RuntimeError: simulated crash"
        assert res4["experiments"][name]["plots"] == []
    monkeypatch.undo()
    res5 = reproduce(out, size="tiny", only="fig3a", progress=False)
    assert res5["ran"] == ["fig3a"] and "error" not in res5["experiments"]["fig3a"]
    _check_record(res5["experiments"]["fig3a"], "fig3a")


def _numbers(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k not in TIMING_FIELDS}


@pytest.mark.slow
def test_parallel_run_gives_the_numbers_of_a_sequential_one(tmp_path):
    """Units spread over two worker processes (one thread each) give the records of a run in this process."""
    only = "fig1,table1"  # Adam + L-BFGS (fig1); closed forms, certificates and batch norm (table1)
    seq = reproduce(tmp_path / "seq", size="tiny", only=only, progress=False, jobs=1, verbose=False)
    par = reproduce(tmp_path / "par", size="tiny", only=only, progress=False, jobs=2, verbose=False)
    assert (seq["jobs"], par["jobs"]) == (1, 2)
    for name in parse_only(only):
        assert _numbers(par["experiments"][name]) == _numbers(seq["experiments"][name]), name
        assert (tmp_path / "par" / f"{name}.plot.json").read_text() == (tmp_path / "seq" / f"{name}.plot.json").read_text()
    # and compute() (what a user calls) is the same computation
    assert _numbers(get("table1").compute(experiment_config("table1", "tiny"))) == \
        _numbers({k: v for k, v in seq["experiments"]["table1"].items() if k != "plots"})


def test_reproduce_rejects_a_bad_jobs_count(tmp_path):
    with pytest.raises(ValueError, match="`jobs` == 0, must be >= 1"):
        reproduce(tmp_path / "rep", size="tiny", jobs=0)
    assert not (tmp_path / "rep").exists()
