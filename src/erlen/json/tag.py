"""Compact JSON that keeps some Python types JSON lacks, used for the
session cookie.

A value of a tagged type is written as an object with a single key, the
tag, whose value is the JSON form of the data: ``(1, 2)`` becomes
``{" t": [1, 2]}``. The tag keys start with a space so that they are
unlikely to clash with real keys; a dict that happens to have a single
tag-like key is itself wrapped (``" di"``) so that it loads back as a dict.

The default tags, tried in this order:

=========  ========================================  ========================
key        type                                      JSON form
=========  ========================================  ========================
``" di"``  dict with one key that is a tag key       the key with ``__`` added
(none)     dict                                      items tagged in turn
``" t"``   :class:`tuple`                            list
(none)     :class:`list`                             items tagged in turn
``" b"``   :class:`bytes`                            base64 text
``" m"``   objects with ``__html__``                 the HTML text (as Markup)
``" u"``   :class:`uuid.UUID`                        hex text
``" d"``   :class:`datetime.datetime`                HTTP date text
=========  ========================================  ========================

The format is the one Flask's session cookie uses, so cookies written by
either framework load in the other.

To add a type, subclass :class:`JSONTag` and register it::

    from collections import OrderedDict

    class TagOrderedDict(JSONTag):
        __slots__ = ("serializer",)
        key = " od"

        def check(self, value):
            return isinstance(value, OrderedDict)

        def to_json(self, value):
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value):
            return OrderedDict(value)

    app.session_interface.serializer.register(TagOrderedDict, index=0)
"""

from __future__ import annotations

import typing as t
from base64 import b64decode
from base64 import b64encode
from datetime import datetime
from uuid import UUID

from markupsafe import Markup
from werkzeug.http import http_date
from werkzeug.http import parse_date

from ..json import dumps as _dumps
from ..json import loads as _loads


class JSONTag:
    """The base class of a type tag for :class:`TaggedJSONSerializer`.

    :param serializer: The serializer the tag belongs to; :meth:`to_json`
        uses it to tag nested values.
    """

    __slots__ = ("serializer",)

    key: str = ""
    """The key that marks the tagged object in JSON. An empty key makes a
    pass-through tag: it transforms the value (for example tags the items of
    a list) without wrapping it."""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: t.Any) -> bool:
        """Return whether this tag handles ``value``."""
        raise NotImplementedError

    def to_json(self, value: t.Any) -> t.Any:
        """Turn ``value`` into something JSON can hold. Nested values must
        be tagged with the serializer."""
        raise NotImplementedError

    def to_python(self, value: t.Any) -> t.Any:
        """Turn the JSON form back into the Python value. Nested values were
        already untagged."""
        raise NotImplementedError

    def tag(self, value: t.Any) -> t.Any:
        """Convert ``value`` and wrap it in ``{key: ...}``."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """Wraps a dict whose only key is a registered tag key, which would
    otherwise be read back as a tagged value. The key gets ``__`` appended
    on the way out and removed on the way in."""

    __slots__ = ()
    key = " di"

    def check(self, value: t.Any) -> bool:
        if not isinstance(value, dict) or len(value) != 1:
            return False

        return next(iter(value)) in self.serializer.tags

    def to_json(self, value: t.Any) -> t.Any:
        ((k, v),) = value.items()
        return {f"{k}__": self.serializer.tag(v)}

    def to_python(self, value: t.Any) -> t.Any:
        ((k, v),) = value.items()
        return {k[:-2]: v}


class PassDict(JSONTag):
    """Tags the values of a dict, leaving the dict itself unwrapped."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, dict)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        # JSON object keys are always strings, so only values need tagging.
        return {k: tag(v) for k, v in value.items()}

    tag = to_json


class TagTuple(JSONTag):
    """A tuple, written as a list."""

    __slots__ = ()
    key = " t"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    def to_python(self, value: t.Any) -> t.Any:
        return tuple(value)


class PassList(JSONTag):
    """Tags the items of a list, leaving the list itself unwrapped."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, list)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    tag = to_json


class TagBytes(JSONTag):
    """Bytes, written as standard base64 text."""

    __slots__ = ()
    key = " b"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: t.Any) -> t.Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: t.Any) -> t.Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """An object with an ``__html__`` method, such as
    :class:`~markupsafe.Markup`. It is written as its HTML text and always
    loads back as :class:`~markupsafe.Markup`."""

    __slots__ = ()
    key = " m"

    def check(self, value: t.Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: t.Any) -> t.Any:
        return str(value.__html__())

    def to_python(self, value: t.Any) -> t.Any:
        return Markup(value)


class TagUUID(JSONTag):
    """A :class:`~uuid.UUID`, written as its 32 hex digits."""

    __slots__ = ()
    key = " u"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, UUID)

    def to_json(self, value: t.Any) -> t.Any:
        return value.hex

    def to_python(self, value: t.Any) -> t.Any:
        return UUID(value)


class TagDateTime(JSONTag):
    """A :class:`~datetime.datetime`, written as an HTTP date. The format
    has one-second precision and loads back as an aware datetime in UTC."""

    __slots__ = ()
    key = " d"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: t.Any) -> t.Any:
        return http_date(value)

    def to_python(self, value: t.Any) -> t.Any:
        return parse_date(value)


_BUILTIN_TAGS = (
    TagDict,
    PassDict,
    TagTuple,
    PassList,
    TagBytes,
    TagMarkup,
    TagUUID,
    TagDateTime,
)

# Exact types that none of the built-in tags claim and that JSON holds as
# they are.
_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))


class TaggedJSONSerializer:
    """Serializes values to compact tagged JSON and back. The session
    interface uses one as the itsdangerous payload serializer.

    :attr:`default_tags` are registered at creation, in order; the first tag
    whose :meth:`~JSONTag.check` accepts a value is used.
    """

    __slots__ = ("tags", "order", "_plain_fast")

    default_tags = list(_BUILTIN_TAGS)
    """The tag classes registered when a serializer is created."""

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        self._plain_fast = True

        for cls in self.default_tags:
            self.register(cls)

    def register(
        self,
        tag_class: type[JSONTag],
        force: bool = False,
        index: int | None = None,
    ) -> None:
        """Register a new tag.

        :param tag_class: The :class:`JSONTag` subclass; it is instantiated
            with this serializer.
        :param force: Replace a registered tag that has the same key instead
            of raising.
        :param index: Where to insert the tag in the checking order; ``None``
            appends it.
        :raises KeyError: The key is already registered and ``force`` is
            false.
        """
        tag = tag_class(self)
        key = tag.key

        if key:
            if not force and key in self.tags:
                raise KeyError(f"Tag '{key}' is already registered.")

            self.tags[key] = tag

        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

        # PERF: scalars skip the tag scan, which is only sound while every tag
        # is a built-in one that ignores them.
        self._plain_fast = all(type(x) in _BUILTIN_TAGS for x in self.order)

    def tag(self, value: t.Any) -> t.Any:
        """Convert ``value`` to its tagged JSON-ready form, recursively."""
        if self._plain_fast and type(value) in _PLAIN_TYPES:
            return value

        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)

        return value

    def untag(self, value: dict[str, t.Any]) -> t.Any:
        """Convert a tagged object back to its Python value. Objects that
        are not tagged are returned unchanged."""
        if len(value) != 1:
            return value

        key = next(iter(value))
        tag = self.tags.get(key)

        if tag is None:
            return value

        return tag.to_python(value[key])

    def _untag_scan(self, value: t.Any) -> t.Any:
        if isinstance(value, dict):
            # Children first, so that each tag's to_python sees plain values.
            scan = self._untag_scan
            return self.untag({k: scan(v) for k, v in value.items()})

        if isinstance(value, list):
            scan = self._untag_scan
            return [scan(item) for item in value]

        return value

    def dumps(self, value: t.Any) -> str:
        """Tag ``value`` and serialize it to compact JSON."""
        return _dumps(self.tag(value), separators=(",", ":"))

    def loads(self, value: str | bytes) -> t.Any:
        """Parse JSON made by :meth:`dumps` and untag it."""
        return self._untag_scan(_loads(value))
