"""deepdual.cli.tables: reading CSV and NPZ data files, and every way a file can be wrong (UsageError)."""

from __future__ import annotations

import hashlib
import zipfile

import numpy as np
import pytest

from deepdual.cli import UsageError
from deepdual.cli.tables import Table, read_table


def _csv(tmp_path, text, name="d.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


# ------------------------------------------------------------------------------------------ CSV
def test_csv_string_labels_target_in_the_middle(tmp_path):
    path = _csv(tmp_path, "a, y ,b\n1,red,2.5\n\n3, blue ,4\n")  # padded names and labels, a blank line
    t = read_table(path, "y")
    assert isinstance(t, Table) and t.n_rows == 2
    np.testing.assert_array_equal(t.X, [[1.0, 2.5], [3.0, 4.0]])
    assert t.X.dtype == np.float64 and t.target.tolist() == ["red", "blue"]
    assert t.feature_names == ["a", "b"] and t.target_name == "y" and t.path == str(path)
    assert t.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_csv_numeric_targets_and_a_byte_order_mark(tmp_path):
    t = read_table(_csv(tmp_path, "\ufeffx,y\n1,2\n2,-3\n", encoding="utf-8"), "y")
    assert t.feature_names == ["x"] and t.target.dtype == np.int64 and t.target.tolist() == [2, -3]
    t = read_table(_csv(tmp_path, "x,y\n1,2.5\n2,1e-3\n", name="f.csv"), "y")
    assert t.target.dtype == np.float64 and t.target.tolist() == [2.5, 1e-3]


@pytest.mark.parametrize("text, match", [
    ("", "the file is empty; a CSV needs a header row"),
    ("a,b,y\n", "only a header row; no data rows"),
    ("a,a,y\n1,2,3\n", "repeated column name(s) in the header: 'a'"),
    ("a,b\n1,2\n", "no target column 'y'; the header has: a, b"),
    ("y\n1\n", "no feature columns besides the target 'y'"),
    ("a,y\n1,2\n3,4,5\n", "malformed CSV: line 3 has 3 fields but the header has 2"),
    ('a,y\n"1"x,2\n', "malformed CSV near line 2"),
    ("a,y\nabc,1\n", "feature column 'a' has the non-numeric value 'abc' on line 2"),
    ("a,b,y\n1,,1\n", "feature column 'b' has an empty value on line 2"),
    ("a,b,y\n1,nan,0\n2,3,1\n", "feature column(s) 'b' hold NaN or infinite values"),
    ("a,y\n1,\n2,1\n", "target column 'y' has an empty value (line 2)"),
    ("a,y\n1,inf\n2,1\n", "target column 'y' has NaN or infinite values"),
])
def test_bad_csv(tmp_path, text, match):
    path = _csv(tmp_path, text)
    with pytest.raises(UsageError) as info:
        read_table(path, "y")
    assert str(info.value).startswith(f"{path}: ") and match in str(info.value) and "\n" not in str(info.value)


def test_not_utf8(tmp_path):
    with pytest.raises(UsageError, match="not UTF-8 text; pass a CSV file"):
        read_table(_csv(tmp_path, b"\xff\xfe\x00\x81binary"), "y")


def test_missing_file(tmp_path):
    with pytest.raises(UsageError, match="No data file '.*none.csv'"):
        read_table(tmp_path / "none.csv", "y")
    with pytest.raises(UsageError, match="is not a regular file; pass a CSV or NPZ file"):
        read_table(tmp_path, "y")  # a folder


# ------------------------------------------------------------------------------------------ NPZ
def test_npz_with_an_X_array(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3))
    np.savez(tmp_path / "d.npz", X=X, other=np.ones(5), label=np.arange(5)[:, None] % 2)  # (n, 1) target
    t = read_table(tmp_path / "d.npz", "label")
    np.testing.assert_array_equal(t.X, X)
    assert t.feature_names == ["X[0]", "X[1]", "X[2]"]  # "other" is ignored when X exists
    assert t.target.dtype == np.int64 and t.target.tolist() == [0, 1, 0, 1, 0]


def test_npz_features_from_every_other_array(tmp_path):
    np.savez(tmp_path / "d.npz", a=np.arange(4.0), y=np.array([" u", "v", "u", "v"]), b=np.ones((4, 2), np.int32),
             c=np.array([True, False, True, False]))
    t = read_table(tmp_path / "d.npz", "y")
    assert t.feature_names == ["a", "b[0]", "b[1]", "c"]
    np.testing.assert_array_equal(t.X[:, 0], np.arange(4.0))
    np.testing.assert_array_equal(t.X[:, 3], [1, 0, 1, 0])
    assert t.target.tolist() == ["u", "v", "u", "v"]


def test_npz_float_target(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.eye(3), y=np.array([0.5, 1.0, 2.0]))
    t = read_table(tmp_path / "d.npz", "y")
    assert t.target.dtype == np.float64 and t.target.tolist() == [0.5, 1.0, 2.0]


def _npz(tmp_path, **arrays):
    np.savez(tmp_path / "d.npz", **arrays)
    return tmp_path / "d.npz"


@pytest.mark.parametrize("make, match", [
    (lambda t: _npz(t, X=np.eye(2)), "no target array 'y'; the file has: X"),
    (lambda t: _npz(t, X=np.eye(2), y=np.ones((2, 2))), "target array 'y' has shape (2, 2); pass one target per"),
    (lambda t: _npz(t, y=np.ones(2)), "no feature arrays besides the target 'y'"),
    (lambda t: _npz(t, a=np.array(["p", "q"]), y=np.ones(2)), "feature array 'a' has dtype <U1; features must be"),
    (lambda t: _npz(t, a=np.ones(3), y=np.ones(2)), "feature array 'a' has shape (3, 1); expected (2,) or (2, d)"),
    (lambda t: _npz(t, X=np.array([[1.0], [np.nan]]), y=np.ones(2)), "the features hold NaN or infinite values"),
    (lambda t: _npz(t, X=np.eye(2), y=np.array([1 + 1j, 2j])), "target array 'y' has dtype complex128; pass numbers"),
    (lambda t: _npz(t, X=np.eye(2), y=np.array([1.0, np.inf])), "target column 'y' has NaN or infinite values"),
    (lambda t: _npz(t, X=np.eye(2), y=np.array([{}, 1], dtype=object)),
     "cannot read the NPZ file (Object arrays cannot be loaded when allow_pickle=False); object arrays are not"),
])
def test_bad_npz(tmp_path, make, match):
    path = make(tmp_path)
    with pytest.raises(UsageError) as info:
        read_table(path, "y")
    assert str(info.value).startswith(f"{path}: ") and match in str(info.value) and "\n" not in str(info.value)


def test_files_that_are_not_npz(tmp_path):
    (tmp_path / "g.npz").write_bytes(b"PK\x03\x04 truncated zip")
    with pytest.raises(UsageError, match=r"g.npz: not a valid NPZ file \(not a zip archive\)"):
        read_table(tmp_path / "g.npz", "y")
    (tmp_path / "e.npz").write_bytes(b"")
    with pytest.raises(UsageError, match=r"e.npz: not a valid NPZ file \(not a zip archive\)"):
        read_table(tmp_path / "e.npz", "y")
    np.save(tmp_path / "a.npy", np.arange(3))
    (tmp_path / "a.npz").write_bytes((tmp_path / "a.npy").read_bytes())
    with pytest.raises(UsageError, match=r"a.npz: holds a single array \(.npy\), not an NPZ archive"):
        read_table(tmp_path / "a.npz", "y")
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:  # a zip whose member is not an array
        z.writestr("y.npy", b"not an array")
    with pytest.raises(UsageError, match="z.npz: member 'y' is not a NumPy array"):
        read_table(tmp_path / "z.npz", "y")
