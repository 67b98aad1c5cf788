"""Case 5: how the closed-form cost grows with n and d (and its memory peak).

``closed_form(X, Y, beta=0.1, depth=3, activation="relu", whiten=True)`` on Gaussian ``X`` (n x d,
n <= d) with balanced one-hot labels (K = 10): the whole user path, whitening included. Two sweeps:
``n`` at fixed ``d`` and ``d`` at fixed ``n``, each point timed in alternation with one thin SVD of
``X``. Memory: the peak of NumPy allocations during one extra fit (tracemalloc; NumPy reports its
buffers to it, torch tensors are not counted).
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from ._common import fmt_ratio, fmt_stats, interleaved, ratio, table
from ._data import gaussian_problem

BETA = 0.1
DEPTH = 3
TITLE = "5. Scaling of the closed form (whiten=True, ReLU, L = 3, K = 10, Gaussian X)"


def _grid(quick: bool):
    if quick:
        return {"n": (400, [50, 100, 200, 400]), "d": (50, [50, 100, 200, 400])}
    return {"n": (4000, [250, 1000, 4000]), "d": (250, [250, 1000, 4000])}


def memory_peak(fn) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _slope(xs, ys) -> float | None:
    if len(xs) < 2:
        return None
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def run(quick: bool = False, repeats: int = 5) -> dict:
    import deepdual

    cache: dict = {}
    sweeps = {}
    for axis, (fixed, values) in _grid(quick).items():
        rows = []
        for v in values:
            n, d = (v, fixed) if axis == "n" else (fixed, v)
            if (n, d) not in cache:
                prob = gaussian_problem(n, d)
                X, Y = prob.X, prob.Y
                big = n * d > 4e6
                fit = lambda: deepdual.closed_form(X, Y, beta=BETA, depth=DEPTH, activation="relu", whiten=True)
                svd = lambda: np.linalg.svd(X, full_matrices=False)
                if big:  # one fit, timed under tracemalloc (its overhead is per Python allocation: negligible here)
                    peak_box = {}

                    def fit_traced():
                        tracemalloc.start()
                        try:
                            out = fit()
                            peak_box["peak"] = tracemalloc.get_traced_memory()[1]
                        finally:
                            tracemalloc.stop()
                        return out

                    timings, results = interleaved({"fit": fit_traced, "svd": svd}, 1)
                    peak = peak_box["peak"]
                else:
                    timings, results = interleaved({"fit": fit, "svd": svd}, repeats, budget_s=20.0)
                    peak = memory_peak(fit)
                cache[(n, d)] = {"n": n, "d": d, **timings["fit"], "alternative": timings["svd"],
                                 "ratio": ratio(timings["fit"], timings["svd"]), "memory_peak_bytes": peak,
                                 "memory_peak_over_X": None if peak is None else peak / (8.0 * n * d),
                                 "objective": results["fit"].objective}
            rows.append(cache[(n, d)])
        sweeps[axis] = {"fixed": fixed, "rows": rows,
                        "slope_fit": _slope([r[axis] for r in rows], [r["median"] for r in rows]),
                        "slope_svd": _slope([r[axis] for r in rows], [r["alternative"]["median"] for r in rows])}
    all_rows = list(cache.values())
    return {"title": TITLE, "target": "none (report the growth and the memory peak)",
            "ratio_definition": "median closed-form time / median thin-SVD time of the same X",
            "rows": all_rows, "sweeps": sweeps, "target_met": None,
            "notes": ["Points with n·d > 4e6 are timed once (each fit takes tens of seconds on 2 cores), with "
                      "tracemalloc running during that fit; smaller points are timed without it and their memory "
                      "peak comes from one extra fit under tracemalloc."]}


def plot(rec: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, axis in zip(axes, ("n", "d")):
        sw = rec["sweeps"][axis]
        xs = [r[axis] for r in sw["rows"]]
        ax.loglog(xs, [r["median"] for r in sw["rows"]], "o-", label=f"closed form (slope {sw['slope_fit']:.2f})")
        ax.loglog(xs, [r["alternative"]["median"] for r in sw["rows"]], "s--",
                  label=f"one thin SVD of X (slope {sw['slope_svd']:.2f})")
        other = "d" if axis == "n" else "n"
        ax.set_xlabel(axis)
        ax.set_ylabel("seconds (median)")
        ax.set_title(f"{other} = {sw['fixed']}")
        ax.grid(True, which="both", alpha=0.3)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.legend()
    fig.suptitle("deepdual closed form (whiten=True, ReLU, L=3, K=10) vs one thin SVD")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(rec: dict) -> str:
    rows = []
    for r in sorted(rec["rows"], key=lambda r: (r["n"], r["d"])):
        mem = "—" if r["memory_peak_bytes"] is None else f"{r['memory_peak_bytes'] / 2**20:.1f} MiB ({r['memory_peak_over_X']:.1f}× X)"
        rows.append([r["n"], r["d"], fmt_stats(r), fmt_stats(r["alternative"]), fmt_ratio(r["ratio"]), mem])
    out = table(["n", "d", "closed form", "thin SVD", "fit / SVD", "NumPy memory peak"], rows)
    sl = rec["sweeps"]
    out += (f"\n\nLog-log slopes: time ∝ n^{sl['n']['slope_fit']:.2f} at d = {sl['n']['fixed']} "
            f"(SVD: n^{sl['n']['slope_svd']:.2f}); time ∝ d^{sl['d']['slope_fit']:.2f} at n = {sl['d']['fixed']} "
            f"(SVD: d^{sl['d']['slope_svd']:.2f}). Plot: `scaling.png`.")
    return out
