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
finished run is appended at once as one JSON line (single ``write`` + ``flush`` + ``fsync`` under an
exclusive file lock), so a crash or ``kill -9`` can at worst leave a trailing partial line, which
:class:`ResultsStore` ignores on load and truncates before the next append. Every run has a
deterministic key (a hash of its parameters); a resumed sweep skips the keys already stored.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import itertools
import json
import os
import platform
import socket
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._io import atomic_write

__all__ = ["run_sweep", "run_sweep_command", "SweepResult", "ResultsStore", "atomic_write_json",
           "load_config", "expand_grid", "run_key", "execute_run", "environment", "deterministic_part",
           "KINDS", "DATA_SOURCES", "GRID_DEFAULTS"]

#: Experiment kinds a sweep can run.
KINDS = ("closed_form", "closed_form_vs_sgd")
#: Data sources of a sweep.
DATA_SOURCES = ("teacher", "whitened_classes")
#: Grid axes and their defaults (every axis is a list; a scalar means a one-element list).
GRID_DEFAULTS: dict[str, list] = {"beta": [0.1], "depth": [2], "width": [4], "n": [20], "d": [5],
                                  "k": [1], "seed": [0]}
_TRAIN_DEFAULTS = {"optimizer": "lbfgs", "lr": 1.0, "epochs": 50, "momentum": 0.0, "batch_size": None}
_TOP_KEYS = {"kind", "activation", "data", "sleep", "grid", "train", "noise", "name"}
#: Record fields that differ between two executions of the same run (times, host, process).
VOLATILE = ("env", "timing")
#: How long to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT = "20s"


# ------------------------------------------------------------------------------------------ files
def atomic_write_json(path, obj, *, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON to ``path`` atomically: temp file beside it, fsync, ``os.replace``.

    Readers see either the old file or the complete new one, never a partial write.

    Parameters
    ----------
    path : str or path-like
    obj : JSON-serializable object (NaN/inf are written as ``NaN``/``Infinity``)
    indent : int or None, default 2
    """
    text = json.dumps(obj, indent=indent, sort_keys=False, default=_json_default)
    atomic_write(path, text + "\n")


def _json_default(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


@contextlib.contextmanager
def _locked(lock_path: str) -> Iterator[None]:
    """Exclusive advisory lock on ``lock_path`` (``fcntl.flock``; a no-op where unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class ResultsStore:
    """Append-only JSON-lines store of run records, safe against crashes mid-write.

    Each record is a dict with a ``"key"``. :meth:`append` writes one line with a single ``write``
    call, then flushes and fsyncs, under an exclusive lock on ``<path>.lock``. A line is complete
    only once its ``"\\n"`` is on disk: on :meth:`load`, a trailing line without newline (or that is
    not valid JSON) is ignored, and the next :meth:`append` truncates it first, so earlier lines are
    never touched. Records whose key is already stored are not appended again.

    Parameters
    ----------
    path : str or path-like
        The ``.jsonl`` file (created on the first append). Its folder must exist.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"Results store {self.path!r}: folder {folder!r} does not exist.")
        self.lock_path = self.path + ".lock"
        self._known: set[str] = set()  # keys of the complete lines before byte self._offset
        self._offset = 0

    def __repr__(self) -> str:
        return f"ResultsStore({self.path!r})"

    # ---------------------------------------------------------------- reading
    def _scan(self, start: int = 0, seen: set[str] | None = None) -> tuple[list[dict], int, int]:
        """``(records, good_bytes, skipped)``: the complete, valid records from byte ``start`` on whose
        keys are not in ``seen`` (updated in place), and the byte offset after the last complete line."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(start)
                raw = fh.read()
        except FileNotFoundError:
            return [], 0, 0
        records: list[dict] = []
        seen = set() if seen is None else seen
        good = 0
        skipped = 0
        pos = 0
        lineno = 0
        while pos < len(raw):
            end = raw.find(b"\n", pos)
            if end < 0:  # trailing partial line: the write of a killed process
                break
            lineno += 1
            line = raw[pos:end]
            pos = end + 1
            if not line.strip():
                good = pos
                continue
            try:
                rec = json.loads(line.decode("utf-8"))
                if not isinstance(rec, dict) or not isinstance(rec.get("key"), str):
                    raise ValueError("not a record with a 'key'")
            except (ValueError, UnicodeDecodeError) as exc:
                warnings.warn(f"{self.path}: line {lineno} is not a valid record ({exc}); ignored.",
                              RuntimeWarning, stacklevel=3)
                skipped += 1
                good = pos
                continue
            good = pos
            if rec["key"] in seen:
                skipped += 1
                continue
            seen.add(rec["key"])
            records.append(rec)
        return records, start + good, skipped

    def _refresh(self) -> int:
        """Bring the cached keys up to date (reading only new bytes); returns the file size."""
        try:
            size = os.path.getsize(self.path)
        except FileNotFoundError:
            size = 0
        if size < self._offset:  # truncated or replaced by someone else: start over
            self._known, self._offset = set(), 0
        if size > self._offset:
            _, self._offset, _ = self._scan(self._offset, self._known)
        return size

    def load(self) -> list[dict]:
        """Every complete record, in the order written (first occurrence of each key)."""
        return self._scan()[0]

    def keys(self) -> set[str]:
        """The keys of the stored records."""
        return {rec["key"] for rec in self.load()}

    def __len__(self) -> int:
        return len(self.load())

    def __contains__(self, key) -> bool:
        return key in self.keys()

    # ---------------------------------------------------------------- writing
    def repair(self) -> int:
        """Truncate a trailing partial line left by a crash; returns the number of bytes removed."""
        with _locked(self.lock_path):
            return self._repair()

    def _repair(self) -> int:
        if not os.path.exists(self.path):
            return 0
        _, good, _ = self._scan()
        size = os.path.getsize(self.path)
        if size > good:
            with open(self.path, "r+b") as fh:
                fh.truncate(good)
                fh.flush()
                os.fsync(fh.fileno())
            return size - good
        return 0

    def append(self, record: Mapping[str, Any]) -> bool:
        """Append ``record`` durably unless its key is stored already; True if it was written."""
        if not isinstance(record, Mapping) or not isinstance(record.get("key"), str):
            raise TypeError("`record` must be a dict with a string 'key'.")
        line = json.dumps(record, sort_keys=True, default=_json_default, allow_nan=True)
        if "\n" in line:  # pragma: no cover - json.dumps escapes newlines
            raise ValueError("`record` serializes to more than one line.")
        data = (line + "\n").encode("utf-8")
        with _locked(self.lock_path):
            size = self._refresh()
            if record["key"] in self._known:
                return False
            if size > self._offset:  # a trailing partial line left by a crash
                self._repair()
                self._offset = os.path.getsize(self.path)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            self._known.add(record["key"])
            self._offset += len(data)
        return True


# ------------------------------------------------------------------------------------------ config
def _read_toml(path: str) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"No sweep config {path!r}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"`config` {path!r} is not valid TOML: {str(exc).splitlines()[0]}") from None


def _as_list(value, name: str) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError(f"`grid.{name}` is empty; give at least one value.")
    return values


def load_config(config) -> dict:
    """Read and validate a sweep config (a TOML path or a dict); return it with defaults filled in.

    Raises
    ------
    ValueError, TypeError
        Unknown keys or bad values; the message names the key.
    """
    from . import _validation as V

    if isinstance(config, (str, os.PathLike)):
        source = os.fspath(config)
        raw = _read_toml(source)
    elif isinstance(config, Mapping):
        raw = dict(config)
    else:
        raise TypeError(f"`config` must be a dict or a path to a TOML file, got {type(config).__name__}.")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ValueError(f"`config` has unknown key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}.")
    kind = V.check_choice(raw.get("kind", "closed_form"), "kind", KINDS)
    activation = V.check_choice(raw.get("activation", "linear"), "activation", ("linear", "relu"))
    data = V.check_choice(raw.get("data", "teacher" if activation == "linear" else "whitened_classes"),
                          "data", DATA_SOURCES)
    sleep = V.check_beta(raw.get("sleep", 0.0), "sleep")
    noise = V.check_beta(raw.get("noise", 0.0), "noise")
    grid_raw = raw.get("grid", {})
    if not isinstance(grid_raw, Mapping):
        raise TypeError(f"`grid` must be a table of lists, got {type(grid_raw).__name__}.")
    unknown = set(grid_raw) - set(GRID_DEFAULTS)
    if unknown:
        raise ValueError(f"`grid` has unknown axis/axes {sorted(unknown)}; allowed: {sorted(GRID_DEFAULTS)}.")
    grid: dict[str, list] = {}
    for axis, default in GRID_DEFAULTS.items():
        values = _as_list(grid_raw.get(axis, default), axis)
        checked = []
        for i, v in enumerate(values):
            label = f"grid.{axis}[{i}]"
            if axis == "beta":
                checked.append(V.check_beta(v, label))
            elif axis == "depth":
                checked.append(V.check_depth(v, label))
            elif axis == "seed":
                checked.append(V.check_positive_int(v, label, minimum=0))
            else:
                checked.append(V.check_positive_int(v, label))
        grid[axis] = checked
    train_raw = raw.get("train", {})
    if not isinstance(train_raw, Mapping):
        raise TypeError(f"`train` must be a table, got {type(train_raw).__name__}.")
    unknown = set(train_raw) - set(_TRAIN_DEFAULTS)
    if unknown:
        raise ValueError(f"`train` has unknown key(s) {sorted(unknown)}; allowed: {sorted(_TRAIN_DEFAULTS)}.")
    train = {**_TRAIN_DEFAULTS, **train_raw}
    return {"kind": kind, "activation": activation, "data": data, "sleep": sleep, "noise": noise,
            "name": str(raw.get("name", "sweep")), "grid": grid, "train": train}


def run_key(params: Mapping[str, Any]) -> str:
    """Deterministic key of a run: the first 16 hex digits of the SHA-256 of its canonical JSON."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def expand_grid(config) -> list[dict]:
    """Every run of a (validated) config: a list of parameter dicts, in grid order, keys unique."""
    cfg = config if isinstance(config, Mapping) and "grid" in config and "train" in config else load_config(config)
    axes = list(GRID_DEFAULTS)
    runs = []
    seen = set()
    train = dict(cfg["train"]) if cfg["kind"] == "closed_form_vs_sgd" else None
    for combo in itertools.product(*(cfg["grid"][a] for a in axes)):
        params = {"kind": cfg["kind"], "activation": cfg["activation"], "data": cfg["data"],
                  "noise": cfg["noise"], **dict(zip(axes, combo)), "train": train}
        key = run_key(params)
        if key in seen:  # repeated grid values
            continue
        seen.add(key)
        runs.append({"key": key, "params": params, "options": {"sleep": cfg["sleep"]}})  # sleep: not in the key
    return runs


# ------------------------------------------------------------------------------------------ one run
def environment() -> dict:
    """Package versions, host, process and device of the current process (recorded with every run)."""
    import numpy
    import scipy
    import torch

    from . import __version__

    return {"deepdual": __version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "torch": torch.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "hostname": socket.gethostname(), "pid": os.getpid(),
            "device": "cpu", "torch_threads": torch.get_num_threads()}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def _make_data(p: Mapping[str, Any]):
    import numpy as np

    from .data import teacher_data

    n, d, k, seed = p["n"], p["d"], p["k"], p["seed"]
    if p["data"] == "teacher":
        ds = teacher_data(n, d, k, seed=seed, noise=p["noise"], width=max(4, k))
        return ds.X, ds.Y
    # whitened_classes: n <= d Gaussian rows, whitened; balanced labels 0..k-1
    if n > d:
        raise ValueError(f"data='whitened_classes' needs n <= d (whitened rows); got n = {n}, d = {d}.")
    from .data import one_hot
    from .whitening import Whitener

    rng = np.random.default_rng(seed)
    X = Whitener().fit_transform(rng.standard_normal((n, d)))
    labels = np.arange(n) % k
    Y = one_hot(labels, classes=np.arange(k)).Y
    return X, Y


def _finite(x) -> float | None:
    import math

    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def execute_run(run: Mapping[str, Any]) -> dict:
    """Execute one run of a sweep (in whatever process it lands) and return its record.

    The record has ``key``, ``params``, ``status`` (``"ok"`` or ``"error"``), ``result`` (the
    deterministic numbers, or ``error``), and the volatile ``env`` (versions, host, pid, device)
    and ``timing`` (start/end timestamps, seconds). PyTorch runs single-threaded during the run so
    that results are bit-identical between processes.
    """
    import torch

    params = run["params"]
    options = run.get("options", {})
    started = _now()
    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    timing: dict[str, Any] = {"started_at": started}
    try:
        result = _compute(params, timing)
        status = "ok"
    except Exception as exc:  # a failed run is recorded, not retried: it is deterministic
        result = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        status = "error"
    finally:
        torch.set_num_threads(threads)
    sleep = float(options.get("sleep", 0.0) or 0.0)
    if sleep:
        time.sleep(sleep)
    timing.update(finished_at=_now(), seconds=time.perf_counter() - t0)
    env = environment()
    env["torch_threads"] = 1
    return {"key": run["key"], "params": dict(params), "seed": params["seed"], "status": status,
            "result": result, "env": env, "timing": timing}


def _compute(p: Mapping[str, Any], timing: dict) -> dict:
    from .certificates import certify
    from .networks import ParallelNet, objective
    from .theorems import closed_form

    X, Y = _make_data(p)
    t = time.perf_counter()
    sol = closed_form(X, Y, beta=p["beta"], depth=p["depth"], activation=p["activation"])
    timing["closed_form_seconds"] = time.perf_counter() - t
    out: dict[str, Any] = {"theorem": sol.theorem, "closed_form_objective": sol.objective,
                           "optimum": sol.optimum, "lower_bound": _finite(sol.lower_bound),
                           "closed_form_gap": _finite(sol.gap), "ranks": [int(r) for r in sol.ranks]}
    if p["beta"] > 0:
        cert = certify(sol.network, X, Y, beta=p["beta"])
        out["certificate"] = {"lower_bound": cert.lower_bound, "gap": cert.gap, "method": cert.method,
                              "exact": cert.exact}
    if p["kind"] == "closed_form_vs_sgd":
        from .training import train

        tr = p["train"]
        net = ParallelNet(X.shape[1], Y.shape[1], depth=p["depth"], branches=p["width"],
                          hidden=p["width"] if p["depth"] > 2 else 1, activation=p["activation"],
                          seed=p["seed"])
        t = time.perf_counter()
        hist = train(net, X, Y, beta=p["beta"], optimizer=tr["optimizer"], lr=tr["lr"],
                     epochs=tr["epochs"], momentum=tr["momentum"], batch_size=tr["batch_size"],
                     seed=p["seed"], progress=False)
        timing["train_seconds"] = time.perf_counter() - t
        final = objective(net, X, Y, beta=p["beta"]) if p["beta"] > 0 else hist.final_objective
        out["sgd"] = {"initial_objective": hist.initial_objective, "final_objective": final,
                      "epochs_run": hist.epochs_run,
                      "gap_to_closed_form": final - sol.objective,
                      "relative_gap": (final - sol.objective) / max(abs(sol.objective), 1e-300)}
        if p["beta"] > 0:
            with contextlib.suppress(ValueError):  # no certificate for this architecture
                cert = certify(net, X, Y, beta=p["beta"])
                out["sgd"]["certificate_gap"] = cert.gap
    return out


def deterministic_part(record: Mapping[str, Any]) -> dict:
    """A record without its volatile fields (``env``, ``timing``): equal for equal seeds."""
    return {k: v for k, v in record.items() if k not in VOLATILE}


# ------------------------------------------------------------------------------------------ sweep
@dataclass(frozen=True)
class SweepResult:
    """Outcome of :func:`run_sweep`.

    Attributes
    ----------
    store : str
        Path of the JSON-lines results store.
    records : list of dict
        The record of every run of the grid (from this call or an earlier one), in grid order.
    ran : int
        Runs executed by this call.
    skipped : int
        Runs found in the store and not executed again.
    failed : int
        Runs of the grid whose record has ``status == "error"``.
    """

    store: str
    records: list = field(default_factory=list)
    ran: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return len(self.records)

    def summary(self) -> dict:
        return {"store": self.store, "total": self.total, "ran": self.ran, "skipped": self.skipped,
                "failed": self.failed}


def _local_results(todo: list[dict], n_jobs: int) -> Iterable[dict]:
    if n_jobs == 1 or len(todo) <= 1:
        for run in todo:
            yield execute_run(run)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
    yield from parallel(delayed(execute_run)(run) for run in todo)


def _dask_results(todo: list[dict], scheduler) -> Iterable[dict]:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - optional dependency
        raise ValueError("`scheduler` needs dask.distributed: pip install 'dask[distributed]'.") from None
    own = not hasattr(scheduler, "submit")
    if own:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"`scheduler` == {scheduler!r}: cannot connect to a Dask scheduler "
                             f"({type(exc).__name__}).") from None
    else:
        client = scheduler
    try:
        futures = client.map(execute_run, todo, pure=False)
        for fut in as_completed(futures, loop=client.loop):
            yield fut.result()
            fut.release()
    finally:
        if own:
            client.close()


def run_sweep(config, store, *, scheduler=None, n_jobs: int = 2, progress=None) -> SweepResult:
    """Run every run of a sweep that is not in ``store`` yet, appending each record as it finishes.

    Parameters
    ----------
    config : dict or path
        A TOML file or dict (see the module docstring); validated with :func:`load_config`.
    store : str or path-like
        JSON-lines results store (created if missing; its folder must exist).
    scheduler : str or distributed.Client, optional
        Address of a Dask scheduler (``"tcp://host:8786"``) or a connected client. Default: local
        worker processes through joblib.
    n_jobs : int, default 2
        Local worker processes (``1`` runs in this process); ignored with ``scheduler``.
    progress : callable, optional
        ``progress(record, done, todo)`` after each stored run.

    Returns
    -------
    SweepResult
    """
    from . import _validation as V

    cfg = load_config(config)
    n_jobs = V.check_positive_int(n_jobs, "n_jobs")
    if scheduler is not None and not (isinstance(scheduler, str) or hasattr(scheduler, "submit")):
        raise TypeError(f"`scheduler` must be an address string or a distributed.Client, "
                        f"got {type(scheduler).__name__}.")
    results = ResultsStore(store)
    results.repair()
    runs = expand_grid(cfg)
    done = results.keys()
    todo = [r for r in runs if r["key"] not in done]
    skipped = len(runs) - len(todo)
    ran = 0
    source = _dask_results(todo, scheduler) if scheduler is not None else _local_results(todo, n_jobs)
    for record in source:
        if results.append(record):
            ran += 1
        if progress is not None:
            progress(record, ran, len(todo))
    by_key = {r["key"]: r for r in results.load()}
    records = [by_key[r["key"]] for r in runs if r["key"] in by_key]
    failed = sum(1 for r in records if r.get("status") != "ok")
    return SweepResult(store=results.path, records=records, ran=ran, skipped=skipped, failed=failed)


def run_sweep_command(args) -> int:
    """``deepdual sweep CONFIG.toml [--out STORE] [--scheduler ADDRESS] [--jobs N]``.

    Prints one line per finished run to stderr and a JSON summary to stdout; exit code 1 when a
    run of the grid failed.
    """
    config = os.fspath(args.config)
    if not os.path.isfile(config):
        raise FileNotFoundError(f"No sweep config {config!r}.")
    out = args.out or os.path.splitext(config)[0] + ".results.jsonl"

    def report(record, done, todo):
        p = record["params"]
        line = (f"[{done}/{todo}] {record['key']} beta={p['beta']:g} depth={p['depth']} "
                f"width={p['width']} n={p['n']} seed={p['seed']}: {record['status']}")
        print(line, file=sys.stderr, flush=True)

    result = run_sweep(config, out, scheduler=args.scheduler, n_jobs=args.jobs, progress=report)
    print(json.dumps(result.summary()), flush=True)
    return 1 if result.failed else 0
