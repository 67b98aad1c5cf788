"""Resumable experiment sweeps: a grid of runs, local processes or a Dask cluster, a crash-safe store.

A sweep is described by a TOML file (or the equivalent dict)::

    kind = "closed_form_vs_sgd"      # or "closed_form" (closed form + certificate only)
    activation = "linear"            # "linear" or "relu"
    data = "teacher"                 # "teacher" (Gaussian X, random teacher) or "whitened_classes"
    sleep = 0.0                      # seconds each run sleeps (for tests and demos)

    [grid]                           # every combination is one run
    beta = [0.01, 0.1]
    depth = [2, 3]
    width = [8]                      # branches of the trained parallel network
    n = [20]
    d = [10]
    k = [1]
    seed = [0, 1, 2]

    [train]                          # arguments of deepdual.train (kind = "closed_form_vs_sgd")
    optimizer = "lbfgs"
    lr = 1.0
    epochs = 50

Runs are executed by :mod:`joblib` in local worker processes (``n_jobs``), or on a Dask cluster
(``scheduler="tcp://host:8786"``). The sweep process is the only writer of the results store: each
finished run is appended at once as one JSON line (single ``write`` + ``fsync`` under an exclusive
file lock), so a crash or ``kill -9`` can at worst leave a trailing partial line, which
:class:`ResultsStore` ignores on load and truncates before the next append. Every run has a
deterministic key (a hash of its parameters); a resumed sweep skips the keys already stored.

A store starts with a header line and is the only kind of file a sweep writes into: a file that is
not new, empty or a store (a CSV, the config itself) is refused before anything is written. Every
stored record is checked on load (:func:`check_record`: fields, key = hash of the parameters,
finite numbers); one that fails is skipped with a warning naming the line and field, and its run is
executed again.

Modules: :mod:`.config` (the TOML/dict config, the grid, run keys), :mod:`.store` (the results
store), :mod:`.run` (one run, the local and Dask executors, :func:`run_sweep`).
"""

from __future__ import annotations

from .._io import atomic_write_json
from .config import DATA_SOURCES, GRID_DEFAULTS, KINDS, expand_grid, load_config, run_key
from .run import VOLATILE, SweepResult, check_record, deterministic_part, execute_run, run_sweep
from .store import STORE_FORMAT, ResultsStore

__all__ = ["run_sweep", "SweepResult", "ResultsStore", "atomic_write_json", "load_config", "expand_grid",
           "run_key", "execute_run", "deterministic_part", "check_record", "KINDS", "DATA_SOURCES", "GRID_DEFAULTS",
           "VOLATILE", "STORE_FORMAT"]
