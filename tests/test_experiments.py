"""Every experiment at its tiny size (compute + plot) and the reproduce runner end to end."""

from __future__ import annotations

import json
import math
import os

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from deepdual.experiments import EXPERIMENTS, get  # noqa: E402
from deepdual.experiments.runner import experiment_config, parse_only, reproduce  # noqa: E402

STATUSES = {"PASS", "FAIL", "SKIPPED"}


def _check_claims(rec):
    assert rec["claims"], f"{rec['name']} has no claims"
    for c in rec["claims"]:
        assert c["status"] in STATUSES
        if c["status"] == "PASS":
            assert isinstance(c["value"], (int, float)) and math.isfinite(c["value"]), c
        if c["status"] == "FAIL":
            assert c["reason"], c
        if c["status"] == "SKIPPED":
            assert "SKIPPED" in c["reason"] or c["reason"], c


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fig2a", "fig3a", "fig4", "neural_collapse"])
def test_experiment_tiny_compute_and_plot(name, tmp_path):
    mod = get(name)
    rec = mod.compute(experiment_config(name, "tiny"))
    json.dumps(rec)  # JSON-serializable
    _check_claims(rec)
    assert getattr(mod, f"compute_{name}") is mod.compute
    fig = mod.plot(rec)
    fig.savefig(tmp_path / f"{name}.png")
    assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_fig4_without_cifar_is_explicitly_skipped():
    rec = get("fig4").compute(experiment_config("fig4", "tiny") | {"datasets": ["cifar10"]})
    assert [c["status"] for c in rec["claims"]] == ["SKIPPED"]
    assert rec["claims"][0]["reason"] == "SKIPPED (no --cifar-dir)"


def test_unknown_only_names_raise():
    with pytest.raises(ValueError, match="valid names: fig1, fig2a"):
        parse_only("fig1,nope")
    assert parse_only("fig4, fig1") == ["fig1", "fig4"]


@pytest.mark.slow
def test_reproduce_end_to_end_resume_and_failure(tmp_path, monkeypatch):
    out = tmp_path / "rep"
    res = reproduce(out, size="tiny", progress=False)
    assert set(res["experiments"]) == set(EXPERIMENTS)
    for name in EXPERIMENTS:
        assert (out / "records" / f"{name}.json").exists()
        assert (out / f"{name}.png").exists(), name
        _check_claims(res["experiments"][name])
    assert res["summary"]["PASS"] > 0
    assert sum(res["summary"].values()) == len(res["claims"])
    html = (out / "index.html").read_text()
    assert "claims-table" in html and "<img src='fig1.png'" in html
    assert {"packages", "platform"} <= set(res["environment"])

    # Second run: everything reused.
    res2 = reproduce(out, size="tiny", progress=False)
    assert res2["reused"] == list(EXPERIMENTS) and res2["ran"] == []

    # Interrupted run: a deleted record is recomputed, the others kept.
    os.remove(out / "records" / "fig2a.json")
    res3 = reproduce(out, size="tiny", progress=False)
    assert res3["ran"] == ["fig2a"]

    # A failing experiment becomes a FAIL row with the error, and is retried next time.
    mod = get("fig3a")

    def boom(config, progress=None):
        raise RuntimeError("simulated crash")

    os.remove(out / "records" / "fig3a.json")
    monkeypatch.setattr(mod, "compute", boom)
    res4 = reproduce(out, size="tiny", only="fig3a", progress=False)
    row = res4["claims"][0]
    assert row["status"] == "FAIL" and "simulated crash" in row["reason"]
    monkeypatch.undo()
    res5 = reproduce(out, size="tiny", only="fig3a", progress=False)
    assert res5["ran"] == ["fig3a"] and "error" not in res5["experiments"]["fig3a"]


def test_cli_reproduce_rejects_unknown_name(capsys):
    from deepdual.cli import main

    assert main(["reproduce", "--only", "fig9", "--out", "unused"]) == 2
    assert "valid names" in capsys.readouterr().err
