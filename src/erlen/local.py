"""The context-local core: ``Local``, ``LocalStack``, ``LocalProxy``.

The compiled ``erlen._local_c`` is used unless ``ERLEN_NO_EXTENSIONS=1`` is
set or it cannot be imported; ``_local_py`` is its pure-Python twin with the
same behaviour. :data:`COMPILED` says which one is active.
"""

from __future__ import annotations

import os
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

if t.TYPE_CHECKING:  # type checkers always see the Python twin
    from ._local_py import Local, LocalManager, LocalProxy, LocalStack, release_local
elif os.environ.get("ERLEN_NO_EXTENSIONS", "") not in ("", "0"):
    from ._local_py import Local, LocalManager, LocalProxy, LocalStack, release_local
else:
    try:
        from ._local_c import Local, LocalManager, LocalProxy, LocalStack, release_local

        COMPILED = True
    except ImportError:
        from ._local_py import Local, LocalManager, LocalProxy, LocalStack, release_local
