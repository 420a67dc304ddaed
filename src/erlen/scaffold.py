"""Where ``Scaffold``, ``setupmethod`` and ``find_package`` lived until
Flask 3.0 moved them to ``sansio.scaffold``. Code written for Flask 2
imports them from here: every name of :mod:`erlen.sansio.scaffold` is
given, with a deprecation warning."""

from __future__ import annotations

import typing as t


def __getattr__(name: str) -> t.Any:
    # Absolute: reached as flask.scaffold, the module carries that spec.
    from erlen import compat
    from erlen.sansio import scaffold

    if name.startswith("__") or not hasattr(scaffold, name):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    compat.warn_deprecated(
        "erlen.scaffold", "'erlen.sansio.scaffold'", "moved in Flask 3.0"
    )
    return getattr(scaffold, name)
