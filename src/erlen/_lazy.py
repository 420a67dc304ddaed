"""Attributes made when first read."""

from __future__ import annotations

import typing as t


class OnFirstRead:
    """An attribute that is ``make(obj)``, made when it is first read and
    then kept in the instance (setting it replaces it, as for a plain
    attribute; it is a non-data descriptor, so the kept value is found
    without calling it again).

    PERF: for what most requests never read: the ``g`` of an app context,
    most of the request attributes werkzeug's constructor sets. (CPython
    3.11 cannot specialize reads of such an attribute, so what the request
    path itself reads is a plain attribute instead.)
    """

    def __init__(self, make: t.Callable[[t.Any], t.Any]) -> None:
        self.make = make
        self.name = make.__name__
        self.__doc__ = make.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: t.Any, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.make(obj)
        return value
