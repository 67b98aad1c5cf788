"""``deepdual certify MODEL DATA --target COLUMN --beta B``: the global-optimality gap of a saved network.

The data go through what ``deepdual fit --save`` recorded with the network: the training rows, the
input offset or whitener, the target offset, the class labels (one-hot encoded in the saved order).

A model file is untrusted input: the loaders refuse a damaged file with one line naming the file
and the field, and the metadata this command relies on (training rows, offsets, classes, β) is
checked here before it is used, so a tampered model is refused (exit 2), never certified.

Exit codes: 0 certified; 1 no certificate exists for this network and data (the reason on one
line); 2 bad usage or bad input.
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from ._errors import UsageError, user_input
from .tables import Table, read_table

__all__ = ["run_certify"]


def _bad(path: str, field: str, why: str) -> UsageError:
    return UsageError(f"{path!r}: metadata field {field!r} {why}; the file is damaged or was not saved by "
                      "`deepdual fit --save` — fit and save the model again.")


def _number_list(meta: dict, field: str, path: str) -> list[float] | None:
    value = meta.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        raise _bad(path, field, "is not a list of numbers")
    if not all(math.isfinite(v) for v in value):
        raise _bad(path, field, "holds NaN or infinite values")
    return [float(v) for v in value]


def _check_metadata(meta, path: str) -> dict:
    """The metadata fields this command uses, each checked for type and finiteness (see the module)."""
    if not isinstance(meta, dict):
        raise UsageError(f"{path!r}: the metadata is a {type(meta).__name__}, not an object; the file is damaged.")
    rows = meta.get("train_rows")
    if rows is not None:
        if not isinstance(rows, list) or not all(isinstance(r, int) and not isinstance(r, bool) for r in rows):
            raise _bad(path, "train_rows", "is not a list of row numbers")
        if not rows or min(rows) < 0 or len(set(rows)) != len(rows):
            raise _bad(path, "train_rows", "is empty, negative or repeats a row")
    for field in ("x_offset", "y_offset"):
        _number_list(meta, field, path)
    beta = meta.get("beta")
    if beta is not None and (isinstance(beta, bool) or not isinstance(beta, numbers.Real)
                             or not math.isfinite(beta) or beta < 0):
        raise _bad(path, "beta", f"is {beta!r}, not a finite number >= 0")
    classes = meta.get("classes")
    if classes is not None:
        if (not isinstance(classes, list) or not classes
                or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in classes)):
            raise _bad(path, "classes", "is not a list of class labels")
        if len({repr(c) for c in classes}) != len(classes):
            raise _bad(path, "classes", "repeats a label")
    features = meta.get("features")
    if features is not None and (not isinstance(features, list) or not all(isinstance(f, str) for f in features)):
        raise _bad(path, "features", "is not a list of column names")
    sha = meta.get("data_sha256")
    if sha is not None and not isinstance(sha, str):
        raise _bad(path, "data_sha256", "is not a string")
    return meta


def _select_rows(args, meta: dict, table: Table) -> tuple[np.ndarray, str]:
    """Indices of the rows to certify on (``--rows``) and a description."""
    rows = args.rows
    recorded = meta.get("train_rows")
    if rows == "auto":
        rows = "fit" if recorded is not None else "all"
    if rows == "all":
        return np.arange(table.n_rows), f"all {table.n_rows} rows"
    if recorded is None:
        raise UsageError(f"{args.model} records no training rows (not saved by `deepdual fit --save`); "
                         "pass --rows all.")
    if meta.get("data_sha256") != table.sha256:
        raise UsageError(f"{table.path} is not the file the model was fitted on (content differs), so its "
                         "recorded training rows do not apply; pass that file, or --rows all.")
    idx = np.asarray(recorded, dtype=np.int64)
    if idx.max() >= table.n_rows:
        raise _bad(args.model, "train_rows", f"names row {int(idx.max())} but {table.path} has {table.n_rows} rows")
    return idx, f"{idx.size} training rows recorded by `deepdual fit` (of {table.n_rows})"


def _targets(labels: np.ndarray, meta: dict, path: str) -> tuple[np.ndarray, str]:
    """The target matrix Y of shape (n_samples, n_outputs) the network was fitted to, and a description."""
    from .. import one_hot
    from ..data.labels import class_targets

    encoding = meta.get("target_encoding")
    if encoding not in (None, "one-hot", "sign", "centred"):
        raise _bad(path, "target_encoding", f"is {encoding!r}, not 'one-hot', 'sign' or 'centred'")
    if meta.get("classes") is not None:
        classes = meta["classes"]
        if encoding == "sign":  # `deepdual fit --model convex` with two classes: one output, -1 / +1
            if len(classes) != 2:
                raise _bad(path, "classes", f"has {len(classes)} labels for the two-class 'sign' encoding")
            return (class_targets(labels, np.asarray(classes), encoding="sign"),
                    f"±1 for the model's classes {classes[0]!r} / {classes[1]!r}")
        return one_hot(labels, np.asarray(classes)).Y, f"one-hot over the model's {len(classes)} classes"
    if labels.dtype.kind in "US":
        enc = one_hot(labels)
        return enc.Y, f"one-hot over the file's {enc.classes.size} sorted labels"
    Y = labels.astype(np.float64).reshape(-1, 1)
    if meta.get("y_offset") is not None and len(meta["y_offset"]) != 1:
        raise _bad(path, "y_offset", f"has {len(meta['y_offset'])} entries for the 1 target column")
    if meta.get("y_offset") is not None:
        return Y - np.asarray(meta["y_offset"], dtype=np.float64), "centred with the fitted intercept"
    return Y, "as given"


def _describe(network) -> str:
    cfg = network.config()
    return (f"{cfg['class']}, depth {network.depth}, {network.activation}"
            + (f", {cfg['branches']} branch(es)" if "branches" in cfg else "")
            + (", biases" if network.bias else "") + (", batch norm" if network.batchnorm else ""))


def run_certify(args) -> int:
    """``deepdual certify MODEL DATA --target COLUMN --beta B``: global-optimality gap.

    Prints objective, lower bound, gap, relative gap and method (for a two-layer ReLU network also the
    bound on the dual constraint that was used and how long it ran) and returns 0; when no certificate
    exists for this architecture and data (:class:`~deepdual.NoCertificateError`), prints
    ``no certificate: <reason>`` and returns 1.

    Raises
    ------
    UsageError
        Bad options, a model or data file that cannot be read, or data that do not match the model.
    """
    out = sys.stdout
    if not (np.isfinite(args.beta) and args.beta >= 0):
        raise UsageError(f"--beta == {args.beta}, must be a finite number >= 0.")
    from .. import NoCertificateError, certify, load_metadata, load_network, load_whitener

    try:
        with user_input():  # no such file, or not a model saved by deepdual (the loaders name file and field)
            network = load_network(args.model)
            meta = load_metadata(args.model)
            whitener = load_whitener(args.model)
    except UsageError as exc:
        if args.model not in str(exc):  # every message about the file names the file
            raise UsageError(f"{args.model!r}: {exc}") from exc
        raise
    meta = _check_metadata(meta, args.model)
    table = read_table(args.data, args.target)
    if meta.get("features") is not None and list(meta["features"]) != table.feature_names:
        raise UsageError(f"{table.path}: the feature columns differ from those the model was fitted on "
                         f"({len(meta['features'])} recorded, {len(table.feature_names)} in the file); "
                         "pass the same data file and --target as to `deepdual fit`.")
    idx, rows_desc = _select_rows(args, meta, table)
    X, labels = table.X[idx], table.target[idx]
    if X.shape[1] != network.in_features and (whitener is None or X.shape[1] != whitener.n_features_in_):
        raise UsageError(f"{table.path} has {X.shape[1]} feature columns but the network expects "
                         f"{network.in_features}.")
    if meta.get("x_offset") is not None:
        if len(meta["x_offset"]) != X.shape[1]:
            raise _bad(args.model, "x_offset", f"has {len(meta['x_offset'])} entries for {X.shape[1]} features")
        X = X - np.asarray(meta["x_offset"], dtype=np.float64)
    if whitener is not None:
        X = whitener.transform(X)
    with user_input():  # one_hot: a label the model was not fitted on
        Y, target_desc = _targets(labels, meta, args.model)
    if Y.shape[1] != network.out_features:
        raise UsageError(f"the target gives {Y.shape[1]} output column(s) but the network has "
                         f"{network.out_features} output(s).")

    out.write(f"model:       {args.model} ({_describe(network)})")
    if meta.get("beta") is not None:
        out.write(f"; fitted with beta = {meta['beta']:g}")
    out.write("\n")
    out.write(f"data:        {table.path}: {rows_desc}; target {target_desc}"
              + ("; inputs mapped by the saved whitener" if whitener is not None else "") + "\n")
    if meta.get("beta") is not None and float(meta["beta"]) != float(args.beta):
        out.write(f"note:        certifying for beta = {args.beta:g}, not the fitted beta = {meta['beta']:g}\n")
    budget = getattr(args, "time_budget", None)  # --time-budget, where the parser offers it
    options = {} if budget is None else {"time_budget": budget}
    with user_input():  # the network and data are validated at the door (finite weights, data range)
        try:
            cert = certify(network, X, Y, beta=args.beta, **options)
        except NoCertificateError as exc:
            out.write(f"no certificate: {str(exc).splitlines()[0]}\n")
            return 1
    values = {"objective": cert.objective, "lower bound": cert.lower_bound, "gap": cert.gap}
    bad = [f"{name} {v}" for name, v in values.items() if not (isinstance(v, numbers.Real) and math.isfinite(v))]
    if bad:  # never print a NaN certificate as a result
        raise RuntimeError(f"certify() returned a non-finite {', '.join(bad)} for finite, validated input: an "
                           "internal error of deepdual; please report it.")
    out.write(f"objective:   {cert.objective:.12g}\n")
    out.write(f"lower bound: {cert.lower_bound:.12g}\n")
    out.write(f"gap:         {cert.gap:.6g}\n")
    out.write(f"relative gap: {cert.relative_gap:.6g}\n")
    out.write(f"method:      {cert.method}\n")
    if getattr(cert, "bound_method", None):  # two-layer ReLU: which bound on the dual constraint, and its time
        out.write(f"bound:       {cert.bound_method.split(' [')[0]}: c(R) <= {cert.c_upper:.6g} (best direction "
                  f"found {cert.c_estimate:.6g}{', exact' if cert.c_exact else ''})\n")
        out.write(f"seconds:     {cert.bound_seconds:.3g} (time budget {cert.time_budget:g} s)\n")
    return 0
