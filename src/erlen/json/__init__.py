"""JSON helpers that follow the current application's JSON provider.

Inside an application context, :func:`dumps`, :func:`dump`, :func:`loads`
and :func:`load` call ``app.json``, so an app that swaps or configures its
provider changes them too. Outside one they fall back to the standard
library, with :meth:`.DefaultJSONProvider.default` added to :func:`dumps` so
dates, decimals, UUIDs, dataclasses and HTML objects still serialize.
"""

from __future__ import annotations

import json as _json
import typing as t

from .. import compat as _compat
from ..globals import _cv_app
from ..globals import _no_app_msg
from .provider import _default
from .provider import _loads_bounded

if t.TYPE_CHECKING:  # pragma: no cover
    from ..sansio.app import App
    from ..wrappers import Response


def dumps(obj: t.Any, *, app: App | None = None, **kwargs: t.Any) -> str:
    """Serialize ``obj`` to a JSON string.

    :param obj: The data to serialize.
    :param app: Use this app's provider (removed from Flask in 2.3; call
        ``app.json.dumps`` instead). ``encoding=`` (removed in 2.1) returns
        bytes in that encoding.
    :param kwargs: Passed to the provider's (or :func:`json.dumps`'s)
        ``dumps``.
    """
    if app is not None or "encoding" in kwargs:
        return _compat.legacy_json_call("dumps", app, (obj,), kwargs)  # type: ignore[no-any-return]

    ctx = _cv_app.get(None)

    if ctx is not None:
        return ctx.app.json.dumps(obj, **kwargs)

    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: t.Any, fp: t.IO[str], *, app: App | None = None, **kwargs: t.Any) -> None:
    """Serialize ``obj`` as JSON and write it to the text file ``fp``.

    :param obj: The data to serialize.
    :param fp: A file opened for writing text.
    :param app: Use this app's provider (removed from Flask in 2.3; call
        ``app.json.dump`` instead). With ``encoding=`` (removed in 2.1),
        ``fp`` is a binary file written in that encoding.
    :param kwargs: Passed to the provider's (or :func:`json.dump`'s) ``dump``.
    """
    if app is not None or "encoding" in kwargs:
        return _compat.legacy_json_call("dump", app, (obj, fp), kwargs)  # type: ignore[no-any-return]

    ctx = _cv_app.get(None)

    if ctx is not None:
        ctx.app.json.dump(obj, fp, **kwargs)
        return

    kwargs.setdefault("default", _default)
    _json.dump(obj, fp, **kwargs)


def loads(s: str | bytes, *, app: App | None = None, **kwargs: t.Any) -> t.Any:
    """Deserialize a JSON string or bytes.

    :param s: The text or UTF-8 bytes to parse.
    :param app: Use this app's provider (removed from Flask in 2.3; call
        ``app.json.loads`` instead). With ``encoding=`` (removed in 2.1),
        bytes are decoded with it.
    :param kwargs: Passed to the provider's (or :func:`json.loads`'s)
        ``loads``.
    """
    if app is not None or "encoding" in kwargs:
        return _compat.legacy_json_call("loads", app, (s,), kwargs)

    ctx = _cv_app.get(None)

    if ctx is not None:
        return ctx.app.json.loads(s, **kwargs)

    return _loads_bounded(s, **kwargs)


def load(fp: t.IO[t.AnyStr], *, app: App | None = None, **kwargs: t.Any) -> t.Any:
    """Deserialize JSON read from the file ``fp``.

    :param fp: A file opened for reading text or UTF-8 bytes.
    :param app: Use this app's provider (removed from Flask in 2.3; call
        ``app.json.load`` instead). With ``encoding=`` (removed in 2.1), a
        binary file is decoded with it.
    :param kwargs: Passed to the provider's (or :func:`json.load`'s) ``load``.
    """
    if app is not None or "encoding" in kwargs:
        return _compat.legacy_json_call("load", app, (fp,), kwargs)

    ctx = _cv_app.get(None)

    if ctx is not None:
        return ctx.app.json.load(fp, **kwargs)

    return _loads_bounded(fp.read(), **kwargs)


def jsonify(*args: t.Any, **kwargs: t.Any) -> Response:
    """Return a response whose body is the arguments serialized as JSON,
    with the ``application/json`` mimetype.

    One positional argument is serialized as it is, several become a list,
    and keyword arguments become an object. Passing both positional and
    keyword arguments is a :exc:`TypeError`. The output is indented when the
    app is in debug mode.

    A view can also return a dict or list directly, which does the same.

    :raises RuntimeError: Outside of an application context.
    """
    ctx = _cv_app.get(None)

    if ctx is None:
        raise RuntimeError(_no_app_msg)

    return ctx.app.json.response(*args, **kwargs)  # type: ignore[return-value]


class _JSONEncoder(_json.JSONEncoder):
    """The encoder Flask used before JSON providers (removed in Flask 2.3):
    :class:`json.JSONEncoder` that also serializes what
    :class:`~erlen.json.provider.DefaultJSONProvider` does. Kept for code
    that subclasses it or sets ``app.json_encoder``."""

    def default(self, o: t.Any) -> t.Any:
        return _default(o)


class _JSONDecoder(_json.JSONDecoder):
    """The decoder Flask used before JSON providers (removed in Flask 2.3):
    the standard :class:`json.JSONDecoder`."""


def _htmlsafe_dumps(obj: t.Any, **kwargs: t.Any) -> t.Any:
    """Serialize ``obj`` with :func:`dumps` for use inside HTML (``<``,
    ``>``, ``&`` and ``'`` escaped) and mark it safe with
    :class:`~markupsafe.Markup`. Removed from Flask in 2.3; Jinja's
    ``|tojson`` filter does the same."""
    from jinja2.utils import htmlsafe_json_dumps

    return htmlsafe_json_dumps(obj, dumps=dumps, **kwargs)


def _htmlsafe_dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    """Write :func:`htmlsafe_dumps` of ``obj`` to the text file ``fp``.
    Removed from Flask in 2.3."""
    fp.write(str(_htmlsafe_dumps(obj, **kwargs)))


_htmlsafe_dumps.__name__ = _htmlsafe_dumps.__qualname__ = "htmlsafe_dumps"
_htmlsafe_dump.__name__ = _htmlsafe_dump.__qualname__ = "htmlsafe_dump"

_JSONEncoder.__name__ = _JSONEncoder.__qualname__ = "JSONEncoder"
_JSONDecoder.__name__ = _JSONDecoder.__qualname__ = "JSONDecoder"

# Reachable only through __getattr__, so that using them warns once.
_LEGACY_JSON = {
    "JSONEncoder": (
        "a JSONProvider (app.json) or 'json.JSONEncoder'",
        "removed in Flask 2.3",
        lambda: _JSONEncoder,
    ),
    "JSONDecoder": (
        "a JSONProvider (app.json) or 'json.JSONDecoder'",
        "removed in Flask 2.3",
        lambda: _JSONDecoder,
    ),
    "htmlsafe_dumps": (
        "'jinja2.utils.htmlsafe_json_dumps' (the |tojson filter)",
        "removed in Flask 2.3",
        lambda: _htmlsafe_dumps,
    ),
    "htmlsafe_dump": (
        "'jinja2.utils.htmlsafe_json_dumps' (the |tojson filter)",
        "removed in Flask 2.3",
        lambda: _htmlsafe_dump,
    ),
    "tojson_filter": (
        "Jinja's |tojson filter",
        "removed in Flask 2.0",
        lambda: _htmlsafe_dumps,
    ),
    "detect_encoding": (
        "'json.detect_encoding'",
        "removed in Flask 2.0",
        lambda: _json.detect_encoding,
    ),
}


def __getattr__(name: str) -> t.Any:
    return _compat.legacy_attribute(__name__, name, _LEGACY_JSON)
