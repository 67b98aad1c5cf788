"""Figure 4 / Theorem 4.3: closed form ("Theory") versus SGD with momentum on whitened, undersampled data.

(n, d) = (60, 90), K = 10 one-hot classes, squared loss, parallel ReLU networks of depth L = 3, 4, 5 with
50 neurons per hidden layer (the architecture for which Theorem 4.3 is proven). Theory is the closed form
built without training; it is the global optimum, so no SGD run may end below it.
"""

from __future__ import annotations

import functools
import sys

import numpy as np

from ._common import claim, compute_in_units, new_axes, record, skipped

NAME = "fig4"
TITLE = "Figure 4 / Thm 4.3 — closed form (Theory) vs SGD on whitened MNIST (and CIFAR-10)"
CONFIGS = {
    "tiny": {"n": 20, "d": 30, "K": 10, "depths": [3], "hidden": 10, "branches": 10, "beta": 0.1, "epochs": 30,
             "seeds": 1, "lr": 0.02, "momentum": 0.9, "batch_size": None, "test_size": 100, "record_every": 10,
             "seed": 0, "datasets": ["mnist"]},
    "quick": {"n": 60, "d": 90, "K": 10, "depths": [3, 4, 5], "hidden": 50, "branches": 10, "beta": 0.1,
              "epochs": 100, "seeds": 2, "lr": 0.02, "momentum": 0.9, "batch_size": None, "test_size": 500,
              "record_every": 10, "seed": 0, "datasets": ["mnist", "cifar10"]},
    "full": {"n": 60, "d": 90, "K": 10, "depths": [3, 4, 5], "hidden": 50, "branches": 10, "beta": 0.1,
             "epochs": 400, "seeds": 3, "lr": 0.02, "momentum": 0.9, "batch_size": 20, "test_size": 2000,
             "record_every": 25, "seed": 0, "datasets": ["mnist", "cifar10"]},
}


@functools.lru_cache(maxsize=4)
def _split(name, cifar_dir, n, d, test_size, seed):
    """The whitened, undersampled split of one dataset (cached: every unit of a worker process reuses it)."""
    from ..data import load_cifar10, load_mnist_data, undersample_whitened

    ds = load_mnist_data() if name == "mnist" else load_cifar10(cifar_dir, max_per_file=2000)
    return undersample_whitened(ds.X, ds.labels, n=n, d=d, test_size=test_size, seed=seed)


def _data(c, name, cifar_dir):
    split = _split(name, cifar_dir if name != "mnist" else None, c["n"], c["d"], c["test_size"], c["seed"])
    return split, split.X_train, split.Y_train, split.X_test, np.argmax(split.Y_train, 1), np.argmax(split.Y_test, 1)


def units(config: dict, cifar_dir=None) -> list:
    """Per dataset (CIFAR-10 only with ``cifar_dir``) and depth: the closed form, and one unit per SGD seed."""
    return [{"dataset": name, "depth": L, "seed": s} for name in config["datasets"]
            if name == "mnist" or cifar_dir for L in config["depths"] for s in [None, *range(int(config["seeds"]))]]


def run_unit(config: dict, unit: dict, cifar_dir=None) -> dict:
    """The closed form ("Theory", ``seed`` None) or one SGD run at one depth on one dataset."""
    import torch

    from .. import ParallelNet, closed_form
    from ..training import train

    c = config
    split, Xtr, Ytr, Xte, ytr, yte = _data(c, unit["dataset"], cifar_dir)
    L, s = unit["depth"], unit["seed"]
    if s is None:
        sol = closed_form(Xtr, Ytr, beta=c["beta"], depth=L, activation="relu")
        return {"objective": sol.objective, "optimum": sol.optimum,
                "train_error": float(np.mean(np.argmax(sol.predict(Xtr), 1) != ytr)),
                "test_accuracy": float(np.mean(np.argmax(sol.predict(Xte), 1) == yte)),
                "split_description": split.description}
    Xte_t = torch.as_tensor(Xte)
    net = ParallelNet(c["d"], c["K"], depth=L, branches=c["branches"], hidden=[c["hidden"]] * (L - 2),
                      activation="relu", seed=1000 * L + s + c["seed"])

    def train_error(net, X, Y):
        return float((net(X).argmax(1) != Y.argmax(1)).double().mean())

    def test_accuracy(net, X, Y):
        return float((net(Xte_t.to(X)).argmax(1).cpu().numpy() == yte).mean())

    hist = train(net, Xtr, Ytr, beta=c["beta"], optimizer="sgd", lr=c["lr"], momentum=c["momentum"],
                 epochs=c["epochs"], batch_size=c["batch_size"], seed=s, device=c.get("device"),
                 record=(train_error, test_accuracy), record_every=c["record_every"], progress=False)
    return {"objective": hist.objective, "record_epochs": hist.record_epochs,
            "train_error": hist.records["train_error"], "test_accuracy": hist.records["test_accuracy"],
            "final_objective": hist.final_objective, "best_objective": hist.best_objective}


def _gather(c, results, cifar_dir):
    """``{dataset: {"split_description", "depths": {L: {"theory", "runs"}}}}`` from the units' results."""
    out: dict = {}
    for unit, r in zip(units(c, cifar_dir), results):
        res = out.setdefault(unit["dataset"], {"split_description": "", "depths": {}})
        dd = res["depths"].setdefault(str(unit["depth"]), {"theory": None, "runs": []})
        if unit["seed"] is None:
            res["split_description"] = r.pop("split_description")
            dd["theory"] = r
        else:
            dd["runs"].append(r)
    return out


def assemble(config: dict, results: list, cifar_dir=None) -> dict:
    c = dict(config)
    claims, data = [], {"datasets": _gather(c, results, cifar_dir)}
    for name in c["datasets"]:
        label = "MNIST" if name == "mnist" else "CIFAR-10"
        if name not in data["datasets"]:
            claims.append(skipped(f"Thm 4.3 ({label})", "closed form ≤ every SGD run on whitened CIFAR-10",
                                  "SKIPPED (no --cifar-dir)"))
            continue
        res = data["datasets"][name]
        gaps, worst = [], np.inf
        for L, d in res["depths"].items():
            P = d["theory"]["objective"]
            finals = np.array([r["best_objective"] for r in d["runs"]])
            worst = min(worst, float(np.min((finals - P) / P)))
            gaps.append(f"L={L}: SGD − Theory = {np.mean(finals - P):.3g} ± {np.std(finals - P):.2g}")
        claims.append(claim(f"Thm 4.3 ({label})", f"closed form objective ≤ every SGD run on whitened {label} "
                            f"(L = {', '.join(map(str, c['depths']))}, {c['seeds']} seeds)", worst,
                            worst >= -1e-9, "min (P_SGD − P_theory)/P_theory ≥ −1e-9",
                            measured=f"min rel. gap {worst:.3g}; " + "; ".join(gaps)))
        acc = {L: (d["theory"]["test_accuracy"], np.mean([r["test_accuracy"][-1] for r in d["runs"]]))
               for L, d in res["depths"].items()}
        diff = min(t - s for t, s in acc.values())
        claims.append(claim(f"Fig 4 ({label})", "Theory's test accuracy is at least the mean SGD test accuracy minus "
                            "0.02 (two points; test points mapped by the same whitening)", diff, diff >= -0.02,
                            "min over L of (Theory − mean SGD) ≥ −0.02",
                            measured="; ".join(f"L={L}: {t:.3f} vs {s:.3f}" for L, (t, s) in acc.items())))
        claims.append(claim(f"Fig 4 ({label})", "Theory has zero training error",
                            max(d["theory"]["train_error"] for d in res["depths"].values()),
                            all(d["theory"]["train_error"] == 0 for d in res["depths"].values()), "= 0"))
    text = ("Whitened, undersampled data, (n, d) = (60, 90), K = 10, squared loss on one-hot labels; parallel ReLU "
            f"networks (L = {', '.join(map(str, c['depths']))}, {c['branches']} branches, {c['hidden']} neurons per "
            f"hidden layer, β = {c['beta']}) trained with SGD with momentum {c['momentum']} from {c['seeds']} seeds "
            "(mean ± spread) versus the closed form of Theorem 4.3 (dashed, no training). "
            + " ".join(f"{k}: {v['split_description']}" for k, v in data["datasets"].items()))
    return record(NAME, TITLE, text, c, claims, data, 0.0)


def compute(config: dict, progress=None, cifar_dir=None) -> dict:
    return compute_in_units(sys.modules[__name__], config, progress, cifar_dir=cifar_dir)


def plot(rec: dict, ax=None):
    d = rec["data"]["datasets"]
    names = list(d) or ["mnist"]
    fig, axes = new_axes(ax, 3 * len(names), width=4.2)
    for j, name in enumerate(names):
        if name not in d:
            continue
        a1, a2, a3 = axes[3 * j: 3 * j + 3]
        for i, (L, dd) in enumerate(d[name]["depths"].items()):
            col = f"C{i}"
            obj = np.array([r["objective"] for r in dd["runs"]])
            ep = np.arange(1, obj.shape[1] + 1)
            m, s = obj.mean(0), obj.std(0)
            a1.plot(ep, m, color=col, label=f"SGD L={L}")
            a1.fill_between(ep, m - s, m + s, color=col, alpha=0.2)
            a1.axhline(dd["theory"]["objective"], color=col, ls="--", label=f"Theory L={L}")
            rep = np.asarray(dd["runs"][0]["record_epochs"])
            for a, key in ((a2, "train_error"), (a3, "test_accuracy")):
                v = np.array([r[key] for r in dd["runs"]])
                a.plot(rep, v.mean(0), color=col, label=f"SGD L={L}")
                a.fill_between(rep, v.min(0), v.max(0), color=col, alpha=0.2)
                a.axhline(dd["theory"][key], color=col, ls="--")
        a1.set_yscale("log")
        label = "MNIST" if name == "mnist" else "CIFAR-10"
        a1.set_title(f"{label}: training objective")
        a2.set_title(f"{label}: training error")
        a3.set_title(f"{label}: test accuracy")
        for a in (a1, a2, a3):
            a.set_xlabel("epoch")
        a1.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


compute_fig4 = compute
plot_fig4 = plot
