"""Figure 3a / Proposition 3.1: operator and Frobenius norms of the layers of a deep linear network.

β is chosen so the optimum has rank two. At a stationary point of the regularized objective a deep
linear network is balanced (``W_lᵀW_l = W_{l+1}W_{l+1}ᵀ``), so every layer has the same singular values:
the same operator norm and the same Frobenius norm across layers.
"""

from __future__ import annotations

import numpy as np

from ._common import Timer, claim, new_axes, rank_above, record, single_thread
from ._deeplinear import beta_for_rank, make_data

NAME = "fig3a"
TITLE = "Figure 3a / Prop 3.1 — operator and Frobenius norms of each layer over training (deep linear)"
CONFIGS = {
    "tiny": {"n": 30, "widths": [5, 20, 10, 10, 5], "epochs": 10, "rank": 2, "rank_rtol": 1e-3, "seed": 1},
    "quick": {"n": 50, "widths": [5, 50, 30, 40, 5], "epochs": 40, "rank": 2, "rank_rtol": 1e-3, "seed": 1},
    "full": {"n": 50, "widths": [5, 50, 30, 40, 5], "epochs": 300, "rank": 2, "rank_rtol": 1e-3, "seed": 1},
}


def compute(config: dict, progress=None) -> dict:
    from .. import MLP, closed_form
    from ..training import train

    c = dict(config)
    widths = list(c["widths"])
    depth = len(widths) - 1
    with Timer() as timer, single_thread():
        X, Y, desc = make_data(c["n"], widths[0], widths[-1], c["seed"])
        sig = np.linalg.svd(X.T @ Y, compute_uv=False)
        beta = beta_for_rank(sig, c["rank"], depth)
        sol = closed_form(X, Y, beta=beta, depth=depth, activation="linear")
        net = MLP(widths, activation="linear", bias=False, seed=c["seed"])
        hist = train(net, X, Y, beta=beta, optimizer="lbfgs", lr=1.0, epochs=c["epochs"], seed=0,
                     progress=False, record=("norms",), record_every=1)
        norms = hist.records["norms"]
        op = np.array([[n["operator"] if isinstance(n, dict) else n.operator for n in row] for row in norms])
        fro = np.array([[n["frobenius"] if isinstance(n, dict) else n.frobenius for n in row] for row in norms])
        scale = float(sig[0] ** (1.0 / depth))
        ranks = [rank_above(W, c["rank_rtol"], scale) for W in net.layer_matrices()]
        if progress is not None:
            progress(1)
    spread_op = float((op[-1].max() - op[-1].min()) / op[-1].max())
    spread_fro = float((fro[-1].max() - fro[-1].min()) / fro[-1].max())
    rel = (hist.final_objective - sol.optimum) / abs(sol.optimum)
    claims = [
        claim("Prop 3.1 / Fig 3a", "equal operator norms across layers at convergence", spread_op,
              spread_op <= 1e-3, "(max − min)/max ≤ 1e-3"),
        claim("Prop 3.1 / Fig 3a", "equal Frobenius norms across layers at convergence", spread_fro,
              spread_fro <= 1e-3, "(max − min)/max ≤ 1e-3"),
        claim("Fig 3a", "β chosen for rank two: every trained layer has rank 2", int(sum(r != 2 for r in ranks)),
              all(r == 2 for r in ranks), "all layer ranks = 2", measured="ranks " + "/".join(map(str, ranks))),
        claim("Thm 3.6", "closed form ≤ trained objective", rel, rel >= -1e-9, "(P_train − P*)/P* ≥ −1e-9"),
    ]
    data = {"beta": beta, "epochs": hist.record_epochs, "operator": op, "frobenius": fro, "ranks": ranks,
            "objective": hist.objective, "optimum": sol.optimum, "data_description": desc}
    text = ("Four-layer standard linear network (5×50, 50×30, 30×40, 40×5) trained with L-BFGS at a β for which "
            "the optimum has rank two; solid: operator norm, dashed: Frobenius norm of each layer. " + desc)
    return record(NAME, TITLE, text, c, claims, data, timer.seconds)


def plot(rec: dict, ax=None):
    fig, (a,) = new_axes(ax)
    d = rec["data"]
    ep = np.asarray(d["epochs"])
    op, fro = np.asarray(d["operator"]), np.asarray(d["frobenius"])
    for l in range(op.shape[1]):
        a.plot(ep, op[:, l], color=f"C{l}", label=f"‖W{l + 1}‖₂")
        a.plot(ep, fro[:, l], color=f"C{l}", ls="--", label=f"‖W{l + 1}‖_F")
    a.set_xlabel("L-BFGS epoch (20 iterations each)")
    a.set_ylabel("norm")
    a.set_title(f"Fig 3a: layer norms (β = {d['beta']:.3g}, rank 2)")
    a.legend(fontsize=7, ncol=2)
    return fig


compute_fig3a = compute
plot_fig3a = plot
