"""``deepdual sweep CONFIG.toml [--out STORE] [--scheduler ADDRESS] [--jobs N]``: a resumable sweep.

Prints one line per finished run on stderr and a JSON summary on stdout. Exit codes: 0 every run
of the grid succeeded; 1 a run failed (its error is recorded in the store); 2 bad usage, a bad
config, or a scheduler that cannot be reached.
"""

from __future__ import annotations

import json
import os
import sys

from ..sweeps import run_sweep
from ._errors import UsageError, user_input

__all__ = ["run_sweep_command"]


def _print_progress(record: dict, done: int, todo: int) -> None:
    p = record["params"]
    status = record["status"]
    if status != "ok":  # say why, not only that it failed (the store has the same message)
        status += f" ({record['result'].get('error', 'no message')})"
    print(f"[{done}/{todo}] {record['key']} beta={p['beta']:g} depth={p['depth']} width={p['width']} "
          f"n={p['n']} seed={p['seed']}: {status}", file=sys.stderr, flush=True)


def run_sweep_command(args) -> int:
    """Run the sweep of ``args.config`` into ``args.out`` (default: ``CONFIG.results.jsonl``).

    Raises
    ------
    UsageError
        No such config, or :func:`~deepdual.run_sweep` rejected the config, ``--jobs``,
        ``--scheduler`` or the store (a file that is not a results store, the config itself, a
        folder, a read-only file): it does so before any run starts or anything is written. A run
        that raises is recorded in the store, not raised.
    """
    config = os.fspath(args.config)
    if not os.path.exists(config):
        raise UsageError(f"No sweep config {config!r}.")
    if not os.path.isfile(config):
        raise UsageError(f"Sweep config {config!r} is not a regular file; pass a TOML file.")
    out = args.out or os.path.splitext(config)[0] + ".results.jsonl"
    with user_input():
        result = run_sweep(config, out, scheduler=args.scheduler, n_jobs=args.jobs, progress=_print_progress)
    print(json.dumps(result.summary()), flush=True)
    return 1 if result.failed else 0
