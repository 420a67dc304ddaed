"""The erlen the benchmark scripts measure: the installed package.

``bench/calls.py``, ``bench/ratios.py`` and ``bench/server.py`` import erlen
as it is installed (``pip install .``, or ``pip install -e .`` for a
checkout), never from ``src/`` directly, so a wheel is measured as it was
built. Their figures are the compiled core's, so they stop when it is not
active, unless ``ERLEN_NO_EXTENSIONS=1`` asks for the pure-Python core.
"""

from __future__ import annotations

import os
import sys


def require_compiled_core(script: str, *, pure_allowed: bool = True) -> None:
    """Exit with a message unless erlen's compiled core is active.

    ``pure_allowed``: accept the pure-Python core when ``ERLEN_NO_EXTENSIONS``
    asks for it (a run meant to measure the compiled core passes False).
    """
    import erlen.local

    if erlen.local.COMPILED:
        return
    asked = os.environ.get("ERLEN_NO_EXTENSIONS", "") not in ("", "0")
    if asked and pure_allowed:
        return
    if asked:
        sys.exit(
            f"{script}: ERLEN_NO_EXTENSIONS is set, but this run measures"
            " erlen's compiled core too: unset it."
        )
    where = os.path.dirname(erlen.local.__file__)
    hint = (
        ", or set ERLEN_NO_EXTENSIONS=1 to measure the pure-Python core" * pure_allowed
    )
    sys.exit(
        f"{script}: erlen's compiled core is not active: erlen._local_c is not"
        f" built or cannot be imported (erlen from {where}). Install erlen with"
        f" a C compiler (`pip install .`) to measure it{hint}."
    )
