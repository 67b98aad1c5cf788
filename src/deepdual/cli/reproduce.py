"""``deepdual reproduce [--out DIR] [--quick] [--only NAMES] [--jobs N] ...``: every figure and claim, and the report.

The training runs of every experiment are shared by ``--jobs`` worker processes (default: the usable
CPUs), one thread each; one line per finished experiment goes to stderr (also without a terminal).
Exit codes: 0 the report was written (also when claims FAIL: the report says which); 2 bad usage.
"""

from __future__ import annotations

import os
import time

from .._io import same_file
from ..experiments.runner import MAX_SEED, check_out_folder, parse_only, reproduce
from ._errors import UsageError, user_input

__all__ = ["run_reproduce"]


def run_reproduce(args) -> int:
    """Run the experiments named by ``--only`` (default: all) into ``--out``; print the claim counts.

    Raises
    ------
    UsageError
        An unknown experiment name, a ``--seed`` out of range, ``--jobs`` below 1, an ``--out`` that is a file or a
        folder holding files that reproduce did not write but would replace, a ``--cifar-dir`` that
        is not a folder, or ``--device cuda`` without CUDA (all checked before any work).
    """
    with user_input():
        names = parse_only(args.only)
    if not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed == {args.seed}, must be >= 0 and <= {MAX_SEED}.")
    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs == {jobs}, must be >= 1.")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out!r} is a file; pass a folder (created if missing).")
    if args.cifar_dir is not None and not os.path.isdir(args.cifar_dir):
        raise UsageError(f"--cifar-dir {args.cifar_dir!r} is not a folder")
    if args.cifar_dir is not None and same_file(args.out, args.cifar_dir):
        raise UsageError(f"--out {args.out!r} is the --cifar-dir folder; pass another folder for the report.")
    with user_input():
        check_out_folder(args.out, names, "--out")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda, but CUDA is not available here; pass --device cpu.")
    progress = False if args.no_progress else None
    t0 = time.time()
    res = reproduce(args.out, quick=args.quick, only=names, cifar_dir=args.cifar_dir, seed=args.seed,
                    device=args.device, progress=progress, jobs=jobs)
    counts = res["summary"]
    print(f"deepdual reproduce: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['SKIPPED']} SKIPPED "
          f"in {time.time() - t0:.0f} s; report: {os.path.join(os.path.abspath(args.out), 'index.html')}")
    return 0
