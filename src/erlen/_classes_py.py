"""Facts about classes: the pure-Python twin of ``erlen._classes_c``.

Python code cannot read the interpreter's version tags of classes, so
:func:`type_version` always says "none" (0) and :class:`Unchanged` looks
afresh every time: the same answers as the compiled module, found more
slowly.
"""

from __future__ import annotations

import typing as t

__all__ = ["PerClass", "Unchanged", "type_version"]


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
        return self.check(cls)

    def check(self, cls: type) -> bool:
        """The answer; the compiled twin's cheaper call."""
        if not isinstance(cls, type):
            raise TypeError(f"expected a class, got {type(cls).__name__}")
        for name, value in self.expected.items():
            if getattr(cls, name, None) is not value:
                return False
        return True

    def check_object(self, obj: object) -> bool:
        """``check(type(obj))``, and none of the names set on ``obj``
        itself (the compiled twin remembers a true answer for an unchanged
        instance dict)."""
        own = getattr(obj, "__dict__", None)
        if own is not None and not own.keys().isdisjoint(self.expected):
            return False
        # check()'s loop, without a second call (fewer calls per request).
        cls = type(obj)
        for name, value in self.expected.items():
            if getattr(cls, name, None) is not value:
                return False
        return True


class PerClass:
    """``PerClass(build).get(cls)`` is ``build(cls)``; the compiled twin
    remembers it while the class is unchanged, this one builds it afresh."""

    def __init__(self, build: t.Callable[[type], t.Any]) -> None:
        self.build = build
        self.known: dict[type, t.Any] = {}  # always empty, as for Unchanged

    def get(self, cls: type) -> t.Any:
        type_version(cls)  # the same error for a non-class
        return self.build(cls)
