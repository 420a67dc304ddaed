"""The request and response classes, werkzeug's with the app's config and
routing information added.
"""

from __future__ import annotations

import typing as t
from functools import lru_cache

from werkzeug.datastructures import EnvironHeaders
from werkzeug.datastructures import Headers
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Request as RequestBase
from werkzeug.wrappers import Response as ResponseBase

from . import json
from ._lazy import OnFirstRead
from ._overrides import PerClass
from ._overrides import Unchanged

from . import globals as _globals

# Bound by assignment for speed: see the PERF note in erlen.ctx.
_cv_app = _globals._cv_app

if t.TYPE_CHECKING:  # pragma: no cover
    from http import HTTPStatus

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.routing import Rule


_new = object.__new__
_base_request_init = RequestBase.__init__
_base_response_init = ResponseBase.__init__
_base_clean_status = ResponseBase._clean_status
# Whether a response class still stores its body, and cleans and stores its
# status, as werkzeug's does: Response's constructor does that work inline
# only then.
_sets_data_plainly = Unchanged(ResponseBase, "set_data")
_sets_status_plainly = Unchanged(ResponseBase, "status", "_clean_status")
_base_call = ResponseBase.__call__


def _headers_are_a_list() -> bool:
    # The fast paths below read and fill werkzeug's Headers list of (key,
    # value) tuples directly. Check once that this werkzeug keeps them so;
    # if not, every fast path steps aside for werkzeug's own code.
    try:
        headers = Headers([("A", "1")])
        headers["B"] = "2"
        environ_headers = _new(EnvironHeaders)
        environ_headers._list = []
        environ_headers.environ = {"HTTP_X": "y"}
        return (
            headers._list == [("A", "1"), ("B", "2")]
            and list(headers) == headers._list
            and environ_headers == EnvironHeaders(environ_headers.environ)
            and environ_headers.get("X") == "y"
            and "_list" in EnvironHeaders({}).__dict__
        )
    except Exception:  # pragma: no cover - a werkzeug we do not know
        return False


_FAST = _headers_are_a_list()

# Content types made from mimetypes, and clean statuses from status values;
# both are pure functions of their input.
_content_types: dict[str, str] = {}
_statuses: dict[t.Any, tuple[str, int]] = {}


def _content_type(mimetype: str) -> str:
    try:
        return _content_types[mimetype]
    except KeyError:
        pass
    value = get_content_type(mimetype, "utf-8")
    # The same check Headers applies to a value: no line breaks.
    if "\n" in value or "\r" in value:
        raise ValueError("Header values must not contain newline characters.")
    if len(_content_types) < 256:
        _content_types[mimetype] = value
    return value


@lru_cache(maxsize=256)
def _blueprint_chain(name: str) -> tuple[str, ...]:
    # "a.b.c" -> ("a.b.c", "a.b", "a"): the nested blueprint and its parents.
    chain = [name]

    while "." in name:
        name = name.rpartition(".")[0]
        chain.append(name)

    return tuple(chain)


class _MaxBodyStream(LimitedStream):
    """werkzeug's stream for a terminated body under a maximum length, which
    also notices a body that goes on past the maximum: reading up to the
    limit alone never looks further."""

    def readinto(self, b: t.Any) -> int | None:
        size = super().readinto(b)
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return size


class _FilesProperty(cached_property):  # type: ignore[type-arg]
    """werkzeug's cached ``files``, also noting on the request that a value
    was set directly (see ``Request._form_loaded``)."""

    def __set__(self, obj: t.Any, value: t.Any) -> None:
        obj._form_loaded = True
        super().__set__(obj, value)


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

    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None

    # Whether ``files`` may be in the instance dict, that is whether close()
    # has anything to close. The constructor sets it False; loading the form
    # and setting ``files`` set it True. A subclass whose constructor skips
    # ours keeps this default, which says "look".
    # PERF: the request context's pop() reads this instead of looking into
    # ``request.__dict__``, which CPython 3.11 would have to make for it.
    _form_loaded = True

    def __init__(
        self,
        environ: WSGIEnvironment,
        populate_request: bool = True,
        shallow: bool = False,
    ) -> None:
        if not _FAST:  # pragma: no cover - see _headers_are_a_list()
            _base_request_init(self, environ, populate_request, shallow)
            return
        # PERF: werkzeug's constructor spends seven Python calls (its sansio
        # base, _get_server, two decoding helpers, EnvironHeaders and
        # Headers) on what is a handful of environ reads, most of which a
        # request never looks at. Here only the method (which every
        # dispatch reads) is set; the other attributes werkzeug sets are
        # read from the environ when first used, with the same values (see
        # below). The WSGI strings' latin-1 -> UTF-8 decoding is skipped
        # for ASCII, where it is the identity.
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        self.environ = environ
        self.shallow = shallow
        self._form_loaded = False
        # Read by every dispatch: an attribute of the instance's own is a
        # read CPython 3.11 specializes, a class default is not.
        self.routing_exception = None
        if populate_request and not shallow:
            environ["werkzeug.request"] = self

    # What werkzeug's constructor sets, made on first read (an explicitly
    # set value is kept as it is).

    @OnFirstRead
    def scheme(self) -> str:  # type: ignore[override]
        """The URL scheme of the request, ``http`` or ``https``."""
        return self.environ.get("wsgi.url_scheme", "http")  # type: ignore[no-any-return]

    @OnFirstRead
    def server(self) -> tuple[str, int | None] | None:  # type: ignore[override]
        """The server's ``(host, port)``; the port is ``None`` for a unix
        socket, and the whole is ``None`` when the server did not say."""
        get = self.environ.get
        name = get("SERVER_NAME")
        if name is None:
            return None
        try:
            port: int | None = int(get("SERVER_PORT", None))
        except (TypeError, ValueError):  # a unix socket
            port = None
        return (name, port)

    @OnFirstRead
    def root_path(self) -> str:  # type: ignore[override]
        """The prefix the app is mounted under, without a trailing slash."""
        root_path = self.environ.get("SCRIPT_NAME") or ""
        if not root_path.isascii():
            root_path = root_path.encode("latin1").decode(errors="replace")
        return root_path.rstrip("/")  # type: ignore[no-any-return]

    @OnFirstRead
    def path(self) -> str:  # type: ignore[override]
        """The path part of the URL after :attr:`root_path`, starting with
        a slash."""
        path = self.environ.get("PATH_INFO") or ""
        if not path.isascii():
            path = path.encode("latin1").decode(errors="replace")
        return "/" + path.lstrip("/")  # type: ignore[no-any-return]

    @OnFirstRead
    def query_string(self) -> bytes:  # type: ignore[override]
        """The part of the URL after the ``?``, as raw bytes."""
        return self.environ.get("QUERY_STRING", "").encode("latin1")  # type: ignore[no-any-return]

    @OnFirstRead
    def headers(self) -> EnvironHeaders:  # type: ignore[override]
        """The request headers, read from the environ."""
        headers = _new(EnvironHeaders)
        headers._list = []
        headers.environ = self.environ
        return headers  # type: ignore[no-any-return]

    @OnFirstRead
    def remote_addr(self) -> str | None:  # type: ignore[override]
        """The client's address, as the server gives it."""
        return self.environ.get("REMOTE_ADDR")  # type: ignore[no-any-return]

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """The largest body, in bytes, this request may have; a larger one
        raises :exc:`~werkzeug.exceptions.RequestEntityTooLarge` (413) when
        the body is read. An explicitly set value wins; otherwise it is the
        current app's ``MAX_CONTENT_LENGTH``, or werkzeug's default (no
        limit) outside an app context.

        When the server streams the body without a length
        (``wsgi.input_terminated``), only this limit protects the app from
        reading an endless body.
        """
        value = self._max_content_length

        if value is not None:
            return value

        ctx = _cv_app.get(None)

        if ctx is None:
            return super().max_content_length

        return ctx.app.config["MAX_CONTENT_LENGTH"]  # type: ignore[no-any-return]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:  # type: ignore[override]
        """The largest size, in bytes, of a non-file form field in a
        ``multipart/form-data`` body, and of a whole urlencoded form; larger
        ones raise a 413. An explicitly set value wins; otherwise it is the
        current app's ``MAX_FORM_MEMORY_SIZE``, or werkzeug's default
        (500 kB) outside an app context.
        """
        value = self._max_form_memory_size

        if value is not None:
            return value

        ctx = _cv_app.get(None)

        if ctx is None:
            return super().max_form_memory_size

        return ctx.app.config["MAX_FORM_MEMORY_SIZE"]  # type: ignore[no-any-return]

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property
    def max_form_parts(self) -> int | None:  # type: ignore[override]
        """The largest number of fields a ``multipart/form-data`` body may
        have; more raise a 413. An explicitly set value wins; otherwise it
        is the current app's ``MAX_FORM_PARTS``, or werkzeug's default
        (1000) outside an app context.
        """
        value = self._max_form_parts

        if value is not None:
            return value

        ctx = _cv_app.get(None)

        if ctx is None:
            return super().max_form_parts

        return ctx.app.config["MAX_FORM_PARTS"]  # type: ignore[no-any-return]

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule, or ``None`` if nothing matched
        yet. With :attr:`view_args` it identifies the view being run."""
        rule = self.url_rule

        if rule is None:
            return None

        return rule.endpoint  # type: ignore[no-any-return]

    @property
    def blueprint(self) -> str | None:
        """The registered name of the blueprint the endpoint belongs to
        (dotted for nested blueprints, ``"parent.child"``), or ``None`` for
        an app endpoint or when nothing matched. A name given at
        registration replaces the blueprint's own name."""
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

        if name is None:
            return []

        return list(_blueprint_chain(name))

    def _load_form_data(self) -> None:
        self._form_loaded = True
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

    @_FilesProperty
    def files(self) -> t.Any:
        """The uploaded files, by form field name (werkzeug's
        :attr:`~werkzeug.wrappers.Request.files`)."""
        return RequestBase.files.fget(self)  # type: ignore[attr-defined]

    @cached_property
    def args(self) -> MultiDict[str, str]:  # type: ignore[override]
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
    def stream(self) -> t.IO[bytes]:  # type: ignore[override]
        """The body stream. A body that the server terminates itself (chunked)
        and that goes past :attr:`max_content_length` is a 413, as one with a
        too large ``Content-Length`` is, rather than silently cut short."""
        stream = RequestBase.stream.fget(self)  # type: ignore[attr-defined]
        if type(stream) is LimitedStream and stream._limit_is_max:
            stream.__class__ = _MaxBodyStream
        return stream  # type: ignore[no-any-return]

    def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
        """Called when :meth:`get_json` cannot parse the body (or the
        content type is not JSON, with ``e`` ``None``). Raises a 400
        :exc:`~werkzeug.exceptions.BadRequest`; in debug mode its
        description says what went wrong.
        """
        try:
            return super().on_json_loading_failed(e)
        except BadRequest as error:
            ctx = _cv_app.get(None)

            if ctx is not None and ctx.app.debug:
                raise

            # Outside debug mode the parser's message is not shown to clients.
            raise BadRequest() from error


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

    def __init__(
        self,
        response: t.Iterable[bytes] | bytes | t.Iterable[str] | str | None = None,
        status: int | str | HTTPStatus | None = None,
        headers: t.Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        cls = type(self)
        if not _FAST or not _sets_data_plainly.check(cls):
            _base_response_init(
                self, response, status, headers, mimetype, content_type,
                direct_passthrough,
            )
            return
        # PERF: werkzeug's constructor costs some fifteen Python calls for a
        # body and the default status (its sansio base, Headers, a probe for
        # Content-Type that raises and catches a KeyError, the status
        # setter, set_data, two header sets). This is the same work inline:
        # the same attributes, headers and values, in the same order, with
        # content types and statuses (pure functions of their input) cached.
        if isinstance(headers, Headers):
            fresh = False
        elif not headers:
            headers = _new(Headers)
            headers._list = []
            fresh = True
        else:
            headers = Headers(headers)
            fresh = False
        self.headers = headers
        if content_type is None:
            if mimetype is None and (fresh or "content-type" not in headers):
                mimetype = self.default_mimetype
            if mimetype is not None:
                if fresh:
                    headers._list.append(("Content-Type", _content_type(mimetype)))
                else:
                    headers["Content-Type"] = _content_type(mimetype)
        else:
            headers["Content-Type"] = content_type
        if status is None:
            status = self.default_status
        if _sets_status_plainly.check(cls):
            # Only exact ints and strings are cached: 200.0 == 200, but
            # werkzeug rejects the float.
            kind = type(status)
            if kind is int or kind is str:
                try:
                    self._status, self._status_code = _statuses[status]
                except KeyError:
                    clean = _base_clean_status(self, status)
                    if len(_statuses) < 256:
                        _statuses[status] = clean
                    self._status, self._status_code = clean
            else:
                self.status = status  # type: ignore[assignment]
        else:
            self.status = status  # type: ignore[assignment]
        self.direct_passthrough = direct_passthrough
        self._on_close: list[t.Callable[[], t.Any]] = []
        if response is None:
            self.response = []
        elif isinstance(response, (str, bytes, bytearray)):
            if isinstance(response, str):
                response = response.encode()
            self.response = [response]
            if self.automatically_set_content_length:
                if fresh:
                    # At most the Content-Type just added: nothing to replace.
                    headers._list.append(("Content-Length", str(len(response))))
                else:
                    headers["Content-Length"] = str(len(response))
        else:
            self.response = response

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        """Send the status and headers through ``start_response`` and return
        the body iterable (see :meth:`werkzeug.wrappers.Response.__call__`)."""
        if not _FAST or self.direct_passthrough or self._on_close or not _sends_plainly.check(type(self)):
            return _base_call(self, environ, start_response)
        # PERF: for a buffered body of bytes, sending it through werkzeug
        # costs some twenty Python calls: a copy of the headers rebuilt one
        # by one, ClosingIterator, a generator that re-checks each chunk's
        # type, typing.cast. This does the same checks inline and sends the
        # same status, headers and body. Anything else (a HEAD request, a
        # status without a body, a Location to fix up, a stream, chunks of
        # str, functions to call on close) takes werkzeug's path.
        body = self.response
        kind = type(body)
        if kind is not list and kind is not tuple:
            return _base_call(self, environ, start_response)
        code = self._status_code
        if (
            code == 204
            or code == 304
            or 100 <= code < 200
            or environ["REQUEST_METHOD"] == "HEAD"
        ):
            return _base_call(self, environ, start_response)
        headers = self.headers
        if type(headers) is not Headers:
            return _base_call(self, environ, start_response)
        items = headers._list
        has_length = False
        for key, _ in items:
            ikey = key.lower()
            if ikey == "content-length":
                has_length = True
            elif ikey == "location" or ikey == "content-location":
                return _base_call(self, environ, start_response)
        length = 0
        for chunk in body:
            if type(chunk) is str:
                return _base_call(self, environ, start_response)
            length += len(chunk)
        out = list(items)
        if not has_length and self.automatically_set_content_length:
            out.append(("Content-Length", str(length)))
        start_response(self._status, out)
        # Lists and tuples have no close(), and there is nothing to call on
        # close: the server needs no ClosingIterator around them.
        return body

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """The size above which setting a cookie warns: the current app's
        ``MAX_COOKIE_SIZE``, or werkzeug's default outside an app context."""
        ctx = _cv_app.get(None)

        if ctx is None:
            return super().max_cookie_size

        return ctx.app.config["MAX_COOKIE_SIZE"]  # type: ignore[no-any-return]


# Whether a response class sends itself as werkzeug's Response does: none of
# the methods and properties Response.__call__'s fast path stands in for is
# overridden or patched on it.
_sends_plainly = Unchanged(
    ResponseBase,
    "get_wsgi_response",
    "get_wsgi_headers",
    "get_app_iter",
    "iter_encoded",
    "close",
    "status",
    "status_code",
)
# The same, and it also builds itself from a string as werkzeug does, with
# erlen's own constructor and __call__ (a subclass that extends either one
# must be made and called).
_builds_and_sends_plainly = Unchanged(
    Response,
    "__init__",
    "__call__",
    *_sends_plainly.expected,
    *_sets_data_plainly.expected,
    *_sets_status_plainly.expected,
)


def send_text(
    cls: type[Response], text: str, environ: WSGIEnvironment, start_response: StartResponse
) -> list[bytes] | None:
    """Send ``text`` as ``cls(text)(environ, start_response)`` would, without
    making the response object, and return the body; or return ``None``,
    having sent nothing, when ``cls`` or the request needs the object (a
    ``HEAD`` request, a status without a body, a customized class).

    PERF: a view returning a string, with nothing to run on its response,
    is most of what a simple app serves. Making the response and its
    headers and sending them costs more than the rest of such a request
    behind a real server (``bench/server.py``); this sends the same status,
    headers and body directly.
    """
    plan = _text_plans.get(cls)
    if plan is None or environ["REQUEST_METHOD"] == "HEAD":
        return None
    status_line, content_type, set_length = plan
    body = text.encode()
    headers = [content_type] if content_type is not None else []
    if set_length:
        length = len(body)
        # PERF: behind a server the number-formatting code is cold: in a
        # cachegrind replay of gunicorn's worker, str(len(body)) cost ~230
        # instruction-cache misses per request. The strings of the short
        # lengths are kept once made; indexing a list is done inside the
        # interpreter's loop, which is warm.
        if length < len(_length_strings):
            value = _length_strings[length]
            if value is None:
                value = _length_strings[length] = str(length)
        else:
            value = str(length)
        headers.append(("Content-Length", value))
    start_response(status_line, headers)
    return [body]


_length_strings: list[str | None] = [None] * 2048


def _text_plan(
    cls: type[Response],
) -> tuple[str, tuple[str, str] | None, bool] | None:
    """What send_text() sends for ``cls``: its status line, its
    ``Content-Type`` header (``None`` without a default mimetype) and
    whether it sets ``Content-Length``; or ``None`` when the class must be
    made and called (it is customized, or its default status has no body).
    Only class attributes go in: see _text_plans."""
    if not _FAST or not _builds_and_sends_plainly.check(cls):
        return None
    status = cls.default_status
    if type(status) is not int:
        return None
    status_line, code = _base_clean_status(_new(cls), status)
    if code == 204 or code == 304 or 100 <= code < 200:
        return None
    mimetype = cls.default_mimetype
    content_type = None if mimetype is None else ("Content-Type", _content_type(mimetype))
    return status_line, content_type, bool(cls.automatically_set_content_length)


# PERF: the plan is a function of the class alone, so the compiled module
# keeps it until the class (or a base) changes: three class attribute
# lookups and the class checks cost one call per request.
_text_plans = PerClass(_text_plan)
