"""Shared pieces of the benchmarks: timing statistics, machine description, formatting.

Every row of a case record carries the timing statistics of the method under test
(``median``, ``min``, ``max`` in seconds, ``repeats``, ``times``), the alternative's statistics under
``alternative`` and ``ratio`` (defined per case in the record's ``ratio_definition``).
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def stats(times: list[float]) -> dict:
    """``{"median", "min", "max", "repeats", "times"}`` of wall times in seconds."""
    times = [float(t) for t in times]
    if not times:
        return {"median": None, "min": None, "max": None, "repeats": 0, "times": []}
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "repeats": len(times), "times": times}


def timed(fn: Callable[[], Any], repeats: int, *, budget_s: float | None = None) -> tuple[dict, Any]:
    """Call ``fn`` up to ``repeats`` times (at least once; fewer once ``budget_s`` seconds are spent).

    Returns the timing statistics and the last result.
    """
    times: list[float] = []
    result = None
    spent = 0.0
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
        if budget_s is not None and spent >= budget_s:
            break
    return stats(times), result


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int, *,
                budget_s: float | None = None) -> tuple[dict[str, dict], dict[str, Any]]:
    """Time several functions in alternation (a, b, a, b, ...) so machine-load drift hits all alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    results: dict[str, Any] = {}
    spent = 0.0
    for _ in range(max(1, repeats)):
        for key, fn in fns.items():
            start = time.perf_counter()
            results[key] = fn()
            elapsed = time.perf_counter() - start
            times[key].append(elapsed)
            spent += elapsed
        if budget_s is not None and spent >= budget_s:
            break
    return {k: stats(v) for k, v in times.items()}, results


def ratio(numerator: dict | float | None, denominator: dict | float | None) -> float | None:
    """Ratio of two medians (statistics dicts or plain seconds); None when either is missing."""
    a = numerator.get("median") if isinstance(numerator, dict) else numerator
    b = denominator.get("median") if isinstance(denominator, dict) else denominator
    if a is None or b is None or b <= 0:
        return None
    return float(a) / float(b)


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _installed_version(name: str) -> str | None:
    import importlib.metadata as md

    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def environment() -> dict:
    """Date, machine, thread counts, BLAS (threadpoolctl) and package versions."""
    import torch

    try:
        from threadpoolctl import threadpool_info

        pools = [{k: p.get(k) for k in ("user_api", "internal_api", "prefix", "filepath", "version",
                                         "num_threads", "threading_layer", "architecture")} for p in threadpool_info()]
    except Exception as exc:  # noqa: BLE001 - recorded, never fatal
        pools = [{"error": repr(exc)}]
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        affinity = os.cpu_count()
    from deepdual._io import environment as base_environment

    base = base_environment()  # python, platform, machine, cpu_count, hostname, pid, deepdual's packages
    extra = {name: _installed_version(name) for name in ("cvxpy", "clarabel", "scs", "threadpoolctl")}
    return {
        **base,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": affinity,
        "torch_threads": torch.get_num_threads(),
        "blas": pools,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                               "MKL_NUM_THREADS") if os.environ.get(k) is not None},
        "packages": {**base["packages"], **extra},
        "cuda": torch.cuda.is_available(),
        "load_average": load_average(),
    }


def blas_threads(env: dict) -> str:
    """Short description of the BLAS thread pools, e.g. ``openblas 0.3.31 x2``."""
    parts = []
    for p in env.get("blas", []):
        if p.get("user_api") == "blas" and "numpy" in (p.get("filepath") or ""):
            parts.append(f"numpy {p.get('internal_api')} {p.get('version')} ({p.get('architecture')}), "
                         f"{p.get('num_threads')} threads")
    return "; ".join(parts) or "unknown"


# ---------------------------------------------------------------------------------------- formatting
def fmt_s(seconds: float | None) -> str:
    """Seconds in a readable unit."""
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_stats(st: dict | None) -> str:
    """``median (min–max) ×repeats``."""
    if not st or st.get("median") is None:
        return "—"
    if st.get("repeats", 1) == 1:
        return f"{fmt_s(st['median'])} (×1)"
    return f"{fmt_s(st['median'])} ({fmt_s(st['min'])}–{fmt_s(st['max'])}, ×{st['repeats']})"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:,.0f}×" if r >= 100 else f"{r:.3g}×"


def fmt_float(x: float | None, spec: str = ".6g") -> str:
    return "—" if x is None else format(x, spec)


def table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def met(flag: bool | None) -> str:
    return {True: "**met**", False: "**missed**", None: "n/a"}[flag]


def one_hot_labels(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Balanced one-hot labels (n rows, k classes, shuffled)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % k)
    return np.eye(k)[labels]
