"""Shared set-up of the hostile-input tests."""

import pytest

from deepdual import _validation

#: Resource guards compare with the memory available; tests pin it so that they mean the same everywhere.
PINNED_MEMORY = 16 * 2**30


@pytest.fixture(autouse=True)
def _pinned_memory(monkeypatch):
    real = _validation.available_memory
    monkeypatch.setattr(_validation, "available_memory", lambda: min(real(), PINNED_MEMORY))
