"""Smoke test of the convex-program benchmark cases (``python -m benchmarks --only convex,convex_bounds``).

Smallest size, one repetition, no training part: the package wires the cases, a record has the fields the
report relies on and deepdual's answer agrees with CVXPY/Clarabel on the same pattern set. Timings are
checked only for consistency, never against the wall clock.
"""

import json
import math

import pytest


def test_convex_cases_are_wired(benchmarks):
    assert benchmarks.CASES["convex"] == "benchmarks.convex"
    assert benchmarks.CASES["convex_bounds"] == "benchmarks.convex_bounds"
    import importlib

    for name in ("convex", "convex_bounds"):
        module = importlib.import_module(benchmarks.CASES[name])
        assert callable(module.run) and callable(module.markdown) and module.TITLE


@pytest.mark.timeout(120)
def test_convex_case_smallest_size_record(benchmarks, monkeypatch):
    from benchmarks import convex
    from benchmarks.__main__ import render_markdown
    from benchmarks._common import environment

    monkeypatch.setenv("SCNN_PATH", "")  # the optional peer stays out of the smoke test
    monkeypatch.setattr(convex, "scnn_available", lambda: False)
    rec = convex.run(quick=True, repeats=1, sizes=[20], training=False)
    assert json.loads(json.dumps(rec, default=str))["title"] == convex.TITLE
    assert rec["target"] == convex.TARGET and rec["ratio_definition"] and isinstance(rec["target_met"], bool)
    (row,) = rec["rows"]
    assert (row["n"], row["d"], row["P"]) == (200, 10, 20)
    assert 0 < row["min"] <= row["median"] <= row["max"]
    assert row["lower_bound"] <= row["objective"] and row["converged"]
    c = row["clarabel"]
    assert c["status"] in ("optimal", "optimal_inaccurate")
    assert abs(c["relative_difference"]) <= 1e-5  # same program, same patterns, same objective
    assert row["ratio_clarabel"] > 0 and math.isfinite(row["ratio_clarabel"])
    md = render_markdown({"command": "smoke", "environment": environment(), "cases": {"convex": rec}})
    assert f"### {convex.TITLE}" in md
