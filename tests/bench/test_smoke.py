"""Smoke test of the benchmarks package: one case, smallest size, one repetition.

The benchmarks themselves are not part of the test suite; this checks that the package imports and
that a case record has the fields, and the certified answers, the report relies on. Timings are
only checked for consistency (min <= median <= max), never against the wall clock.
"""

import json
import math

import pytest


def _stats_ok(s: dict, repeats: int) -> None:
    assert s["repeats"] == repeats and len(s["times"]) == repeats
    assert 0 < s["min"] <= s["median"] <= s["max"]


def test_nuclear_case_smallest_size_record(benchmarks):
    from benchmarks import nuclear
    from benchmarks.__main__ import render_markdown
    from benchmarks._common import environment

    rec = nuclear.run(quick=True, repeats=1, sizes=[(40, 12, 3)])  # the smallest size
    assert json.loads(json.dumps(rec)) == rec  # JSON-serializable as is
    assert rec["title"] == nuclear.TITLE and rec["target"] == nuclear.TARGET and rec["ratio_definition"]
    assert isinstance(rec["target_met"], bool) and rec["notes"]
    (row,) = rec["rows"]
    assert (row["n"], row["d"], row["K"]) == (40, 12, 3) and row["beta"] > 0
    _stats_ok(row, 1)
    # deepdual's answer is certified: lower bound <= objective, relative gap within the asked tolerance
    assert row["lower_bound"] <= row["objective"] * (1 + 1e-12)
    assert 0 <= row["relative_gap"] <= nuclear.TOL
    assert row["iterations"] >= 0
    assert set(row["solvers"]) == {"CLARABEL", "SCS"}
    for name, s in row["solvers"].items():
        assert s["status"], name
        if s["objective"] is not None:  # weak duality: no solver goes below deepdual's lower bound
            assert s["objective"] >= row["lower_bound"] * (1 - 1e-9), name
            assert s["certified_relative_gap"] >= -1e-9, name
    assert row["fastest"] in row["solvers"]
    _stats_ok(row["alternative"], row["alternative"]["repeats"])
    assert row["alternative"]["median"] == row["solvers"][row["fastest"]]["median"]
    assert row["ratio"] > 0 and math.isfinite(row["ratio"])
    assert row["objective_agreement"] < 1e-4  # the certified solver's answer agrees with CVXPY's

    results = {"command": "smoke", "environment": environment(), "cases": {"nuclear": rec}}
    assert results["environment"]["cpu"] and results["environment"]["packages"]["cvxpy"]
    md = render_markdown(results)
    assert md.startswith("## Benchmarks") and f"### {nuclear.TITLE}" in md and "40×12, K=3" in md


def test_unknown_case_is_a_clear_error(benchmarks):
    with pytest.raises(ValueError, match="unknown benchmark 'nope'; choose from sgd, limit, nuclear"):
        benchmarks.run_case("nope")
