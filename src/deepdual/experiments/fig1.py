"""Figure 1 / Corollaries 4.1–4.2: deep ReLU networks on 1-D data are linear splines with kinks at the data.

ReLU networks of depth L = 2, 3, 4, 5 with 20 neurons per hidden layer (standard networks with biases)
are trained with small β on a handful of points; the exact two-layer optimum comes from the 1-D
Lasso solver (Theorem 4.2).
"""

from __future__ import annotations

import numpy as np

from ._common import Timer, claim, new_axes, record, set_threads

NAME = "fig1"
TITLE = "Figure 1 / Cor 4.2 — 1-D interpolation by deep ReLU networks is a linear spline"
CONFIGS = {
    "tiny": {"n": 5, "depths": [2, 3], "width": 10, "beta": 1e-2, "adam_epochs": 20, "epochs": 5, "seed": 0,
             "near": 0.03},
    "quick": {"n": 8, "depths": [2, 3, 4, 5], "width": 20, "beta": 1e-2, "adam_epochs": 4000, "epochs": 100,
              "seed": 0, "near": 0.03},
    "full": {"n": 8, "depths": [2, 3, 4, 5], "width": 20, "beta": 1e-2, "adam_epochs": 4000, "epochs": 100,
             "seed": 0, "near": 0.03},
}


def steps(config):
    return len(config["depths"]) + 1


def _as_function(net):
    import torch

    def f(t):
        with torch.no_grad():
            return net(torch.as_tensor(np.asarray(t, dtype=np.float64).reshape(-1, 1))).numpy().reshape(-1)

    return f


def _spread_breakpoints(net, lo, hi, seed):
    """First-layer biases so the units' breakpoints are spread uniformly over the data range (zero
    biases would put every first-layer kink at x = 0)."""
    import torch

    rng = np.random.default_rng(seed)
    with torch.no_grad():
        w = net.weights[0].detach().numpy().reshape(-1)
        u = rng.uniform(lo, hi, size=w.size)
        net.biases[0].copy_(torch.as_tensor(-w * u).reshape(net.biases[0].shape))


def curvature_near_data(f, x, lo, hi, near, grid=4001):
    """Share of the total slope change ``Σ|Δ²f|`` of ``f`` on [lo, hi] within ``near·(hi − lo)`` of a data point."""
    t = np.linspace(lo, hi, grid)
    v = f(t)
    d2 = np.abs(v[:-2] - 2 * v[1:-1] + v[2:])
    centers = t[1:-1]
    dist = np.min(np.abs(centers[:, None] - np.asarray(x)[None, :]), axis=1)
    total = float(d2.sum())
    return 1.0 if total == 0 else float(d2[dist <= near * (hi - lo)].sum() / total)


def compute(config: dict, progress=None) -> dict:
    from .. import MLP, closed_form, kinks, kinks_at_data, sup_distance_to_spline
    from ..data import one_dimensional_data
    from ..training import train

    set_threads()
    c = dict(config)
    with Timer() as timer:
        ds = one_dimensional_data(c["n"], seed=c["seed"])
        x, y = ds.X[:, 0], ds.Y[:, 0]
        lo, hi = float(x.min()), float(x.max())
        yr = float(y.max() - y.min())
        t = np.linspace(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), 600)
        curves, results = {}, []
        sol = closed_form(ds.X, y, beta=c["beta"], depth=2, activation="relu", bias=True)
        fx = _as_function(sol.network)
        exact_kinks = kinks(fx, lo - 0.05, hi + 0.05)
        exact = {"objective": sol.objective, "gap": sol.gap, "sup_distance": sup_distance_to_spline(fx, x, y),
                 "kink_max_distance": kinks_at_data(exact_kinks, x, tol=1e-6).max_distance,
                 "kinks": exact_kinks}
        curves["exact L=2"] = fx(t)
        sol0 = closed_form(ds.X, y, beta=0.0, depth=2, activation="relu", bias=True)
        interp_sup = sup_distance_to_spline(_as_function(sol0.network), x, y)
        if progress is not None:
            progress(1)
        for L in c["depths"]:
            net = MLP([1] + [c["width"]] * (L - 1) + [1], activation="relu", bias=True, seed=c["seed"] + L)
            _spread_breakpoints(net, lo, hi, c["seed"] + L)
            train(net, ds.X, y, beta=c["beta"], optimizer="adam", lr=3e-3, epochs=c["adam_epochs"],
                  lr_schedule="cosine", seed=0, progress=False)
            hist = train(net, ds.X, y, beta=c["beta"], optimizer="lbfgs", lr=1.0, epochs=c["epochs"], seed=0,
                         progress=False, tol=1e-12)
            f = _as_function(net)
            # Cor 4.2: the output is a linear spline with kinks at data points, i.e. it equals the linear
            # interpolant of its own values at the data (β > 0 need not interpolate y itself).
            results.append({"depth": L, "objective": hist.final_objective,
                            "sup_distance": sup_distance_to_spline(f, x, f(x)),
                            "curvature_near_data": curvature_near_data(f, x, lo, hi, c["near"])})
            curves[f"trained L={L}"] = f(t)
            if progress is not None:
                progress(1)
    worst_sup = max(r["sup_distance"] for r in results) / yr
    worst_near = min(r["curvature_near_data"] for r in results)
    per = "; ".join(f"L={r['depth']}: {r['sup_distance'] / yr:.3g}" for r in results)
    per_k = "; ".join(f"L={r['depth']}: {r['curvature_near_data']:.3f}" for r in results)
    claims = [
        claim("Cor 4.1 / Thm 4.2", "exact two-layer optimum (1-D Lasso solver) has its kinks at data points",
              exact["kink_max_distance"], exact["kink_max_distance"] <= 1e-6, "max kink distance ≤ 1e-6",
              measured=f"{exact['kink_max_distance']:.2e} ({len(exact_kinks)} kinks)"),
        claim("Cor 4.1", "β = 0: the exact minimum-norm two-layer network is the linear spline interpolant",
              interp_sup / yr, interp_sup / yr <= 1e-8, "sup|f − spline|/range(y) ≤ 1e-8"),
        claim("Thm 4.2", "exact two-layer optimum certified by the 1-D dual",
              sol.gap if sol.gap is not None else np.nan,
              sol.gap is not None and sol.gap <= 1e-8 * max(1.0, abs(sol.objective)), "gap ≤ 1e-8·max(1, P)"),
        claim("Cor 4.2 / Fig 1", f"trained ReLU nets of depth {','.join(map(str, c['depths']))} are linear splines "
              "through their values at the data", worst_sup, worst_sup <= 0.05,
              "worst sup|f − spline of (xᵢ, f(xᵢ))|/range(y) ≤ 0.05 on the data range",
              measured=per),
        claim("Cor 4.2 / Fig 1", f"kinks at data points for L={','.join(map(str, c['depths']))} (trained)", worst_near,
              worst_near >= 0.9, f"≥ 90% of the slope change within {c['near']:g}·range(x) of a data point",
              measured=per_k),
    ]
    data = {"x": x, "y": y, "t": t, "curves": curves, "depth_results": results, "exact": exact,
            "data_description": ds.description}
    text = (f"ReLU networks with {c['width']} neurons per hidden layer and biases, depth L = "
            f"{', '.join(map(str, c['depths']))}, trained with Adam then L-BFGS at β = {c['beta']:g}; "
            "black dots: data, dashed: "
            "linear spline interpolant, thick grey: exact two-layer optimum (1-D Lasso solver). " + ds.description)
    return record(NAME, TITLE, text, c, claims, data, timer.seconds)


def plot(rec: dict, ax=None):
    fig, (a,) = new_axes(ax)
    d = rec["data"]
    x, y, t = map(np.asarray, (d["x"], d["y"], d["t"]))
    order = np.argsort(x)
    a.plot(x[order], y[order], "k--", lw=1, label="linear spline")
    for i, (name, v) in enumerate(d["curves"].items()):
        if name.startswith("exact"):
            a.plot(t, v, color="0.6", lw=4, alpha=0.6, label=name)
        else:
            a.plot(t, v, color=f"C{i}", lw=1.3, label=name)
    a.plot(x, y, "ko", ms=5, label="data")
    a.set_xlabel("x")
    a.set_ylabel("f(x)")
    a.set_title("Fig 1: ReLU networks on 1-D data")
    a.legend(fontsize=7)
    return fig


compute_fig1 = compute
plot_fig1 = plot
