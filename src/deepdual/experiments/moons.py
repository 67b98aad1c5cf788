"""Two moons: the certified optimum of a two-layer ReLU network against gradient training (SPEC §6).

The data are scikit-learn's two moons (labels ±1, a scalar output) with a bias column, so the rows of
``[X, 1]`` have rank 3 and the activation patterns (the cells of the arrangement of ``n`` planes through
the origin of R³) number ``2(1 + (n − 1) + C(n − 1, 2))`` in general position: all of them are
enumerated, the convex program over them is *exact*, and its solution (:func:`deepdual.convex_relu`) is
the globally optimal two-layer network of any width, with a dual certificate. Next to it, the same
model (ReLU, hidden biases regularized with the weights, no output bias, squared loss, same β) trained
by full-batch Adam from several random starts. The picture shows the decision regions side by side;
the claims check that no trained run beats the certified optimum and that the certificate is tight.

The computation is deterministic for a given config (fixed seeds, one torch thread, budgets large
enough never to stop the solver or the certificate early).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ._common import Timer, claim, record

NAME = "moons"
TITLE = "Two moons — certified optimal two-layer ReLU network vs gradient training from several seeds"
CONFIGS = {
    "tiny": {"n": 16, "noise": 0.15, "beta": 0.1, "width": 20, "seeds": 5, "epochs": 150, "lr": 1e-2,
             "grid": 30, "probes": 2000, "seed": 0},
    "quick": {"n": 40, "noise": 0.15, "beta": 0.1, "width": 40, "seeds": 5, "epochs": 1000, "lr": 1e-2,
              "grid": 60, "probes": 20000, "seed": 0},
    "full": {"n": 60, "noise": 0.15, "beta": 0.1, "width": 60, "seeds": 5, "epochs": 2000, "lr": 1e-2,
             "grid": 80, "probes": 20000, "seed": 0},
}
#: Seconds the solver and the certificate may take at most: far above what they need (a few seconds at
#: n = 60), so that the record never depends on the machine's speed.
BUDGET = 600.0


def steps(config):
    return int(config["seeds"]) + 1


def cover_count(n: int, rank: int = 3) -> int:
    """Cells of a central arrangement of ``n`` hyperplanes in general position in R^rank (Cover 1965)."""
    return 2 * sum(math.comb(n - 1, k) for k in range(min(rank, n)))


def _data(c):
    from sklearn.datasets import make_moons

    X, labels = make_moons(int(c["n"]), noise=float(c["noise"]), random_state=int(c["seed"]))
    return X.astype(np.float64), np.where(labels == 1, 1.0, -1.0)


def _grid(X, size):
    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    gx, gy = np.linspace(lo[0], hi[0], size), np.linspace(lo[1], hi[1], size)
    GX, GY = np.meshgrid(gx, gy)
    return gx, gy, np.column_stack([GX.ravel(), GY.ravel()])


def _outputs(net, Z):
    import torch

    with torch.no_grad():
        return net(torch.as_tensor(Z, dtype=torch.float64)).numpy()[:, 0]


def _missing_patterns(Xp, masks, probes, seed) -> int:
    """Activation patterns of ``probes`` random directions that are not among ``masks`` (columns)."""
    G = np.random.default_rng(seed).standard_normal((Xp.shape[1], probes))
    seen = {m.tobytes() for m in np.ascontiguousarray(masks.T)}
    found = np.ascontiguousarray((Xp @ G >= 0).T)
    return sum(1 for m in {f.tobytes() for f in found if f.any()} if m not in seen)


def _train_run(X, y, c, seed):
    """One gradient-trained network of the convex program's model: hidden biases penalized, no output bias."""
    import torch

    from .. import ParallelNet
    from ..training import train

    net = ParallelNet(2, 1, depth=2, branches=int(c["width"]), activation="relu", bias=True, penalize_bias=True,
                      seed=seed)
    with torch.no_grad():  # spread the kinks over the data: N(0, 1) biases instead of zeros
        net.biases[0].normal_(0.0, 1.0, generator=torch.Generator().manual_seed(seed))
    net.out_bias.requires_grad_(False)  # the program's network has none: the same model, the same P
    t0 = time.perf_counter()
    hist = train(net, X, y, beta=float(c["beta"]), optimizer="adam", lr=float(c["lr"]), epochs=int(c["epochs"]),
                 seed=seed, progress=False)
    return net, hist, time.perf_counter() - t0


def compute(config: dict, progress=None) -> dict:
    import torch

    from .. import objective
    from ..convex import convex_relu, enumerate_patterns

    torch.set_num_threads(1)
    c = dict(config)
    beta = float(c["beta"])
    with Timer() as timer:
        X, y = _data(c)
        n = X.shape[0]
        Xp = np.hstack([X, np.ones((n, 1))])
        gx, gy, Z = _grid(X, int(c["grid"]))
        t0 = time.perf_counter()
        pset = enumerate_patterns(Xp, max_patterns=10 * cover_count(n))
        sol = convex_relu(X, y, beta=beta, bias=True, patterns=pset, time_budget=BUDGET, bound_budget=BUDGET,
                          seed=int(c["seed"]))
        convex_seconds = time.perf_counter() - t0
        missing = _missing_patterns(Xp, pset.masks, int(c["probes"]), int(c["seed"]) + 1)
        lower = float(sol.lower_bound)
        optimum = {"objective": sol.objective, "lower_bound": lower, "gap": sol.gap,
                   "n_neurons": int(sol.details["n_neurons"]), "n_patterns": int(sol.details["n_patterns"]),
                   "complete": bool(sol.details["complete"]), "seconds": convex_seconds,
                   "bound_method": str(sol.details["bound_method"]),
                   "accuracy": float(np.mean(np.sign(_outputs(sol.network, X)) == y)),
                   "grid": _outputs(sol.network, Z)}
        if progress is not None:
            progress(1)
        runs = []
        for k in range(int(c["seeds"])):
            seed = int(c["seed"]) + k
            net, hist, seconds = _train_run(X, y, c, seed)
            value = objective(net, X, y, beta=beta)
            runs.append({"seed": seed, "objective": value, "gap": value - lower, "seconds": seconds,
                         "best_objective_seen": hist.best_objective,
                         "accuracy": float(np.mean(np.sign(_outputs(net, X)) == y)), "grid": _outputs(net, Z)})
            if progress is not None:
                progress(1)
    P, gap = optimum["objective"], optimum["gap"]
    margins = [(r["objective"] - P) / max(1.0, abs(P)) for r in runs]
    above_lb = [r["objective"] - lower for r in runs]
    expected = cover_count(n) - 1  # the all-inactive cell (D = 0) carries no neuron and is left out
    per_seed = "; ".join(f"seed {r['seed']}: {r['objective']:.6g}" for r in runs)
    claims = [
        claim("SPEC §6", f"the enumerated pattern set is complete: Cover's count 2Σ_(k<3) C(n−1, k) − 1 = {expected} "
              f"patterns for n = {n} rows of [X, 1] in general position (the all-inactive cell carries no neuron)",
              optimum["n_patterns"], optimum["complete"] and optimum["n_patterns"] == expected,
              f"n_patterns = {expected} and complete", measured=f"{optimum['n_patterns']} patterns"),
        claim("SPEC §6", f"no activation pattern of {int(c['probes'])} random directions is missing from the set",
              missing, missing == 0, "= 0"),
        claim("SPEC §6–7", "the convex optimum is certified: objective − dual lower bound", gap, gap <= 1e-6,
              "gap ≤ 1e-6", measured=f"{gap:.2e} (P = {P:.10g}, {optimum['n_neurons']} neurons)"),
        claim("Global optimality", f"the certified optimum is ≤ every gradient-trained run ({len(runs)} seeds, width "
              f"{int(c['width'])})", min(margins), min(margins) >= -1e-9,
              "min (P_train − P_opt)/max(1, P_opt) ≥ −1e-9", measured=per_seed),
        claim("Certificate", "the dual lower bound is below every trained run's objective (a valid bound)",
              min(above_lb), min(above_lb) >= 0.0, "min (P_train − lower bound) ≥ 0"),
    ]
    data = {"X": X, "y": y, "gx": gx, "gy": gy, "optimum": optimum, "runs": runs, "beta": beta}
    text = (f"Two moons (n = {n}, noise {c['noise']:g}, labels ±1), two-layer ReLU networks with hidden biases "
            f"regularized with the weights, squared loss, β = {beta:g}. Left: the certified optimum of the convex "
            f"program over all {optimum['n_patterns']} activation patterns ({optimum['n_neurons']} neurons, gap "
            f"{gap:.1e}). Then {len(runs)} networks of width {int(c['width'])} trained by full-batch Adam "
            f"(lr {c['lr']:g}, {int(c['epochs'])} epochs) from different seeds; shading: sign of the output. Last "
            "panel: every objective against the optimum and the certified lower bound.")
    return record(NAME, TITLE, text, c, claims, data, timer.seconds)


def plot(rec: dict, ax=None):
    """Decision regions of the optimum and of every trained run, then their objectives."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    d = rec["data"]
    runs, opt = d["runs"], d["optimum"]
    panels = len(runs) + 2
    if ax is None:
        cols = math.ceil(panels / 2)
        fig, grid = plt.subplots(2, cols, figsize=(3.0 * cols, 6.0), squeeze=False)
        axes = list(grid.ravel())
        for extra in axes[panels:]:
            extra.set_visible(False)
    else:
        axes = list(np.atleast_1d(ax))
        if len(axes) < panels:
            raise ValueError(f"`ax` has {len(axes)} axes; this plot needs {panels}.")
        fig = axes[0].figure
    X, y = np.asarray(d["X"]), np.asarray(d["y"])
    gx, gy = np.asarray(d["gx"]), np.asarray(d["gy"])
    models = [("certified optimum", opt)] + [(f"Adam, seed {r['seed']}", r) for r in runs]
    for a, (name, m) in zip(axes, models, strict=False):
        F = np.asarray(m["grid"]).reshape(gy.size, gx.size)
        a.contourf(gx, gy, F, levels=[-np.inf, 0.0, np.inf], colors=["#f6d6c8", "#cfe0f3"])
        a.contour(gx, gy, F, levels=[0.0], colors="0.35", linewidths=1.0)
        a.scatter(X[y > 0, 0], X[y > 0, 1], s=10, c="C0")
        a.scatter(X[y < 0, 0], X[y < 0, 1], s=10, c="C3", marker="s")
        extra = f", gap {m['gap']:.0e}" if m is opt else f", {m['gap']:.2g} above the bound"
        a.set_title(f"{name}\nP = {m['objective']:.5g}{extra}", fontsize=8)
        a.set_xticks([])
        a.set_yticks([])
    a = axes[len(models)]
    xs = np.arange(len(runs))
    a.plot(xs, [r["objective"] for r in runs], "o", color="C1", label="Adam runs")
    a.axhline(opt["objective"], color="k", lw=1.2, label="certified optimum")
    a.axhline(opt["lower_bound"], color="C2", ls="--", lw=1.0, label="dual lower bound")
    a.set_xticks(xs)
    a.set_xticklabels([str(r["seed"]) for r in runs], fontsize=7)
    a.set_xlabel("seed")
    a.set_ylabel("P(θ)")
    a.set_title("objectives", fontsize=8)
    a.legend(fontsize=6)
    fig.tight_layout()
    return fig


compute_moons = compute
plot_moons = plot
