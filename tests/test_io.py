"""deepdual._io: the one atomic writer, the one JSON converter, the one environment()."""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

import deepdual
from deepdual import _io
from deepdual._io import atomic_write, atomic_write_json, environment, json_default, to_jsonable


# ------------------------------------------------------------------------------------------ atomic writes
def test_atomic_write_text_and_bytes_replace_the_whole_file(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write(path, "first version, longer than the second\n")
    atomic_write(path, "é\n")
    assert path.read_bytes() == "é\n".encode()
    atomic_write(str(path), b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temp file left behind


def test_atomic_write_gives_a_new_file_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "f", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o644


def test_atomic_write_fsyncs_the_file_and_its_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    atomic_write(tmp_path / "f", "x")
    assert synced == [False, True]  # the temp file before the rename, the folder after it


def test_atomic_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f"
    atomic_write(path, "old")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_atomic_write_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder .* does not exist"):
        atomic_write(tmp_path / "nope" / "f", "x")


def test_atomic_write_json_converts_numpy_and_keeps_nan(tmp_path):
    path = tmp_path / "record.json"
    atomic_write_json(path, {"a": 1, "x": np.arange(3), "s": np.float32(0.5), "p": Path("/tmp"),
                             "nan": float("nan")})
    text = path.read_text()
    assert text.endswith("}\n") and "NaN" in text
    rec = json.loads(text)
    assert rec["x"] == [0, 1, 2] and rec["s"] == 0.5 and rec["p"] == "/tmp" and math.isnan(rec["nan"])
    atomic_write_json(path, {"b": 2}, indent=None)
    assert path.read_text() == '{"b": 2}\n'


def test_atomic_write_json_failure_keeps_the_old_file(tmp_path):
    path = tmp_path / "record.json"
    atomic_write_json(path, {"a": 1})
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        atomic_write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_one_writer_everywhere():
    """The sweeps package re-exports the one JSON writer (deepdual.atomic_write_json is public)."""
    from deepdual import sweeps

    assert sweeps.atomic_write_json is atomic_write_json
    assert deepdual.atomic_write_json is atomic_write_json


# ------------------------------------------------------------------------------------------ JSON
@dataclasses.dataclass
class _Point:
    x: float
    w: np.ndarray


_Pair = collections.namedtuple("_Pair", "a b")


def test_to_jsonable_converts_every_kind_of_value():
    value = {1: np.arange(2), "t": torch.tensor([[1.5, 2.0]], dtype=torch.float64), "g": np.int64(3),
             "b": np.bool_(True), "f": np.float32(0.25), "p": Path("a/b"), "d": _Point(1.0, np.ones(2)),
             "n": _Pair(1, (2, 3)), "o": object.__new__(_Marker)}
    out = to_jsonable(value)
    assert out == {"1": [0, 1], "t": [[1.5, 2.0]], "g": 3, "b": True, "f": 0.25, "p": "a/b",
                   "d": {"x": 1.0, "w": [1.0, 1.0]}, "n": {"a": 1, "b": [2, 3]}, "o": "<marker>"}
    assert type(out["g"]) is int and type(out["b"]) is bool and type(out["f"]) is float
    assert json.loads(json.dumps(out)) == out


class _Marker:
    def __repr__(self):
        return "<marker>"


def test_to_jsonable_nan_policy():
    value = [float("nan"), np.float64("inf"), np.array([1.0, -np.inf]), 2.0]
    kept = to_jsonable(value)
    assert math.isnan(kept[0]) and kept[1] == math.inf and kept[2] == [1.0, -math.inf] and kept[3] == 2.0
    assert to_jsonable(value, allow_nan=False) == [None, None, [1.0, None], 2.0]
    json.dumps(to_jsonable(value, allow_nan=False), allow_nan=False)  # strict JSON: raises if NaN is left


def test_json_default_is_the_same_converter_but_strict_about_unknown_types():
    assert json.dumps({"x": np.arange(2), "y": np.float64(1.5), "p": Path("q")}, default=json_default) == \
        '{"x": [0, 1], "y": 1.5, "p": "q"}'
    assert json.loads(json.dumps(_Point(2.0, np.zeros(1)), default=json_default)) == {"x": 2.0, "w": [0.0]}
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        json_default({1, 2})


# ------------------------------------------------------------------------------------------ environment
def test_environment_records_versions_machine_and_process():
    env = environment()
    assert set(env) == {"python", "packages", "platform", "machine", "processor", "cpu_count", "hostname", "pid"}
    assert set(env["packages"]) == set(_io.PACKAGES)
    assert env["packages"]["deepdual"] == deepdual.__version__
    assert env["packages"]["numpy"] == np.__version__
    assert env["packages"]["torch"].split("+")[0] == torch.__version__.split("+")[0]
    assert env["pid"] == os.getpid() and env["cpu_count"] == os.cpu_count()
    assert json.loads(json.dumps(env)) == env


def test_environment_returns_a_fresh_dict():
    env = environment()
    env["packages"]["numpy"] = "edited"
    env["hostname"] = "edited"
    again = environment()
    assert again["packages"]["numpy"] == np.__version__ and again["hostname"] != "edited"
