"""Figure 2a / Remark 2.1: the rank of a two-layer linear network's hidden layer is set by β.

With ``XᵀX = I`` the optimum is ``W* = SVT_β(XᵀY)``, so ``rank(W₁*) = #{i : σ_i(YᵀX) > β}``: the rank
drops by one each time β crosses a singular value of ``YᵀX``. The experiment trains the paper's
network (``W₁ ∈ R^{20×50}``, ``W₂ ∈ R^{50×5}``) on teacher data over a grid of β and compares the
trained rank with the closed form's and with the singular values.
"""

from __future__ import annotations

import sys

import numpy as np

from ._common import claim, compute_in_units, new_axes, rank_above, record

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


#: Relative offset from σᵢ at which the closed form is evaluated on each side of a step.
STEP_OFFSET = 1e-9


def _data(c):
    X, Y, desc = make_data(c["n"], c["d"], c["K"], c["seed"])
    sig = np.linalg.svd(Y.T @ X, compute_uv=False)
    # β grid: linear from 5% of σ_min to 110% of σ_max
    betas = np.linspace(0.05 * sig[-1], 1.1 * sig[0], c["n_beta"])
    return X, Y, desc, sig, betas


def _closed_form_rank(X, Y, beta: float) -> int:
    """Number of active branches (nonzero amplitudes) of the closed form at ``beta``: rank(W₁*) exactly."""
    from .. import closed_form

    sol = closed_form(X, Y, beta=float(beta), depth=2, activation="linear")
    return int(np.count_nonzero(np.asarray(sol.details["amplitudes"]) > 0))


def units(config: dict) -> list:
    """One unit per sampled β (closed form, training, certificate) and one for the exact steps."""
    return [{"beta_index": i} for i in range(int(config["n_beta"]))] + [{"steps": True}]


def run_unit(config: dict, unit: dict) -> dict:
    """The closed-form and trained rank at one sampled β, or the closed form's rank on both sides of every σᵢ."""
    from .. import ParallelNet, certify, closed_form
    from ..training import train

    c = config
    X, Y, _, sig, betas = _data(c)
    if "steps" in unit:
        # The closed form on each side of every singular value (relative offset STEP_OFFSET) and in the middle
        # of every interval between them: where its rank changes, measured, not assumed.
        edges = np.concatenate([[0.0], np.sort(sig), [max(betas[-1], 1.05 * sig[0])]])
        middle = [_closed_form_rank(X, Y, 0.5 * (a + b)) for a, b in zip(edges[:-1], edges[1:])]
        below = [_closed_form_rank(X, Y, s * (1 - STEP_OFFSET)) for s in sig]
        above = [_closed_form_rank(X, Y, s * (1 + STEP_OFFSET)) for s in sig]
        return {"edges": edges, "segment_rank": middle, "rank_below": below, "rank_above": above}
    i = unit["beta_index"]
    beta = float(betas[i])
    scale = float(np.sqrt(sig[0]))  # size of the layer weights at small β
    sol = closed_form(X, Y, beta=beta, depth=2, activation="linear")
    net = ParallelNet(c["d"], c["K"], depth=2, branches=c["width"], activation="linear", seed=c["seed"] + i)
    hist = train(net, X, Y, beta=beta, optimizer="lbfgs", lr=1.0, epochs=c["epochs"], seed=c["seed"], progress=False,
                 tol=1e-13)
    return {"closed_form_rank": int(np.count_nonzero(np.asarray(sol.details["amplitudes"]) > 0)),
            "closed_form_network_rank": rank_above(sol.network.layer_matrices()[0], c["rank_rtol"], scale),
            "trained_rank": rank_above(net.layer_matrices()[0], c["rank_rtol"], scale),
            "closed_form_objective": sol.objective, "trained_objective": hist.final_objective,
            "certificate_gap": certify(net, X, Y, beta=beta).gap}


def assemble(config: dict, results: list) -> dict:
    """Claims and plot data of Figure 2a from the units' results."""
    c = dict(config)
    _, _, desc, sig, betas = _data(c)
    *runs, steps_ = results
    cf_rank = np.array([r["closed_form_rank"] for r in runs])
    net_rank = np.array([r["closed_form_network_rank"] for r in runs])
    tr_rank = np.array([r["trained_rank"] for r in runs])
    predicted = np.array([int(np.sum(sig > b)) for b in betas])
    cf_obj = np.array([r["closed_form_objective"] for r in runs])
    tr_obj = np.array([r["trained_objective"] for r in runs])
    gaps = np.array([r["certificate_gap"] for r in runs])
    rel = (tr_obj - cf_obj) / np.maximum(np.abs(cf_obj), 1e-12)
    # the closed-form curve: its rank on every interval between consecutive σᵢ, its steps where it changes
    edges, seg = np.asarray(steps_["edges"]), np.asarray(steps_["segment_rank"])
    jumps = np.asarray(steps_["rank_below"]) - np.asarray(steps_["rank_above"])
    k = sig.size
    expected_seg = np.arange(k, -1, -1)
    steps_ok = bool(np.all(jumps == 1) and np.array_equal(seg, expected_seg))
    off_steps = int(np.sum(jumps != 1) + np.sum(seg != expected_seg))
    claims = [
        claim("Fig 2a / Rem 2.1", "closed-form rank(W₁) steps down by one exactly at each singular value of YᵀX "
              f"(evaluated at σᵢ(1 ∓ {STEP_OFFSET:g}) and between consecutive σᵢ)", off_steps, steps_ok,
              "0 mismatches", measured=f"{off_steps} mismatches: drops {'/'.join(map(str, jumps))} at σ₁..σ_{k}; "
                                       f"ranks {'/'.join(map(str, seg))} between them"),
        claim("Fig 2a / Rem 2.1", "closed-form rank(W₁) = #{i : σ_i(YᵀX) > β} at every sampled β (also the rank of "
              "the built network's W₁)", int(np.sum((cf_rank != predicted) | (net_rank != predicted))),
              bool(np.all(cf_rank == predicted) and np.all(net_rank == predicted)), "0 mismatches",
              measured=f"{int(np.sum((cf_rank != predicted) | (net_rank != predicted)))} mismatches over "
                       f"{len(betas)} β"),
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
    curve = {"beta": edges, "rank": np.append(seg, seg[-1])}
    data = {"betas": betas, "singular_values": sig, "closed_form_rank": cf_rank, "trained_rank": tr_rank,
            "predicted_rank": predicted, "closed_form_objective": cf_obj, "trained_objective": tr_obj,
            "certificate_gap": gaps, "closed_form_curve": curve, "step_drops": jumps, "data_description": desc}
    text = ("Two-layer linear network W₁ ∈ R^{20×50}, W₂ ∈ R^{50×5} trained with L-BFGS on the regularized "
            "objective for each sampled β (circles); black: the closed form's rank(W₁) as a function of β, exact — "
            "its rank between consecutive singular values and its steps, located by evaluating the closed form "
            f"at σᵢ(1 ∓ {STEP_OFFSET:g}); red vertical lines: the singular values of YᵀX. " + desc)
    return record(NAME, TITLE, text, c, claims, data, 0.0)


def compute(config: dict, progress=None) -> dict:
    """Closed-form and trained rank of W₁ over a β grid. Returns a JSON-serializable record."""
    return compute_in_units(sys.modules[__name__], config, progress)


def plot(rec: dict, ax=None):
    fig, (a,) = new_axes(ax)
    d = rec["data"]
    betas = np.asarray(d["betas"])
    for i, s in enumerate(d["singular_values"]):
        a.axvline(s, color="red", lw=1, alpha=0.7, label="σ_i(YᵀX)" if i == 0 else None)
    curve = d["closed_form_curve"]
    a.step(curve["beta"], curve["rank"], where="post", color="k", label="closed form (exact)")
    a.plot(betas, d["trained_rank"], "o", mfc="none", color="C0", label="trained (L-BFGS)")
    a.set_xlabel("β")
    a.set_ylabel("rank(W₁)")
    a.set_title("Fig 2a: rank(W₁) vs β")
    a.legend(fontsize=8)
    return fig


compute_fig2a = compute
plot_fig2a = plot
