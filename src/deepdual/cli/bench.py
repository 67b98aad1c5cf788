"""``deepdual bench``: the benchmarks of a source checkout (``benchmarks/``, not part of the wheel).

Exit codes: 0 done; 1 a closed form was beaten by training or a case raised (see results.json);
2 bad usage, or not run from the root of a source checkout.
"""

from __future__ import annotations

import importlib
import os
import sys

from ._errors import UsageError

__all__ = ["run_bench"]


def run_bench(args) -> int:
    """Check the options, then run ``benchmarks.__main__.run_bench_command`` from the current folder.

    Raises
    ------
    UsageError
        Not in a source checkout, ``--repeats`` or ``--blas-threads`` < 1, an unknown name in ``--only``,
        or an ``--out`` that is a file.
    """
    root = os.getcwd()
    if not os.path.isfile(os.path.join(root, "benchmarks", "__main__.py")):
        raise UsageError("`deepdual bench` runs from the root of a deepdual source checkout (the folder holding "
                         "benchmarks/); cd there, or run `python -m benchmarks` from it.")
    if args.repeats < 1:
        raise UsageError(f"--repeats == {args.repeats}, must be >= 1.")
    if args.blas_threads is not None and args.blas_threads < 1:
        raise UsageError(f"--blas-threads == {args.blas_threads}, must be >= 1.")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out!r} is a file; pass a folder (created if missing).")
    if root not in sys.path:
        sys.path.insert(0, root)
    cases = importlib.import_module("benchmarks").CASES
    names = [s.strip() for s in (args.only or "").split(",") if s.strip()]
    unknown = [s for s in names if s not in cases]
    if unknown:
        raise UsageError(f"--only names unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(cases)}.")
    return importlib.import_module("benchmarks.__main__").run_bench_command(args)
