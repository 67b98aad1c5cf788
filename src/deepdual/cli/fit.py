# Over 400 lines: one command, `deepdual fit` (split candidate: the SGD and baseline comparison columns).
"""``deepdual fit DATA --target COLUMN``: the closed-form network of a data file, its scores and certificate.

Task
----
``--task auto`` chooses classification when the target holds strings, or integers with at most
:data:`MAX_AUTO_CLASSES` distinct values; otherwise regression. Classification uses
:class:`~deepdual.DeepReLUClassifier` (Theorem 4.3 on whitened rows, so at most ``d`` training
rows); regression uses :class:`~deepdual.DeepLinearRegressor` (Sections 2-3, with an unregularized
intercept). ``--compare-sgd`` trains the same architecture from a random start; ``--baseline`` fits
scikit-learn's logistic regression or ridge.

Model
-----
``--model closed-form`` (the default) is the above. ``--model convex`` fits a two-layer ReLU network
with hidden biases on any data by the convex program (:class:`~deepdual.ConvexReLUClassifier` on
±1 targets for two classes and one-hot targets for more, :class:`~deepdual.ConvexReLURegressor` on
centred targets; SPEC §6) and prints its
certified gap: a proven bound on how far its objective is from the best two-layer network of any
width. ``--model auto`` takes the convex program where the closed form's theorem does not apply
(classification with more training rows than features) and the closed form elsewhere. The closed
form stays strict here (every training row, no constant feature): a fit that the theorem cannot
take is an error that names ``--model convex``.

Every option is checked before the data file is read and before PyTorch is imported, so a bad
option (``--depth 1000000``) is refused at once. ``--save`` writes only a new file or a model saved
by deepdual, never the data file or any other file. A result that overflows float64 (an objective of
``inf`` or ``nan``) is an error, never printed as a result.

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr, nothing saved).
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

from .._io import check_output_file, same_file
from .._validation import MAX_LAYERS
from ._errors import UsageError, user_input
from .tables import read_table

__all__ = ["run_fit", "MAX_AUTO_CLASSES", "MAX_SEED", "MAX_EPOCHS", "MAX_BRANCHES"]

#: ``--task auto`` treats an integer target with at most this many distinct values as class labels.
MAX_AUTO_CLASSES = 20
#: Largest ``--seed`` (what scikit-learn's ``random_state`` takes for the split).
MAX_SEED = 2**32 - 1
#: Most ``--epochs`` of ``--compare-sgd``.
MAX_EPOCHS = 10_000_000
#: Most ``--sgd-branches``.
MAX_BRANCHES = 100_000
#: Data entries (or β) beyond this magnitude, or nonzero below its inverse, are called "badly scaled"
#: when a fit overflows: the error then names the data's range instead of pointing to a bug.
_SCALE_LIMIT = 1e50


# --------------------------------------------------------------------------------------------- options
def _check_options(args) -> None:
    """Every option that does not need the data, checked before the file is read (and before torch loads)."""
    if args.depth is not None and args.depth < 2:
        raise UsageError(f"--depth == {args.depth}, must be >= 2.")
    if args.depth is not None and args.depth > MAX_LAYERS:
        raise UsageError(f"--depth == {args.depth}, must be <= {MAX_LAYERS}: every layer is a separate tensor "
                         "evaluated in turn, so a deeper network would run for minutes to hours.")
    if not (np.isfinite(args.beta) and args.beta >= 0):
        raise UsageError(f"--beta == {args.beta}, must be a finite number >= 0.")
    if args.model == "convex" and args.depth not in (None, 2):
        raise UsageError(f"--model convex fits a two-layer network; --depth == {args.depth} (omit --depth or pass 2).")
    if args.model != "closed-form":
        for name in ("time_budget", "certificate_budget"):
            value = getattr(args, name)
            if not (math.isfinite(value) and value > 0):
                raise UsageError(f"--{name.replace('_', '-')} == {value}, must be a finite number > 0.")
        if args.beta == 0:
            raise UsageError(f"--model {args.model} needs --beta > 0 (the convex program is regularized).")
    if not (0.0 <= args.test_size < 1.0):
        raise UsageError(f"--test-size == {args.test_size}, must be in [0, 1).")
    if args.train_size is not None and args.train_size < 1:
        raise UsageError(f"--train-size == {args.train_size}, must be >= 1.")
    if not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed == {args.seed}, must be >= 0 and <= {MAX_SEED}.")
    if args.compare_sgd and (args.epochs < 1 or not args.lr > 0):
        raise UsageError("--compare-sgd needs --epochs >= 1 and --lr > 0.")
    if args.epochs > MAX_EPOCHS:
        raise UsageError(f"--epochs == {args.epochs}, must be <= {MAX_EPOCHS}.")
    if not math.isfinite(args.lr):
        raise UsageError(f"--lr == {args.lr}, must be a finite number > 0.")
    if args.sgd_branches is not None and not 1 <= args.sgd_branches <= MAX_BRANCHES:
        raise UsageError(f"--sgd-branches == {args.sgd_branches}, must be >= 1 and <= {MAX_BRANCHES}.")
    if args.save:
        folder = os.path.dirname(os.path.abspath(args.save))
        if not os.path.isdir(folder):
            raise UsageError(f"--save {args.save!r}: folder {folder!r} does not exist.")
        if os.path.isdir(args.save):
            raise UsageError(f"--save {args.save!r} is a folder; pass a file name such as model.pt.")
        with user_input():
            check_output_file(args.save, "--save")
        if same_file(args.save, args.data):
            raise UsageError(f"--save {args.save!r} is the data file {args.data!r}; pass another file name such as "
                             "model.pt.")


def _check_save_target(path: str) -> None:
    """An existing ``--save`` file is replaced only when it is a model saved by deepdual."""
    if not os.path.exists(path):
        return
    from .. import load_metadata

    try:
        load_metadata(path)
    except (ValueError, TypeError):
        raise UsageError(f"--save {path!r} exists and is not a model saved by deepdual; deepdual does not "
                         "overwrite it; pass a new file name (or delete the file).") from None


def _range(a: np.ndarray) -> str:
    return f"[{np.min(a):.3g}, {np.max(a):.3g}]" if a.size else "[]"


def _badly_scaled(beta: float, *arrays: np.ndarray) -> bool:
    for a in arrays:
        mag = np.abs(np.asarray(a, dtype=np.float64))
        if mag.size and (mag.max() > _SCALE_LIMIT or 0 < mag[mag > 0].min(initial=np.inf) < 1 / _SCALE_LIMIT):
            return True
    return beta > _SCALE_LIMIT


def _overflow(what: str, beta: float, X: np.ndarray, y: np.ndarray, numeric_target: bool) -> Exception:
    """The error for a fit that overflowed: bad input (exit 2) when the data's scale explains it, else a bug."""
    arrays = (X, y) if numeric_target else (X,)
    if _badly_scaled(beta, *arrays):
        target = f", the target spans {_range(y)}" if numeric_target else ""
        return UsageError(f"{what}: the features span {_range(X)}{target} and beta = {beta:g}; float64 overflows at "
                          f"this scale, so rescale the data (e.g. standardize each column) to magnitudes between "
                          f"about {1 / _SCALE_LIMIT:g} and {_SCALE_LIMIT:g}.")
    return RuntimeError(f"{what} on data of moderate scale (features {_range(X)}, beta = {beta:g}): "
                        "an internal error of deepdual; please report it.")


def _choose_task(requested: str, y: np.ndarray) -> tuple[str, str]:
    """``(task, why)`` for ``--task requested`` and the target ``y``."""
    n_classes = np.unique(y).size
    if y.dtype.kind in "US":
        if requested == "regression":
            raise UsageError("--task regression needs a numeric target; this target holds strings.")
        return "classification", f"string labels, {n_classes} classes"
    if requested != "auto":
        return requested, "--task " + requested
    if y.dtype.kind in "iu" and n_classes <= MAX_AUTO_CLASSES:
        return "classification", f"integer target with {n_classes} distinct values <= {MAX_AUTO_CLASSES}"
    return "regression", "numeric target" + (f" with {n_classes} distinct values" if y.dtype.kind in "iu" else "")


def _choose_model(args, classify: bool, n_train: int, d: int) -> tuple[str, str]:
    """``(model, why)``: ``"closed-form"`` or ``"convex"`` for ``--model`` and the training split."""
    if args.model != "auto":
        return args.model, "--model " + args.model
    if classify and n_train > d:
        if args.depth not in (None, 2):
            raise UsageError(f"--model auto chose the two-layer convex program ({n_train} training rows > {d} "
                             f"features, so Theorem 4.3 does not apply), but --depth == {args.depth}; omit --depth, "
                             "or pass --model closed-form with --train-size.")
        return "convex", f"--model auto: {n_train} training rows > {d} features, Theorem 4.3 needs n <= d"
    return "closed-form", "--model auto: the closed form's theorem applies"


# --------------------------------------------------------------------------------------------- split
def _stratify_ok(labels, n_first: int, n_second: int) -> bool:
    _, counts = np.unique(labels, return_counts=True)
    return bool(counts.min() >= 2 and n_first >= counts.size and n_second >= counts.size)


def _split(n: int, labels, *, test_size: float, train_size: int | None, seed: int, classify: bool):
    """Indices of the training and test rows, and a one-line description."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    stratified = classify
    n_test = int(np.ceil(test_size * n)) if test_size > 0 else 0
    if n_test >= n:
        raise UsageError(f"--test-size {test_size} leaves no training rows out of {n}.")
    if n_test:
        strat = labels if classify and _stratify_ok(labels, n - n_test, n_test) else None
        stratified &= strat is not None
        train_rows, test_rows = train_test_split(idx, test_size=n_test, random_state=seed, stratify=strat)
    else:
        train_rows, test_rows = idx, idx[:0]
    if train_size is not None and train_size < train_rows.size:
        labels_tr = labels[train_rows]
        strat = labels_tr if classify and _stratify_ok(labels_tr, train_size, train_rows.size - train_size) else None
        stratified &= strat is not None
        train_rows, _ = train_test_split(train_rows, train_size=train_size, random_state=seed, stratify=strat)
    train_rows, test_rows = np.sort(train_rows), np.sort(test_rows)
    how = ("stratified" if stratified else "random") + f", seed {seed}"
    desc = f"{train_rows.size} train / {test_rows.size} test rows of {n} ({how})"
    if test_rows.size == 0:
        desc += "; no test rows (--test-size 0)"
    return train_rows, test_rows, desc


# --------------------------------------------------------------------------------------------- scores
def _score(task: str, y_true, y_pred) -> float | None:
    """Accuracy (classification) or R² (regression); None when there are too few rows."""
    if len(y_true) == 0:
        return None
    if task == "classification":
        return float(np.mean(y_true == y_pred))
    from sklearn.metrics import r2_score

    if len(y_true) < 2:
        return None
    return float(r2_score(y_true, y_pred))


def _fmt(v, spec=".6g") -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return format(v, spec)


def _print_comparison(columns: dict[str, dict[str, object]], rows: list[tuple[str, str]], out) -> None:
    """One column per method (closed form, SGD, baseline), one row per quantity."""
    names = list(columns)
    width = max(len(label) for label, _ in rows) + 2
    colw = [max(14, len(nm) + 2) for nm in names]
    out.write(" " * width + "".join(nm.ljust(w) for nm, w in zip(names, colw, strict=True)).rstrip() + "\n")
    for label, key in rows:
        cells = [_fmt(columns[nm].get(key)).ljust(w) for nm, w in zip(names, colw, strict=True)]
        out.write(label.ljust(width) + "".join(cells).rstrip() + "\n")


# --------------------------------------------------------------------------------------------- comparisons
def _sgd(task, model, X_tr, X_te, y_tr, y_te, args, convex: bool = False) -> dict:
    """Train the fitted model's architecture from a random start with SGD (momentum 0.9).

    For the convex program (``convex``) that is its model: two-layer ReLU, hidden biases penalized, no
    output bias, raw inputs; its certified lower bound on ``P*`` bounds the trained network's gap too.
    """
    import torch

    from .. import NoCertificateError, ParallelNet, TrainingDivergedError, certify, objective, one_hot, train

    sol = model.solution_
    arch = sol.network
    if convex:
        Xs, Xt = X_tr, X_te
        Y = model.target_matrix(y_tr) if task == "classification" else (y_tr - model.y_mean_[0]).reshape(-1, 1)
    elif task == "classification":
        Xs, Xt = sol.whitener.transform(X_tr), (sol.whitener.transform(X_te) if len(X_te) else X_te)
        Y = one_hot(y_tr, model.classes_).Y
    else:
        Xs, Xt = X_tr - model.x_mean_, X_te - model.x_mean_
        Y = (y_tr - model.y_mean_[0]).reshape(-1, 1)
    branches = args.sgd_branches if args.sgd_branches is not None else 4 * arch.branches
    if convex:
        net = ParallelNet(arch.in_features, arch.out_features, depth=2, branches=branches, activation="relu",
                          bias=True, penalize_bias=True, seed=args.seed)
        net.out_bias.requires_grad_(False)  # the program's model has no output bias
    else:
        net = ParallelNet(arch.in_features, arch.out_features, depth=arch.depth, branches=branches,
                          hidden=list(arch.hidden) or 1, activation=arch.activation, seed=args.seed)
    t0 = time.perf_counter()
    try:
        train(net, Xs, Y, beta=args.beta, optimizer="sgd", lr=args.lr, momentum=0.9, epochs=args.epochs,
              seed=args.seed, progress=False)
    except TrainingDivergedError:  # reported in the table; the comparison goes on
        return {"objective": "diverged", "time": time.perf_counter() - t0, "branches": branches}
    seconds = time.perf_counter() - t0
    res = {"objective": objective(net, Xs, Y, beta=args.beta), "time": seconds, "branches": branches}
    if convex:  # the program's lower bound on P* is a lower bound for every network of its model
        res["lower_bound"], res["gap"] = model.lower_bound_, res["objective"] - model.lower_bound_
    else:
        try:
            cert = certify(net, Xs, Y, beta=args.beta)
            res["lower_bound"], res["gap"] = cert.lower_bound, cert.gap
        except NoCertificateError:
            pass

    def predict(X):
        with torch.no_grad():
            out = net(torch.as_tensor(X, dtype=torch.float64)).numpy()
        if task == "classification" and out.shape[1] == 1:  # the convex program's ±1 target of two classes
            return model.classes_[(out[:, 0] > 0).astype(int)]
        if task == "classification":
            return model.classes_[np.argmax(out, axis=1)]
        return out[:, 0] + model.y_mean_[0]

    res["train"] = _score(task, y_tr, predict(Xs))
    res["test"] = _score(task, y_te, predict(Xt)) if len(X_te) else None
    return res


def _estimator(kind: str, classify: bool, args):
    """The unfitted estimator of ``--model`` (the closed form strict: every row, no constant feature)."""
    from .. import ConvexReLUClassifier, ConvexReLURegressor, DeepLinearRegressor, DeepReLUClassifier

    if kind == "convex":
        cls = ConvexReLUClassifier if classify else ConvexReLURegressor
        return cls(beta=args.beta, time_budget=args.time_budget, certificate_budget=args.certificate_budget,
                   random_state=args.seed)
    depth = 3 if args.depth is None else args.depth
    if classify:
        return DeepReLUClassifier(depth=depth, beta=args.beta, whiten=True, intercept_feature=False,
                                  dependent_rows="raise")
    return DeepLinearRegressor(depth=depth, beta=args.beta)


def _baseline(task, X_tr, X_te, y_tr, y_te) -> tuple[str, dict]:
    """scikit-learn's LogisticRegression (classification) or Ridge (regression) on the raw features."""
    from sklearn.linear_model import LogisticRegression, Ridge

    t0 = time.perf_counter()
    if task == "classification":
        name, est = "logistic", LogisticRegression(max_iter=5000)
    else:
        name, est = "ridge", Ridge(alpha=1.0)
    if task == "classification" and np.unique(y_tr).size < 2:
        return name, {"train": "needs 2 classes"}
    est.fit(X_tr, y_tr)
    res = {"time": time.perf_counter() - t0, "train": _score(task, y_tr, est.predict(X_tr))}
    res["test"] = _score(task, y_te, est.predict(X_te)) if len(X_te) else None
    return name, res


# --------------------------------------------------------------------------------------------- command
def run_fit(args) -> int:
    """``deepdual fit DATA --target COLUMN``: closed-form network, scores, certificate, time; returns 0.

    Raises
    ------
    UsageError
        Bad options, a bad data file, or data the closed form cannot take (one line, exit code 2).
    """
    _check_options(args)
    out = sys.stdout
    table = read_table(args.data, args.target)
    from .. import save_solution  # torch loads here, after the checks

    if args.save:
        _check_save_target(args.save)
    task, why = _choose_task(args.task, table.target)
    classify = task == "classification"
    n, d = table.X.shape
    train_rows, test_rows, split_desc = _split(n, table.target, test_size=args.test_size,
                                               train_size=args.train_size, seed=args.seed, classify=classify)
    kind, model_why = _choose_model(args, classify, train_rows.size, d)
    convex = kind == "convex"
    if classify and not convex and train_rows.size > d:
        fix = (f"pass --train-size {d} (or fewer) to subsample the training rows"
               + (f", or --test-size {1 - d / n:.3f} or more" if d < n else "")
               + ", or --model convex (a two-layer ReLU network on every row)")
        raise UsageError(f"whitening needs at most d = {d} training samples (Theorem 4.3 needs X Xᵀ = I, "
                         f"n <= d), but the split leaves n = {train_rows.size}; {fix}.")
    X_tr, X_te = table.X[train_rows], table.X[test_rows]
    y_tr, y_te = table.target[train_rows], table.target[test_rows]

    t0 = time.perf_counter()
    try:
        with user_input():  # the estimators validate the data (rank, labels, scale) at the door
            model = _estimator(kind, classify, args).fit(X_tr, y_tr if classify else y_tr.astype(np.float64))
    except (OverflowError, FloatingPointError) as exc:
        raise _overflow(f"the fit overflowed ({type(exc).__name__})", args.beta, X_tr, y_tr, not classify) from exc
    seconds = time.perf_counter() - t0
    sol = model.solution_
    lower, gap = (model.lower_bound_, model.gap_) if convex else (sol.lower_bound, sol.gap)
    numbers = {"objective": sol.objective, "lower bound": lower, "gap": gap}
    bad = [f"{name} {value}" for name, value in numbers.items() if value is not None and not math.isfinite(value)]
    if bad:
        raise _overflow(f"the fit's {', '.join(bad)} is not finite", args.beta, X_tr, y_tr, not classify)
    score_name = "accuracy" if classify else "R²"
    cf = {"objective": sol.objective, "lower_bound": lower, "gap": gap, "time": seconds,
          "train": _score(task, y_tr, model.predict(X_tr)),
          "test": _score(task, y_te, model.predict(X_te)) if test_rows.size else None}
    columns = {"convex program" if convex else "closed form": cf}
    if args.compare_sgd:
        res = _sgd(task, model, X_tr, X_te, y_tr, y_te, args, convex=convex)
        columns[f"SGD ({res.pop('branches')} br.)"] = res
    if args.baseline:
        name, res = _baseline(task, X_tr, X_te, y_tr, y_te)
        columns[name] = res

    net = sol.network
    kinds = f"{len(model.classes_)} classes" if classify else "1 target"
    out.write(f"data:      {table.path}: {n} rows, {d} features, target {table.target_name!r} ({kinds})\n")
    out.write(f"task:      {task} ({why})\n")
    out.write(f"split:     {split_desc}\n")
    if convex:
        kind_text = ("every activation pattern (exact program)" if model.complete_
                     else "sampled patterns + column generation (an upper bound on P*)")
        offset = "" if classify else f", output offset = mean target {model.y_mean_[0]:.6g}"
        out.write(f"model:     two-layer ReLU network, {model.n_neurons_} neuron(s), hidden biases regularized with "
                  f"the weights, beta = {sol.beta:g}{offset}; {sol.theorem} on {model.n_patterns_} patterns, "
                  f"{kind_text} ({model_why})\n")
        rel = model.certificate_.relative_gap
        out.write(f"certificate: lower bound {lower:.10g}, gap {gap:.3g} (relative {rel:.3g}); "
                  f"objective {sol.objective:.10g}; the gap bounds P(θ) − P* over two-layer ReLU networks of any "
                  "width\n")
    else:
        out.write(f"model:     depth-{net.depth} {net.activation} parallel network, {net.branches} branch(es), "
                  f"beta = {sol.beta:g}" + (", whitened inputs" if sol.whitener is not None else "")
                  + f"; {sol.theorem}\n")
        if sol.lower_bound is not None:
            out.write(f"certificate: lower bound {sol.lower_bound:.10g}, gap {sol.gap:.3g} "
                      f"(relative {sol.relative_gap:.3g}); objective {sol.objective:.10g}\n")
        else:
            out.write("certificate: none for this case\n")
    out.write("\n")
    rows = [("objective", "objective"), ("lower bound", "lower_bound"), ("gap", "gap"),
            (f"train {score_name}", "train"), (f"test {score_name}", "test"), ("time (s)", "time")]
    _print_comparison(columns, rows, out)

    if args.save:
        meta = {"command": "deepdual fit", "task": task, "target": table.target_name,
                "features": table.feature_names, "data_sha256": table.sha256, "n_rows": n,
                "train_rows": train_rows.tolist(), "beta": sol.beta, "depth": sol.depth, "model": kind,
                "target_encoding": ("centred" if not classify else
                                    "sign" if convex and len(model.classes_) == 2 else "one-hot"),
                "x_offset": None if classify or convex else model.x_mean_.tolist(),
                "y_offset": None if classify else model.y_mean_.tolist(),
                "classes": model.classes_.tolist() if classify else None}
        save_solution(sol, args.save, metadata=meta)
        out.write(f"\nsaved:     {args.save}\n")
    return 0
