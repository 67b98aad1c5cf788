"""Shared test configuration."""

import sys
from pathlib import Path

import pytest
import torch

# Tests live in folders that mirror src/deepdual/ and are imported with --import-mode=importlib (so two
# folders may hold test files of the same name); the shared helpers next to this file stay importable.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread():
    """Tiny problems run ~50x faster with one torch thread on a busy 2-core machine (measured)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
