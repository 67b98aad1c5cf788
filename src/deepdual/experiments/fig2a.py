"""Figure 2a / Remark 2.1: the rank of a two-layer linear network's hidden layer is set by β.

With ``XᵀX = I`` the optimum is ``W* = SVT_β(XᵀY)``, so ``rank(W₁*) = #{i : σ_i(YᵀX) > β}``: the rank
drops by one each time β crosses a singular value of ``YᵀX``. The experiment trains the paper's
network (``W₁ ∈ R^{20×50}``, ``W₂ ∈ R^{50×5}``) on teacher data over a grid of β and compares the
trained rank with the closed form's and with the singular values.
"""

from __future__ import annotations

import numpy as np

from ._common import Timer, claim, new_axes, rank_above, record, set_threads

NAME = "fig2a"
TITLE = "Figure 2a / Remark 2.1 — rank of W₁ versus β (two-layer linear network)"
CONFIGS = {
    "tiny": {"n": 40, "d": 20, "K": 5, "width": 50, "n_beta": 3, "epochs": 8, "rank_rtol": 1e-3, "seed": 0},
    "quick": {"n": 100, "d": 20, "K": 5, "width": 50, "n_beta": 10, "epochs": 40, "rank_rtol": 1e-3, "seed": 0},
    "full": {"n": 100, "d": 20, "K": 5, "width": 50, "n_beta": 30, "epochs": 100, "rank_rtol": 1e-3, "seed": 0},
}


def make_data(n, d, K, seed):
    """Teacher data with the columns of X orthonormalized (XᵀX = I exactly), Y = X W_teacher."""
    from ..data import teacher_data

    ds = teacher_data(n, d, K, depth=2, width=50, activation="linear", seed=seed)
    Q, R = np.linalg.qr(ds.X)
    desc = (ds.description + " Inputs orthonormalized (X = QR, X ← Q, so XᵀX = I_d exactly: zero-mean, "
            "identity-covariance directions) with the same targets Y = Q (R W_teacher).")
    return Q, ds.Y, desc


def compute(config: dict, progress=None) -> dict:
    """Closed-form and trained rank of W₁ over a β grid. Returns a JSON-serializable record."""

    from .. import ParallelNet, certify, closed_form
    from ..training import train

    set_threads()
    c = dict(config)
    with Timer() as timer:
        X, Y, desc = make_data(c["n"], c["d"], c["K"], c["seed"])
        sig = np.linalg.svd(Y.T @ X, compute_uv=False)
        # β grid: linear from 5% of σ_min to 110% of σ_max, nudged off the singular values.
        betas = np.linspace(0.05 * sig[-1], 1.1 * sig[0], c["n_beta"])
        cf_rank, tr_rank, predicted, cf_obj, tr_obj, gaps = [], [], [], [], [], []
        scale = float(np.sqrt(sig[0]))  # size of the layer weights at small β
        for i, beta in enumerate(betas):
            sol = closed_form(X, Y, beta=float(beta), depth=2, activation="linear")
            W1 = sol.network.layer_matrices()[0]
            cf_rank.append(rank_above(W1, c["rank_rtol"], scale))
            predicted.append(int(np.sum(sig > beta)))
            cf_obj.append(sol.objective)
            net = ParallelNet(c["d"], c["K"], depth=2, branches=c["width"], activation="linear",
                              seed=c["seed"] + i)
            hist = train(net, X, Y, beta=float(beta), optimizer="lbfgs", lr=1.0, epochs=c["epochs"],
                         seed=c["seed"], progress=False, tol=1e-13)
            tr_rank.append(rank_above(net.layer_matrices()[0], c["rank_rtol"], scale))
            tr_obj.append(hist.final_objective)
            gaps.append(certify(net, X, Y, beta=float(beta)).gap)
            if progress is not None:
                progress(1)
        cf_rank, tr_rank, predicted = map(np.asarray, (cf_rank, tr_rank, predicted))
        cf_obj, tr_obj = np.asarray(cf_obj), np.asarray(tr_obj)
        rel = (tr_obj - cf_obj) / np.maximum(np.abs(cf_obj), 1e-12)
    claims = [
        claim("Fig 2a / Rem 2.1", "closed-form rank(W₁) = #{i : σ_i(YᵀX) > β} at every β (steps at the "
              "singular values of YᵀX)", int(np.sum(cf_rank != predicted)), bool(np.all(cf_rank == predicted)),
              "0 mismatches", measured=f"{int(np.sum(cf_rank != predicted))} mismatches over {len(betas)} β"),
        claim("Fig 2a", "trained (L-BFGS) rank(W₁) equals the closed form's at every β",
              int(np.sum(tr_rank != cf_rank)), bool(np.all(tr_rank == cf_rank)), "0 mismatches",
              measured=f"{int(np.sum(tr_rank != cf_rank))} mismatches over {len(betas)} β "
                       f"(singular values > {c['rank_rtol']:g}·max(σ₁(W₁), √σ₁(YᵀX)))"),
        claim("Thm 2.4", "closed form ≤ trained objective at every β (global optimum)", float(rel.min()),
              bool(rel.min() >= -1e-9), "min (P_train − P*)/P* ≥ −1e-9"),
        claim("Thm 2.4", "trained networks certified near-optimal by the dual (scaled residual)",
              float(np.max(gaps)), bool(np.max(gaps) <= 1e-4 * max(1.0, float(np.max(np.abs(cf_obj))))),
              "max duality gap ≤ 1e-4·max(1, |P*|)"),
    ]
    data = {"betas": betas, "singular_values": sig, "closed_form_rank": cf_rank, "trained_rank": tr_rank,
            "predicted_rank": predicted, "closed_form_objective": cf_obj, "trained_objective": tr_obj,
            "certificate_gap": gaps, "data_description": desc}
    text = ("Two-layer linear network W₁ ∈ R^{20×50}, W₂ ∈ R^{50×5} trained with L-BFGS on the regularized "
            "objective for each β; rank of W₁ (trained dots, closed-form line) with the singular values of "
            "YᵀX as red vertical lines. " + desc)
    return record(NAME, TITLE, text, c, claims, data, timer.seconds)


def steps(config: dict) -> int:
    return int(config["n_beta"])


def plot(rec: dict, ax=None):
    fig, (a,) = new_axes(ax)
    d = rec["data"]
    betas = np.asarray(d["betas"])
    for i, s in enumerate(d["singular_values"]):
        a.axvline(s, color="red", lw=1, alpha=0.7, label="σ_i(YᵀX)" if i == 0 else None)
    a.step(betas, d["closed_form_rank"], where="mid", color="k", label="closed form")
    a.plot(betas, d["trained_rank"], "o", mfc="none", color="C0", label="trained (L-BFGS)")
    a.set_xlabel("β")
    a.set_ylabel("rank(W₁)")
    a.set_title("Fig 2a: rank(W₁) vs β")
    a.legend(fontsize=8)
    return fig


compute_fig2a = compute
plot_fig2a = plot
