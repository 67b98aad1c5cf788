"""The case registry of the hostile-input tests (``tests/hostile/``), shared by every file there.

A case either *works* (its result passes a check: finite, equal to the result on clean float64 data, ...)
or raises an *error*: a ``ValueError``/``TypeError`` (or the listed types) with a one-line message that
names one of the given arguments — never an exception from deep inside NumPy, LAPACK or PyTorch, never
an internal ``CertificateError``. A case marked ``fast`` must also return within :data:`FAST_SECONDS`
(resource guards answer before allocating anything). Every case may list the arrays it passes, which
must be unchanged afterwards (bitwise; the caller's data are never written).

Usage::

    R = Registry()
    R.error("closed_form-X-nan", lambda: closed_form(bad, Y, beta=1, depth=2), "X")
    R.works("closed_form-X-int", lambda: closed_form(ints, Y, ...), check)

    @pytest.mark.parametrize("case", R.params())
    def test_hostile_input(case):
        run_case(case)
"""

from __future__ import annotations

import copy
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

#: Generous wall-clock limit for a resource guard: it answers before allocating (measured with perf_counter).
FAST_SECONDS = 5.0

#: Exceptions that are never an acceptable answer to user input, even though some subclass ValueError.
_INTERNAL = ("LinAlgError", "CertificateError", "OverflowError", "ZeroDivisionError", "FloatingPointError")


@dataclass
class Case:
    id: str
    call: Callable[[], Any]
    names: tuple[str, ...] = ()  # error expected: the message names one of these
    ok: Callable[[Any], None] | None = None  # works: check the result
    errors: tuple[type, ...] = (ValueError, TypeError)
    fast: bool = False
    inputs: Callable[[], Sequence[Any]] | None = None  # the caller's arrays, to be unchanged
    xfail: str | None = None
    extra: dict = field(default_factory=dict)


class Registry:
    """An ordered list of cases with unique ids."""

    def __init__(self):
        self.cases: list[Case] = []

    def _add(self, case: Case) -> None:
        if any(c.id == case.id for c in self.cases):
            raise AssertionError(f"duplicate case id {case.id!r}")
        self.cases.append(case)

    def error(self, id, call, *names, errors=(ValueError, TypeError), fast=False, inputs=None, xfail=None):
        self._add(Case(id, call, names=names, errors=errors, fast=fast, inputs=inputs, xfail=xfail))

    def works(self, id, call, check=None, *, fast=False, inputs=None, xfail=None):
        self._add(Case(id, call, ok=check or (lambda r: None), fast=fast, inputs=inputs, xfail=xfail))

    def params(self):
        out = []
        for c in self.cases:
            marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
            out.append(pytest.param(c, id=c.id, marks=marks))
        return out


# ------------------------------------------------------------------------------------------ checks
def finite(*values) -> None:
    for v in values:
        arr = np.asarray(v, dtype=np.float64)
        assert np.all(np.isfinite(arr)), f"non-finite result {v!r}"


def same_as(reference: Callable[[], Any], key: Callable[[Any], Any], rtol: float = 1e-12, atol: float = 1e-14):
    """Check: finite, and equal to ``key(reference())`` (the result on clean float64 data)."""
    def check(result):
        got, want = key(result), key(reference())
        finite(got)
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64),
                                   rtol=rtol, atol=atol)
    return check


def _snapshot(x):
    if hasattr(x, "detach") and hasattr(x, "clone"):  # torch.Tensor
        return x.detach().clone()
    if hasattr(x, "copy") and hasattr(x, "equals"):  # pandas
        return x.copy(deep=True)
    return copy.deepcopy(np.asarray(x)) if isinstance(x, np.ndarray) else copy.deepcopy(x)


def _same(a, b) -> bool:
    if hasattr(a, "detach") and hasattr(a, "clone"):
        return a.dtype == b.dtype and a.shape == b.shape and bool((a.detach() == b.detach()).all()) \
            if not a.is_floating_point() else bool(((a == b) | (a.isnan() & b.isnan())).all())
    if hasattr(a, "equals"):
        return bool(a.equals(b))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    return a == b


def run_case(case: Case) -> None:
    """Call the case and check the contract (see the module docstring)."""
    inputs = list(case.inputs()) if case.inputs is not None else []
    before = [_snapshot(x) for x in inputs]
    start = time.perf_counter()
    if case.ok is not None:
        result = case.call()
        elapsed = time.perf_counter() - start
        case.ok(result)
    else:
        with pytest.raises(Exception) as info:
            case.call()
        elapsed = time.perf_counter() - start
        exc = info.value  # (pytest's skip is a BaseException: a case that skips itself is not caught here)
        kind = type(exc).__name__
        assert kind not in _INTERNAL and isinstance(exc, case.errors), f"{kind} from deep inside: {exc}"
        msg = str(exc)
        assert msg and "\n" not in msg.strip(), f"message is not one line: {msg!r}"
        assert any(re.search(rf"(?<![A-Za-z_]){re.escape(n)}(?![A-Za-z_])", msg) for n in case.names), \
            f"message does not name any of {case.names}: {msg!r}"
    if case.fast:
        assert elapsed < FAST_SECONDS, f"took {elapsed:.2f} s; a resource guard must answer before allocating"
    for i, (a, b) in enumerate(zip(inputs, before)):
        assert _same(a, b), f"input {i} of the caller was modified"


# ------------------------------------------------------------- files left untouched by a command
def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder``: a file's bytes, a link's target, ``"<dir>"`` or ``"<special>"``."""
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_dir():
            out[rel] = "<dir>"
        elif p.is_file():
            out[rel] = p.read_bytes()
        else:
            out[rel] = "<special>"
    return out


def assert_untouched(before: dict, after: dict, *, allowed=()) -> None:
    """Every entry of ``before`` is unchanged, and nothing new appeared except paths in ``allowed``."""
    for rel, content in before.items():
        if rel in allowed:
            continue
        assert rel in after, f"{rel} was removed"
        assert after[rel] == content, f"{rel} was changed"
    new = set(after) - set(before) - set(allowed)
    assert not new, f"unexpected new files {sorted(new)}"
