"""Figure 3b / Theorem 4.1, Proposition 4.1: on rank-one data every layer of a ReLU network becomes rank one.

Five-layer ReLU network ``10×50, 50×40, 40×30, 30×20, 20×1`` on ``X = c a₀ᵀ`` with ``c ≥ 0``. Positive
homogeneity gives ``f(X) = c f(a₀)``, so the network's objective is at least the rank-one closed form's
``P*`` (Theorem 4.1) and the optimum has rank-one layers.
"""

from __future__ import annotations

import numpy as np

from ._common import Timer, claim, new_axes, rank_above, record, single_thread

NAME = "fig3b"
TITLE = "Figure 3b / Prop 4.1 — layer ranks of a five-layer ReLU network on rank-one data"
CONFIGS = {
    "tiny": {"n": 20, "widths": [10, 20, 15, 10, 8, 1], "beta": 0.05, "epochs": 8, "rank_rtol": 1e-3, "seed": 0},
    "quick": {"n": 20, "widths": [10, 50, 40, 30, 20, 1], "beta": 0.05, "epochs": 30, "rank_rtol": 1e-3, "seed": 0},
    "full": {"n": 40, "widths": [10, 50, 40, 30, 20, 1], "beta": 0.05, "epochs": 300, "rank_rtol": 1e-3, "seed": 0},
}


def compute(config: dict, progress=None) -> dict:
    from .. import MLP, closed_form
    from ..data import rank_one_data
    from ..training import train

    c = dict(config)
    widths = list(c["widths"])
    depth = len(widths) - 1
    with Timer() as timer, single_thread():
        ds = rank_one_data(c["n"], widths[0], widths[-1], seed=c["seed"])
        X, Y = ds.X, ds.Y
        sol = closed_form(X, Y, beta=c["beta"], depth=depth, activation="relu")
        scale = 1e-3

        def ranks(net, Xt, Yt):
            return [rank_above(W, c["rank_rtol"], scale) for W in net.layer_matrices()]

        net = MLP(widths, activation="relu", bias=False, seed=c["seed"])
        hist = train(net, X, Y, beta=c["beta"], optimizer="lbfgs", lr=1.0, epochs=c["epochs"], seed=0,
                     progress=False, record=(ranks,), record_every=1)
        rank_hist = np.asarray(hist.records["ranks"])
        final = [int(r) for r in rank_hist[-1]]
        if progress is not None:
            progress(1)
    rel = (hist.final_objective - sol.optimum) / abs(sol.optimum)
    claims = [
        claim("Prop 4.1 / Fig 3b", "all layer ranks → 1 on rank-one data", int(max(final)),
              all(r == 1 for r in final), "every layer rank = 1 at the end",
              measured="final ranks " + "/".join(map(str, final)) + f" (from {'/'.join(map(str, rank_hist[0]))})"),
        claim("Thm 4.1", "rank-one closed form ≤ trained objective", rel, rel >= -1e-9,
              "(P_train − P*)/P* ≥ −1e-9", measured=f"{rel:.3e} (P* = {sol.optimum:.6g})"),
        claim("Thm 4.1", "training reaches the closed-form optimum", rel, rel <= 1e-3, "(P_train − P*)/P* ≤ 1e-3",
              reason=f"trained objective stayed {rel:.3g} (relative) above P*: non-convex training did not "
                     "reach the optimum in the epochs given"),
    ]
    data = {"epochs": hist.record_epochs, "ranks": rank_hist, "objective": hist.objective, "optimum": sol.optimum,
            "closed_form_ranks": list(sol.ranks), "data_description": ds.description}
    text = ("Five-layer standard ReLU network (10×50, 50×40, 40×30, 30×20, 20×1, no bias) trained with L-BFGS on "
            f"rank-one data (β = {c['beta']}); rank of every layer (singular values above "
            f"{c['rank_rtol']:g}·max(σ₁, 1e-3)) over training. " + ds.description)
    return record(NAME, TITLE, text, c, claims, data, timer.seconds)


def plot(rec: dict, ax=None):
    fig, (a,) = new_axes(ax)
    d = rec["data"]
    ep = np.asarray(d["epochs"])
    R = np.asarray(d["ranks"])
    for l in range(R.shape[1]):
        a.plot(ep, R[:, l] + 0.04 * l, color=f"C{l}", label=f"W{l + 1}")
    a.set_yscale("log")
    a.set_xlabel("L-BFGS epoch (20 iterations each)")
    a.set_ylabel("rank (offset slightly per layer)")
    a.set_title("Fig 3b: layer ranks → 1 (rank-one data)")
    a.legend(fontsize=8)
    return fig


compute_fig3b = compute
plot_fig3b = plot
