"""Command-line interface: ``deepdual reproduce | fit | certify | sweep | bench``.

One module per command, each with a handler ``run_*(args) -> exit code`` that calls only the public
API: :mod:`.fit`, :mod:`.certify` (both read data files with :mod:`.tables`), :mod:`.sweep`,
:mod:`.reproduce` and :mod:`.bench`. :mod:`._parser` builds the argument parser; a handler's module
is imported only when its command runs, so ``deepdual --help`` starts without loading torch.

Exit codes
----------
0
    Success.
1
    A failed run: ``certify`` found no certificate, a run of a sweep failed, a benchmark was beaten
    by training. An uncaught exception (an internal bug) also ends with 1, after its traceback.
2
    Bad usage or bad input (options, data file, model file, config, an output path that names a
    file deepdual did not write): one line on stderr, nothing written.
130
    Interrupted (Ctrl-C).

Warnings (a damaged record that is recomputed, ...) are printed as one line each,
``deepdual COMMAND: warning: MESSAGE``.
"""

from __future__ import annotations

import importlib
import sys
import warnings

from ._errors import UsageError, first_line
from ._parser import build_parser

__all__ = ["main", "build_parser", "UsageError"]


def _handler(spec: str):
    """The function ``module:name`` of this package (``"fit:run_fit"``)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def _one_line_warning(command: str):
    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).strip()
        text = text.splitlines()[0] if text else category.__name__
        (file or sys.stderr).write(f"deepdual {command}: warning: {text}\n")

    return show


def main(argv=None) -> int:
    """Run ``deepdual`` with the arguments ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    handler = _handler(args.handler)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning(args.command)
            return int(handler(args) or 0)
    except UsageError as exc:
        sys.stderr.write(f"deepdual {args.command}: error: {first_line(exc)}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"deepdual {args.command}: interrupted\n")
        return 130
