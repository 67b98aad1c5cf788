"""Executing a sweep: one run (:func:`execute_run`), the local (joblib) and Dask executors, :func:`run_sweep`."""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import numbers
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import _validation as V
from .._io import environment, same_file
from .config import expand_grid, load_config, run_key
from .store import ResultsStore

__all__ = ["run_sweep", "SweepResult", "execute_run", "deterministic_part", "check_record", "VOLATILE",
           "CONNECT_TIMEOUT", "MAX_JOBS"]

#: Record fields that differ between two executions of the same run (times, host, process).
VOLATILE = ("env", "timing")
#: How long to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT = "20s"
#: Most local worker processes (``n_jobs``): more only queue up for the same cores.
MAX_JOBS = 256
#: The fields of a run's record.
_RECORD_FIELDS = {"key", "params", "seed", "status", "result", "env", "timing"}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def _make_data(p: Mapping[str, Any]):
    import numpy as np

    from ..data import teacher_data

    n, d, k, seed = p["n"], p["d"], p["k"], p["seed"]
    if p["data"] == "teacher":
        ds = teacher_data(n, d, k, seed=seed, noise=p["noise"], width=max(4, k))
        return ds.X, ds.Y
    # whitened_classes: n <= d Gaussian rows, whitened; balanced labels 0..k-1
    if n > d:
        raise ValueError(f"data='whitened_classes' needs n <= d (whitened rows); got n = {n}, d = {d}.")
    from ..data import one_hot
    from ..whitening import Whitener

    rng = np.random.default_rng(seed)
    X = Whitener().fit_transform(rng.standard_normal((n, d)))
    labels = np.arange(n) % k
    Y = one_hot(labels, classes=np.arange(k)).Y
    return X, Y


def _finite(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _number(value, where: str, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"field {where!r} is {type(value).__name__} {value!r}, not a number")
    if not math.isfinite(value):
        raise ValueError(f"field {where!r} is {value}, not a finite number")


def _all_finite(value, where: str) -> None:
    """Every float anywhere inside ``value`` is finite (NaN / Infinity literals are refused)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"field {where!r} is {value}, not a finite number")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _all_finite(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _all_finite(v, f"{where}[{i}]")


def _table(record: Mapping, name: str) -> Mapping:
    value = record.get(name)
    if not isinstance(value, Mapping):
        raise ValueError(f"field {name!r} is {type(value).__name__}, not an object")
    return value


def check_record(record: Mapping[str, Any]) -> None:
    """Check a run's record (from :func:`execute_run`, or read back from a store) field by field.

    The record has exactly the fields of :func:`execute_run`; its ``key`` is the hash of its
    ``params`` (so a record edited by hand, or written for other parameters, is refused); ``status``
    is ``"ok"`` with the closed form's numbers, or ``"error"`` with the error message; and every
    number in it is finite.

    Raises
    ------
    ValueError
        One line naming the first field that is wrong.
    """
    if not isinstance(record, Mapping):
        raise ValueError(f"a record is a JSON object, got {type(record).__name__}")
    missing, extra = _RECORD_FIELDS - set(record), set(record) - _RECORD_FIELDS
    if missing or extra:
        raise ValueError(f"fields {sorted(missing)} missing" if missing else f"unexpected field(s) {sorted(extra)}")
    params = _table(record, "params")
    try:
        key = run_key(params)
    except (TypeError, ValueError, RecursionError):
        raise ValueError("field 'params' cannot be hashed") from None
    if record["key"] != key:
        raise ValueError(f"field 'key' is {record['key']!r}, not the hash of its params ({key!r})")
    if record["seed"] != params.get("seed") or isinstance(record["seed"], bool):
        raise ValueError(f"field 'seed' is {record['seed']!r}, not params.seed ({params.get('seed')!r})")
    result = _table(record, "result")
    _table(record, "env")
    _table(record, "timing")
    status = record["status"]
    if status == "error":
        if set(result) != {"error"} or not isinstance(result["error"], str):
            raise ValueError("field 'result' of an error record must be {'error': message}")
    elif status == "ok":
        if not isinstance(result.get("theorem"), str):
            raise ValueError(f"field 'result.theorem' is {result.get('theorem')!r}, not a string")
        _number(result.get("closed_form_objective"), "result.closed_form_objective")
        for name in ("optimum", "lower_bound", "closed_form_gap"):
            _number(result.get(name), f"result.{name}", allow_none=True)
        ranks = result.get("ranks")
        if not isinstance(ranks, list) or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 0
                                                   for r in ranks):
            raise ValueError(f"field 'result.ranks' is {ranks!r}, not a list of ranks")
        if params.get("kind") == "closed_form_vs_sgd" and not isinstance(result.get("sgd"), Mapping):
            raise ValueError("field 'result.sgd' is missing")
    else:
        raise ValueError(f"field 'status' is {status!r}, not 'ok' or 'error'")
    _all_finite(record, "record")


def execute_run(run: Mapping[str, Any]) -> dict:
    """Execute one run of a sweep (in whatever process it lands) and return its record.

    The record has ``key``, ``params``, ``seed``, ``status`` (``"ok"`` or ``"error"``), ``result``
    (the deterministic numbers, or ``error``: a run that raises is recorded, not raised), and the
    volatile ``env`` (:func:`deepdual._io.environment` plus the run's ``device`` and ``torch_threads``)
    and ``timing`` (start/end timestamps, seconds). PyTorch runs single-threaded during the run so
    that results are bit-identical between processes. A result that :func:`check_record` refuses
    (a NaN or infinite number) is recorded as an error that names the field, never stored as ``"ok"``.
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
    env = {**environment(), "device": "cpu", "torch_threads": 1}
    record = {"key": run["key"], "params": dict(params), "seed": params["seed"], "status": status,
              "result": result, "env": env, "timing": timing}
    if status == "ok":
        try:
            check_record(record)
        except ValueError as exc:  # e.g. an objective that overflowed: an error, never a NaN stored as "ok"
            record.update(status="error", result={"error": f"ValueError: the run's {exc}"})
    return record


def _compute(p: Mapping[str, Any], timing: dict) -> dict:
    from ..certificates import certify
    from ..networks import ParallelNet, objective
    from ..solution import NoCertificateError
    from ..theorems import closed_form

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
        from ..training import train

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
            with contextlib.suppress(NoCertificateError):  # none for this architecture
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

    parallel = Parallel(n_jobs=min(n_jobs, len(todo)), backend="loky", return_as="generator_unordered")
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

    Raises
    ------
    ValueError, TypeError
        A bad ``config``, ``n_jobs`` or ``scheduler``, or a scheduler that cannot be reached; all
        raised before any run starts. A run that raises is recorded with ``status == "error"``
        (see :func:`execute_run`), never raised.
    FileNotFoundError
        The folder of ``store`` does not exist, or no TOML file ``config``.
    IsADirectoryError, PermissionError
        ``store`` is a folder or a read-only file.

    Notes
    -----
    ``store`` must be new, empty, or a results store written by an earlier sweep (its first line is
    the store's header); anything else, and the config file itself, is refused with a ``ValueError``
    before anything is written. A stored record that :func:`check_record` refuses (edited, truncated,
    NaN, another tool's JSON) is skipped with a ``RuntimeWarning`` naming the line and field, and its
    run is executed again.
    """
    cfg = load_config(config)
    n_jobs = V.check_scalar(n_jobs, "n_jobs", target_type=numbers.Integral, min_val=1, max_val=MAX_JOBS)
    if scheduler is not None and not (isinstance(scheduler, str) or hasattr(scheduler, "submit")):
        raise TypeError(f"`scheduler` must be an address string or a distributed.Client, "
                        f"got {type(scheduler).__name__}.")
    if isinstance(config, (str, os.PathLike)) and same_file(config, store):
        raise ValueError(f"`store` {os.fspath(store)!r} is the sweep config itself; pass another file for the "
                         "results (default: CONFIG.results.jsonl).")
    results = ResultsStore(store, validate=check_record)
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
