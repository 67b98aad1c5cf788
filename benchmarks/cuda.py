"""Case 6: the same closed forms and training on a torch CUDA device, reported separately.

The closed forms are float64 NumPy/SciPy by design (STYLE: convert at the one boundary), so on a GPU
the comparison is: closed form on the CPU + moving the optimal network to the device, against SGD
trained on the device (same settings as case 1) and against ``torch.linalg.svd`` of ``X`` on the
device (float64). Without a CUDA device the case reports "skipped: no CUDA device".
"""

from __future__ import annotations

import time

from ._common import fmt_ratio, fmt_stats, ratio, stats, table, timed
from ._data import mnist_problem
from .sgd import BETA, MOMENTUM, RTOL

TITLE = "6. CUDA (closed form + transfer vs SGD on the device)"


def _sync():
    import torch

    torch.cuda.synchronize()


def run(quick: bool = False, repeats: int = 5) -> dict:
    import torch

    if not torch.cuda.is_available():
        return {"title": TITLE, "skipped": "skipped: no CUDA device", "rows": [], "target_met": None}
    import deepdual

    from .sgd import _train

    train = _train()
    device = torch.device("cuda")
    rows = []
    problems = [((60, 90), (2, 3) if quick else (2, 3, 4, 5))] + ([] if quick else [((500, 784), (2,))])
    for (n, d), depths in problems:
        prob = mnist_problem(n, d)
        X, Y = prob.X, prob.Y
        Xt = torch.as_tensor(X, dtype=torch.float64, device=device)
        _sync()
        svd_stats, _ = timed(lambda: (torch.linalg.svd(Xt, full_matrices=False), _sync()), repeats)
        for L in depths:
            def fit_on_device():
                sol = deepdual.closed_form(X, Y, beta=BETA, depth=L, activation="relu")
                sol.network.to(device)
                _sync()
                return sol

            cf_stats, sol = timed(fit_on_device, repeats, budget_s=30.0)
            P = sol.objective
            runs = []
            for seed in range(1, 1 + min(repeats, 3)):
                net = deepdual.ParallelNet(d, Y.shape[1], depth=L, branches=2 * Y.shape[1], hidden=4,
                                           activation="relu", seed=seed, device=device)
                box = {"t": None}
                start = time.perf_counter()

                def cb(epoch, network, hist, box=box, start=start):
                    if hist["objective"][-1] <= P * (1 + RTOL):
                        _sync()
                        box["t"] = time.perf_counter() - start
                        return True
                    return time.perf_counter() - start > 60.0

                hist = train(net, X, Y, beta=BETA, optimizer="sgd", lr=0.1, momentum=MOMENTUM, epochs=5000,
                             seed=seed, device=device, callback=cb, progress=False)
                runs.append({"seconds_to_target": box["t"], "best_objective": hist.best_objective,
                             "epochs_run": hist.epochs_run})
            reached = [r["seconds_to_target"] for r in runs if r["seconds_to_target"] is not None]
            alt = stats(reached) if reached else None
            rows.append({"problem": prob.name, "depth": L, **cf_stats, "closed_form_objective": P,
                         "alternative": alt, "ratio": ratio(alt, cf_stats) if alt else None,
                         "sgd_reached": f"{len(reached)}/{len(runs)}",
                         "sgd_best_objective": min(r["best_objective"] for r in runs),
                         "objective_beaten": min(r["best_objective"] for r in runs) < P * (1 - 1e-9),
                         "torch_svd_on_device": svd_stats, "runs": runs})
    return {"title": TITLE, "device": torch.cuda.get_device_name(0), "rows": rows, "target_met": None,
            "ratio_definition": "median SGD-on-device time to 1e-3 relative / median closed form + transfer",
            "objective_never_beaten": not any(r["objective_beaten"] for r in rows),
            "notes": ["SGD on the device uses lr = 0.1 (case 1's usual choice), momentum 0.9, full batch."]}


def markdown(rec: dict) -> str:
    if rec.get("skipped"):
        return rec["skipped"]
    rows = [[r["problem"], r["depth"], fmt_stats(r), fmt_stats(r["alternative"]) if r["alternative"] else "not reached",
             fmt_ratio(r["ratio"]), r["sgd_reached"], fmt_stats(r["torch_svd_on_device"])] for r in rec["rows"]]
    return f"Device: {rec['device']}\n\n" + table(
        ["problem", "L", "closed form + .to(cuda)", "SGD on device to 1e-3 rel.", "speed-up", "reached",
         "torch.linalg.svd(X) on device"], rows)
