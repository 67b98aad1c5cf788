"""Smoke test of the benchmarks package: one case, smallest size, one repetition.

The benchmarks themselves are not part of the test suite; this only checks that the package imports
and that a case record has the fields the report relies on.
"""

import json
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def benchmarks():
    sys.path.insert(0, str(ROOT))
    try:
        import benchmarks

        yield benchmarks
    finally:
        sys.path.remove(str(ROOT))


def test_nuclear_case_smallest_size_record_has_timing_and_ratio_fields(benchmarks):
    pytest.importorskip("cvxpy")
    from benchmarks import nuclear
    from benchmarks.__main__ import render_markdown
    from benchmarks._common import environment

    start = time.perf_counter()
    rec = nuclear.run(quick=True, repeats=1, sizes=[(40, 12, 3)])  # the smallest size
    assert time.perf_counter() - start < 20.0
    rec = json.loads(json.dumps(rec))  # the record is JSON-serializable
    assert rec["rows"], "no rows"
    for row in rec["rows"]:
        for key in ("median", "min", "max", "ratio"):
            assert key in row
        assert row["repeats"] == 1
        assert row["min"] <= row["median"] <= row["max"]
        assert row["ratio"] > 0
        assert set(row["alternative"]) >= {"median", "min", "max"}
        # the certified solver's answer agrees with CVXPY's
        assert row["objective_agreement"] < 1e-4
    results = {"command": "smoke", "environment": environment(), "cases": {"nuclear": rec}}
    assert render_markdown(results).startswith("## Benchmarks")
    assert results["environment"]["cpu"]


def test_unknown_case_is_a_clear_error(benchmarks):
    with pytest.raises(ValueError, match="unknown benchmark"):
        benchmarks.run_case("nope")
