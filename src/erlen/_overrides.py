"""Whether a class still has the attributes erlen's fast paths stand in for.

``Unchanged(Base, *names)(cls)`` is true when none of ``names`` is
overridden on ``cls`` or patched on it or its bases since. The compiled
``erlen._classes_c`` remembers true answers with the interpreter's version
tag of the class (which changes whenever the class or a base changes), so
asking again costs one lookup; its pure-Python twin ``erlen._classes_py``
looks afresh each time. ``Unchanged(...).check(cls)`` is the same answer
through a cheaper call. ``PerClass(build).get(cls)`` is ``build(cls)``,
remembered the same way (built afresh by the twin). ``ERLEN_NO_EXTENSIONS=1``
picks the twin, as for the context-local core.
"""

from __future__ import annotations

import os
import typing as t

__all__ = ["COMPILED", "PerClass", "Unchanged", "type_version"]

COMPILED: bool = False

if t.TYPE_CHECKING or os.environ.get("ERLEN_NO_EXTENSIONS", "") not in ("", "0"):
    from ._classes_py import PerClass, Unchanged, type_version
else:
    try:
        from ._classes_c import PerClass, Unchanged, type_version

        COMPILED = True
    except ImportError:
        from ._classes_py import PerClass, Unchanged, type_version
