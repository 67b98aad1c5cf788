"""A sweep's configuration: reading and validating the TOML file or dict, the grid of runs, run keys."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Mapping
from typing import Any

from .. import _validation as V
from .._io import json_default

__all__ = ["load_config", "expand_grid", "run_key", "KINDS", "DATA_SOURCES", "GRID_DEFAULTS"]

#: Experiment kinds a sweep can run.
KINDS = ("closed_form", "closed_form_vs_sgd")
#: Data sources of a sweep.
DATA_SOURCES = ("teacher", "whitened_classes")
#: Grid axes and their defaults (every axis is a list; a scalar means a one-element list).
GRID_DEFAULTS: dict[str, list] = {"beta": [0.1], "depth": [2], "width": [4], "n": [20], "d": [5],
                                  "k": [1], "seed": [0]}
_TRAIN_DEFAULTS = {"optimizer": "lbfgs", "lr": 1.0, "epochs": 50, "momentum": 0.0, "batch_size": None}
_TOP_KEYS = {"kind", "activation", "data", "sleep", "grid", "train", "noise", "name"}


def _read_toml(path: str) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"No sweep config {path!r}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"`config` {path!r} is not valid TOML: {str(exc).splitlines()[0]}") from None


def _as_list(value, name: str) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError(f"`grid.{name}` is empty; give at least one value.")
    return values


def _check_axis(axis: str, value, label: str):
    if axis == "beta":
        return V.check_beta(value, label)
    if axis == "depth":
        return V.check_depth(value, label)
    return V.check_positive_int(value, label, minimum=0 if axis == "seed" else 1)


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
    sleep = V.check_scalar(raw.get("sleep", 0.0), "sleep", min_val=0.0)
    noise = V.check_scalar(raw.get("noise", 0.0), "noise", min_val=0.0)
    grid_raw = raw.get("grid", {})
    if not isinstance(grid_raw, Mapping):
        raise TypeError(f"`grid` must be a table of lists, got {type(grid_raw).__name__}.")
    unknown = set(grid_raw) - set(GRID_DEFAULTS)
    if unknown:
        raise ValueError(f"`grid` has unknown axis/axes {sorted(unknown)}; allowed: {sorted(GRID_DEFAULTS)}.")
    grid = {axis: [_check_axis(axis, v, f"grid.{axis}[{i}]")
                   for i, v in enumerate(_as_list(grid_raw.get(axis, default), axis))]
            for axis, default in GRID_DEFAULTS.items()}
    train_raw = raw.get("train", {})
    if not isinstance(train_raw, Mapping):
        raise TypeError(f"`train` must be a table, got {type(train_raw).__name__}.")
    unknown = set(train_raw) - set(_TRAIN_DEFAULTS)
    if unknown:
        raise ValueError(f"`train` has unknown key(s) {sorted(unknown)}; allowed: {sorted(_TRAIN_DEFAULTS)}.")
    train = {**_TRAIN_DEFAULTS, **train_raw}
    return {"kind": kind, "activation": activation, "data": data, "sleep": sleep, "noise": noise,
            "name": str(raw.get("name", "sweep")), "grid": grid, "train": train}


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
