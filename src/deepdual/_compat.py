"""Deprecation shims for signatures that changed (``beta`` became keyword-only; ``project`` takes X first)."""

from __future__ import annotations

import functools
import warnings

__all__ = ["keyword_only"]


def keyword_only(*names: str):
    """Let callers still pass the parameters ``names`` (now keyword-only) positionally, with a warning.

    ``f(X, y, 0.5, 3)`` for ``f(X, y, *, beta, depth)`` keeps working for one release and warns
    ``FutureWarning: pass beta=..., depth=... as keywords``.
    """

    def decorate(func):
        import inspect

        params = inspect.signature(func).parameters.values()
        n_positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            extra = args[n_positional:]
            if extra:
                if len(extra) > len(names):
                    raise TypeError(f"{func.__name__}() takes {n_positional} positional arguments "
                                    f"(then {', '.join(names)} as keywords); got {len(args)}.")
                moved = names[:len(extra)]
                for name, value in zip(moved, extra):
                    if name in kwargs:
                        raise TypeError(f"{func.__name__}() got multiple values for argument {name!r}.")
                    kwargs[name] = value
                warnings.warn(f"{func.__name__}(): passing {', '.join(moved)} positionally is deprecated; "
                              f"pass {', '.join(f'{n}=...' for n in moved)} as keywords.", FutureWarning,
                              stacklevel=2)
            return func(*args[:n_positional], **kwargs)

        return wrapper

    return decorate
