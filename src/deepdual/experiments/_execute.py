"""Run the units of several experiments side by side on worker processes, one thread each.

An experiment module that defines ``units``/``run_unit``/``assemble`` (see :mod:`._common`) is split
into its units; any other module (only ``compute``) is one unit. Every unit of every experiment goes
into one queue served by ``n_jobs`` joblib (loky) worker processes, experiments made of few (long)
units first; an experiment is assembled, in this process, as soon as its last unit is back, and handed
to the caller (who plots and saves it) while the workers go on.

Each unit runs under :func:`._common.single_thread` whether in a worker or here (``n_jobs=1``), and
its result depends only on its configuration, so a parallel run gives the numbers of a sequential one.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import get
from ._common import jsonable, single_thread

__all__ = ["Job", "usable_cpus", "plan", "run_jobs"]

#: Unit descriptor of a module computed as a whole (``compute(config)``).
WHOLE = "__whole__"


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


@dataclass
class Job:
    """One experiment to compute: its name, configuration and extra arguments (``cifar_dir``)."""

    name: str
    config: dict
    context: dict = field(default_factory=dict)
    units: list = field(default_factory=list)
    results: list = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    remaining: int = 0


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def run_task(name: str, config: dict, unit, context: dict) -> dict:
    """Run one unit (in a worker or here); ``{"result", "seconds"}`` or ``{"error", "seconds"}``."""
    try:  # imported before the clock starts: a worker's first unit does not pay for them
        import torch  # noqa: F401

        from .. import networks, training  # noqa: F401

        mod = get(name)
    except Exception as exc:  # noqa: BLE001
        return {"error": _error_text(exc), "seconds": 0.0}
    start = time.perf_counter()
    try:
        with single_thread():
            if unit == WHOLE:
                out = mod.compute(config, **context)
            else:
                out = jsonable(mod.run_unit(config, unit, **context))
        return {"result": out, "seconds": time.perf_counter() - start}
    except Exception as exc:  # noqa: BLE001 - becomes the experiment's FAIL row
        return {"error": _error_text(exc), "seconds": time.perf_counter() - start}


def plan(jobs: list[Job]) -> None:
    """Split every job into its units (a job whose ``units()`` raises carries the error and no units)."""
    for job in jobs:
        _plan(job)


def _plan(job: Job) -> None:
    mod = get(job.name)
    if not hasattr(mod, "units"):
        job.units = [WHOLE]
    else:
        try:
            job.units = list(mod.units(job.config, **job.context))
        except Exception as exc:  # noqa: BLE001
            job.error, job.units = _error_text(exc), []
    job.results = [None] * len(job.units)
    job.remaining = len(job.units)


def _finish(job: Job):
    """The job's record, or the error message; assembled here from the results in unit order."""
    if job.error is not None:
        return None
    if job.units == [WHOLE]:
        rec = job.results[0]
        rec["seconds"] = job.seconds
        return rec
    start = time.perf_counter()
    try:
        with single_thread():
            rec = get(job.name).assemble(job.config, job.results, **job.context)
    except Exception as exc:  # noqa: BLE001
        job.error = _error_text(exc)
        return None
    rec["seconds"] = job.seconds + time.perf_counter() - start
    return rec


def _tasks(jobs: list[Job]) -> list[tuple[int, int]]:
    """``(job, unit)`` indices, experiments with the fewest units first: those units are the long ones (a
    whole experiment), and one started last would leave the other workers idle at the end."""
    order = sorted(range(len(jobs)), key=lambda j: len(jobs[j].units))
    return [(j, u) for j in order for u in range(len(jobs[j].units))]


def run_jobs(jobs: list[Job], *, n_jobs: int = 1, tick: Callable[[], None] | None = None) -> Iterator[tuple]:
    """Compute planned ``jobs`` (:func:`plan`); yield ``(job, record_or_None)`` as each experiment completes
    (``None`` and ``job.error`` set when it failed). ``tick()`` is called after every unit."""
    for job in jobs:
        if job.remaining == 0:
            yield job, _finish(job) if job.error is None else None
    tasks = _tasks(jobs)
    if not tasks:
        return
    args = [(jobs[j].name, jobs[j].config, jobs[j].units[u], jobs[j].context) for j, u in tasks]
    if n_jobs <= 1 or len(tasks) == 1:
        outputs = ((k, run_task(*a)) for k, a in enumerate(args))
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=min(n_jobs, len(tasks)), backend="loky", return_as="generator_unordered")
        outputs = parallel(delayed(_indexed)(k, *a) for k, a in enumerate(args))
    for k, out in outputs:
        j, u = tasks[k]
        job = jobs[j]
        job.seconds += out["seconds"]
        if "error" in out:
            job.error = job.error or out["error"]
        else:
            job.results[u] = out["result"]
        job.remaining -= 1
        if tick is not None:
            tick()
        if job.remaining == 0:
            yield job, _finish(job)


def _indexed(k: int, name: str, config: dict, unit, context: dict) -> tuple[int, dict]:
    return k, run_task(name, config, unit, context)
