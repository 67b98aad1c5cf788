"""``deepdual reproduce [--out DIR] [--quick] [--only NAMES] ...``: every figure and claim, and the report.

Exit codes: 0 the report was written (also when claims FAIL: the report says which); 2 bad usage.
"""

from __future__ import annotations

import os
import time

from ..experiments.runner import parse_only, reproduce
from ._errors import UsageError, user_input

__all__ = ["run_reproduce"]


def run_reproduce(args) -> int:
    """Run the experiments named by ``--only`` (default: all) into ``--out``; print the claim counts.

    Raises
    ------
    UsageError
        An unknown experiment name, an ``--out`` that is a file, or a ``--cifar-dir`` that is not a
        folder (all checked before any work).
    """
    with user_input():
        names = parse_only(args.only)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out!r} is a file; pass a folder (created if missing).")
    if args.cifar_dir is not None and not os.path.isdir(args.cifar_dir):
        raise UsageError(f"--cifar-dir {args.cifar_dir!r} is not a folder")
    progress = False if args.no_progress else None
    t0 = time.time()
    res = reproduce(args.out, quick=args.quick, only=names, cifar_dir=args.cifar_dir, seed=args.seed,
                    device=args.device, progress=progress)
    counts = res["summary"]
    print(f"deepdual reproduce: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['SKIPPED']} SKIPPED "
          f"in {time.time() - t0:.0f} s; report: {os.path.join(os.path.abspath(args.out), 'index.html')}")
    return 0
