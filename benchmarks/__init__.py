"""deepdual benchmarks: closed forms against SGD and generic convex solvers, and how cost grows.

Run from the repository root with ``python -m benchmarks`` (or ``deepdual bench``). Each case lives
in its own module and exposes ``run(quick: bool, repeats: int) -> dict`` (a JSON-serializable
record) and ``markdown(record) -> str``. Not part of the test suite (see
``tests/test_benchmarks_smoke.py`` for the one smoke test).
"""

from __future__ import annotations

#: Case name -> module (imported lazily, in this order).
CASES = {
    "sgd": "benchmarks.sgd",            # 1. closed form vs SGD on whitened MNIST
    "limit": "benchmarks.limit",        # 2. closed form vs one thin SVD of X
    "nuclear": "benchmarks.nuclear",    # 3. certified nuclear-norm solver vs CVXPY
    "spline": "benchmarks.spline",      # 4. exact 1-D solver vs CVXPY
    "scaling": "benchmarks.scaling",    # 5. closed-form time and memory vs n and d
    "cuda": "benchmarks.cuda",          # 6. the same on a CUDA device (skipped without one)
    "convex": "benchmarks.convex",      # 7. two-layer ReLU convex program vs CVXPY/Clarabel, scnn and training
    "convex_bounds": "benchmarks.convex_bounds",  # 8. certified gaps of trained networks vs time
    "practitioner": "benchmarks.practitioner",  # 9. certified two-layer nets vs sklearn MLPs, SGD (digits, diabetes)
}

__all__ = ["CASES", "run_case"]


def run_case(name: str, *, quick: bool = False, repeats: int = 5) -> dict:
    """Run one case and return its record (see :mod:`benchmarks._common` for the fields)."""
    import importlib
    import time

    from ._common import load_average

    if name not in CASES:
        raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(CASES)}.")
    module = importlib.import_module(CASES[name])
    load_before = load_average()
    start = time.perf_counter()
    record = module.run(quick=quick, repeats=repeats)
    record.setdefault("name", name)
    record["seconds"] = time.perf_counter() - start
    record["load_average_before"] = load_before
    record["load_average_after"] = load_average()
    return record
