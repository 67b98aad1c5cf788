"""A sweep's configuration: reading and validating the TOML file or dict, the grid of runs, run keys."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
import os
from collections.abc import Mapping
from typing import Any

from .. import _validation as V
from .._io import json_default

__all__ = ["load_config", "expand_grid", "run_key", "KINDS", "DATA_SOURCES", "GRID_DEFAULTS", "MAX_RUNS",
           "MAX_CONFIG_BYTES", "MAX_SLEEP", "MAX_EPOCHS"]

#: Experiment kinds a sweep can run.
KINDS = ("closed_form", "closed_form_vs_sgd")
#: Data sources of a sweep.
DATA_SOURCES = ("teacher", "whitened_classes")
#: Grid axes and their defaults (every axis is a list; a scalar means a one-element list).
GRID_DEFAULTS: dict[str, list] = {"beta": [0.1], "depth": [2], "width": [4], "n": [20], "d": [5],
                                  "k": [1], "seed": [0]}
_TRAIN_DEFAULTS = {"optimizer": "lbfgs", "lr": 1.0, "epochs": 50, "momentum": 0.0, "batch_size": None}
_TOP_KEYS = {"kind", "activation", "data", "sleep", "grid", "train", "noise", "name"}
#: Most runs one sweep may have (the grid is expanded in memory and every key is hashed up front).
MAX_RUNS = 100_000
#: Largest config file read: a sweep config is a few lines of TOML.
MAX_CONFIG_BYTES = 1 << 20
#: Longest ``sleep`` of a run (seconds; the option exists for tests and demos).
MAX_SLEEP = 3600.0
#: Most epochs of ``[train]``.
MAX_EPOCHS = 10_000_000
#: Largest data matrix of one run (``n × max(d, k)`` float64 entries, 800 MB).
_MAX_ENTRIES = 10**8


def _read_toml(path: str) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    if not os.path.exists(path):
        raise FileNotFoundError(f"No sweep config {path!r}.")
    if not os.path.isfile(path):  # a folder, or a FIFO / device that could block or never end
        raise ValueError(f"`config` {path!r} is not a regular file; pass a TOML file.")
    size = os.path.getsize(path)
    if size > MAX_CONFIG_BYTES:
        raise ValueError(f"`config` {path!r} has {size} bytes, more than the {MAX_CONFIG_BYTES} a sweep config may "
                         "have; pass a TOML file of a few lines.")
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))  # a byte order mark (Notepad) is not an error
    except UnicodeDecodeError as exc:
        raise ValueError(f"`config` {path!r} is not UTF-8 text (byte {exc.start}); pass a TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"`config` {path!r} is not valid TOML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise ValueError(f"`config` {path!r} nests arrays or tables too deeply; a sweep config is flat.") from None


def _as_list(value, name: str) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError(f"`grid.{name}` is empty; give at least one value.")
    return values


def _check_axis(axis: str, value, label: str):
    if axis == "beta":
        return V.check_beta(value, label)
    if axis == "depth":
        return V.check_layer_count(V.check_depth(value, label), label)
    if axis == "seed":
        return V.check_seed(value, label, allow_none=False)
    return V.check_scalar(value, label, target_type=numbers.Integral, min_val=1, max_val=_MAX_ENTRIES)


def _check_train(train_raw: Mapping) -> dict:
    """The ``[train]`` table, each value checked as :func:`deepdual.train` would (so no run fails on it)."""
    from ..training._loop import OPTIMIZERS

    train = {**_TRAIN_DEFAULTS, **train_raw}
    optimizer = V.check_choice(train["optimizer"], "train.optimizer", OPTIMIZERS)
    lr = V.check_scalar(train["lr"], "train.lr", min_val=0, include_boundaries="right")
    epochs = V.check_scalar(train["epochs"], "train.epochs", target_type=numbers.Integral, min_val=1,
                            max_val=MAX_EPOCHS)
    momentum = V.check_scalar(train["momentum"], "train.momentum", min_val=0, max_val=1, include_boundaries="left")
    if momentum and optimizer != "sgd":
        raise ValueError(f"`train.momentum` == {momentum} is only used by optimizer 'sgd' (got {optimizer!r}); "
                         "leave it 0.")
    batch_size = train["batch_size"]
    if batch_size is not None:
        batch_size = V.check_positive_int(batch_size, "train.batch_size")
        if optimizer in ("gd", "lbfgs"):
            raise ValueError(f"`train.batch_size` == {batch_size}, but optimizer {optimizer!r} is full-batch; "
                             "remove batch_size or use optimizer 'sgd' or 'adam'.")
    return {"optimizer": optimizer, "lr": lr, "epochs": epochs, "momentum": momentum, "batch_size": batch_size}


def _check_sizes(grid: Mapping[str, list], kind: str) -> None:
    """Refuse up front a grid too large to expand, or a run too large for memory (never a stuck sweep)."""
    total = math.prod(len(values) for values in grid.values())
    if total > MAX_RUNS:
        raise ValueError(f"`grid` has {total} combinations, more than the {MAX_RUNS} one sweep may run; "
                         "split it into several sweeps.")
    n, d, k = max(grid["n"]), max(grid["d"]), max(grid["k"])
    entries = n * max(d, k)
    if entries > _MAX_ENTRIES:
        raise ValueError(f"`grid` asks for n = {n} samples of max(d, k) = {max(d, k)} features/outputs, "
                         f"{entries:.3g} numbers per data matrix, more than the {_MAX_ENTRIES:.0e} a sweep run "
                         "may hold; lower grid.n, grid.d or grid.k.")
    if kind == "closed_form_vs_sgd":
        width, depth = max(grid["width"]), max(grid["depth"])
        params = width * (d + k) + width * width * max(depth - 2, 0)
        if params > _MAX_ENTRIES:
            raise ValueError(f"`grid` asks for a trained network of width {width} and depth {depth} on d = {d}, "
                             f"about {params:.3g} weights, more than the {_MAX_ENTRIES:.0e} a sweep run may "
                             "train; lower grid.width or grid.depth.")


def load_config(config) -> dict:
    """Read and validate a sweep config (a TOML path or a dict); return it with defaults filled in.

    Parameters
    ----------
    config : str, path-like or dict
        See :mod:`deepdual.sweeps` for the keys.

    Returns
    -------
    dict
        ``kind``, ``activation``, ``data``, ``sleep``, ``noise``, ``name``, ``grid`` (axis -> list of
        checked values, every axis of :data:`GRID_DEFAULTS`) and ``train``.

    Raises
    ------
    ValueError, TypeError
        Unknown keys, bad values or invalid TOML; the message names the key.
    FileNotFoundError
        No such TOML file.
    """
    if isinstance(config, (str, os.PathLike)):
        raw = _read_toml(os.fspath(config))
    elif isinstance(config, Mapping):
        raw = dict(config)
    else:
        raise TypeError(f"`config` must be a dict or a path to a TOML file, got {type(config).__name__}.")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ValueError(f"`config` has unknown key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}.")
    kind = V.check_choice(raw.get("kind", "closed_form"), "kind", KINDS)
    activation = V.check_choice(raw.get("activation", "linear"), "activation", ("linear", "relu"))
    data = V.check_choice(raw.get("data", "teacher" if activation == "linear" else "whitened_classes"),
                          "data", DATA_SOURCES)
    sleep = V.check_scalar(raw.get("sleep", 0.0), "sleep", min_val=0.0, max_val=MAX_SLEEP)
    noise = V.check_scalar(raw.get("noise", 0.0), "noise", min_val=0.0)
    name = raw.get("name", "sweep")
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a string, got {type(name).__name__}.")
    grid_raw = raw.get("grid", {})
    if not isinstance(grid_raw, Mapping):
        raise TypeError(f"`grid` must be a table of lists, got {type(grid_raw).__name__}.")
    unknown = set(grid_raw) - set(GRID_DEFAULTS)
    if unknown:
        raise ValueError(f"`grid` has unknown axis/axes {sorted(unknown)}; allowed: {sorted(GRID_DEFAULTS)}.")
    grid = {axis: [_check_axis(axis, v, f"grid.{axis}[{i}]")
                   for i, v in enumerate(_as_list(grid_raw.get(axis, default), axis))]
            for axis, default in GRID_DEFAULTS.items()}
    _check_sizes(grid, kind)
    train_raw = raw.get("train", {})
    if not isinstance(train_raw, Mapping):
        raise TypeError(f"`train` must be a table, got {type(train_raw).__name__}.")
    unknown = set(train_raw) - set(_TRAIN_DEFAULTS)
    if unknown:
        raise ValueError(f"`train` has unknown key(s) {sorted(unknown)}; allowed: {sorted(_TRAIN_DEFAULTS)}.")
    train = _check_train(train_raw)  # checked for every kind: a typo is reported, not ignored
    return {"kind": kind, "activation": activation, "data": data, "sleep": sleep, "noise": noise,
            "name": name, "grid": grid, "train": train}


def run_key(params: Mapping[str, Any]) -> str:
    """Deterministic key of a run: the first 16 hex digits of the SHA-256 of its canonical JSON."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def expand_grid(config) -> list[dict]:
    """Every run of a config: a list of ``{"key", "params", "options"}`` dicts in grid order, keys unique.

    ``config`` is a dict returned by :func:`load_config`, or anything :func:`load_config` accepts.
    ``options`` (``sleep``) do not enter the key; repeated grid values give one run.
    """
    cfg = config if isinstance(config, Mapping) and "grid" in config and "train" in config else load_config(config)
    axes = list(GRID_DEFAULTS)
    runs = []
    seen = set()
    train = dict(cfg["train"]) if cfg["kind"] == "closed_form_vs_sgd" else None
    for combo in itertools.product(*(cfg["grid"][a] for a in axes)):
        params = {"kind": cfg["kind"], "activation": cfg["activation"], "data": cfg["data"],
                  "noise": cfg["noise"], **dict(zip(axes, combo, strict=True)), "train": train}
        key = run_key(params)
        if key in seen:  # repeated grid values
            continue
        seen.add(key)
        runs.append({"key": key, "params": params, "options": {"sleep": cfg["sleep"]}})
    return runs
