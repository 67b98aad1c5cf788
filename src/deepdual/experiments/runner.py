"""Run every experiment of the paper, save records atomically, resume, write the report (``deepdual reproduce``).

Layout of the output folder::

    DIR/records/NAME.json   one record per finished experiment (written to a temp file, then os.replace)
    DIR/NAME.png            its plot
    DIR/NAME.plot.json      the numbers the plot draws (every line of every axes), also embedded in the report
    DIR/results.json        every record + package versions, seed, device, date, machine
    DIR/index.html          self-contained report (images by relative path, claims table)

A record is reused (the experiment skipped) when its ``config_hash`` matches the configuration of
this run, so an interrupted run picks up where it stopped. An experiment that raises is recorded as a
FAIL claim row carrying the error message (and is retried on the next run).

Records are never trusted blindly: before reuse each one is checked by :func:`check_record` (in
:mod:`._store`, re-exported here; strict
JSON, every field of the schema, claim rows, finite numbers, the configuration hash, and the
record's ``checksum`` of its own content). A record that fails — edited by hand, truncated, another
tool's JSON — is recomputed, with a ``RuntimeWarning`` naming the file and the field.

The output folder must be new, empty, a folder an earlier ``reproduce`` wrote (its ``results.json``
or a record of ours), or a folder holding none of the files ``reproduce`` writes: a file there that
deepdual did not write is never replaced (``ValueError`` before any work).
"""

from __future__ import annotations

import io
import numbers
import os
import sys
import time
import traceback

from .. import _validation as V
from .._io import atomic_write, atomic_write_json, same_file
from ..report import PLOT_FORMAT, REPORT_FORMAT
from . import EXPERIMENTS, get
from ._common import FAIL, PASS, SKIPPED, config_hash, failed, figure_data, jsonable
from ._store import MAX_RECORD_BYTES, check_out_folder, check_record, read_record, record_checksum

__all__ = ["reproduce", "parse_only", "experiment_config", "check_record", "record_checksum", "REPORT_FORMAT",
           "MAX_SEED", "MAX_RECORD_BYTES", "check_out_folder"]

#: Largest ``seed``: the experiments' seeds (base seed + ``seed``) must stay valid for NumPy, torch and
#: scikit-learn (``random_state`` < 2**32).
MAX_SEED = 2**31 - 1


def parse_only(only) -> list[str]:
    """Experiment names from ``"fig1,fig4"`` or a list; ``None`` means all. Unknown names raise ValueError."""
    if only is None:
        return list(EXPERIMENTS)
    names = [s.strip() for s in (only.split(",") if isinstance(only, str) else only) if s and s.strip()]
    bad = [n for n in names if n not in EXPERIMENTS]
    if bad or not names:
        raise ValueError(f"unknown experiment name(s) {', '.join(map(repr, bad)) or '(none given)'} in --only; "
                         f"valid names: {', '.join(EXPERIMENTS)}")
    return [n for n in EXPERIMENTS if n in names]


def experiment_config(name: str, size: str, *, seed: int = 0, device: str = "cpu", cifar: bool = False) -> dict:
    """The configuration of experiment ``name`` at ``size`` ("tiny", "quick", "full") for this run."""
    cfg = dict(get(name).CONFIGS[size])
    cfg["seed"] = int(cfg.get("seed", 0)) + int(seed)
    cfg["size"] = size
    if name in ("fig4", "neural_collapse"):
        cfg["device"] = device
    if name == "fig4":
        cfg["cifar"] = bool(cifar)
    return cfg


def _save_plot(module, rec: dict, path: str) -> None:
    """The plot at ``path`` (``out/NAME.png``) and, next to it, what it draws as numbers (``out/NAME.plot.json``,
    see :func:`deepdual.experiments._common.figure_data`)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig = module.plot(rec)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        data = figure_data(fig)
    finally:
        plt.close(fig)
    atomic_write_json(_plot_data_path(path), {"format": PLOT_FORMAT, **data}, indent=None)
    atomic_write(path, buf.getvalue())


def _plot_data_path(png: str) -> str:
    return png[: -len(".png")] + ".plot.json"


def _reusable(path: str, name: str, h: str, out: str):
    """The record at ``path`` if it can be reused for this run; else None (with a warning when damaged)."""
    import warnings

    rec, why = read_record(path)
    if rec is None and why is None:  # no record yet
        return None
    if why is None:
        if isinstance(rec, dict) and "error" in rec:  # an experiment that raised: retried, not a damage
            return None
        if isinstance(rec, dict) and rec.get("name") == name and rec.get("config_hash") != h \
                and isinstance(rec.get("config"), dict) and rec.get("config_hash") == config_hash(name, rec["config"]):
            return None  # computed for another configuration (--quick, --seed): recomputed, nothing damaged
        try:
            check_record(rec, name, h)
        except ValueError as exc:
            why = str(exc)
    if why is not None:
        warnings.warn(f"{path}: {why}; recomputing {name}.", RuntimeWarning, stacklevel=3)
        return None
    if not all(os.path.isfile(os.path.join(out, p)) for p in rec["plots"]):
        return None  # its plot is gone: recomputed (a missing NAME.plot.json only leaves the page without its numbers)
    return rec


def _error_record(name: str, cfg: dict, error: str, seconds: float) -> dict:
    mod = get(name)
    return jsonable({"name": name, "title": getattr(mod, "TITLE", name), "description": "The experiment raised an "
                     "error; see the claims table.", "config": cfg, "config_hash": config_hash(name, cfg),
                     "claims": [failed(name, f"{name} ran to completion", error)], "data": {},
                     "error": error, "seconds": seconds, "plots": []})


def _progress_bar(enabled: bool, total: int):
    if not enabled or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="reproduce", unit="unit", file=sys.stderr, leave=True)


def _say(line: str, bar) -> None:
    """One line on stderr (through tqdm when a bar is showing, so the bar is not broken)."""
    if bar is not None:
        bar.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr, flush=True)


def _counts(rec: dict) -> str:
    statuses = [c.get("status") for c in rec.get("claims", [])]
    return f"{statuses.count(PASS)} PASS, {statuses.count(FAIL)} FAIL, {statuses.count(SKIPPED)} SKIPPED"


def reproduce(out, *, quick: bool = False, only=None, cifar_dir=None, seed: int = 0, device: str = "cpu",
              progress=None, size: str | None = None, jobs: int | None = None, verbose: bool = True) -> dict:
    """Run the paper's experiments and write ``out/index.html`` and ``out/results.json``.

    Parameters
    ----------
    out : str or path
        Output folder (created).
    quick : bool, default False
        The ``"quick"`` configuration (under 5 minutes on 2 cores) instead of ``"full"``.
    only : str or list of str, optional
        Experiment names (see :data:`deepdual.experiments.EXPERIMENTS`); unknown names raise ValueError.
    cifar_dir : str, optional
        Folder with the CIFAR-10 python batches; without it the CIFAR rows are SKIPPED.
    seed : int, default 0
        Added to every experiment's base seed.
    device : {"cpu", "cuda"}
    progress : bool, optional
        A tqdm progress bar (units of work done); default: only when stderr is a terminal.
    size : {"tiny", "quick", "full"}, optional
        Overrides ``quick`` (``"tiny"`` is the test size).
    jobs : int, optional
        Worker processes that share the units of work (training runs, β values, ...) of every
        experiment, one thread each; default: the CPUs this process may use. ``1`` computes
        everything in this process. The numbers do not depend on it (only ``seconds`` do).
    verbose : bool, default True
        One line on stderr per experiment computed (not reused) as soon as it is done: name, seconds of
        work (its units' time, whichever process ran them), PASS/FAIL/SKIPPED counts, and the wall time
        since the start.

    Returns
    -------
    dict
        The content of ``results.json``.

    Raises
    ------
    ValueError
        An unknown name, ``size``, ``seed`` (an integer in [0, :data:`MAX_SEED`]), ``jobs`` (an
        integer >= 1) or ``device`` (also CUDA requested where there is none), or an ``out`` folder
        holding a file that reproduce would replace but did not write (:func:`check_out_folder`), or
        an ``out`` that is ``cifar_dir``; all before any work.
    FileNotFoundError
        ``cifar_dir`` is not a folder.
    """
    from ..report import write_report
    from ._execute import Job, plan, run_jobs, usable_cpus

    names = parse_only(only)
    size = size or ("quick" if quick else "full")
    if size not in ("tiny", "quick", "full"):
        raise ValueError(f"`size` == {size!r}, must be 'tiny', 'quick' or 'full'.")
    if cifar_dir is not None and not os.path.isdir(cifar_dir):
        raise FileNotFoundError(f"--cifar-dir {cifar_dir!r} is not a folder")
    seed = V.check_scalar(seed, "seed", target_type=numbers.Integral, min_val=0, max_val=MAX_SEED)
    jobs = usable_cpus() if jobs is None else V.check_scalar(jobs, "jobs", target_type=numbers.Integral, min_val=1)
    V.check_choice(device, "device", ("cpu", "cuda"))
    verbose = V.check_bool(verbose, "verbose")
    if device == "cuda":
        V.check_device(device)
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    out = os.path.abspath(os.fspath(out))
    if cifar_dir is not None and same_file(out, cifar_dir):
        raise ValueError(f"`out` {out!r} is the CIFAR-10 folder (`cifar_dir`); pass another folder for the report.")
    check_out_folder(out, names)
    os.makedirs(os.path.join(out, "records"), exist_ok=True)
    found, todo, skipped = {}, [], []
    start = time.time()
    for name in names:
        cfg = experiment_config(name, size, seed=seed, device=device, cifar=cifar_dir is not None)
        h = config_hash(name, cfg)
        old = _reusable(os.path.join(out, "records", f"{name}.json"), name, h, out)
        if old is not None:
            found[name] = old
            skipped.append(name)
            continue
        todo.append(Job(name, cfg, {"cifar_dir": cifar_dir} if name == "fig4" else {}))
    ran = [job.name for job in todo]
    bar = None
    try:
        plan(todo)
        bar = _progress_bar(progress, sum(len(job.units) for job in todo))
        for job, rec in run_jobs(todo, n_jobs=jobs, tick=bar.update if bar is not None else None):
            rec = _finish_record(job, rec, out)
            found[job.name] = rec
            if verbose:
                _say(f"deepdual reproduce: {job.name} done in {rec['seconds']:.1f} s ({_counts(rec)}); "
                     f"{time.time() - start:.0f} s since start", bar)
    finally:
        if bar is not None:
            bar.close()
    records = [found[name] for name in names]
    results = write_report(out, records, meta={"seed": seed, "device": device, "size": size, "jobs": jobs,
                                               "cifar_dir": cifar_dir, "ran": ran, "reused": skipped,
                                               "wall_seconds": time.time() - start})
    return results


def _finish_record(job, rec, out: str) -> dict:
    """Stamp, plot and save a computed record (an error record when the experiment or its plot failed)."""
    name, cfg = job.name, job.config
    if rec is not None:
        try:
            rec["config_hash"] = config_hash(name, cfg)
            rec["config"] = jsonable(cfg)
            _save_plot(get(name), rec, os.path.join(out, f"{name}.png"))
            rec["plots"] = [f"{name}.png"]
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - reported as a FAIL row, never silently dropped
            job.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            rec = None
    if rec is None:
        rec = _error_record(name, cfg, job.error or "unknown error", job.seconds)
    rec["checksum"] = record_checksum(rec)
    atomic_write_json(os.path.join(out, "records", f"{name}.json"), rec, indent=1)
    return rec
