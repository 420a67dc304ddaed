"""The context-local core: ``Local``, ``LocalStack``, ``LocalProxy``.

The compiled ``erlen._local_c`` is used on CPython unless
``ERLEN_NO_EXTENSIONS=1`` is set or it cannot be imported; ``_local_py`` is
its pure-Python twin with the same behaviour, and the one used on other
interpreters (PyPy, GraalPy): there C extensions go through an emulation of
CPython's C API, which costs more than their JIT running the Python code.
:data:`COMPILED` says which one is active.
"""

from __future__ import annotations

import os
import sys
import typing as t

__all__ = [
    "COMPILED",
    "Local",
    "LocalManager",
    "LocalProxy",
    "LocalStack",
    "release_local",
]

COMPILED: bool = False

_WANT_COMPILED = sys.implementation.name == "cpython" and os.environ.get(
    "ERLEN_NO_EXTENSIONS", ""
) in ("", "0")

if t.TYPE_CHECKING or not _WANT_COMPILED:  # type checkers always see the twin
    from ._local_py import Local
    from ._local_py import LocalManager
    from ._local_py import LocalProxy
    from ._local_py import LocalStack
    from ._local_py import release_local
else:
    try:
        from ._local_c import Local
        from ._local_c import LocalManager
        from ._local_c import LocalProxy
        from ._local_c import LocalStack
        from ._local_c import release_local

        COMPILED = True
    except ImportError:
        from ._local_py import Local
        from ._local_py import LocalManager
        from ._local_py import LocalProxy
        from ._local_py import LocalStack
        from ._local_py import release_local
