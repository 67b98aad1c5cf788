"""The ``deepdual fit`` and ``deepdual certify`` commands (called by :mod:`deepdual.cli`).

Data files
----------
* **CSV** (any extension but ``.npz``): UTF-8 text, a header row of column names, one sample per
  row. ``--target`` names the target column; every other column is a numeric feature. The target
  may hold strings (class labels) or numbers.
* **NPZ** (``.npz``, :func:`numpy.savez`): ``--target`` names the target array (1-D, one entry per
  sample). The features are the array ``X`` when the file has one, otherwise every other array
  (1-D arrays become one column each, 2-D arrays are appended column-wise, in file order).

Task
----
``--task auto`` chooses classification when the target holds strings, or integers with at most
20 distinct values; otherwise regression. Classification uses :class:`DeepReLUClassifier`
(Theorem 4.3 on whitened rows, so at most ``d`` training rows); regression uses
:class:`DeepLinearRegressor` (Sections 2-3, with an unregularized intercept).

Exit codes
----------
0 success; 2 bad usage or bad input (one line on stderr, nothing written); 1 a failed run, and for
``certify`` also "no certificate exists for this network and data" (the reason on one line).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sys
import time

import numpy as np

__all__ = ["run_fit", "run_certify", "read_table", "Table", "MAX_AUTO_CLASSES"]

#: ``--task auto`` treats an integer target with at most this many distinct values as class labels.
MAX_AUTO_CLASSES = 20


def _usage(message: str):
    from .cli import UsageError

    return UsageError(message)


# --------------------------------------------------------------------------------------------- data
class Table:
    """Features, target and provenance read from a data file."""

    def __init__(self, X, target, feature_names, target_name, path, sha256):
        self.X = X
        self.target = target
        self.feature_names = feature_names
        self.target_name = target_name
        self.path = path
        self.sha256 = sha256

    @property
    def n_rows(self) -> int:
        return self.X.shape[0]


def _parse_target(values: list[str], name: str, where) -> np.ndarray:
    """Numbers when every entry parses as a float (ints when all integral), else stripped strings."""
    for i, v in enumerate(values):
        if v.strip() == "":
            raise _usage(f"target column {name!r} has an empty value ({where(i)}); every sample needs a target.")
    try:
        nums = np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return np.array([v.strip() for v in values])
    if not np.all(np.isfinite(nums)):
        raise _usage(f"target column {name!r} has NaN or infinite values; remove those rows.")
    if np.all(nums == np.round(nums)) and np.all(np.abs(nums) < 2**53):
        return nums.astype(np.int64)
    return nums


def _read_csv(path: str, raw: bytes, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _usage(f"{path}: not UTF-8 text; pass a CSV file (header row, comma-separated) or a .npz file.") from None
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        rows = [(reader.line_num, r) for r in reader if r and any(c.strip() for c in r)]
        rows = [(ln, r) for ln, r in rows]
    except csv.Error as exc:
        raise _usage(f"{path}: malformed CSV near line {reader.line_num}: {exc}.") from None
    if not rows:
        raise _usage(f"{path}: the file is empty; a CSV needs a header row and at least one data row.")
    header = [h.strip() for h in rows[0][1]]
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise _usage(f"{path}: repeated column name(s) in the header: {', '.join(map(repr, dup))}.")
    if target not in header:
        shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
        raise _usage(f"{path}: no target column {target!r}; the header has: {shown}.")
    data = rows[1:]
    if not data:
        raise _usage(f"{path}: only a header row; no data rows.")
    for ln, r in data:
        if len(r) != len(header):
            raise _usage(f"{path}: malformed CSV: line {ln} has {len(r)} fields but the header has {len(header)}.")
    t = header.index(target)
    features = [h for i, h in enumerate(header) if i != t]
    if not features:
        raise _usage(f"{path}: no feature columns besides the target {target!r}.")
    X = np.empty((len(data), len(features)), dtype=np.float64)
    cols = [i for i in range(len(header)) if i != t]
    for row_i, (ln, r) in enumerate(data):
        for j, c in enumerate(cols):
            cell = r[c].strip()
            try:
                X[row_i, j] = float(cell)
            except ValueError:
                what = "an empty value" if cell == "" else f"the non-numeric value {cell!r}"
                raise _usage(f"{path}: feature column {header[c]!r} has {what} on line {ln}; features must be "
                             "numbers (encode or drop that column).") from None
    if not np.all(np.isfinite(X)):
        bad = [features[j] for j in range(X.shape[1]) if not np.all(np.isfinite(X[:, j]))]
        raise _usage(f"{path}: feature column(s) {', '.join(map(repr, bad[:5]))} hold NaN or infinite values.")
    y = _parse_target([r[t] for _, r in data], target, lambda i: f"line {data[i][0]}")
    return X, y, features


def _read_npz(path: str, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as exc:
        raise _usage(f"{path}: cannot read the NPZ file ({str(exc).splitlines()[0]}); object arrays are not "
                     "supported.") from None
    except Exception as exc:
        raise _usage(f"{path}: not a valid NPZ file ({type(exc).__name__}).") from None
    if target not in arrays:
        raise _usage(f"{path}: no target array {target!r}; the file has: {', '.join(arrays) or 'no arrays'}.")
    y = arrays.pop(target)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise _usage(f"{path}: target array {target!r} has shape {y.shape}; pass one target per sample (1-D).")
    n = y.shape[0]
    if "X" in arrays:
        arrays = {"X": arrays["X"]}
    if not arrays:
        raise _usage(f"{path}: no feature arrays besides the target {target!r}.")
    cols, names = [], []
    for k, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise _usage(f"{path}: feature array {k!r} has dtype {a.dtype}; features must be numbers.")
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[0] != n:
            raise _usage(f"{path}: feature array {k!r} has shape {a.shape}; expected ({n},) or ({n}, d) to match "
                         f"the {n} targets.")
        cols.append(a.astype(np.float64))
        names += [k] if a.shape[1] == 1 and arrays[k].ndim == 1 else [f"{k}[{j}]" for j in range(a.shape[1])]
    X = np.hstack(cols)
    if not np.all(np.isfinite(X)):
        raise _usage(f"{path}: the features hold NaN or infinite values.")
    if y.dtype.kind in "US":
        y = np.array([str(v).strip() for v in y])
    elif y.dtype.kind in "biuf":
        y = _parse_target([repr(float(v)) for v in y], target, lambda i: f"entry {i}")
    else:
        raise _usage(f"{path}: target array {target!r} has dtype {y.dtype}; pass numbers or strings.")
    return X, y, names


def read_table(path: str, target: str) -> Table:
    """Read a CSV or NPZ data file (see the module docstring for the formats)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No data file {path!r}.")
    with open(path, "rb") as f:
        raw = f.read()
    sha = hashlib.sha256(raw).hexdigest()
    if path.lower().endswith(".npz"):
        X, y, names = _read_npz(path, target)
    else:
        X, y, names = _read_csv(path, raw, target)
    return Table(X, y, names, target, path, sha)


# --------------------------------------------------------------------------------------------- task
def _choose_task(requested: str, y: np.ndarray) -> tuple[str, str]:
    n_classes = np.unique(y).size
    if y.dtype.kind in "US":
        if requested == "regression":
            raise _usage("--task regression needs a numeric target; this target holds strings.")
        return "classification", f"string labels, {n_classes} classes"
    if requested != "auto":
        return requested, "--task " + requested
    if y.dtype.kind in "iu" and n_classes <= MAX_AUTO_CLASSES:
        return "classification", f"integer target with {n_classes} distinct values <= {MAX_AUTO_CLASSES}"
    return "regression", "numeric target" + (f" with {n_classes} distinct values" if y.dtype.kind in "iu" else "")


def _stratify_ok(labels, n_first: int, n_second: int) -> bool:
    _, counts = np.unique(labels, return_counts=True)
    return bool(counts.min() >= 2 and n_first >= counts.size and n_second >= counts.size)


def _split(n: int, labels, *, test_size: float, train_size: int | None, seed: int, classify: bool):
    """Indices of the training and test rows, and a one-line description."""
    from sklearn.model_selection import train_test_split

    if not (0.0 <= test_size < 1.0):
        raise _usage(f"--test-size == {test_size}, must be in [0, 1).")
    if train_size is not None and train_size < 1:
        raise _usage(f"--train-size == {train_size}, must be >= 1.")
    idx = np.arange(n)
    stratified = classify
    n_test = int(np.ceil(test_size * n)) if test_size > 0 else 0
    if n_test >= n:
        raise _usage(f"--test-size {test_size} leaves no training rows out of {n}.")
    if n_test:
        strat = labels if classify and _stratify_ok(labels, n - n_test, n_test) else None
        stratified &= strat is not None
        train, test = train_test_split(idx, test_size=n_test, random_state=seed, stratify=strat)
    else:
        train, test = idx, idx[:0]
    if train_size is not None and train_size < train.size:
        strat = labels[train] if classify and _stratify_ok(labels[train], train_size, train.size - train_size) else None
        stratified &= strat is not None
        train, _ = train_test_split(train, train_size=train_size, random_state=seed, stratify=strat)
    train, test = np.sort(train), np.sort(test)
    how = ("stratified" if stratified else "random") + f", seed {seed}"
    desc = f"{train.size} train / {test.size} test rows of {n} ({how})"
    if test.size == 0:
        desc += "; no test rows (--test-size 0)"
    return train, test, desc


# --------------------------------------------------------------------------------------------- fit
def _fmt(v, spec=".6g") -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return format(v, spec)


def _print_table(columns: dict[str, dict[str, object]], rows: list[tuple[str, str]], out) -> None:
    names = list(columns)
    width = max(len(label) for label, _ in rows) + 2
    colw = [max(14, len(nm) + 2) for nm in names]
    out.write(" " * width + "".join(nm.ljust(w) for nm, w in zip(names, colw)).rstrip() + "\n")
    for label, key in rows:
        cells = [_fmt(columns[nm].get(key)).ljust(w) for nm, w in zip(names, colw)]
        out.write(label.ljust(width) + "".join(cells).rstrip() + "\n")


def _score(task: str, y_true, y_pred) -> float | None:
    if len(y_true) == 0:
        return None
    if task == "classification":
        return float(np.mean(y_true == y_pred))
    from sklearn.metrics import r2_score

    if len(y_true) < 2:
        return None
    return float(r2_score(y_true, y_pred))


def _jsonable_labels(classes: np.ndarray) -> list:
    return [c.item() if hasattr(c, "item") else c for c in classes]


def _sgd(task, model, X_tr, X_te, y_tr, y_te, args) -> dict:
    """Train the closed form's architecture from a random start with SGD (momentum 0.9)."""
    import torch

    from .certificates import certify
    from .networks import ParallelNet, objective
    from .solution import NoCertificateError
    from .training import train

    sol = model.solution_
    arch = sol.network
    if task == "classification":
        Xs, Xt = sol.whitener.transform(X_tr), (sol.whitener.transform(X_te) if len(X_te) else X_te)
        from .data import one_hot

        Y = one_hot(y_tr, model.classes_).Y
    else:
        Xs, Xt = X_tr - model.x_mean_, X_te - model.x_mean_
        Y = (y_tr - model.y_mean_[0]).reshape(-1, 1)
    branches = args.sgd_branches if args.sgd_branches is not None else 4 * arch.branches
    net = ParallelNet(arch.in_features, arch.out_features, depth=arch.depth, branches=branches,
                      hidden=list(arch.hidden) or 1, activation=arch.activation, seed=args.seed)
    t0 = time.perf_counter()
    try:
        train(net, Xs, Y, beta=args.beta, optimizer="sgd", lr=args.lr, momentum=0.9, epochs=args.epochs,
              seed=args.seed, progress=False)
    except ValueError as exc:  # TrainingDivergedError and friends: report, keep the comparison going
        return {"objective": "diverged" if "diverg" in str(exc).lower() else "failed",
                "time": time.perf_counter() - t0, "branches": branches}
    seconds = time.perf_counter() - t0
    res = {"objective": objective(net, Xs, Y, beta=args.beta), "time": seconds, "branches": branches}
    try:
        cert = certify(net, Xs, Y, beta=args.beta)
        res["lower_bound"], res["gap"] = cert.lower_bound, cert.gap
    except NoCertificateError:
        pass

    def predict(X):
        with torch.no_grad():
            out = net(torch.as_tensor(X, dtype=torch.float64)).numpy()
        if task == "classification":
            return model.classes_[np.argmax(out, axis=1)]
        return out[:, 0] + model.y_mean_[0]

    res["train"] = _score(task, y_tr, predict(Xs))
    res["test"] = _score(task, y_te, predict(Xt)) if len(X_te) else None
    return res


def _baseline(task, X_tr, X_te, y_tr, y_te) -> tuple[str, dict]:
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


def run_fit(args) -> int:
    """``deepdual fit DATA --target COLUMN``: closed-form network, scores, certificate, time."""
    from .estimators import DeepLinearRegressor, DeepReLUClassifier

    out = sys.stdout
    table = read_table(args.data, args.target)
    task, why = _choose_task(args.task, table.target)
    classify = task == "classification"
    if args.depth < 2:
        raise _usage(f"--depth == {args.depth}, must be >= 2.")
    if not (np.isfinite(args.beta) and args.beta >= 0):
        raise _usage(f"--beta == {args.beta}, must be a finite number >= 0.")
    if args.compare_sgd and (args.epochs < 1 or not args.lr > 0):
        raise _usage("--compare-sgd needs --epochs >= 1 and --lr > 0.")
    if args.sgd_branches is not None and args.sgd_branches < 1:
        raise _usage(f"--sgd-branches == {args.sgd_branches}, must be >= 1.")
    n, d = table.X.shape
    train, test, split_desc = _split(n, table.target, test_size=args.test_size, train_size=args.train_size,
                                     seed=args.seed, classify=classify)
    if classify and train.size > d:
        fix = (f"pass --train-size {d} (or fewer) to subsample the training rows"
               + (f", or --test-size {1 - d / n:.3f} or more" if d < n else ""))
        raise _usage(f"whitening needs at most d = {d} training samples (Theorem 4.3 needs X Xᵀ = I, "
                     f"n <= d), but the split leaves n = {train.size}; {fix}.")
    X_tr, X_te = table.X[train], table.X[test]
    y_tr, y_te = table.target[train], table.target[test]

    t0 = time.perf_counter()
    if classify:
        model = DeepReLUClassifier(depth=args.depth, beta=args.beta, whiten=True).fit(X_tr, y_tr)
    else:
        model = DeepLinearRegressor(depth=args.depth, beta=args.beta).fit(X_tr, y_tr.astype(np.float64))
    seconds = time.perf_counter() - t0
    sol = model.solution_
    score_name = "accuracy" if classify else "R²"
    cf = {"objective": sol.objective, "lower_bound": sol.lower_bound, "gap": sol.gap, "time": seconds,
          "train": _score(task, y_tr, model.predict(X_tr)),
          "test": _score(task, y_te, model.predict(X_te)) if test.size else None}
    columns = {"closed form": cf}
    if args.compare_sgd:
        res = _sgd(task, model, X_tr, X_te, y_tr, y_te, args)
        columns[f"SGD ({res.pop('branches')} br.)"] = res
    if args.baseline:
        name, res = _baseline(task, X_tr, X_te, y_tr, y_te)
        columns[name] = res

    net = sol.network
    kinds = f"{len(model.classes_)} classes" if classify else "1 target"
    out.write(f"data:      {table.path}: {n} rows, {d} features, target {table.target_name!r} ({kinds})\n")
    out.write(f"task:      {task} ({why})\n")
    out.write(f"split:     {split_desc}\n")
    out.write(f"model:     depth-{net.depth} {net.activation} parallel network, {net.branches} branch(es), "
              f"beta = {sol.beta:g}" + (", whitened inputs" if sol.whitener is not None else "")
              + f"; {sol.theorem}\n")
    if sol.lower_bound is not None:
        rel = sol.relative_gap
        out.write(f"certificate: lower bound {sol.lower_bound:.10g}, gap {sol.gap:.3g} "
                  f"(relative {rel:.3g}); objective {sol.objective:.10g}\n")
    else:
        out.write("certificate: none for this case\n")
    out.write("\n")
    rows = [("objective", "objective"), ("lower bound", "lower_bound"), ("gap", "gap"),
            (f"train {score_name}", "train"), (f"test {score_name}", "test"), ("time (s)", "time")]
    _print_table(columns, rows, out)

    if args.save:
        from .export import save_solution

        meta = {"command": "deepdual fit", "task": task, "target": table.target_name,
                "features": table.feature_names, "data_sha256": table.sha256, "n_rows": n,
                "train_rows": train.tolist(), "beta": sol.beta, "depth": sol.depth,
                "x_offset": None if classify else model.x_mean_.tolist(),
                "y_offset": None if classify else model.y_mean_.tolist(),
                "classes": _jsonable_labels(model.classes_) if classify else None}
        save_solution(sol, args.save, metadata=meta)
        out.write(f"\nsaved:     {args.save}\n")
    return 0


# --------------------------------------------------------------------------------------------- certify
def run_certify(args) -> int:
    """``deepdual certify MODEL DATA --target COLUMN --beta B``: global-optimality gap.

    Prints objective, lower bound, gap, relative gap and method and returns 0; when no certificate
    exists for this architecture and data, prints ``no certificate: <reason>`` and returns 1.
    """
    from .certificates import certify
    from .data import one_hot
    from .export import load_metadata, load_network, load_whitener
    from .solution import NoCertificateError

    out = sys.stdout
    if not (np.isfinite(args.beta) and args.beta >= 0):
        raise _usage(f"--beta == {args.beta}, must be a finite number >= 0.")
    network = load_network(args.model)
    meta = load_metadata(args.model)
    whitener = load_whitener(args.model)
    table = read_table(args.data, args.target)

    if meta.get("features") is not None and list(meta["features"]) != table.feature_names:
        raise _usage(f"{table.path}: the feature columns differ from those the model was fitted on "
                     f"({len(meta['features'])} recorded, {len(table.feature_names)} in the file); "
                     "pass the same data file and --target as to `deepdual fit`.")
    rows = args.rows
    recorded = meta.get("train_rows")
    if rows == "auto":
        rows = "fit" if recorded is not None else "all"
    if rows == "fit":
        if recorded is None:
            raise _usage(f"{args.model} records no training rows (not saved by `deepdual fit --save`); "
                         "pass --rows all.")
        if meta.get("data_sha256") != table.sha256:
            raise _usage(f"{table.path} is not the file the model was fitted on (content differs), so its "
                         "recorded training rows do not apply; pass that file, or --rows all.")
        idx = np.asarray(recorded, dtype=np.int64)
        rows_desc = f"{idx.size} training rows recorded by `deepdual fit` (of {table.n_rows})"
    else:
        idx = np.arange(table.n_rows)
        rows_desc = f"all {table.n_rows} rows"
    X, labels = table.X[idx], table.target[idx]
    if X.shape[1] != network.in_features:
        if whitener is None or X.shape[1] != whitener.n_features_in_:
            raise _usage(f"{table.path} has {X.shape[1]} feature columns but the network expects "
                         f"{network.in_features}.")
    if meta.get("x_offset") is not None:
        X = X - np.asarray(meta["x_offset"], dtype=np.float64)
    if whitener is not None:
        X = whitener.transform(X)
    if meta.get("classes") is not None:
        Y = one_hot(labels, np.asarray(meta["classes"])).Y
        target_desc = f"one-hot over the model's {len(meta['classes'])} classes"
    elif labels.dtype.kind in "US":
        enc = one_hot(labels)
        Y = enc.Y
        target_desc = f"one-hot over the file's {enc.classes.size} sorted labels"
    else:
        Y = labels.astype(np.float64).reshape(-1, 1)
        if meta.get("y_offset") is not None:
            Y = Y - np.asarray(meta["y_offset"], dtype=np.float64)
            target_desc = "centred with the fitted intercept"
        else:
            target_desc = "as given"
    if Y.shape[1] != network.out_features:
        raise _usage(f"the target gives {Y.shape[1]} output column(s) but the network has "
                     f"{network.out_features} output(s).")

    cfg = network.config()
    arch = (f"{cfg['class']}, depth {network.depth}, {network.activation}"
            + (f", {cfg['branches']} branch(es)" if "branches" in cfg else "")
            + (", biases" if network.bias else "") + (", batch norm" if network.batchnorm else ""))
    out.write(f"model:       {args.model} ({arch})")
    if meta.get("beta") is not None:
        out.write(f"; fitted with beta = {meta['beta']:g}")
    out.write("\n")
    out.write(f"data:        {table.path}: {rows_desc}; target {target_desc}"
              + ("; inputs mapped by the saved whitener" if whitener is not None else "") + "\n")
    if meta.get("beta") is not None and float(meta["beta"]) != float(args.beta):
        out.write(f"note:        certifying for beta = {args.beta:g}, not the fitted beta = {meta['beta']:g}\n")
    try:
        cert = certify(network, X, Y, beta=args.beta)
    except NoCertificateError as exc:
        out.write(f"no certificate: {str(exc).splitlines()[0]}\n")
        return 1
    out.write(f"objective:   {cert.objective:.12g}\n")
    out.write(f"lower bound: {cert.lower_bound:.12g}\n")
    out.write(f"gap:         {cert.gap:.6g}\n")
    out.write(f"relative gap: {cert.relative_gap:.6g}\n")
    out.write(f"method:      {cert.method}\n")
    return 0
