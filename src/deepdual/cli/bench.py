"""``deepdual bench``: the benchmarks of a source checkout (``benchmarks/``, not part of the wheel).

Exit codes: 0 done; 1 a closed form was beaten by training or a case raised (see results.json);
2 bad usage, or not run from the root of a source checkout.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

from ._errors import UsageError

__all__ = ["run_bench", "MAX_REPEATS"]

#: Most ``--repeats``.
MAX_REPEATS = 1000
#: The files ``deepdual bench`` writes into ``--out``.
_OUTPUTS = ("results.json", "results.md", "scaling.png")


def _is_bench_results(path: str) -> bool:
    """Whether ``path`` is a ``results.json`` written by the benchmarks."""
    try:
        with open(path, "rb") as fh:
            res = json.loads(fh.read(64 * 2**20))
    except (OSError, ValueError, RecursionError):
        return False
    return (isinstance(res, dict) and isinstance(res.get("command"), str)
            and res["command"].startswith("python -m benchmarks") and isinstance(res.get("cases"), dict))


def _check_out(out: str) -> None:
    """Refuse an ``--out`` folder where the benchmarks would replace files they did not write."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} is a file; pass a folder (created if missing).")
    present = [f for f in _OUTPUTS if os.path.lexists(os.path.join(out, f))]
    for f in present:
        if not os.path.isfile(os.path.join(out, f)):
            raise UsageError(f"--out {out!r} holds {f!r}, which is not a regular file; remove it or pass another "
                             "folder.")
    if present and not _is_bench_results(os.path.join(out, "results.json")):
        raise UsageError(f"--out {out!r} holds {present[0]!r}, which `deepdual bench` did not write, so it is left "
                         "alone; pass a new or empty folder, or the folder of an earlier `deepdual bench`.")


def run_bench(args) -> int:
    """Check the options, then run ``benchmarks.__main__.run_bench_command`` from the current folder.

    Raises
    ------
    UsageError
        Not in a source checkout, ``--repeats`` outside [1, :data:`MAX_REPEATS`], ``--blas-threads``
        outside [1, CPU count], an unknown name in ``--only``, or an ``--out`` that is a file or holds
        a ``results.json``, ``results.md`` or ``scaling.png`` the benchmarks did not write.
    """
    root = os.getcwd()
    if not os.path.isfile(os.path.join(root, "benchmarks", "__main__.py")):
        raise UsageError("`deepdual bench` runs from the root of a deepdual source checkout (the folder holding "
                         "benchmarks/); cd there, or run `python -m benchmarks` from it.")
    if args.repeats < 1:
        raise UsageError(f"--repeats == {args.repeats}, must be >= 1.")
    if args.repeats > MAX_REPEATS:
        raise UsageError(f"--repeats == {args.repeats}, must be <= {MAX_REPEATS}.")
    if args.blas_threads is not None and args.blas_threads < 1:
        raise UsageError(f"--blas-threads == {args.blas_threads}, must be >= 1.")
    cores = os.cpu_count() or 1
    if args.blas_threads is not None and args.blas_threads > cores:
        raise UsageError(f"--blas-threads == {args.blas_threads}, must be <= {cores} (the CPU count): more threads "
                         "than cores only slow the benchmarks down.")
    _check_out(args.out)
    if root not in sys.path:
        sys.path.insert(0, root)
    cases = importlib.import_module("benchmarks").CASES
    names = [s.strip() for s in (args.only or "").split(",") if s.strip()]
    unknown = [s for s in names if s not in cases]
    if unknown:
        raise UsageError(f"--only names unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(cases)}.")
    return importlib.import_module("benchmarks.__main__").run_bench_command(args)
