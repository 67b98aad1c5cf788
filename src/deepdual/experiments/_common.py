"""Pieces shared by every experiment: claim rows, JSON conversion, config hashing, plotting setup.

A *record* is a JSON-serializable dict:

``name``, ``title``, ``description`` (short text for the report), ``config`` (the configuration it
was computed with) and ``config_hash``, ``claims`` (list of claim rows, see :func:`claim`),
``data`` (every number the plot needs) and ``seconds``.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping

import numpy as np

from .._io import to_jsonable

__all__ = ["claim", "skipped", "failed", "jsonable", "config_hash", "Timer", "new_axes", "PASS", "FAIL",
           "SKIPPED", "TORCH_THREADS"]

PASS, FAIL, SKIPPED = "PASS", "FAIL", "SKIPPED"
#: Intra-op threads used for training (the reference machine has 2 cores).
TORCH_THREADS = 2


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
