"""The ``benchmarks`` package (at the repository root, not installed), importable by these smoke tests."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def benchmarks():
    sys.path.insert(0, str(ROOT))
    try:
        import benchmarks

        yield benchmarks
    finally:
        sys.path.remove(str(ROOT))
