"""JSON providers: the object behind ``app.json`` that serializes data and
builds JSON responses for one application.
"""

from __future__ import annotations

import dataclasses
import decimal
import json
import typing as t
import uuid
import weakref
from datetime import date

from werkzeug.http import http_date

from .. import compat as _compat

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.sansio.response import Response

    from ..sansio.app import App


class JSONProvider:
    """The interface of an application's JSON support, with no opinion on
    the encoder. Subclass it to use another JSON library: :meth:`dumps` and
    :meth:`loads` are required; :meth:`dump`, :meth:`load` and
    :meth:`response` are built on them.

    Install a provider by setting ``json_provider_class`` on a ``Flask``
    subclass, or by assigning an instance to ``app.json``.

    :param app: The application this provider serves. Only a weak proxy is
        kept, so the provider does not keep the app alive.
    """

    def __init__(self, app: App) -> None:
        self._app: App = weakref.proxy(app)

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string.

        :param obj: The data to serialize.
        :param kwargs: Passed to the underlying library.
        """
        raise NotImplementedError

    def dump(self, obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
        """Serialize ``obj`` and write it to the text file ``fp``.

        :param obj: The data to serialize.
        :param fp: A file opened for writing text.
        :param kwargs: Passed to :meth:`dumps`.
        """
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Deserialize a JSON string or UTF-8 bytes.

        :param s: The text to parse.
        :param kwargs: Passed to the underlying library.
        """
        raise NotImplementedError

    def load(self, fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
        """Deserialize the whole content of the file ``fp``.

        :param fp: A file opened for reading text or UTF-8 bytes.
        :param kwargs: Passed to :meth:`loads`.
        """
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> t.Any:
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both")
        if not args:
            return kwargs or None
        return args[0] if len(args) == 1 else list(args)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Build a response whose body is the arguments serialized as JSON,
        with the ``application/json`` mimetype.

        One positional argument is serialized as it is, several become a
        list, keyword arguments become an object, and nothing becomes
        ``null``. Positional and keyword arguments together are a
        :exc:`TypeError`.
        """
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")


def _loads_bounded(s: str | bytes, **kwargs: t.Any) -> t.Any:
    """:func:`json.loads`, with nesting too deep for the parser reported as
    the invalid input it is (a :exc:`ValueError`, so a request answers 400),
    not as a :exc:`RecursionError` that would look like a server crash."""
    try:
        return json.loads(s, **kwargs)
    except RecursionError:
        raise ValueError("JSON is nested too deeply") from None


def _default(o: t.Any) -> t.Any:
    # ``datetime`` is a ``date`` subclass, so this also covers datetimes.
    if isinstance(o, date):
        return http_date(o)

    if isinstance(o, (decimal.Decimal, uuid.UUID)):
        return str(o)

    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)

    html = getattr(o, "__html__", None)

    if html is not None:
        return str(html())

    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class DefaultJSONProvider(JSONProvider):
    """The provider used by default, built on the standard :mod:`json`
    module. Beyond the types JSON knows, it serializes:

    -   :class:`datetime.datetime` and :class:`datetime.date` as HTTP date
        strings (RFC 822, in GMT);
    -   :class:`uuid.UUID` and :class:`decimal.Decimal` as strings;
    -   dataclass instances through :func:`dataclasses.asdict`;
    -   objects with an ``__html__`` method (like :class:`~markupsafe.Markup`)
        as the string that method returns.
    """

    default: t.Callable[[t.Any], t.Any] = staticmethod(_default)
    """Turns an object the encoder does not know into one it knows; passed as
    ``default`` to :func:`json.dumps`. Assign another function on the class
    or an instance to support more types."""

    ensure_ascii = True
    """Escape non-ASCII characters as ``\\uXXXX``. Turning it off lets the
    JSON contain them as they are."""

    sort_keys = True
    """Sort the keys of every object, so that output is stable and caches
    see the same bytes for the same data. All keys must then be strings."""

    compact: bool | None = None
    """Whether :meth:`response` writes compact JSON. ``None`` (the default)
    means compact unless the app is in debug mode, where it indents;
    ``True`` and ``False`` force one or the other."""

    mimetype = "application/json"
    """The mimetype of responses made by :meth:`response`."""

    legacy_encoder: type[json.JSONEncoder] | None = None
    """The encoder class set with ``app.json_encoder`` (an API Flask removed
    in 2.3), used by :meth:`dumps` when set."""

    legacy_decoder: type[json.JSONDecoder] | None = None
    """The decoder class set with ``app.json_decoder`` (removed in Flask 2.3),
    used by :meth:`loads` when set."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        # An app class written for Flask < 2.3 may set the classes on itself.
        for attr, slot in (
            ("json_encoder", "legacy_encoder"),
            ("json_decoder", "legacy_decoder"),
        ):
            value = getattr(type(app), attr, None)
            if isinstance(value, type):
                setattr(self, slot, value)

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` with :func:`json.dumps`, using :attr:`default`,
        :attr:`ensure_ascii` and :attr:`sort_keys` unless ``kwargs`` says
        otherwise. The ``JSON_AS_ASCII`` and ``JSON_SORT_KEYS`` config keys
        (removed from Flask in 2.3) override the attributes when set.
        """
        encoder = self.legacy_encoder
        if _compat.blueprint_json_classes_in_use:
            encoder = _compat.blueprint_json_class(self._app, "json_encoder") or encoder
        if encoder is not None:
            # ``app.json_encoder`` (Flask < 2.3): its own ``default`` wins.
            kwargs.setdefault("cls", encoder)
        if encoder is None or encoder.default is json.JSONEncoder.default:
            kwargs.setdefault("default", self.default)
        # The config keys Flask 2.3 removed win over the attributes when set.
        config = self._app.config
        ensure_ascii = _compat.legacy_json_setting(config, "JSON_AS_ASCII")
        sort_keys = _compat.legacy_json_setting(config, "JSON_SORT_KEYS")
        kwargs.setdefault(
            "ensure_ascii", self.ensure_ascii if ensure_ascii is None else ensure_ascii
        )
        kwargs.setdefault(
            "sort_keys", self.sort_keys if sort_keys is None else sort_keys
        )
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Deserialize with :func:`json.loads`."""
        decoder = self.legacy_decoder
        if _compat.blueprint_json_classes_in_use:
            decoder = _compat.blueprint_json_class(self._app, "json_decoder") or decoder
        if decoder is not None:
            kwargs.setdefault("cls", decoder)
        return _loads_bounded(s, **kwargs)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Build a JSON response from the arguments, as
        :meth:`JSONProvider.response` describes, with :attr:`mimetype`. The
        body is indented by two spaces in debug mode (or when
        :attr:`compact` is ``False``), compact otherwise, and ends with a
        newline. The ``JSONIFY_PRETTYPRINT_REGULAR`` and ``JSONIFY_MIMETYPE``
        config keys (removed from Flask in 2.3) override :attr:`compact` and
        :attr:`mimetype` when set.
        """
        obj = self._prepare_response_obj(args, kwargs)
        compact = self.compact
        mimetype = self.mimetype
        # The config keys Flask 2.3 removed win over the attributes when set.
        config = self._app.config
        pretty = _compat.legacy_json_setting(config, "JSONIFY_PRETTYPRINT_REGULAR")
        if pretty is not None:
            compact = not pretty
        mimetype = _compat.legacy_json_setting(config, "JSONIFY_MIMETYPE") or mimetype

        if compact is False or (compact is None and self._app.debug):
            body = self.dumps(obj, indent=2)
        else:
            body = self.dumps(obj, separators=(",", ":"))

        return self._app.response_class(f"{body}\n", mimetype=mimetype)
