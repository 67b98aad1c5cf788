"""``deepdual certify MODEL DATA --target COLUMN --beta B``: the global-optimality gap of a saved network.

The data go through what ``deepdual fit --save`` recorded with the network: the training rows, the
input offset or whitener, the target offset, the class labels (one-hot encoded in the saved order).

Exit codes: 0 certified; 1 no certificate exists for this network and data (the reason on one
line); 2 bad usage or bad input.
"""

from __future__ import annotations

import sys

import numpy as np

from .. import NoCertificateError, certify, load_metadata, load_network, load_whitener, one_hot
from ._errors import UsageError, user_input
from .tables import Table, read_table

__all__ = ["run_certify"]


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
    return idx, f"{idx.size} training rows recorded by `deepdual fit` (of {table.n_rows})"


def _targets(labels: np.ndarray, meta: dict) -> tuple[np.ndarray, str]:
    """The target matrix Y of shape (n_samples, n_outputs) the network was fitted to, and a description."""
    if meta.get("classes") is not None:
        Y = one_hot(labels, np.asarray(meta["classes"])).Y
        return Y, f"one-hot over the model's {len(meta['classes'])} classes"
    if labels.dtype.kind in "US":
        enc = one_hot(labels)
        return enc.Y, f"one-hot over the file's {enc.classes.size} sorted labels"
    Y = labels.astype(np.float64).reshape(-1, 1)
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

    Prints objective, lower bound, gap, relative gap and method and returns 0; when no certificate
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
    with user_input():  # no such file, or not a model saved by deepdual
        network = load_network(args.model)
        meta = load_metadata(args.model)
        whitener = load_whitener(args.model)
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
        X = X - np.asarray(meta["x_offset"], dtype=np.float64)
    if whitener is not None:
        X = whitener.transform(X)
    with user_input():  # one_hot: a label the model was not fitted on
        Y, target_desc = _targets(labels, meta)
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
