"""The request and response classes, werkzeug's with the app's config and
routing information added.
"""

from __future__ import annotations

import typing as t
from functools import lru_cache

from werkzeug.datastructures import Headers
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Request as RequestBase
from werkzeug.wrappers import Response as ResponseBase

from . import json
from ._werkzeug import build_buffered
from ._werkzeug import environ_headers
from ._werkzeug import has_parsed_files
from ._werkzeug import send_buffered
from ._werkzeug import strict_body_stream
from ._werkzeug import wsgi_decoded
from .compat import charset_property
from .compat import ResponseHeaders
from .compat import text_cookie_argument
from .compat import warn_charset_class_attributes
from .globals import _cv_app

if t.TYPE_CHECKING:  # pragma: no cover
    from http import HTTPStatus

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.routing import Rule


class _ConfigLimit:
    """A request's body limit: the value set on the request, else the
    current app's config key, else werkzeug's default outside an app."""

    def __init__(self, config_key: str) -> None:
        self.config_key = config_key

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.default = getattr(RequestBase, name)

    def __get__(self, request: t.Any, owner: type | None = None) -> t.Any:
        if request is None:
            return self
        value = request.__dict__.get(self.name)
        if value is not None:
            return value
        ctx = _cv_app.get(None)
        if ctx is None:
            return self.default
        return ctx.app.config[self.config_key]

    def __set__(self, request: t.Any, value: int | None) -> None:
        request.__dict__[self.name] = value


class Request(RequestBase):
    """The request object: a :class:`werkzeug.wrappers.Request` that also
    carries what routing found (:attr:`url_rule`, :attr:`view_args`,
    :attr:`routing_exception`) and takes its body limits from the current
    app's config.

    Set ``app.request_class`` to a subclass to customize it.
    """

    json_module: t.Any = json
    """The module :meth:`get_json` parses with: :mod:`erlen.json`, so the
    app's JSON provider is used."""

    url_rule: Rule | None = None
    """The URL rule that matched the request, or ``None`` before matching
    or when nothing matched. Its ``methods`` say which methods the URL
    accepts."""

    view_args: dict[str, t.Any] | None = None
    """The arguments taken from the URL for the view, or ``None`` when
    matching failed."""

    routing_exception: Exception | None = None
    """The error URL matching raised (usually a
    :class:`~werkzeug.exceptions.NotFound`), kept until dispatch raises it."""

    max_content_length = _ConfigLimit("MAX_CONTENT_LENGTH")
    """The largest body, in bytes, this request may have; a larger one
    raises :exc:`~werkzeug.exceptions.RequestEntityTooLarge` (413) when the
    body is read. A value set on the request wins; otherwise it is the
    current app's ``MAX_CONTENT_LENGTH``. When the server streams the body
    without a length (``wsgi.input_terminated``), only this limit protects
    the app from reading an endless body."""

    max_form_memory_size = _ConfigLimit("MAX_FORM_MEMORY_SIZE")
    """The largest size, in bytes, of a non-file field of a multipart form,
    and of a whole urlencoded form (413 above it): the current app's
    ``MAX_FORM_MEMORY_SIZE`` unless set on the request."""

    max_form_parts = _ConfigLimit("MAX_FORM_PARTS")
    """The largest number of fields of a multipart form (413 above it): the
    current app's ``MAX_FORM_PARTS`` unless set on the request."""

    # Werkzeug 2.3 deprecated these and 3.0 removed them; code written for
    # werkzeug 2 reads or sets them. Text is UTF-8 whatever they say.
    charset = charset_property("Request", "charset")
    url_charset = charset_property("Request", "url_charset")
    encoding_errors = charset_property("Request", "encoding_errors")

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        warn_charset_class_attributes(
            cls, "Request", ("charset", "url_charset", "encoding_errors")
        )

    def __init__(
        self,
        environ: WSGIEnvironment,
        populate_request: bool = True,
        shallow: bool = False,
    ) -> None:
        # PERF: the same attributes, with the same values, as werkzeug's
        # constructor sets, which spends seven calls on these environ reads.
        # tests/test_werkzeug_privates.py compares the two.
        get = environ.get
        self.method = get("REQUEST_METHOD", "GET").upper()
        self.scheme = get("wsgi.url_scheme", "http")
        name = get("SERVER_NAME")
        if name is None:
            self.server = None
        else:
            try:
                port: int | None = int(get("SERVER_PORT", None))  # type: ignore[arg-type]
            except (TypeError, ValueError):  # a unix socket
                port = None
            self.server = (name, port)
        root_path = get("SCRIPT_NAME") or ""
        if not root_path.isascii():
            root_path = wsgi_decoded(root_path)
        self.root_path = root_path.rstrip("/")
        path = get("PATH_INFO") or ""
        if not path.isascii():
            path = wsgi_decoded(path)
        self.path = "/" + path.lstrip("/")
        self.query_string = get("QUERY_STRING", "").encode("latin1")
        self.headers = environ_headers(environ)
        self.remote_addr = get("REMOTE_ADDR")
        self.environ = environ
        self.shallow = shallow
        if populate_request and not shallow:
            environ["werkzeug.request"] = self

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule, or ``None`` if nothing matched
        yet. With :attr:`view_args` it identifies the view being run."""
        if self.url_rule is None:
            return None
        return self.url_rule.endpoint  # type: ignore[no-any-return]

    @property
    def blueprint(self) -> str | None:
        """The registered name of the blueprint the endpoint belongs to
        (dotted for nested blueprints, ``"parent.child"``), or ``None`` for
        an app endpoint or when nothing matched."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The current blueprint followed by its parents, innermost first:
        ``["a.b", "a"]`` for an endpoint in the blueprint ``a.b``. Empty when
        there is no current blueprint."""
        name = self.blueprint
        return [] if name is None else list(_blueprint_chain(name))

    def close(self) -> None:
        """Close the uploaded files, if the form was parsed."""
        # PERF: werkzeug's close() has nothing else to do.
        if has_parsed_files(self):
            super().close()

    def _load_form_data(self) -> None:
        super()._load_form_data()
        # Only in debug mode: explain a file that arrived as a form field.
        ctx = _cv_app.get(None)
        if (
            ctx is not None
            and ctx.app.debug
            and self.mimetype != "multipart/form-data"
            and not self.files
        ):
            from .debughelpers import attach_enctype_error_multidict

            attach_enctype_error_multidict(self)

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The parsed query string. Raw bytes that are not UTF-8 (a client
        must percent-encode them) are a 400, not a server error."""
        try:
            return RequestBase.args.fget(self)  # type: ignore[attr-defined,no-any-return]
        except UnicodeDecodeError:
            raise BadRequest(
                "The query string is not valid UTF-8: percent-encode"
                " non-ASCII bytes."
            ) from None

    @cached_property
    def stream(self) -> t.IO[bytes]:
        """The body stream. A body that the server terminates itself
        (chunked) and that goes past :attr:`max_content_length` is a 413, as
        one with a too large ``Content-Length`` is, not silently cut short."""
        return strict_body_stream(RequestBase.stream.fget(self))  # type: ignore[attr-defined,no-any-return]

    def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
        """Called when :meth:`get_json` cannot parse the body (or the
        content type is not JSON, with ``e`` ``None``). Raises a 400
        :exc:`~werkzeug.exceptions.BadRequest`; in debug mode its
        description says what went wrong."""
        try:
            return super().on_json_loading_failed(e)
        except BadRequest as error:
            ctx = _cv_app.get(None)
            if ctx is not None and ctx.app.debug:
                raise
            # Outside debug mode the parser's message is not shown to clients.
            raise BadRequest() from error


@lru_cache(maxsize=256)
def _blueprint_chain(name: str) -> tuple[str, ...]:
    # "a.b.c" -> ("a.b.c", "a.b", "a"): the nested blueprint and its parents.
    chain = [name]
    while "." in name:
        name = name.rpartition(".")[0]
        chain.append(name)
    return tuple(chain)


@lru_cache(maxsize=64)
def _content_type(mimetype: str) -> str:
    value = get_content_type(mimetype, "utf-8")
    if "\n" in value or "\r" in value:  # as Headers checks every value
        raise ValueError("Header values must not contain newline characters.")
    return value


# What Response's constructor and __call__ do themselves, instead of calling
# werkzeug's methods, while a class keeps werkzeug's own.
_BUILD_STEPS = ("set_data", "status", "status_code")
_SEND_STEPS = (
    "get_wsgi_response",
    "get_wsgi_headers",
    "get_app_iter",
    "iter_encoded",
    "close",
    "status",
    "status_code",
)


def _keeps(cls: type, names: tuple[str, ...]) -> bool:
    return all(getattr(cls, name) is getattr(ResponseBase, name) for name in names)


class Response(ResponseBase):
    """The response object: a :class:`werkzeug.wrappers.Response` that
    defaults to an HTML mimetype. Views rarely build it themselves;
    ``app.make_response`` converts their return values.

    Set ``app.response_class`` to a subclass to customize it.
    """

    default_mimetype: str | None = "text/html"

    json_module = json
    """The module :attr:`json` and :meth:`get_json` parse with."""

    autocorrect_location_header = False

    # Whether the class builds and sends itself as werkzeug's Response does,
    # worked out once per class: see __init_subclass__.
    _builds_plainly = True
    _sends_plainly = True

    # Werkzeug 2.3 deprecated it and 3.0 removed it; code written for
    # werkzeug 2 reads or sets it. Text is UTF-8 whatever it says.
    charset = charset_property("Response", "charset")

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._builds_plainly = _keeps(cls, _BUILD_STEPS)
        cls._sends_plainly = _keeps(cls, _SEND_STEPS)
        warn_charset_class_attributes(cls, "Response", ("charset",))

    def __init__(
        self,
        response: t.Iterable[bytes] | bytes | t.Iterable[str] | str | None = None,
        status: int | str | HTTPStatus | None = None,
        headers: t.Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        if (
            headers is not None
            or content_type is not None
            or direct_passthrough
            or not self._builds_plainly
            or type(response) not in (str, bytes)
        ):
            if not isinstance(headers, Headers):
                headers = ResponseHeaders(headers)
            super().__init__(
                response, status, headers, mimetype, content_type, direct_passthrough
            )
            return
        # PERF: a body of text or bytes and no headers, which is what views
        # return most: see build_buffered().
        if mimetype is None:
            mimetype = self.default_mimetype
        build_buffered(
            self,
            response.encode() if type(response) is str else response,  # type: ignore[arg-type]
            None if mimetype is None else _content_type(mimetype),
            self.default_status if status is None else status,
        )

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        """Send the status and headers through ``start_response`` and return
        the body iterable (see :meth:`werkzeug.wrappers.Response.__call__`)."""
        if self._sends_plainly:
            # PERF: a buffered body of bytes: see send_buffered().
            body = send_buffered(self, environ, start_response)
            if body is not None:
                return body
        return super().__call__(environ, start_response)

    def set_cookie(
        self, key: str, value: str = "", *args: t.Any, **kwargs: t.Any
    ) -> None:
        """Set a cookie (see :meth:`werkzeug.wrappers.Response.set_cookie`).

        A ``bytes`` key or value, which werkzeug 3 no longer takes, is
        decoded as UTF-8 with a deprecation warning, as werkzeug 2.3 did.
        """
        if type(key) is not str or type(value) is not str:
            key = text_cookie_argument("key", key)
            value = text_cookie_argument("value", value)
        super().set_cookie(key, value, *args, **kwargs)

    def delete_cookie(self, key: str, *args: t.Any, **kwargs: t.Any) -> None:
        """Delete a cookie (see
        :meth:`werkzeug.wrappers.Response.delete_cookie`). A ``bytes`` key
        is decoded as UTF-8 with a deprecation warning."""
        if type(key) is not str:
            key = text_cookie_argument("key", key)
        super().delete_cookie(key, *args, **kwargs)

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """The size above which setting a cookie warns: the current app's
        ``MAX_COOKIE_SIZE``, or werkzeug's default outside an app context."""
        ctx = _cv_app.get(None)
        if ctx is None:
            return super().max_cookie_size
        return ctx.app.config["MAX_COOKIE_SIZE"]  # type: ignore[no-any-return]


def __getattr__(name: str) -> t.Any:
    # Names Flask removed (JSONMixin): see erlen.compat.
    from . import compat

    return compat.legacy_attribute(
        __name__, name, compat.LEGACY_MODULE_ATTRIBUTES["erlen.wrappers"]
    )
