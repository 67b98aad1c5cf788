"""Pieces shared by every experiment: claim rows, JSON conversion, config hashing, plotting setup.

A *record* is a JSON-serializable dict:

``name``, ``title``, ``description`` (short text for the report), ``config`` (the configuration it
was computed with) and ``config_hash``, ``claims`` (list of claim rows, see :func:`claim`),
``data`` (every number the plot needs) and ``seconds``.

An experiment is computed in *units*: ``units(config) -> list`` of small JSON-able descriptions of
independent pieces of work (one training run, one β, ...), ``run_unit(config, unit) -> dict`` (a pure
function of its arguments, run in a worker process by ``deepdual reproduce``) and
``assemble(config, results) -> record`` (the claims and the plot data, from the results in unit
order). :func:`compute_in_units` runs them one after another in this process; the runner runs the
units of every experiment side by side. Each unit runs on one thread (:func:`single_thread`), so
the numbers do not depend on how many processes share the work.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np

from .._io import to_jsonable

__all__ = ["claim", "skipped", "failed", "jsonable", "config_hash", "Timer", "new_axes", "PASS", "FAIL",
           "SKIPPED", "TORCH_THREADS", "single_thread", "compute_in_units", "figure_data"]

PASS, FAIL, SKIPPED = "PASS", "FAIL", "SKIPPED"
#: Intra-op threads of a unit of work: the problems are too small to gain from more, and a fixed
#: count keeps the numbers identical however many units run side by side.
TORCH_THREADS = 1


def _num(value):
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return value
    return v if math.isfinite(v) else None


def claim(ident: str, text: str, value, ok: bool, threshold: str, *, measured: str | None = None,
          reason: str | None = None) -> dict:
    """One row of the claims table.

    Parameters
    ----------
    ident : str
        Short id, e.g. ``"Fig 2a"`` or ``"Thm 4.3"``.
    text : str
        The paper's claim in words.
    value : float
        The measured number the verdict is based on.
    ok : bool
        Whether ``value`` meets ``threshold``.
    threshold : str
        The test applied, e.g. ``"<= 1e-6"``.
    measured : str, optional
        Human-readable measurement (default: ``value`` formatted).
    reason : str, optional
        Why it failed (default: ``value`` versus ``threshold``); ignored when it passes.
    """
    v = _num(value)
    shown = measured if measured is not None else (_fmt(v) if v is not None else "n/a")
    status = PASS if ok else FAIL
    why = "" if ok else (reason or f"measured {shown}, needed {threshold}")
    return {"id": ident, "claim": text, "value": v, "measured": shown, "threshold": threshold,
            "status": status, "reason": why}


def skipped(ident: str, text: str, reason: str) -> dict:
    """A claim row that was not evaluated, with the reason (never a silent omission)."""
    return {"id": ident, "claim": text, "value": None, "measured": "n/a", "threshold": "",
            "status": SKIPPED, "reason": reason}


def failed(ident: str, text: str, error: BaseException | str) -> dict:
    """A claim row for an experiment that raised: FAIL with the error message."""
    msg = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return {"id": ident, "claim": text, "value": None, "measured": "error", "threshold": "",
            "status": FAIL, "reason": msg.splitlines()[0] if msg else "error"}


def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if v == 0 or 1e-3 <= abs(v) < 1e4:
        return f"{v:.4g}"
    return f"{v:.3e}"


def jsonable(value):
    """``value`` as strict JSON types: :func:`deepdual._io.to_jsonable` with NaN and ±inf as None."""
    return to_jsonable(value, allow_nan=False)


def config_hash(name: str, config: Mapping) -> str:
    """Stable short hash of an experiment's name and configuration."""
    text = json.dumps({"name": name, "config": jsonable(config)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Timer:
    """``with Timer() as t: ...; t.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False


def new_axes(ax, ncols: int = 1, *, width: float = 5.0, height: float = 3.8):
    """``(fig, axes)``: the given axes (a single one, or a list of ``ncols``) or a new Agg figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is not None:
        axes = list(np.atleast_1d(ax))
        if len(axes) < ncols:
            raise ValueError(f"`ax` has {len(axes)} axes; this plot needs {ncols}.")
        return axes[0].figure, axes
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def set_threads() -> None:
    """Use :data:`TORCH_THREADS` intra-op threads (tiny float64 problems do not gain from more)."""
    import torch

    torch.set_num_threads(TORCH_THREADS)


@contextmanager
def single_thread():
    """Run the block with :data:`TORCH_THREADS` torch threads and one BLAS/OpenMP thread; restore both after.

    Reductions split over threads round differently, so a fixed thread count is what makes a unit's
    numbers the same in this process and in a worker process.
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(TORCH_THREADS)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def compute_in_units(module, config: Mapping, progress=None, **context) -> dict:
    """``module``'s record computed unit by unit in this process (what ``compute(config)`` does).

    ``seconds`` of the record is the time of every unit plus the assembly: the work, not the wall
    time of a run that shares it among processes.
    """
    results, seconds = [], 0.0
    with single_thread():
        for unit in module.units(config, **context):
            with Timer() as t:
                results.append(jsonable(module.run_unit(config, unit, **context)))
            seconds += t.seconds
            if progress is not None:
                progress(1)
        with Timer() as t:
            rec = module.assemble(config, results, **context)
    rec["seconds"] = seconds + t.seconds
    return rec


def figure_data(fig) -> dict:
    """What a figure draws, as JSON: per axes its title, labels, scales and every line's label, x and y.

    Saved next to the PNG (``NAME.plot.json``) and embedded in the report, so that a reader or a test
    can check the plotted numbers themselves (e.g. that Figure 2a's steps sit on the σᵢ lines)
    rather than pixels. Vertical and horizontal reference lines (``axvline``, ``axhline``) are
    lines too, of kind ``"vline"`` / ``"hline"`` (their other coordinate is in axes units, 0 to 1).
    """
    axes = []
    for ax in fig.axes:
        lines = []
        for line in ax.get_lines():
            tr = line.get_transform()
            kind = ("vline" if tr == ax.get_xaxis_transform() else "hline" if tr == ax.get_yaxis_transform()
                    else "data")
            label = line.get_label()
            lines.append({"label": "" if label.startswith("_") else label, "kind": kind,
                          "drawstyle": line.get_drawstyle(),
                          "x": np.asarray(line.get_xdata(orig=True), dtype=float).reshape(-1),
                          "y": np.asarray(line.get_ydata(orig=True), dtype=float).reshape(-1)})
        axes.append({"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                     "xscale": ax.get_xscale(), "yscale": ax.get_yscale(), "lines": lines})
    return jsonable({"axes": axes})


def record(name: str, title: str, description: str, config: Mapping, claims: list, data: Mapping,
           seconds: float) -> dict:
    """Assemble a JSON-serializable experiment record."""
    return jsonable({"name": name, "title": title, "description": description, "config": dict(config),
                     "config_hash": config_hash(name, config), "claims": claims, "data": dict(data),
                     "seconds": seconds})


def rank_above(W, rtol: float, scale: float = 0.0) -> int:
    """Number of singular values above ``rtol · max(σ_max(W), scale)``.

    A relative numerical rank with an absolute floor: a trained layer that shrank to ~0 (β above
    every singular value of the target) counts as rank 0 instead of the rank of its rounding noise.
    """
    s = np.linalg.svd(np.asarray(W, dtype=np.float64), compute_uv=False)
    top = float(s[0]) if s.size else 0.0
    return int(np.sum(s > rtol * max(top, scale)))
