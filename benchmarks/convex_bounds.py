"""Certificates for two-layer ReLU networks on any data: proven bounds on c(r) vs time (issue 14).

For a trained network with residual ``r = y − f(X)``, ``λ = r·min(1, β/c̄)`` is dual feasible when
``c̄ ≥ c(r) = max_{‖u‖≤1} |rᵀ(Xu)₊|`` is proven, and ``D(λ) = λᵀy − ½‖λ‖²`` bounds the optimum from
below. This measures :func:`deepdual.convex.bounds.direction_bound` — the proven bound ``c̄``, the
estimate (best direction found, a *lower* bound on ``c(r)``), and the certified relative gap
``(P − D)/P`` — against the time budget, on three problems with ``β = 1`` and a 50-neuron network
without bias trained by Adam then L-BFGS on ``P(θ) = ½‖f − y‖² + (β/2)(‖U‖² + ‖α‖²)``:

* random Gaussian ``X`` (n = 200, d = 10), Gaussian ``y``;
* 500 rows of scikit-learn's digits (d = 64, pixels / 16), ``y = ±1`` for digit ``< 5``;
* two moons (n = 200) with a bias column (d = 3; the bias is regularized with the weights).

Each row also shows the gap the estimate would give if it were a bound ("oracle gap": not a
certificate — the floor any bound on ``c(r)`` can reach for this network) and, per problem, each
method at a fixed budget. BLAS runs on one thread (threadpoolctl) so that timings on a shared
machine mean something; the load average is recorded.

Run from the repository root: ``python -m benchmarks.convex_bounds [--quick] [--out FILE.json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

BETA = 1.0
WIDTH = 50
BUDGETS = (1.0, 5.0, 20.0, 60.0)
QUICK_BUDGETS = (0.5, 2.0)
METHOD_BUDGET = 5.0
TITLE = "Proven bounds on c(r) = max_{‖u‖≤1} |rᵀ(Xu)₊| and certified gaps vs time (two-layer ReLU, β = 1)"


# ---------------------------------------------------------------------------------------- problems
def random_problem(n: int = 200, d: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n), f"Gaussian X (n={n}, d={d}), Gaussian y"


def digits_problem(n: int = 500):
    from sklearn.datasets import load_digits

    ds = load_digits()
    X = ds.data[:n] / 16.0
    y = np.where(ds.target[:n] < 5, 1.0, -1.0)
    return X, y, f"digits: first {n} rows, pixels/16 (d=64), y = ±1 for digit < 5"


def moons_problem(n: int = 200):
    from sklearn.datasets import make_moons

    x, lab = make_moons(n, noise=0.2, random_state=0)
    X = np.hstack([x, np.ones((n, 1))])
    return X, np.where(lab == 1, 1.0, -1.0), f"two moons (n={n}, noise 0.2) with a bias column (d=3)"


def train(X, y, *, beta=BETA, width=WIDTH, seed=0, adam_steps=3000, lbfgs_iter=500):
    """A two-layer ReLU network (no bias) trained by Adam then L-BFGS; returns ``(P, r, U, a)``.

    ``P`` and ``r`` are evaluated in float64 NumPy from the trained weights.
    """
    import torch

    torch.manual_seed(seed)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    d = X.shape[1]
    U = (torch.randn(d, width, dtype=torch.float64) / math.sqrt(d)).requires_grad_()
    a = (torch.randn(width, dtype=torch.float64) / math.sqrt(width)).requires_grad_()

    def objective():
        f = torch.relu(Xt @ U) @ a
        return 0.5 * ((f - yt) ** 2).sum() + 0.5 * beta * ((U**2).sum() + (a**2).sum())

    opt = torch.optim.Adam([U, a], lr=1e-2)
    for _ in range(adam_steps):
        opt.zero_grad()
        objective().backward()
        opt.step()
    lb = torch.optim.LBFGS([U, a], max_iter=lbfgs_iter, tolerance_grad=1e-12, tolerance_change=1e-15,
                           history_size=50, line_search_fn="strong_wolfe")

    def closure():
        lb.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    lb.step(closure)
    Un, an = U.detach().numpy(), a.detach().numpy()
    r = y - np.maximum(X @ Un, 0.0) @ an
    P = 0.5 * float(r @ r) + 0.5 * beta * (float(np.sum(Un**2)) + float(an @ an))
    return P, r, Un, an


def certified_gap(P: float, r: np.ndarray, y: np.ndarray, c_upper: float, beta: float = BETA):
    """``(D, (P − D)/P)`` for ``λ = r·min(1, β/c_upper)`` (``D`` float-safe, SPEC §7)."""
    from deepdual._numerics import dual_objective

    if not math.isfinite(c_upper):
        return -math.inf, math.inf
    theta = 1.0 if c_upper <= beta else beta / c_upper
    D = dual_objective(r[:, None], y[:, None], theta)
    return D, (P - D) / P


def old_bound(r, X) -> float:
    """The bound deepdual used before: ``σ_max(X)·max(‖r₊‖, ‖r₋‖)``."""
    return float(np.linalg.norm(X, 2)) * max(float(np.linalg.norm(np.maximum(r, 0))),
                                            float(np.linalg.norm(np.maximum(-r, 0))))


# ---------------------------------------------------------------------------------------- run
def _bound_row(res, P, r, y):
    D, gap = certified_gap(P, r, y, res.upper)
    _, oracle = certified_gap(P, r, y, res.estimate)
    return {"upper": res.upper, "estimate": res.estimate, "ratio": res.ratio, "exact": res.exact,
            "seconds": res.seconds, "method": res.method, "lower_bound": D, "certified_gap": gap,
            "oracle_gap": oracle}


def run(quick: bool = False, repeats: int = 1, budgets=None) -> dict:
    """Measure every problem; ``repeats`` is accepted for the benchmark runner's interface (one run)."""
    from deepdual.convex.bounds import direction_bound

    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(1)
    except ImportError:  # pragma: no cover
        limiter = None
    budgets = tuple(budgets) if budgets is not None else (QUICK_BUDGETS if quick else BUDGETS)
    train_kw = {"adam_steps": 500, "lbfgs_iter": 100} if quick else {}
    makers = [("random", random_problem), ("digits", digits_problem), ("moons", moons_problem)]
    record = {"title": TITLE, "beta": BETA, "width": WIDTH, "budgets": list(budgets), "problems": []}
    for name, make in makers:
        X, y, desc = make()
        t0 = time.perf_counter()
        P, r, _, _ = train(X, y, **train_kw)
        item = {"name": name, "description": desc, "n": X.shape[0], "d": X.shape[1], "objective": P,
                "train_seconds": time.perf_counter() - t0, "old_bound": old_bound(r, X)}
        item["old_gap"] = certified_gap(P, r, y, item["old_bound"])[1]
        item["by_budget"] = []
        for b in budgets:
            item["by_budget"].append({"budget": b, **_bound_row(direction_bound(r, X, time_budget=b), P, r, y)})
        item["by_method"] = []
        mb = min(METHOD_BUDGET, max(budgets))
        labels = {"spectral": ("spectral", "quadratic majorant"), "lagrangian": ("Lagrangian",),
                  "bnb": ("branch and bound",), "milp": ("MILP",)}
        for method, label in labels.items():
            res = direction_bound(r, X, time_budget=mb, method=method)
            row = {"method_name": method, "budget": mb, **_bound_row(res, P, r, y)}
            # the method's own bound (``upper`` is the minimum with the closed forms every method reports)
            own = [v for nm, v in res.components if nm.startswith(label)]  # str.startswith takes a tuple
            row["own"] = min(own) if own else math.inf
            row["own_gap"] = certified_gap(P, r, y, row["own"])[1]
            row["components"] = [list(c) for c in res.components]
            item["by_method"].append(row)
        record["problems"].append(item)
    if limiter is not None:
        limiter.restore_original_limits()
    return record


def markdown(rec: dict) -> str:
    out = [f"## {rec['title']}", ""]
    for p in rec["problems"]:
        out.append(f"### {p['description']}")
        out.append("")
        out.append(f"P(θ) = {p['objective']:.6g} (trained in {p['train_seconds']:.0f} s); old bound "
                   f"σ_max(X)·max(‖r₊‖,‖r₋‖) = {p['old_bound']:.4g} → certified gap {p['old_gap']:.1%}")
        out.append("")
        out.append("| budget (s) | proven c̄ | estimate (lower) | c̄/estimate | certified gap | oracle gap | time (s) | method |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---|")
        for row in p["by_budget"]:
            out.append(f"| {row['budget']:g} | {row['upper']:.4g} | {row['estimate']:.4g} | {row['ratio']:.2f} | "
                       f"{row['certified_gap']:.1%} | {row['oracle_gap']:.1%} | {row['seconds']:.2f} | "
                       f"{row['method'].split(' [')[0]}{' (exact)' if row['exact'] else ''} |")
        out.append("")
        out.append("| method (budget) | its own bound | its certified gap | time (s) |")
        out.append("|---|---:|---:|---:|")
        for row in p["by_method"]:
            out.append(f"| {row['method_name']} ({row['budget']:g} s) | {row['own']:.4g} | "
                       f"{row['own_gap']:.1%} | {row['seconds']:.2f} |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.convex_bounds", description=TITLE)
    p.add_argument("--quick", action="store_true", help="short training, budgets 0.5 and 2 s")
    p.add_argument("--budgets", default=None, help="comma-separated seconds, e.g. 1,5,20,60")
    p.add_argument("--out", default=None, help="write the record as JSON here")
    args = p.parse_args(argv)
    budgets = [float(b) for b in args.budgets.split(",")] if args.budgets else None
    from ._common import environment, load_average

    load = load_average()
    rec = run(quick=args.quick, budgets=budgets)
    rec["load_average_before"], rec["load_average_after"] = load, load_average()
    rec["environment"] = environment()
    text = markdown(rec)
    print(text)
    print(f"\nload average before/after: {rec['load_average_before']} / {rec['load_average_after']}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rec, fh, indent=1, default=lambda o: None if isinstance(o, float) and not math.isfinite(o) else str(o))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
