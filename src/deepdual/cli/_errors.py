"""The command line's error contract: :class:`UsageError` (exit code 2) and :func:`user_input`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["UsageError", "user_input", "first_line", "INPUT_ERRORS"]


class UsageError(ValueError):
    """Bad command-line usage or input: ``deepdual`` prints the message on one line and exits with code 2."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when the message is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


#: What the public API raises for bad input: wrong values and types, and paths the user named that are
#: missing, a folder where a file is needed (or the reverse), or a read-only file it refuses to replace.
INPUT_ERRORS = (ValueError, TypeError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


@contextlib.contextmanager
def user_input() -> Iterator[None]:
    """Treat the errors of :data:`INPUT_ERRORS` raised in this block as bad input.

    Wrap only calls of the public API that validate what the user gave (a data or model file, a
    sweep config, an output path, an option): their contract is to raise these, with a one-line
    message, for bad input. Such an error is re-raised as :class:`UsageError` (exit code 2).
    Anything raised outside such a block, and NumPy's ``LinAlgError`` (a ``ValueError`` that means a
    numerical failure), is left alone, so that an internal bug shows as a traceback. Catch an error
    that means something else (``NoCertificateError``, ``TrainingDivergedError``) inside the block.
    """
    try:
        yield
    except UsageError:
        raise
    except INPUT_ERRORS as exc:
        from numpy.linalg import LinAlgError

        if isinstance(exc, LinAlgError):
            raise
        raise UsageError(first_line(exc)) from exc
