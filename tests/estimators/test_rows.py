"""The row selection of the remedy: a maximal independent set (rank checked by SVD), classes in turn."""

import numpy as np
import pytest

from deepdual.estimators._rows import ROW_RTOL, independent_rows


@pytest.mark.parametrize("n, rank, d", [(10, 10, 12), (30, 7, 12), (50, 12, 12), (8, 3, 40)])
def test_keeps_a_maximal_independent_set(n, rank, d):
    rng = np.random.default_rng(n + rank)
    X = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d))
    codes = rng.integers(0, 3, n)
    rows = independent_rows(X, codes)
    assert rows.size == rank == np.linalg.matrix_rank(X)
    assert np.linalg.matrix_rank(X[rows]) == rank  # independent, hence maximal (as many as the rank)
    assert np.all(np.diff(rows) > 0)


def test_classes_take_turns_and_duplicates_go():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((6, 20))
    X = np.vstack([base, base, base])  # every row three times
    codes = np.repeat([0, 1, 2], 6)  # class k holds one copy of each row
    rows = independent_rows(X, codes)
    assert rows.size == 6
    assert np.unique(X[rows], axis=0).shape[0] == 6  # one copy of each distinct row
    assert np.bincount(codes[rows], minlength=3).tolist() == [2, 2, 2]  # classes in turn


def test_a_class_gets_its_turn_before_the_others_fill_the_span():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((3, 8))
    X = np.vstack([A, A[:1] + A[1:2]])  # the class-1 row is a combination of two class-0 rows
    rows = independent_rows(X, np.array([0, 0, 0, 1]))
    assert rows.size == 3 and 3 in rows  # taken at class 1's first turn, when one class-0 row was kept
    assert np.linalg.matrix_rank(X[rows]) == 3


def test_nearly_dependent_rows_count_as_dependent():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((3, 10))
    near = A[0] + A[1] + 0.1 * ROW_RTOL * rng.standard_normal(10)
    far = A[0] + A[1] + 1e3 * ROW_RTOL * rng.standard_normal(10)
    assert independent_rows(np.vstack([A, near]), np.zeros(4, int)).size == 3
    assert independent_rows(np.vstack([A, far]), np.zeros(4, int)).size == 4


def test_zero_data_keeps_nothing():
    assert independent_rows(np.zeros((4, 3)), np.zeros(4, int)).size == 0
