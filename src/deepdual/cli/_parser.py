"""The argument parser of ``deepdual``: one sub-command per handler module of :mod:`deepdual.cli`."""

from __future__ import annotations

import argparse
import sys

__all__ = ["build_parser"]

_EXIT_CODES = "Exit codes: 0 success, 2 bad usage or input (one line on stderr, nothing saved), 1 failed run."


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        sys.stderr.write(f"deepdual: error: {message}\n")
        raise SystemExit(2)


def _reproduce(sub) -> None:
    p = sub.add_parser("reproduce", formatter_class=_Formatter,
                       help="run every figure and claim of the paper and write an HTML report",
                       description="Run the paper's experiments and write DIR/index.html and DIR/results.json.\n\n"
                                   "Exit codes: 0 the report was written (also when claims FAIL), 2 bad usage.")
    p.add_argument("--out", default="deepdual-report", help="output folder")
    p.add_argument("--quick", action="store_true", help="tiny configuration (under 5 minutes on 2 cores)")
    p.add_argument("--only", default=None, help="comma-separated experiment names, e.g. fig1,fig4")
    p.add_argument("--cifar-dir", default=None, help="folder with the CIFAR-10 python pickle batches")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="device for training")
    p.add_argument("--jobs", type=int, default=argparse.SUPPRESS,
                   help="worker processes sharing the training runs, one thread each (default: the usable CPUs; "
                        "the numbers do not depend on it)")
    p.add_argument("--no-progress", action="store_true", help="disable progress bars")
    p.set_defaults(handler="reproduce:run_reproduce")


def _fit(sub) -> None:
    p = sub.add_parser("fit", formatter_class=_Formatter,
                       help="fit the closed-form network on a CSV/NPZ file and report accuracy and certificate",
                       description=(
                           "Fit the globally optimal network of a data file, with no training, and report "
                           "train/test accuracy (or R²), the objective, its certificate and the time taken.\n\n"
                           "DATA is a CSV file (header row; --target names the target column, every other column "
                           "is a numeric feature) or a .npz file (--target names the target array; the features are "
                           "the array X if present, else every other array). String targets, or integers with at "
                           "most 20 distinct values, mean classification: deep ReLU network on whitened rows "
                           "(Theorem 4.3), which needs at most d training rows (see --train-size). Other numeric "
                           "targets mean regression: deep linear network with an intercept (Sections 2-3). "
                           "--model convex fits a two-layer ReLU network on any data instead (the convex program, "
                           "±1 targets for two classes, one-hot for more, centred targets for regression) and "
                           "prints its certified gap.\n\n"
                           + _EXIT_CODES))
    p.add_argument("data", help="CSV (header row) or NPZ file")
    p.add_argument("--target", required=True, help="name of the target column (CSV) or array (NPZ)")
    p.add_argument("--depth", type=int, default=None,
                   help="network depth L >= 2 of the closed form; --model convex is two-layer (default: 3)"
                        "%(default).0s")  # an empty format of the None default: no "(default: None)" appended
    p.add_argument("--beta", type=float, default=1e-3, help="regularization strength")
    p.add_argument("--task", choices=["auto", "classification", "regression"], default="auto",
                   help="classification (Theorem 4.3, ReLU) or regression (Sections 2-3, linear)")
    p.add_argument("--model", choices=["closed-form", "convex", "auto"], default="closed-form",
                   help="closed-form: the theorems above; convex: a two-layer ReLU network with hidden biases from "
                        "the convex program on any data (SPEC §6), with a certified gap; auto: convex where the "
                        "closed form's theorem does not apply (classification with more training rows than features)")
    p.add_argument("--time-budget", type=float, default=60.0, help="--model convex: seconds for the solver")
    p.add_argument("--certificate-budget", type=float, default=10.0,
                   help="--model convex: seconds for the certificate (the bound on the dual constraint)")
    p.add_argument("--test-size", type=float, default=0.2, help="fraction of rows held out")
    p.add_argument("--seed", type=int, default=0, help="random seed of the split")
    p.add_argument("--save", default=None, help="save the fitted network to this .pt file")
    p.add_argument("--compare-sgd", action="store_true", help="also train the same architecture with SGD")
    p.add_argument("--epochs", type=int, default=2000, help="SGD epochs for --compare-sgd")
    p.add_argument("--train-size", type=int, default=None,
                   help="keep at most this many training rows (whitening needs at most d of them); "
                        "None keeps every row not held out")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate for --compare-sgd (momentum 0.9)")
    p.add_argument("--sgd-branches", type=int, default=None,
                   help="branches of the SGD network (same depth and layers as the closed form); "
                        "None means 4 x the closed form's branch count")
    p.add_argument("--baseline", action="store_true",
                   help="also fit scikit-learn's LogisticRegression (classification) or Ridge (regression)")
    p.set_defaults(handler="fit:run_fit")


def _certify(sub) -> None:
    p = sub.add_parser("certify", formatter_class=_Formatter,
                       help="global-optimality gap of a saved network on a data file",
                       description=(
                           "Certify a network saved by `deepdual fit --save` (or deepdual.save_network / "
                           "save_solution) on a data file: prints the objective, a lower bound on the global "
                           "optimum, the gap and the relative gap, and the theorem used. Inputs go through the "
                           "saved whitener and intercept; class labels are one-hot encoded with the saved classes."
                           "\n\nExit codes: 0 certified, 1 no certificate exists for this network and data (the "
                           "reason is printed), 2 bad usage or input."))
    p.add_argument("model", help="network saved by `deepdual fit --save` or deepdual.save_network")
    p.add_argument("data", help="CSV or NPZ file")
    p.add_argument("--target", required=True, help="target column (CSV) or array (NPZ)")
    p.add_argument("--beta", type=float, required=True, help="regularization strength of the problem")
    p.add_argument("--rows", choices=["auto", "fit", "all"], default="auto",
                   help="rows to certify on: 'fit' = the training rows recorded by `deepdual fit --save`, "
                        "'all' = every row, 'auto' = 'fit' when the model recorded them, else 'all'")
    p.add_argument("--time-budget", type=float, default=None,
                   help="seconds for the bound of a two-layer ReLU certificate (default 1)")
    p.set_defaults(handler="certify:run_certify")


def _sweep(sub) -> None:
    p = sub.add_parser("sweep", formatter_class=_Formatter,
                       help="run a grid of experiments from a TOML config, resumable",
                       description="Run every run of a TOML grid not yet in the results store (see "
                                   "deepdual.sweeps), one line per finished run on stderr, a JSON summary on "
                                   "stdout.\n\nExit codes: 0 every run succeeded, 1 a run failed (recorded in the "
                                   "store), 2 bad usage or config.")
    p.add_argument("config", help="TOML file describing the grid")
    p.add_argument("--out", default=None, help="results store (default: CONFIG with .results.jsonl)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (default: local processes)")
    p.add_argument("--jobs", type=int, default=2, help="local worker processes")
    p.set_defaults(handler="sweep:run_sweep_command")


def _bench(sub) -> None:
    p = sub.add_parser("bench", formatter_class=_Formatter,
                       help="run the benchmarks (closed form vs SGD and vs CVXPY) and write JSON + markdown",
                       description="Run the benchmarks of a deepdual source checkout (from its root folder).\n\n"
                                   "Exit codes: 0 done, 1 a closed form was beaten by training or a case raised, "
                                   "2 bad usage.")
    p.add_argument("--out", default="bench-results", help="output folder")
    p.add_argument("--quick", action="store_true", help="small sizes only")
    p.add_argument("--only", default=None, help="comma-separated benchmark names")
    p.add_argument("--repeats", type=int, default=5, help="timed repetitions per case")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="limit BLAS and torch threads (threadpoolctl); default: unchanged")
    p.set_defaults(handler="bench:run_bench")


def build_parser() -> argparse.ArgumentParser:
    """The ``deepdual`` parser; each sub-command sets ``handler`` to ``"module:function"`` of this package."""
    from .. import __version__

    parser = _Parser(prog="deepdual", formatter_class=_Formatter,
                     description="Globally optimal deep networks from convex duality (Ergen & Pilanci, 2021).")
    parser.add_argument("--version", action="version", version=f"deepdual {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (_reproduce, _fit, _certify, _sweep, _bench):
        add(sub)
    return parser
