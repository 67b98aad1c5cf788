"""Run every experiment of the paper, save records atomically, resume, write the report (``deepdual reproduce``).

Layout of the output folder::

    DIR/records/NAME.json   one record per finished experiment (written to a temp file, then os.replace)
    DIR/NAME.png            its plot
    DIR/results.json        every record + package versions, seed, device, date, machine
    DIR/index.html          self-contained report (images by relative path, claims table)

A record is reused (the experiment skipped) when its ``config_hash`` matches the configuration of
this run, so an interrupted run picks up where it stopped. An experiment that raises is recorded as a
FAIL claim row carrying the error message (and is retried on the next run).
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import traceback

from .._io import atomic_write, atomic_write_json
from . import EXPERIMENTS, get
from ._common import config_hash, failed, jsonable

__all__ = ["reproduce", "parse_only", "experiment_config"]


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
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig = module.plot(rec)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        atomic_write(path, buf.getvalue())
    finally:
        plt.close(fig)


def _load_record(path: str):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _error_record(name: str, cfg: dict, exc: BaseException, seconds: float) -> dict:
    mod = get(name)
    return jsonable({"name": name, "title": getattr(mod, "TITLE", name), "description": "The experiment raised an "
                     "error; see the claims table.", "config": cfg, "config_hash": config_hash(name, cfg),
                     "claims": [failed(name, f"{name} ran to completion", exc)], "data": {},
                     "error": "".join(traceback.format_exception_only(type(exc), exc)).strip(),
                     "seconds": seconds, "plots": []})


def _progress_bar(enabled: bool, total: int, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=True)


def reproduce(out, *, quick: bool = False, only=None, cifar_dir=None, seed: int = 0, device: str = "cpu",
              progress=None, size: str | None = None) -> dict:
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
        tqdm progress bars; default: only when stderr is a terminal.
    size : {"tiny", "quick", "full"}, optional
        Overrides ``quick`` (``"tiny"`` is the test size).

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    from ..report import write_report

    names = parse_only(only)
    size = size or ("quick" if quick else "full")
    if size not in ("tiny", "quick", "full"):
        raise ValueError(f"`size` == {size!r}, must be 'tiny', 'quick' or 'full'.")
    if cifar_dir is not None and not os.path.isdir(cifar_dir):
        raise FileNotFoundError(f"--cifar-dir {cifar_dir!r} is not a folder")
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    out = os.path.abspath(os.fspath(out))
    os.makedirs(os.path.join(out, "records"), exist_ok=True)
    records, ran, skipped = [], [], []
    start = time.time()
    for name in names:
        mod = get(name)
        cfg = experiment_config(name, size, seed=seed, device=device, cifar=cifar_dir is not None)
        h = config_hash(name, cfg)
        path = os.path.join(out, "records", f"{name}.json")
        old = _load_record(path)
        if old is not None and old.get("config_hash") == h and "error" not in old and all(
                os.path.exists(os.path.join(out, p)) for p in old.get("plots", [])):
            records.append(old)
            skipped.append(name)
            continue
        bar = _progress_bar(progress, mod.steps(cfg), name)
        tick = bar.update if bar is not None else None
        t0 = time.perf_counter()
        try:
            kwargs = {"cifar_dir": cifar_dir} if name == "fig4" else {}
            rec = mod.compute(cfg, progress=tick, **kwargs)
            rec["config_hash"] = h
            rec["config"] = jsonable(cfg)
            png = f"{name}.png"
            _save_plot(mod, rec, os.path.join(out, png))
            rec["plots"] = [png]
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - reported as a FAIL row, never silently dropped
            rec = _error_record(name, cfg, exc, time.perf_counter() - t0)
        finally:
            if bar is not None:
                bar.close()
        atomic_write_json(path, rec, indent=1)
        records.append(rec)
        ran.append(name)
    results = write_report(out, records, meta={"seed": seed, "device": device, "size": size,
                                               "cifar_dir": cifar_dir, "ran": ran, "reused": skipped,
                                               "wall_seconds": time.time() - start})
    return results

