"""deepdual.sweeps.store: the append-only JSON-lines results store, safe against crashes mid-write."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepdual.sweeps import ResultsStore

HEADER = '{"format": "deepdual-sweep-results", "version": 1}\n'


def test_store_append_load_and_no_duplicates(tmp_path):
    store = ResultsStore(tmp_path / "s.jsonl")
    assert store.load() == [] and store.keys() == set() and len(store) == 0
    assert store.append({"key": "a", "v": 1.5, "arr": np.arange(2)})
    assert store.append({"key": "b", "v": float("nan")})
    assert not store.append({"key": "a", "v": 99})  # key stored already: not written again
    recs = store.load()
    assert [r["key"] for r in recs] == ["a", "b"] and recs[0]["v"] == 1.5 and np.isnan(recs[1]["v"])
    assert recs[0]["arr"] == [0, 1]
    assert store.keys() == {"a", "b"} and len(store) == 2 and "a" in store and "c" not in store
    header, *lines = (tmp_path / "s.jsonl").read_text().splitlines()
    assert json.loads(header) == {"format": "deepdual-sweep-results", "version": 1} and len(lines) == 2


@pytest.mark.parametrize("record", [{"no_key": 1}, {"key": 3}, ["key", "a"]])
def test_store_rejects_a_record_without_a_string_key(tmp_path, record):
    with pytest.raises(TypeError, match="`record` must be a dict with a string 'key'"):
        ResultsStore(tmp_path / "s.jsonl").append(record)


def test_store_sees_lines_appended_by_another_writer(tmp_path):
    a, b = ResultsStore(tmp_path / "s.jsonl"), ResultsStore(tmp_path / "s.jsonl")
    assert a.append({"key": "x"})
    assert not b.append({"key": "x"})  # b reads what a wrote before appending
    assert b.append({"key": "y"}) and not a.append({"key": "y"})
    assert [r["key"] for r in a.load()] == ["x", "y"]


def test_store_ignores_and_repairs_trailing_partial_line(tmp_path):
    path = tmp_path / "s.jsonl"
    store = ResultsStore(path)
    store.append({"key": "a"})
    store.append({"key": "b"})
    good = path.read_bytes()
    with open(path, "ab") as fh:  # what a process killed in the middle of write() leaves
        fh.write(b'{"key": "c", "result": {"objec')
    assert [r["key"] for r in store.load()] == ["a", "b"]
    assert store.append({"key": "c", "ok": True})
    assert path.read_bytes().startswith(good)
    assert [r["key"] for r in store.load()] == ["a", "b", "c"]
    assert [json.loads(line)["key"] for line in path.read_text().splitlines()[1:]] == ["a", "b", "c"]


def test_repair_truncates_only_the_partial_line(tmp_path):
    path = tmp_path / "s.jsonl"
    store = ResultsStore(path)
    assert store.repair() == 0  # no file yet
    store.append({"key": "a"})
    good = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"key": "b"')
    assert store.repair() == len(b'{"key": "b"')
    assert path.read_bytes() == good
    assert store.repair() == 0


def test_store_skips_corrupt_interior_line_with_warning(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(HEADER + '{"key": "a"}\nnot json\n\n{"key": "b"}\n{"key": "a"}\n[1, 2]\n')
    with pytest.warns(RuntimeWarning) as caught:
        recs = ResultsStore(path).load()
    assert [r["key"] for r in recs] == ["a", "b"]  # the repeated key "a" is not returned twice
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert "line 3 is not a valid record" in messages[0] and "line 7 is not a valid record" in messages[1]


def test_store_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ResultsStore(tmp_path / "nope" / "s.jsonl")
