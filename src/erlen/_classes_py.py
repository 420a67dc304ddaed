"""Facts about classes: the pure-Python twin of ``erlen._classes_c``.

Python code cannot read the interpreter's version tags of classes, so
:func:`type_version` always says "none" (0) and :class:`Unchanged` looks
afresh every time: the same answers as the compiled module, found more
slowly.
"""

from __future__ import annotations

import typing as t

__all__ = ["Unchanged", "type_version"]


def type_version(cls: type) -> int:
    """0: no version tag can be read here (see the module docstring)."""
    if not isinstance(cls, type):
        raise TypeError(f"expected a class, got {type(cls).__name__}")
    return 0


class Unchanged:
    """``Unchanged(Base, "a", "b")(cls)`` is true when ``cls.a`` and
    ``cls.b`` are still ``Base``'s own: no subclass overrides them and
    nothing has patched them."""

    def __init__(self, base: type, *names: str) -> None:
        self.expected: dict[str, t.Any] = {name: getattr(base, name) for name in names}
        self.known: dict[type, int] = {}  # always empty: nothing to remember by

    def __call__(self, cls: type) -> bool:
        if not isinstance(cls, type):
            raise TypeError(f"expected a class, got {type(cls).__name__}")
        for name, value in self.expected.items():
            if getattr(cls, name, None) is not value:
                return False
        return True
